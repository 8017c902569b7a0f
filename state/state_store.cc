namespace scimsync {}  // filled in by its owner
