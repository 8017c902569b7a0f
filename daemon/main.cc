// Placeholder entry point; replaced by the CLI (daemon/cli.cc).
int main() { return 0; }
