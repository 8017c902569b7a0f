#!/usr/bin/env node
// A loopback SCIM 2.0 server for scimsync's integration tests, demo and benchmarks.
//
// The protocol layer (routing, schemas, PatchOp, ListResponse, errors) is the
// third-party scimmy + scimmy-routers implementation; this file adds an in-memory
// store with indexes, `eq` filtering (scimmy leaves matching to the handlers), and
// switches that play real targets' behaviours. Every switch can be given at start
// (--config JSON) and changed at run time (POST /admin/config, merged).
//
// Real targets:
//   uniqueUserNameCi (default true)  409 uniqueness on a duplicate userName, any case
//                                     (false: exact case only)
//   uniqueUserNames (default true)   false: no userName uniqueness at all (a second POST of
//                                     the same person is a duplicate, as on lax targets)
//   uniqueGroupNameCi                409 on a group whose displayName differs only by case;
//                                     Groups `displayName eq` then matches any case too
//   uniqueGroupNames (default true)  false: no displayName uniqueness at all (two groups may
//                                     share a name; `displayName eq` then finds both)
//   seatLimit N                       428 on POST /Users, and on a PATCH/PUT that re-activates
//                                     a user (active: true), once N active users exist (Keeper)
//   deleteLocks                       DELETE /Users/x sets active=false instead (Keeper)
//   pageCap N                         list reads return at most N resources a page
//   filterRefused                     any filtered list read: 400 invalidFilter (a target
//                                     whose lookups must list and match)
//   maxMembersPerRequest N            a group write with more than N member values (POST
//                                     members, PATCH ops on members): 400 invalidValue (AWS: 100)
//   serviceProviderConfig             GET /ServiceProviderConfig: null (default) scimmy's own
//                                     answer (filter maxResults 200, patch, bulk, sort; no etag);
//                                     false: 404 (not served); an object: its top-level members
//                                     replace those of scimmy's answer (e.g. {"filter":
//                                     {"supported": true, "maxResults": 50}, "patch": {"supported":
//                                     false}}; any shape, for odd targets)
//   etags                             resources carry meta.version and an ETag header
//   etagRequired                      implies etags; PATCH/PUT/DELETE of a resource without
//                                     If-Match: 428; with an If-Match that is not its current
//                                     version (W/ ignored, * matches): 412; not applied
//   rate429Every N, rateRetryAfter S  every Nth request: 429 with Retry-After: S (any string,
//                                     e.g. "-5"; "" or null: no Retry-After)
//   fail503Every N                    every Nth write: 503, not applied
//   dropAfterCommitEvery N            every Nth write is applied, then the socket is
//                                     destroyed without an answer
//   latencyMs N                       every SCIM request waits N ms first
//   down                              every SCIM request: 503
// Hostile target or proxy (issue 8). These act on the SCIM requests that match
// faultMatch, a regular expression tested against "METHOD /scim/v2/path?query BODY"
// (BODY is the request JSON; "" or absent: every request):
//   errorStatus N                     answer N (not applied); faultEvery K: only every Kth
//                                     matching request; faultLimit L: at most L such answers
//   errorBody "scim"|"html"|"text"    the shape of that answer (default scim; html is an
//                                     nginx-like error page as text/html)
//   errorRetryAfter S                 Retry-After header on that answer (e.g. "-5")
//   echoAuth                          every error body this server writes (errorStatus, 429,
//                                     503, down, 428, 412) repeats the request's Authorization
//                                     header ("You sent: Authorization: Bearer ...")
//   deepJson "create"|"list"          a matching POST is applied and answered 201, or a
//                                     matching list read answered 200, with a body nested
//                                     deepJsonDepth (default 400000) arrays deep
//   hugeBody "create"|"list"          the same with a streamed body of hugeBodyMiB (default 64)
//                                     MiB of valid JSON (a huge string); stops when the client
//                                     hangs up, never more than that size
//   createNoId "empty"|"html"|"json"  a matching POST is applied and answered 201 with no body,
//                                     an HTML page, or the resource JSON without "id"
//   lieTotalResults N                 matching list answers report totalResults N
//   repeatPages                       matching list reads ignore startIndex: always page 1
//
// Admin endpoints (no auth; loopback only):
//   GET /admin/stats    counters: requests, writes, byMethod, byStatus, dropped, byRoute
//                       ("PATCH /Groups": n, ...), patchOps {add, remove, replace},
//                       membersAdded, membersRemoved (member values in PATCH add/remove ops),
//                       usersDisabled, usersEnabled (writes that set active false/true),
//                       faults (answers made by the hostile switches), lists {Users, Groups}
//                       (unfiltered list reads, i.e. pages of a whole-target read), listCounts
//                       {"Users 50": n, "Groups 1000": n} (list reads, filtered or not, by the
//                       `count` asked for; "-" when none), filters ["GET /Users userName eq
//                       \"x\"", ...] (the last 1000 filter expressions received)
//   GET /admin/writes   the last 1000 writes: {method, path, status, ops: ["remove members", ...]}
//   POST /admin/reset   counters and the write log
//   POST /admin/config  switches (JSON, merged)
//   GET /admin/users, GET /admin/groups (groups with members: [])
//   POST /admin/seed    {"users": [{...}], "groups": [{"displayName", "externalId"?,
//                       "members": ["userName" | "externalId" | "id" | {"value": id}]}]}
//                       pre-existing objects (with or without externalId; two users with one
//                       userName are allowed here, and filters then find both); answers the created
//                       users as an array, or {users, groups} when groups were given
//   POST /admin/clear   empties the store
//
// Usage: node server.js [--port 0] [--host 127.0.0.1] [--token T] [--config JSON] [--verbose]
// Prints "listening <port>" on stdout when ready. Runs on Node 18 and later.
'use strict';
const express = require('express');
const SCIMMY = require('scimmy').default;
const { SCIMMYRouters } = require('scimmy-routers');
const crypto = require('node:crypto');
const http = require('node:http');

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
  uniqueUserNameCi: true, uniqueUserNames: true, uniqueGroupNameCi: false, uniqueGroupNames: true,
  seatLimit: 0, deleteLocks: false, pageCap: 0, etags: false, etagRequired: false, rate429Every: 0,
  rateRetryAfter: 1, fail503Every: 0, dropAfterCommitEvery: 0, latencyMs: 0, down: false,
  // hostile
  faultMatch: '', faultEvery: 1, faultLimit: 0, errorStatus: 0, errorBody: 'scim',
  errorRetryAfter: '', echoAuth: false, deepJson: '', deepJsonDepth: 400000, hugeBody: '',
  hugeBodyMiB: 64, createNoId: '', lieTotalResults: null, repeatPages: false,
  filterRefused: false, maxMembersPerRequest: 0, serviceProviderConfig: null,
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
let seededDuplicates = false;  // /admin/seed made two users with one userName: filter by scan
const versions = new Map();    // id -> version number (bumped on every change)
let versionSeq = 0;

function bumpVersion(id) { versions.set(id, ++versionSeq); }
function etagsOn() { return switches.etags || switches.etagRequired; }
function etagOf(id) { return `W/"${versions.get(id) || 0}"`; }
// What egress and writes hand to scimmy: with ETags on, meta.version is the current one.
function out(x) {
  if (!x || !etagsOn()) return x;
  return { ...x, meta: { ...x.meta, version: etagOf(x.id) } };
}

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
  bumpVersion(u.id);
}
function putGroup(g) {
  const old = groups.get(g.id);
  if (old) indexGroup(old, false);
  groups.set(g.id, g);
  indexGroup(g, true);
  bumpVersion(g.id);
}
function sameGroupName(a, b) {
  return switches.uniqueGroupNameCi ? String(a).toLowerCase() === String(b).toLowerCase() : a === b;
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
  if (a === 'username' && (!switches.uniqueUserNames || seededDuplicates)) {
    return [...users.values()].filter((u) => userMatches(u, f.attr, f.value));
  }
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
  if (a === 'displayname' && (switches.uniqueGroupNameCi || !switches.uniqueGroupNames)) {
    return [...groups.values()].filter((g) => sameGroupName(g.displayName, f.value));
  }
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
      return out(u);
    }
    const f = parseEq(resource.filter?.expression);
    const list = paged(resource, f ? userFilter(f) : [...users.values()]);
    return etagsOn() ? list.map(out) : list;
  },
  ingress: async (resource, instance, req) => {
    const data = plain(instance);
    const old = resource.id ? users.get(resource.id) : undefined;
    if (resource.id && !old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    const key = String(data.userName).toLowerCase();
    const clash = !switches.uniqueUserNames ? undefined
      : switches.uniqueUserNameCi ? byUserName.get(key)
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
    return out(u);
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
    versions.delete(u.id);
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
      return out(g);
    }
    const f = parseEq(resource.filter?.expression);
    const list = paged(resource, f ? groupFilter(f) : [...groups.values()]);
    return etagsOn() ? list.map(out) : list;
  },
  ingress: async (resource, instance) => {
    const data = plain(instance);
    const old = resource.id ? groups.get(resource.id) : undefined;
    if (resource.id && !old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    const clash = !switches.uniqueGroupNames ? undefined
      : switches.uniqueGroupNameCi
        ? [...groups.values()].find((x) => sameGroupName(x.displayName, data.displayName))?.id
      : byGroupName.get(data.displayName);
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
    putGroup(g);
    return out(g);
  },
  degress: async (resource) => {
    const g = groups.get(resource.id);
    if (!g) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    indexGroup(g, false);
    groups.delete(g.id);
    versions.delete(g.id);
  },
});

// ---------------------------------------------------------------------------
// Counters and fault injection, in front of the SCIM routes.
let stats;
let writeLog;
function resetStats() {
  stats = { requests: 0, writes: 0, byMethod: { GET: 0, POST: 0, PATCH: 0, PUT: 0, DELETE: 0 },
    byStatus: {}, dropped: 0, byRoute: {}, patchOps: { add: 0, remove: 0, replace: 0 },
    membersAdded: 0, membersRemoved: 0, usersDisabled: 0, usersEnabled: 0, faults: 0,
    lists: { Users: 0, Groups: 0 }, listCounts: {}, filters: [] };
  writeLog = [];
}
resetStats();
let writeSeq = 0;
let requestSeq = 0;
let faultSeq = 0;       // matching requests a hostile switch could answer
let faultsSent = 0;     // ... and did (for faultLimit)

const app = express();
app.set('etag', false);  // no automatic body-hash ETags: only the etags switch sends ETags
app.use(express.json({ type: ['application/json', 'application/scim+json'], limit: '50mb' }));

const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

function authEcho(req) {
  return switches.echoAuth ? ` You sent: Authorization: ${req.header('Authorization') || '(none)'}` : '';
}
function scimError(req, res, status, detail, extra = {}, scimType = undefined) {
  res.status(status).set(extra).type('application/scim+json').send(JSON.stringify({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status),
    ...(scimType ? { scimType } : {}), detail: detail + authEcho(req),
  }));
}

// The answer of errorStatus, shaped by errorBody.
function hostileError(req, res) {
  const status = Number(switches.errorStatus);
  const title = `${status} ${http.STATUS_CODES[status] || 'Error'}`;
  const extra = switches.errorRetryAfter !== '' && switches.errorRetryAfter !== null
    && switches.errorRetryAfter !== undefined ? { 'Retry-After': String(switches.errorRetryAfter) } : {};
  if (switches.errorBody === 'html') {
    const echo = authEcho(req);
    return res.status(status).set(extra).type('text/html').send(
      `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n`
      + `${echo ? `<p>${echo.trim()}</p>\r\n` : ''}<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`);
  }
  if (switches.errorBody === 'text') {
    return res.status(status).set(extra).type('text/plain').send(`${title}.${authEcho(req)}\n`);
  }
  return scimError(req, res, status, `${title} (test switch).`, extra);
}

// "/Users/abc?x" -> { type: 'Users', id: 'abc' }; id undefined for the collection.
function route(req) {
  const m = /^\/(Users|Groups)(?:\/([^/]+))?\/?$/.exec(req.path);
  if (!m) return { type: null, id: undefined };
  return { type: m[1], id: m[2] === undefined ? undefined : decodeURIComponent(m[2]) };
}

let matchSource = null;
let matchRe = null;
function faultMatches(req) {
  if (!switches.faultMatch) return true;
  if (switches.faultMatch !== matchSource) {
    matchSource = switches.faultMatch;
    matchRe = new RegExp(matchSource);
  }
  const body = req.body && typeof req.body === 'object' && Object.keys(req.body).length
    ? JSON.stringify(req.body) : '';
  return matchRe.test(`${req.method} ${req.originalUrl} ${body}`);
}

// Which hostile answer (if any) this request gets: 'error', or a body kind for the
// success answer ('deepJson', 'hugeBody', 'createNoId'). faultEvery and faultLimit
// count the requests any of the set switches could answer.
function pickFault(req, r) {
  const isCreate = req.method === 'POST' && r.type && r.id === undefined;
  const isList = req.method === 'GET' && r.type && r.id === undefined;
  const wants = (kind) => (kind === 'create' && isCreate) || (kind === 'list' && isList);
  let fault = null;
  if (Number(switches.errorStatus) > 0) fault = 'error';
  else if (wants(switches.deepJson)) fault = 'deepJson';
  else if (wants(switches.hugeBody)) fault = 'hugeBody';
  else if (switches.createNoId && isCreate) fault = 'createNoId';
  if (!fault || !faultMatches(req)) return null;
  faultSeq++;
  const every = Math.max(1, Number(switches.faultEvery) || 1);
  if (faultSeq % every !== 0) return null;
  if (Number(switches.faultLimit) > 0 && faultsSent >= Number(switches.faultLimit)) return null;
  faultsSent++;
  stats.faults++;
  return fault;
}

function deepArrays() {
  const d = Math.max(1, Number(switches.deepJsonDepth) || 1);
  return '['.repeat(d) + ']'.repeat(d);
}

// Streams `prefix`, hugeBodyMiB MiB of "x", then `suffix` (chunked, no Content-Length),
// honouring back-pressure and stopping when the client hangs up.
function streamHuge(res, prefix, suffix) {
  const total = Math.max(0, Number(switches.hugeBodyMiB) || 0) * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  let sent = 0;
  let closed = false;
  res.on('close', () => { closed = true; });
  res.removeHeader('Content-Length');
  res.type('application/scim+json');
  res.write(prefix);
  const pump = () => {
    while (!closed && sent < total) {
      sent += chunk.length;
      if (!res.write(chunk)) { res.once('drain', pump); return; }
    }
    if (!closed) res.end(suffix);
  };
  pump();
  return res;
}

// Member values a group write carries: POST/PUT members, PATCH add/remove/replace ops
// on members (with or without a path).
function memberValuesIn(body) {
  if (!body || typeof body !== 'object') return 0;
  const count = (v) => (Array.isArray(v) ? v.length : v ? 1 : 0);
  let n = count(body.members);
  for (const o of Array.isArray(body.Operations) ? body.Operations : []) {
    const p = o && typeof o.path === 'string' ? o.path.toLowerCase() : '';
    if (p.startsWith('members')) n += o.value === undefined ? 1 : count(o.value);
    else if (!p && o && o.value && typeof o.value === 'object') n += count(o.value.members);
  }
  return n;
}

// Tallies what a write asks for (whatever the answer): PATCH ops, member values added or
// removed, users set active false/true. Returns ["op path", ...] for the write log.
function tallyWrite(req, r) {
  const ops = [];
  const body = req.body || {};
  const activeSet = (v) => {
    if (r.type !== 'Users') return;
    if (v === false || v === 'false' || v === 'False') stats.usersDisabled++;
    else if (v === true || v === 'true' || v === 'True') stats.usersEnabled++;
  };
  const count = (v) => (Array.isArray(v) ? v.length : 1);
  if (req.method === 'PATCH' && Array.isArray(body.Operations)) {
    for (const o of body.Operations) {
      const op = String((o && o.op) || '').toLowerCase();
      const p = o && typeof o.path === 'string' ? o.path : '';
      ops.push(`${op} ${p || '(no path)'}`);
      if (op in stats.patchOps) stats.patchOps[op]++;
      const lp = p.toLowerCase();
      if (r.type === 'Groups') {
        if (op === 'add' && lp === 'members') stats.membersAdded += count(o.value);
        if (op === 'add' && !p && o.value && o.value.members) stats.membersAdded += count(o.value.members);
        if (op === 'remove' && lp.startsWith('members')) {
          stats.membersRemoved += lp === 'members' && Array.isArray(o.value) ? o.value.length : 1;
        }
      }
      if ((op === 'replace' || op === 'add') && lp === 'active') activeSet(o.value);
      if ((op === 'replace' || op === 'add') && !p && o.value && typeof o.value === 'object'
        && 'active' in o.value) activeSet(o.value.active);
    }
  }
  if (req.method === 'PUT' && 'active' in body) activeSet(body.active);
  return ops;
}

app.use('/scim/v2', (req, res, next) => {
  const write = req.method !== 'GET';
  const r = route(req);
  const routeKey = `${req.method} ${r.type ? `/${r.type}` : req.path}`;
  stats.requests++;
  stats.byMethod[req.method] = (stats.byMethod[req.method] || 0) + 1;
  stats.byRoute[routeKey] = (stats.byRoute[routeKey] || 0) + 1;
  if (req.method === 'GET' && r.type && r.id === undefined && !req.query.filter) stats.lists[r.type]++;
  if (req.method === 'GET' && r.type && r.id === undefined) {
    const k = `${r.type} ${req.query.count ?? '-'}`;
    stats.listCounts[k] = (stats.listCounts[k] || 0) + 1;
  }
  if (req.method === 'GET' && r.type && req.query.filter !== undefined) {
    stats.filters.push(`GET /${r.type} ${req.query.filter}`);
    if (stats.filters.length > 1000) stats.filters.shift();
  }
  let logEntry = null;
  if (write) {
    stats.writes++;
    logEntry = { method: req.method, path: req.originalUrl, status: null, ops: tallyWrite(req, r) };
    writeLog.push(logEntry);
    if (writeLog.length > 1000) writeLog.shift();
  }
  res.on('finish', () => {
    stats.byStatus[res.statusCode] = (stats.byStatus[res.statusCode] || 0) + 1;
    if (logEntry) logEntry.status = res.statusCode;
  });
  if (verbose) process.stderr.write(`${req.method} ${req.originalUrl}\n`);
  const send = res.send.bind(res);
  res.send = (body) => {
    if (req.seatBlocked) {
      res.status(428).type('application/scim+json');
      return send(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '428', detail: req.seatBlocked + authEcho(req) }));
    }
    // An object comes back here as a string through res.json.
    if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) return send(body);
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const text = body === undefined || body === null ? '' : String(body);
    if (ok && req.hostile === 'deepJson') {
      return send(r.id === undefined && req.method === 'GET'
        ? `{"schemas":["${LIST_SCHEMA}"],"totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[${deepArrays()}]}`
        : deepArrays());
    }
    if (ok && req.hostile === 'hugeBody' && text.startsWith('{')) {
      return streamHuge(res, '{"padding":"', `",${text.slice(1)}`);
    }
    if (ok && req.hostile === 'createNoId') {
      if (switches.createNoId === 'empty') { res.removeHeader('Content-Type'); res.end(); return res; }
      if (switches.createNoId === 'html') {
        res.type('text/html');
        return send('<html><head><title>Created</title></head><body><h1>Created</h1></body></html>');
      }
      const o = JSON.parse(text);
      delete o.id;
      if (o.meta) delete o.meta.location;
      return send(JSON.stringify(o));
    }
    if (ok && req.lieTotal && text.startsWith('{')) {
      const o = JSON.parse(text);
      o.totalResults = Number(switches.lieTotalResults);
      return send(JSON.stringify(o));
    }
    if (ok && req.spcReplace && text.startsWith('{')) {
      return send(JSON.stringify({ ...JSON.parse(text), ...req.spcReplace }));
    }
    if (ok && etagsOn() && r.type && (r.id !== undefined || req.method === 'POST') && text.startsWith('{')) {
      const o = JSON.parse(text);
      if (o.meta && o.meta.version) res.set('ETag', o.meta.version);
    }
    return send(body);
  };
  const go = () => {
    if (switches.down) return scimError(req, res, 503, 'service down (test switch)');
    requestSeq++;
    if (switches.rate429Every > 0 && requestSeq % switches.rate429Every === 0) {
      const ra = switches.rateRetryAfter;
      return scimError(req, res, 429, 'too many requests',
        ra === '' || ra === null || ra === undefined ? {} : { 'Retry-After': String(ra) });
    }
    if (req.method === 'GET' && req.path === '/ServiceProviderConfig') {
      const spc = switches.serviceProviderConfig;
      if (spc === false) return scimError(req, res, 404, 'Not Found (test switch serviceProviderConfig)');
      if (spc && typeof spc === 'object') req.spcReplace = spc;
    }
    req.hostile = pickFault(req, r);
    if (req.hostile === 'error') return hostileError(req, res);
    if (write && switches.etagRequired && r.type && r.id !== undefined && req.method !== 'POST') {
      const cur = (r.type === 'Users' ? users : groups).has(r.id) ? etagOf(r.id) : null;
      if (cur) {
        const ifMatch = req.header('If-Match');
        if (!ifMatch) return scimError(req, res, 428, 'If-Match required (test switch etagRequired)');
        const want = cur.replace(/^W\//, '');
        const okTag = ifMatch.split(',').map((x) => x.trim())
          .some((x) => x === '*' || x.replace(/^W\//, '') === want);
        if (!okTag) {
          return scimError(req, res, 412, `version mismatch: If-Match ${ifMatch}, current ${cur}`, { ETag: cur });
        }
      }
    }
    if (write) {
      writeSeq++;
      if (switches.fail503Every > 0 && writeSeq % switches.fail503Every === 0) {
        return scimError(req, res, 503, 'temporarily unavailable (test switch)');
      }
      if (switches.dropAfterCommitEvery > 0 && writeSeq % switches.dropAfterCommitEvery === 0) {
        // Let the write happen, then lose the answer.
        const drop = () => { stats.dropped++; req.socket.destroy(); return res; };
        res.send = drop;
        res.end = drop;
        res.sendStatus = drop;
      }
    }
    if (req.method === 'GET' && r.type && r.id === undefined) {
      const listFault = faultMatches(req);
      if (switches.repeatPages && listFault) req.query.startIndex = '1';
      if (switches.lieTotalResults !== null && switches.lieTotalResults !== undefined
        && switches.lieTotalResults !== '' && listFault) req.lieTotal = true;
    }
    // Targets without filter support (filterRefused), and AWS's 100 membership
    // changes per request (maxMembersPerRequest): 400, not applied.
    if (req.method === 'GET' && r.type && req.query.filter !== undefined && switches.filterRefused) {
      return scimError(req, res, 400, `filter not supported: ${req.query.filter}`, {}, 'invalidFilter');
    }
    if (write && r.type === 'Groups' && switches.maxMembersPerRequest > 0) {
      const n = memberValuesIn(req.body);
      if (n > switches.maxMembersPerRequest) {
        return scimError(req, res, 400,
          `${n} membership changes in one request; at most ${switches.maxMembersPerRequest}`, {}, 'invalidValue');
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
app.get('/admin/writes', (req, res) => res.json(writeLog));
app.post('/admin/reset', (req, res) => {
  resetStats();
  faultSeq = 0;
  faultsSent = 0;
  res.json(stats);
});
app.post('/admin/config', (req, res) => {
  Object.assign(switches, req.body || {});
  faultSeq = 0;
  faultsSent = 0;
  res.json(switches);
});
app.get('/admin/users', (req, res) => res.json([...users.values()]));
app.get('/admin/groups', (req, res) => res.json([...groups.values()].map((g) => ({ members: [], ...g }))));
// Pre-existing objects, as if made on the target by hand or by another tool.
app.post('/admin/seed', (req, res) => {
  const created = [];
  for (const u of (req.body && req.body.users) || []) {
    if (u.userName !== undefined && byUserName.has(String(u.userName).toLowerCase())) seededDuplicates = true;
    const x = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], active: true, ...u,
      id: crypto.randomUUID(), meta: meta('User') };
    putUser(x);
    created.push(x);
  }
  if (!req.body || !req.body.groups) return res.json(created);
  const findUser = (ref) => {
    if (ref && typeof ref === 'object') return users.get(ref.value);
    const k = String(ref);
    return users.get(k) || users.get(byUserExt.get(k)) || users.get(byUserName.get(k.toLowerCase()));
  };
  const made = [];
  for (const g of req.body.groups) {
    const members = [];
    for (const ref of g.members || []) {
      const u = findUser(ref);
      if (!u) return res.status(400).json({ error: `seed group ${g.displayName}: no user ${JSON.stringify(ref)}` });
      if (!members.some((m) => m.value === u.id)) members.push({ value: u.id, display: u.userName });
    }
    const x = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], ...g, members,
      id: crypto.randomUUID(), meta: meta('Group') };
    putGroup(x);
    made.push(x);
  }
  return res.json({ users: created, groups: made });
});
app.post('/admin/clear', (req, res) => {
  users.clear(); byUserName.clear(); byUserExt.clear(); byEmail.clear();
  groups.clear(); byGroupName.clear(); byGroupExt.clear(); versions.clear();
  activeCount = 0;
  seededDuplicates = false;
  res.json({ ok: true });
});

const server = app.listen(port, host, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
server.keepAliveTimeout = 60000;
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
