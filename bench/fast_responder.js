#!/usr/bin/env node
// A trivial, fast SCIM responder for the client-bound benchmark (bench/client_bound.sh).
// It stores nothing and checks nothing: POST answers 201 with a fresh id, PATCH/PUT 200,
// DELETE 204, a list read an empty ListResponse, anything else 404. Its cost per
// request is as small as node's http module allows, so a sync into it measures the
// client's own cost per request, to compare with wrk's against the same responder.
// With --latency-ms N every answer is sent N ms after its request arrived (setTimeout),
// a target that is slow but not busy: the latency-bound figure (bench/sync_bench.sh §2).
// Prints "listening <port>" on stdout when ready; --port N (0: any free port).
'use strict';
const http = require('http');

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const latencyArg = process.argv.indexOf('--latency-ms');
const latencyMs = latencyArg > 0 ? Number(process.argv[latencyArg + 1]) : 0;
if (!Number.isFinite(latencyMs) || latencyMs < 0) {
  process.stderr.write('fast_responder.js: --latency-ms wants a number of milliseconds >= 0\n');
  process.exit(2);
}
const json = { 'Content-Type': 'application/scim+json' };
const empty = JSON.stringify({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
  totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [],
});
let next = 0;
let requests = 0;

function answer(res, status, body) {
  res.writeHead(status, body ? { ...json, 'Content-Length': Buffer.byteLength(body) } : {});
  res.end(body);
}

function send(res, status, body) {
  if (latencyMs > 0) setTimeout(answer, latencyMs, res, status, body);
  else answer(res, status, body);
}

http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const path = req.url.split('?')[0];
    if (path === '/stats') return answer(res, 200, JSON.stringify({ requests }));
    ++requests;
    const kind = /\/Groups/.test(path) ? 'Group' : 'User';
    if (req.method === 'POST') {
      let doc = {};
      try { doc = JSON.parse(body); } catch { /* answered all the same */ }
      doc.id = String(++next);
      doc.schemas = [`urn:ietf:params:scim:schemas:core:2.0:${kind}`];
      return send(res, 201, JSON.stringify(doc));
    }
    if (req.method === 'PATCH' || req.method === 'PUT') {
      const id = path.split('/').pop();
      return send(res, 200, JSON.stringify({ id, schemas: [`urn:ietf:params:scim:schemas:core:2.0:${kind}`] }));
    }
    if (req.method === 'DELETE') return send(res, 204, '');
    if (req.method === 'GET' && /\/(Users|Groups)$/.test(path)) return send(res, 200, empty);
    return send(res, 404, JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: 'not here',
    }));
  });
}).listen(port, '127.0.0.1', function () {
  process.stdout.write(`listening ${this.address().port}\n`);
});
