#!/usr/bin/env node
// A second, independent SCIM 2.0 server for scimsync's integration tests: Better Auth
// (npm better-auth) with its SCIM plugin (npm @better-auth/scim) on its in-memory
// adapter. Unlike server.js, nothing here plays a target's behaviour: the SCIM
// answers are Better Auth's own. This file only starts it, counts requests, and can
// lose answers (the one fault the core scenarios need).
//
// The bearer token comes from Better Auth's managed connection catalog: at start-up a
// connection is created through the server-side API (createSCIMManagedConnection),
// which issues a token with all four SCIM scopes; the token is printed as
// "token <T>" before "listening <port>". SCIM is served under /api/auth/scim/v2.
//
// Switches (--config JSON at start, POST /admin/config at run time, merged):
//   dropAfterCommitEvery N   every Nth write is applied, then the socket is destroyed
//                            without an answer
//   fail503Every N           every Nth write: 503, not applied
//
// Admin endpoints (no auth; loopback only), shaped like server.js's:
//   GET /admin/stats    {requests, writes, byMethod, byStatus, byRoute, dropped, lists}
//   GET /admin/writes   the last 1000 writes: {method, path, status}
//   POST /admin/reset   counters and the write log
//   POST /admin/config  switches (JSON, merged)
//   GET /admin/users, GET /admin/groups   every resource, as Better Auth serves it
//   POST /admin/seed    {"users": [...SCIM User...]}: created through the SCIM API (not
//                       counted); answers the created users
//
// Usage: node better_auth_server.js [--port 0] [--host 127.0.0.1] [--config JSON]
// Node 18 has no global `crypto`, which Better Auth needs: run it there with
// --experimental-global-webcrypto (tests/integration/lib/harness.js does).
'use strict';
const crypto = require('node:crypto');
const http = require('node:http');

if (typeof globalThis.crypto === 'undefined') {
  process.stderr.write('better_auth_server: no global crypto; on Node 18 run node with '
    + '--experimental-global-webcrypto\n');
  process.exit(2);
}

const args = process.argv.slice(2);
function arg(name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
}
const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '0'));
const switches = { dropAfterCommitEvery: 0, fail503Every: 0, ...JSON.parse(arg('--config', '{}')) };

const BASE = '/api/auth';
const SCIM = `${BASE}/scim/v2`;
const SCIM_JSON = 'application/scim+json';

let stats;
let writeLog;
function resetStats() {
  stats = { requests: 0, writes: 0, byMethod: { GET: 0, POST: 0, PATCH: 0, PUT: 0, DELETE: 0 },
    byStatus: {}, byRoute: {}, dropped: 0, lists: { Users: 0, Groups: 0 } };
  writeLog = [];
}
resetStats();
let writeSeq = 0;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function main() {
  const { betterAuth } = await import('better-auth');
  const { memoryAdapter } = await import('better-auth/adapters/memory');
  const { scim } = await import('@better-auth/scim');

  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, host, resolve));
  const origin = `http://${host}:${server.address().port}`;

  const db = {};
  const auth = betterAuth({
    baseURL: origin,
    basePath: BASE,
    secret: crypto.randomBytes(32).toString('hex'),
    database: memoryAdapter(db),
    telemetry: { enabled: false },
    logger: { disabled: true },
    plugins: [scim({
      connections: [],
      managedConnections: { credentialHashSecret: crypto.randomBytes(32).toString('hex') },
    })],
  });
  // The memory adapter wants every table up front.
  const ctx = await auth.$context;
  for (const t of Object.values(ctx.tables)) db[t.modelName] = [];

  const issued = await auth.api.createSCIMManagedConnection({ body: {
    creationRequestId: crypto.randomUUID(),
    provisioningDomainId: 'scimsync-tests',
    actorId: 'test-harness',
    scopes: ['scim.users.read', 'scim.users.write', 'scim.groups.read', 'scim.groups.write'],
    expiresAt: new Date(Date.now() + 24 * 3600 * 1000),
  } });
  const token = issued.token;

  // A SCIM request made inside this process (admin endpoints): not counted.
  async function scimCall(method, path, body) {
    const response = await auth.handler(new Request(`${origin}${SCIM}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': SCIM_JSON }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }));
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }
  async function listAll(type) {
    const out = [];
    for (let start = 1; ; ) {
      const r = await scimCall('GET', `/${type}?startIndex=${start}&count=100`);
      if (r.status !== 200) throw new Error(`GET ${type}: ${r.status} ${JSON.stringify(r.body)}`);
      const page = r.body.Resources || [];
      out.push(...page);
      start += page.length;
      if (!page.length || start > r.body.totalResults) return out;
    }
  }

  async function admin(req, res, url) {
    const route = `${req.method} ${url.pathname}`;
    const body = req.method === 'POST' ? JSON.parse((await readBody(req)).toString() || '{}') : undefined;
    switch (route) {
      case 'GET /admin/stats': return sendJson(res, 200, stats);
      case 'GET /admin/writes': return sendJson(res, 200, writeLog);
      case 'POST /admin/reset': resetStats(); return sendJson(res, 200, stats);
      case 'POST /admin/config': Object.assign(switches, body); return sendJson(res, 200, switches);
      case 'GET /admin/users': return sendJson(res, 200, await listAll('Users'));
      case 'GET /admin/groups': return sendJson(res, 200, await listAll('Groups'));
      case 'POST /admin/seed': {
        const created = [];
        for (const u of body.users || []) {
          const r = await scimCall('POST', '/Users',
            { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...u });
          if (r.status !== 201) return sendJson(res, 400, { error: `seed ${u.userName}: ${r.status}`, body: r.body });
          created.push(r.body);
        }
        return sendJson(res, 200, created);
      }
      default: return sendJson(res, 404, { error: `no admin route ${route}` });
    }
  }

  async function scimRequest(req, res, url) {
    const write = req.method !== 'GET';
    const m = /\/scim\/v2\/(Users|Groups)(\/[^/]+)?\/?$/.exec(url.pathname);
    const routeKey = `${req.method} ${m ? `/${m[1]}` : url.pathname.slice(SCIM.length)}`;
    stats.requests++;
    stats.byMethod[req.method] = (stats.byMethod[req.method] || 0) + 1;
    stats.byRoute[routeKey] = (stats.byRoute[routeKey] || 0) + 1;
    if (req.method === 'GET' && m && !m[2] && !url.searchParams.get('filter')) stats.lists[m[1]]++;
    const body = await readBody(req);
    let entry = null;
    let drop = false;
    if (write) {
      stats.writes++;
      entry = { method: req.method, path: url.pathname + url.search, status: null };
      writeLog.push(entry);
      if (writeLog.length > 1000) writeLog.shift();
      writeSeq++;
      if (switches.fail503Every > 0 && writeSeq % switches.fail503Every === 0) {
        entry.status = 503;
        stats.byStatus[503] = (stats.byStatus[503] || 0) + 1;
        res.writeHead(503, { 'Content-Type': SCIM_JSON });
        return res.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: '503', detail: 'temporarily unavailable (test switch)' }));
      }
      drop = switches.dropAfterCommitEvery > 0 && writeSeq % switches.dropAfterCommitEvery === 0;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const response = await auth.handler(new Request(`${origin}${req.url}`, {
      method: req.method, headers, body: body.length ? body : undefined,
    }));
    const text = Buffer.from(await response.arrayBuffer());
    if (entry) entry.status = response.status;
    stats.byStatus[response.status] = (stats.byStatus[response.status] || 0) + 1;
    if (drop) {  // applied, answer lost
      stats.dropped++;
      return req.socket.destroy();
    }
    const out = {};
    response.headers.forEach((v, k) => { out[k] = v; });
    out['content-length'] = String(text.length);
    res.writeHead(response.status, out);
    return res.end(text);
  }

  server.on('request', (req, res) => {
    const url = new URL(req.url, origin);
    const handle = url.pathname.startsWith('/admin/') ? admin
      : url.pathname.startsWith(`${SCIM}/`) ? scimRequest : null;
    if (!handle) return sendJson(res, 404, { error: 'not found' });
    return handle(req, res, url).catch((e) => {
      process.stderr.write(`${req.method} ${req.url}: ${e.stack}\n`);
      if (!res.headersSent) sendJson(res, 500, { error: String(e.message) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60000;
  process.stdout.write(`token ${token}\nlistening ${server.address().port}\n`);
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
}

main().catch((e) => {
  process.stderr.write(`better_auth_server: ${e.stack}\n`);
  process.exit(1);
});
