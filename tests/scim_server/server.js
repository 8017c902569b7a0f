#!/usr/bin/env node
// A loopback SCIM 2.0 server for scimsync's integration tests, demo and benchmarks.
//
// The protocol layer (routing, schemas, PatchOp, ListResponse, errors) is the
// third-party scimmy + scimmy-routers implementation; this file adds an in-memory
// store with indexes, `eq` filtering (scimmy leaves matching to the handlers), and
// switches that play real targets' behaviours:
//   uniqueUserNameCi (default true)  409 uniqueness on a duplicate userName, any case
//   seatLimit N                       428 on POST /Users once N active users exist (Keeper)
//   deleteLocks                       DELETE /Users/x sets active=false instead (Keeper)
//   pageCap N                         list reads return at most N resources a page
//   rate429Every N, rateRetryAfter S  every Nth request: 429 with Retry-After: S
//   fail503Every N                    every Nth write: 503, not applied
//   dropAfterCommitEvery N            every Nth write is applied, then the socket is
//                                     destroyed without an answer
//   latencyMs N                       every SCIM request waits N ms first
//   down                              every SCIM request: 503
// Admin endpoints (no auth): GET /admin/stats, POST /admin/reset, POST /admin/config,
// GET /admin/users, GET /admin/groups, POST /admin/seed, POST /admin/clear.
//
// Usage: node server.js [--port 0] [--host 127.0.0.1] [--token T] [--config JSON] [--verbose]
// Prints "listening <port>" on stdout when ready.
'use strict';
const express = require('express');
const SCIMMY = require('scimmy').default;
const { SCIMMYRouters } = require('scimmy-routers');
const crypto = require('node:crypto');

const args = process.argv.slice(2);
function arg(name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
}
const verbose = args.includes('--verbose');
const token = arg('--token', process.env.SCIM_TOKEN || 'test-token');
const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '0'));

const DEFAULTS = {
  uniqueUserNameCi: true, seatLimit: 0, deleteLocks: false, pageCap: 0, rate429Every: 0,
  rateRetryAfter: 1, fail503Every: 0, dropAfterCommitEvery: 0, latencyMs: 0, down: false,
};
const switches = { ...DEFAULTS, ...JSON.parse(arg('--config', '{}')) };

// ---------------------------------------------------------------------------
// Store: Maps by id, plus indexes for the attributes clients filter on.
const users = new Map();       // id -> stored user (plain SCIM JSON)
const byUserName = new Map();  // lowercased userName -> id
const byUserExt = new Map();   // externalId -> id
const byEmail = new Map();     // lowercased emails[].value -> Set of ids
const groups = new Map();      // id -> stored group
const byGroupName = new Map(); // displayName -> id
const byGroupExt = new Map();
let activeCount = 0;

function plain(x) { return JSON.parse(JSON.stringify(x)); }
function isActive(u) { return u.active !== false; }

function indexUser(u, add) {
  const f = add ? (m, k) => m.set(k, u.id) : (m, k) => { if (m.get(k) === u.id) m.delete(k); };
  if (u.userName) f(byUserName, String(u.userName).toLowerCase());
  if (u.externalId) f(byUserExt, u.externalId);
  for (const e of u.emails || []) {
    if (!e || e.value === undefined) continue;
    const k = String(e.value).toLowerCase();
    let ids = byEmail.get(k);
    if (add) {
      if (!ids) byEmail.set(k, ids = new Set());
      ids.add(u.id);
    } else if (ids) {
      ids.delete(u.id);
      if (!ids.size) byEmail.delete(k);
    }
  }
  activeCount += (isActive(u) ? 1 : 0) * (add ? 1 : -1);
}
function indexGroup(g, add) {
  const f = add ? (m, k) => m.set(k, g.id) : (m, k) => { if (m.get(k) === g.id) m.delete(k); };
  if (g.displayName) f(byGroupName, g.displayName);
  if (g.externalId) f(byGroupExt, g.externalId);
}
function putUser(u) {
  const old = users.get(u.id);
  if (old) indexUser(old, false);
  users.set(u.id, u);
  indexUser(u, true);
}
function meta(resourceType, old) {
  const now = new Date().toISOString();
  return { resourceType, created: old?.meta?.created ?? now, lastModified: now };
}

// `attr eq "value"` (and `attr eq value`), the only filter scimsync sends.
function parseEq(filter) {
  if (!filter) return null;
  const m = /^\s*([\w.:]+)\s+eq\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$/i.exec(filter);
  if (!m) throw new SCIMMY.Types.Error(400, 'invalidFilter', `unsupported filter: ${filter}`);
  const value = m[2] !== undefined ? JSON.parse(`"${m[2]}"`) : m[3];
  return { attr: m[1], value };
}
function userMatches(u, attr, value) {
  switch (attr.toLowerCase()) {
    case 'username': return String(u.userName).toLowerCase() === String(value).toLowerCase();
    case 'externalid': return u.externalId === value;
    case 'id': return u.id === value;
    case 'emails.value': case 'emails':
      return (u.emails || []).some((e) => String(e.value).toLowerCase() === String(value).toLowerCase());
    case 'displayname': return u.displayName === value;
    default: throw new SCIMMY.Types.Error(400, 'invalidFilter', `unsupported filter attribute ${attr}`);
  }
}

function userFilter(f) {
  const a = f.attr.toLowerCase();
  if (a === 'username') {
    const id = byUserName.get(String(f.value).toLowerCase());
    return id ? [users.get(id)] : [];
  }
  if (a === 'externalid') {
    const id = byUserExt.get(f.value);
    return id ? [users.get(id)] : [];
  }
  if (a === 'id') return users.has(f.value) ? [users.get(f.value)] : [];
  if (a === 'emails.value' || a === 'emails') {
    return [...(byEmail.get(String(f.value).toLowerCase()) || [])].map((id) => users.get(id));
  }
  return [...users.values()].filter((u) => userMatches(u, f.attr, f.value));
}

// Paging happens here, not in scimmy: scimmy coerces every resource egress returns
// before it slices (30 s a page at 100k users). We return (about) one page and set
// constraints.totalResults; scimmy's ListResponse then re-slices only when
// `Resources.length >= startIndex && totalResults !== Resources.length + startIndex - 1`,
// so in that case we hand it a list it slices back to exactly our page.
function paged(resource, all) {
  const c = resource.constraints || {};
  const start = Number.isInteger(c.startIndex) ? Math.max(c.startIndex, 1) : 1;
  const count = Number.isInteger(c.count) ? Math.max(c.count, 0) : 20;
  resource.constraints = { ...c, count, totalResults: all.length };
  const page = all.slice(start - 1, start - 1 + count);
  const n = page.length;
  const total = all.length;
  if (!(n >= start && total !== n + start - 1)) return page;      // scimmy keeps it as is
  const head = all.slice(0, start - 1);
  if (total !== n + 2 * start - 2) return head.concat(page);      // scimmy drops the head
  return page.concat(head);                                        // scimmy keeps the first `count` (n === count here)
}
function groupFilter(f) {
  const a = f.attr.toLowerCase();
  const idx = a === 'displayname' ? byGroupName : a === 'externalid' ? byGroupExt : null;
  if (idx) {
    const id = idx.get(f.value);
    return id ? [groups.get(id)] : [];
  }
  if (a === 'id') return groups.has(f.value) ? [groups.get(f.value)] : [];
  throw new SCIMMY.Types.Error(400, 'invalidFilter', `unsupported filter attribute ${f.attr}`);
}

SCIMMY.Resources.declare(SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false), {
  egress: async (resource) => {
    if (resource.id) {
      const u = users.get(resource.id);
      if (!u) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      return u;
    }
    const f = parseEq(resource.filter?.expression);
    return paged(resource, f ? userFilter(f) : [...users.values()]);
  },
  ingress: async (resource, instance, req) => {
    const data = plain(instance);
    const old = resource.id ? users.get(resource.id) : undefined;
    if (resource.id && !old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    const key = String(data.userName).toLowerCase();
    const clash = switches.uniqueUserNameCi ? byUserName.get(key)
      : [...users.values()].find((u) => u.userName === data.userName)?.id;
    if (clash && clash !== resource.id) {
      throw new SCIMMY.Types.Error(409, 'uniqueness', `userName ${data.userName} is already taken`);
    }
    const becomesActive = data.active !== false && (!old || !isActive(old));
    if (switches.seatLimit > 0 && becomesActive && activeCount >= switches.seatLimit) {
      // scimmy's error message refuses status 428, so mark the request and let the
      // wrapper installed in front of the router turn the answer into a SCIM 428.
      req.seatBlocked = `Seats exceeded: ${switches.seatLimit} licensed seats are in use`;
      throw new SCIMMY.Types.Error(403, null, req.seatBlocked);
    }
    const u = { ...data, id: old ? old.id : crypto.randomUUID(), meta: meta('User', old) };
    if (u.active === undefined) u.active = true;
    putUser(u);
    return u;
  },
  degress: async (resource) => {
    const u = users.get(resource.id);
    if (!u) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    if (switches.deleteLocks) {
      putUser({ ...u, active: false, meta: meta('User', u) });
      return;
    }
    indexUser(u, false);
    users.delete(u.id);
    for (const g of groups.values()) {
      if (g.members) g.members = g.members.filter((m) => m.value !== u.id);
    }
  },
});

SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
  egress: async (resource) => {
    if (resource.id) {
      const g = groups.get(resource.id);
      if (!g) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      return g;
    }
    const f = parseEq(resource.filter?.expression);
    return paged(resource, f ? groupFilter(f) : [...groups.values()]);
  },
  ingress: async (resource, instance) => {
    const data = plain(instance);
    const old = resource.id ? groups.get(resource.id) : undefined;
    if (resource.id && !old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    const clash = byGroupName.get(data.displayName);
    if (clash && clash !== resource.id) {
      throw new SCIMMY.Types.Error(409, 'uniqueness', `group ${data.displayName} already exists`);
    }
    const seen = new Set();
    const members = [];
    for (const m of data.members || []) {
      if (!users.has(m.value)) throw new SCIMMY.Types.Error(400, 'invalidValue', `no user ${m.value}`);
      // An "add" of a member the group already has is not a second membership (RFC 7644 3.5.2.1).
      if (!seen.has(m.value)) { seen.add(m.value); members.push(m); }
    }
    if (data.members) data.members = members;
    const g = { ...data, id: old ? old.id : crypto.randomUUID(), meta: meta('Group', old) };
    if (old) indexGroup(old, false);
    groups.set(g.id, g);
    indexGroup(g, true);
    return g;
  },
  degress: async (resource) => {
    const g = groups.get(resource.id);
    if (!g) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    indexGroup(g, false);
    groups.delete(g.id);
  },
});

// ---------------------------------------------------------------------------
// Counters and fault injection, in front of the SCIM routes.
let stats;
function resetStats() {
  stats = { requests: 0, writes: 0, byMethod: { GET: 0, POST: 0, PATCH: 0, PUT: 0, DELETE: 0 },
    byStatus: {}, dropped: 0 };
}
resetStats();
let writeSeq = 0;
let requestSeq = 0;

const app = express();
app.use(express.json({ type: ['application/json', 'application/scim+json'], limit: '50mb' }));

function scimError(res, status, detail, extra = {}) {
  res.status(status).set(extra).type('application/scim+json').send(JSON.stringify({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail,
  }));
}

app.use('/scim/v2', (req, res, next) => {
  const write = req.method !== 'GET';
  stats.requests++;
  stats.byMethod[req.method] = (stats.byMethod[req.method] || 0) + 1;
  if (write) stats.writes++;
  res.on('finish', () => { stats.byStatus[res.statusCode] = (stats.byStatus[res.statusCode] || 0) + 1; });
  if (verbose) process.stderr.write(`${req.method} ${req.originalUrl}\n`);
  const send = res.send.bind(res);
  res.send = (body) => {
    if (!req.seatBlocked) return send(body);
    res.status(428).type('application/scim+json');
    return send(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '428', detail: req.seatBlocked }));
  };
  const go = () => {
    if (switches.down) return scimError(res, 503, 'service down (test switch)');
    requestSeq++;
    if (switches.rate429Every > 0 && requestSeq % switches.rate429Every === 0) {
      return scimError(res, 429, 'too many requests', { 'Retry-After': String(switches.rateRetryAfter) });
    }
    if (write) {
      writeSeq++;
      if (switches.fail503Every > 0 && writeSeq % switches.fail503Every === 0) {
        return scimError(res, 503, 'temporarily unavailable (test switch)');
      }
      if (switches.dropAfterCommitEvery > 0 && writeSeq % switches.dropAfterCommitEvery === 0) {
        // Let the write happen, then lose the answer.
        const drop = () => { stats.dropped++; req.socket.destroy(); return res; };
        res.send = drop;
        res.end = drop;
        res.sendStatus = drop;
      }
    }
    if (req.method === 'GET' && switches.pageCap > 0) {
      const count = Number(req.query.count ?? 20);
      if (!(count <= switches.pageCap)) req.query.count = String(switches.pageCap);
    }
    next();
  };
  if (switches.latencyMs > 0) setTimeout(go, switches.latencyMs); else go();
});

app.use('/scim/v2', new SCIMMYRouters({
  type: 'bearer',
  handler: (req) => {
    if (req.header('Authorization') !== `Bearer ${token}`) throw new Error('invalid bearer token');
    return 'scimsync';
  },
  context: (req) => req,  // handlers get the request (seat-limit marking)
}));

// ---------------------------------------------------------------------------
// Admin API for tests (no auth; loopback only).
app.get('/admin/stats', (req, res) => res.json(stats));
app.post('/admin/reset', (req, res) => { resetStats(); res.json(stats); });
app.post('/admin/config', (req, res) => {
  Object.assign(switches, req.body || {});
  res.json(switches);
});
app.get('/admin/users', (req, res) => res.json([...users.values()]));
app.get('/admin/groups', (req, res) => res.json([...groups.values()].map((g) => ({ members: [], ...g }))));
app.post('/admin/seed', (req, res) => {
  const created = [];
  for (const u of (req.body && req.body.users) || []) {
    const x = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], active: true, ...u,
      id: crypto.randomUUID(), meta: meta('User') };
    putUser(x);
    created.push(x);
  }
  res.json(created);
});
app.post('/admin/clear', (req, res) => {
  users.clear(); byUserName.clear(); byUserExt.clear(); byEmail.clear();
  groups.clear(); byGroupName.clear(); byGroupExt.clear();
  activeCount = 0;
  res.json({ ok: true });
});

const server = app.listen(port, host, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
server.keepAliveTimeout = 60000;
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
