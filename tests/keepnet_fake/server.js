#!/usr/bin/env node
// A fake of Keepnet Labs' reseller REST API, as documented on doc.keepnetlabs.com
// (api-reference: quickstart, reseller/companies/create-company-with-scim-and-dec,
// reseller/users-and-groups/set-up-scim-for-customer), for the integration tests
// of `scimsync keepnet onboard`. Node built-ins only. Loopback, in memory.
//
//   node server.js --port 0 --config '{"clients":[...], ...}'   prints "listening <port>"
//
// What it enforces, as the docs describe the real API:
//   POST /connect/token   form-encoded; grant_type=client_credentials, scope=api1, a known
//                         client_id/client_secret; else 400 {"error": "invalid_client" |
//                         "invalid_scope" | "unsupported_grant_type"} (RFC 6749 §5.2).
//                         Answers {access_token, expires_in, token_type, scope}.
//   /api/*                Authorization: Bearer <a token it issued, not expired, not used
//                         up>; else 401. Bodies are envelopes {status, message,
//                         validationMessages, data}.
//   Reseller endpoints    (companies search and create, and any request naming a company
//                         in X-KEEPNET-Company-Id) need a client whose role is "Reseller":
//                         else 403.
//   Company scoping       /api/scim* and /api/companies/direct-email-settings* act in the
//                         company named by X-KEEPNET-Company-Id (one this reseller manages,
//                         else 404), or without it in the reseller's own company.
//   POST /api/companies/search  JSON {pageNumber >= 1, pageSize 1..100, orderBy, ascending}
//                         -> data {results: [{resourceId, name, ...}], pageNumber, pageSize,
//                         totalNumberOfRecords, totalNumberOfPages}.
//   POST /api/companies   multipart/form-data only (else 415); required Name (<= 64),
//                         CountryResourceId, IndustryResourceId, LicenseTypeResourceId,
//                         LicensePeriodTypeResourceId, NumberOfUsers (int32 > 0), TimeZoneId,
//                         DateFormat, TimeFormat; Description <= 300 -> data {resourceId}.
//   GET /api/scim/fields  -> data [{resourceId, name}].
//   POST /api/scim        application/json only (json-patch+json: 400 INPUT_ERROR "Invalid
//                         request", the documented playground quirk); name required, <= 30;
//                         fieldMappings [{fieldResourceId (a field of GET /api/scim/fields),
//                         scimAttribute}]; a name the company already has: 409
//                         -> data {resourceId, name, token, baseUrl}.
//   POST /api/companies/direct-email-settings  {name, tenantId, allowedDomains[>=1], type 1|2};
//                         a name the company already has: 409 -> data {resourceId}.
//   POST /api/companies/direct-email-settings/test  {resourceId (of this company's DEC),
//                         sendTestEmailTo (an address)} -> data {isSuccess: true}.
//   PUT  /api/companies/direct-email-settings/make-default/{resourceId}.
// Assumed field names (the docs' OpenAPI file was not available): see docs/keepnet.md.
//
// Switches (--config JSON at start, POST /admin/config merged at run time):
//   clients [{id, secret, role}]   the REST API clients (role "Reseller" or "CompanyAdmin")
//   ownCompany {resourceId, name}  the reseller's own company
//   companies [{resourceId, name}] companies it already manages
//   tokenTtl S                     expires_in of new tokens, enforced (default 3600)
//   tokenUses N                    a token is refused (401) after N API requests: a token
//                                  that lapses early, as after a server restart
//   scimBaseUrl, scimToken         what POST /api/scim returns as baseUrl and token
//   decTestFails                   the DEC test answers 400 (mail not delivered)
//   failRoute {"POST /api/scim": 500}  answer that status to that route (not applied)
//   latencyMs N                    every /api request waits N ms first
// Admin (no auth): GET /admin/state (companies with their SCIM settings and DECs,
// tokens issued, the request log), POST /admin/config.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');

const args = process.argv.slice(2);
const argOf = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };

const config = {
  clients: [{ id: 'reseller-client', secret: 'reseller-secret-1234', role: 'Reseller' }],
  ownCompany: { resourceId: 'RESELLER0001', name: 'Reseller Ltd' },
  companies: [],
  tokenTtl: 3600,
  tokenUses: 0,
  scimBaseUrl: 'https://scim.keepnet.invalid/scim/v2',
  scimToken: 'scim-token-from-fake-keepnet',
  decTestFails: false,
  failRoute: {},
  latencyMs: 0,
  ...JSON.parse(argOf('--config', '{}')),
};

const state = { companies: new Map(), tokens: new Map(), tokensIssued: 0, log: [] };
const newId = () => crypto.randomBytes(9).toString('base64url').slice(0, 12);
function addCompany(c) {
  const company = { resourceId: c.resourceId || newId(), name: c.name, fields: c.fields || {},
    createTime: new Date().toISOString(), scim: [], dec: [] };
  state.companies.set(company.resourceId, company);
  return company;
}
addCompany({ ...config.ownCompany, own: true });
for (const c of config.companies) addCompany(c);

const SCIM_FIELDS = [
  { resourceId: 'fld-first', name: 'FirstName' }, { resourceId: 'fld-last', name: 'LastName' },
  { resourceId: 'fld-email', name: 'Email' }, { resourceId: 'fld-dept', name: 'Department' },
  { resourceId: 'fld-phone', name: 'PhoneNumber' }, { resourceId: 'fld-cost', name: 'CostCenter' },
];
const COMPANY_REQUIRED = ['Name', 'CountryResourceId', 'IndustryResourceId', 'LicenseTypeResourceId',
  'LicensePeriodTypeResourceId', 'NumberOfUsers', 'TimeZoneId', 'DateFormat', 'TimeFormat'];

function send(res, status, body) {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}
const envelope = (data, message = null) => ({ status: 'SUCCESS', message, validationMessages: null, data });
const failure = (message, validationMessages = null) => ({ status: 'ERROR', message, validationMessages, data: null });

// multipart/form-data (RFC 7578) -> [{name, value, filename}]; null if malformed.
function parseMultipart(buf, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) return null;
  const delim = Buffer.from(`--${m[1] || m[2]}`);
  const parts = [];
  let pos = buf.indexOf(delim);
  if (pos < 0) return null;
  for (;;) {
    pos += delim.length;
    if (buf.slice(pos, pos + 2).toString() === '--') return parts;
    pos += 2;  // CRLF
    const headEnd = buf.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return null;
    const head = buf.slice(pos, headEnd).toString();
    const next = buf.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd);
    if (next < 0) return null;
    const disp = /content-disposition:\s*form-data;\s*name="([^"]*)"(?:;\s*filename="([^"]*)")?/i.exec(head);
    if (!disp) return null;
    parts.push({ name: disp[1], value: buf.slice(headEnd + 4, next).toString(), filename: disp[2] });
    pos = next + 2;
  }
}

function authenticate(req) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  const t = m && state.tokens.get(m[1]);
  if (!t || Date.now() >= t.expiresAt) return null;
  if (config.tokenUses > 0 && t.uses >= config.tokenUses) return null;
  t.uses += 1;
  return t;
}

function token(req, res, body) {
  const form = new URLSearchParams(body.toString());
  if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] || '')) {
    return send(res, 400, { error: 'invalid_request', error_description: 'form-encoded body expected' });
  }
  if (form.get('grant_type') !== 'client_credentials') return send(res, 400, { error: 'unsupported_grant_type' });
  const client = config.clients.find((c) => c.id === form.get('client_id') && c.secret === form.get('client_secret'));
  if (!client) return send(res, 400, { error: 'invalid_client' });
  if (form.get('scope') !== 'api1') return send(res, 400, { error: 'invalid_scope' });
  const accessToken = `eyJ${crypto.randomBytes(24).toString('base64url')}`;
  state.tokens.set(accessToken, { client, expiresAt: Date.now() + config.tokenTtl * 1000, uses: 0 });
  state.tokensIssued += 1;
  return send(res, 200, { access_token: accessToken, expires_in: config.tokenTtl, token_type: 'Bearer',
    scope: 'api1', permissions: ['companies/search|POST', 'companies|POST', 'scim|POST'] });
}

function jsonBody(req, res, body) {
  const ct = req.headers['content-type'] || '';
  if (!/^application\/json\b/.test(ct)) {
    send(res, 400, { status: 'INPUT_ERROR', message: 'Invalid request', validationMessages: null, data: null });
    return null;
  }
  try { return JSON.parse(body.toString() || 'null') || {}; } catch (_) {
    send(res, 400, failure('Invalid request', ['body is not JSON']));
    return null;
  }
}

// The company a scoped request acts in: X-KEEPNET-Company-Id, else the reseller's own.
function scope(req, res, client) {
  const id = req.headers['x-keepnet-company-id'];
  if (id === undefined) return state.companies.get(config.ownCompany.resourceId);
  if (client.role !== 'Reseller') { send(res, 403, failure('Forbidden')); return null; }
  const c = state.companies.get(id);
  if (!c) { send(res, 404, failure(`Company ${id} not found`)); return null; }
  return c;
}

const routes = {
  'POST /api/companies/search': (req, res, body, client) => {
    if (client.role !== 'Reseller') return send(res, 403, failure('Forbidden'));
    const q = jsonBody(req, res, body);
    if (!q) return undefined;
    const v = [];
    if (!Number.isInteger(q.pageNumber) || q.pageNumber < 1) v.push('PageNumber must be greater than 0');
    if (!Number.isInteger(q.pageSize) || q.pageSize < 1 || q.pageSize > 100) v.push('PageSize must be between 1 and 100');
    if (typeof q.orderBy !== 'string' || !q.orderBy) v.push('OrderBy is required');
    if (typeof q.ascending !== 'boolean') v.push('Ascending is required');
    if (v.length) return send(res, 400, failure('Validation failed', v));
    const all = [...state.companies.values()].filter((c) => !c.own)
      .sort((a, b) => (q.ascending ? 1 : -1) * a.createTime.localeCompare(b.createTime));
    const results = all.slice((q.pageNumber - 1) * q.pageSize, q.pageNumber * q.pageSize)
      .map((c) => ({ resourceId: c.resourceId, name: c.name, createTime: c.createTime, targetUserCount: 0 }));
    return send(res, 200, envelope({ results, pageNumber: q.pageNumber, pageSize: q.pageSize,
      totalNumberOfRecords: all.length, totalNumberOfPages: Math.ceil(all.length / q.pageSize) }));
  },
  'POST /api/companies': (req, res, body, client) => {
    if (client.role !== 'Reseller') return send(res, 403, failure('Forbidden'));
    const ct = req.headers['content-type'] || '';
    if (!/^multipart\/form-data/.test(ct)) return send(res, 415, failure('Unsupported Media Type'));
    const parts = parseMultipart(body, ct);
    if (!parts) return send(res, 400, failure('Invalid request', ['malformed multipart body']));
    const f = {};
    for (const p of parts) {
      if (p.name.endsWith('Array')) (f[p.name] = f[p.name] || []).push(p.value);
      else f[p.name] = p.value;
    }
    const v = [];
    for (const k of COMPANY_REQUIRED) if (!f[k]) v.push(`${k} is required`);
    if (f.Name && f.Name.length > 64) v.push('Name must be at most 64 characters');
    if (f.Description && f.Description.length > 300) v.push('Description must be at most 300 characters');
    if (f.NumberOfUsers && !/^[1-9][0-9]{0,9}$/.test(f.NumberOfUsers)) v.push('NumberOfUsers must be a positive integer');
    for (const k of ['IsNumberOfUsersLimited', 'IsVersionVisible', 'IsReleaseNotesVisible']) {
      if (f[k] !== undefined && f[k] !== 'true' && f[k] !== 'false') v.push(`${k} must be true or false`);
    }
    if (v.length) return send(res, 400, failure('Validation failed', v));
    const c = addCompany({ name: f.Name, fields: f });
    return send(res, 200, envelope({ resourceId: c.resourceId }));
  },
  'GET /api/scim/fields': (req, res, body, client) => {
    const c = scope(req, res, client);
    if (!c) return undefined;
    return send(res, 200, envelope(SCIM_FIELDS));
  },
  'POST /api/scim': (req, res, body, client) => {
    const c = scope(req, res, client);
    if (!c) return undefined;
    const q = jsonBody(req, res, body);
    if (!q) return undefined;
    const v = [];
    if (typeof q.name !== 'string' || !q.name) v.push('Name is required');
    else if (q.name.length > 30) v.push('Name must be at most 30 characters');
    if (q.groupResourceId !== undefined && typeof q.groupResourceId !== 'string') v.push('GroupResourceId must be a string');
    for (const m of q.fieldMappings || []) {
      if (!SCIM_FIELDS.some((f) => f.resourceId === m.fieldResourceId)) v.push(`Unknown field ${m.fieldResourceId}`);
      if (typeof m.scimAttribute !== 'string' || !m.scimAttribute) v.push('ScimAttribute is required');
    }
    if (v.length) return send(res, 400, failure('Validation failed', v));
    if (c.scim.some((s) => s.name === q.name)) {
      return send(res, 409, failure(`A SCIM setting named ${q.name} already exists`));
    }
    const s = { resourceId: newId(), name: q.name, groupResourceId: q.groupResourceId || null,
      fieldMappings: q.fieldMappings || [] };
    c.scim.push(s);
    return send(res, 200, envelope({ ...s, token: config.scimToken, baseUrl: config.scimBaseUrl }));
  },
  'POST /api/companies/direct-email-settings': (req, res, body, client) => {
    const c = scope(req, res, client);
    if (!c) return undefined;
    const q = jsonBody(req, res, body);
    if (!q) return undefined;
    const v = [];
    if (typeof q.name !== 'string' || !q.name) v.push('Name is required');
    if (typeof q.tenantId !== 'string' || !q.tenantId) v.push('TenantId is required');
    if (!Array.isArray(q.allowedDomains) || !q.allowedDomains.length) v.push('AllowedDomains must not be empty');
    if (q.type !== 1 && q.type !== 2) v.push('Type must be 1 (Microsoft 365) or 2 (Google Workspace)');
    if (v.length) return send(res, 400, failure('Validation failed', v));
    if (c.dec.some((d) => d.name === q.name)) return send(res, 409, failure(`A setting named ${q.name} already exists`));
    const d = { resourceId: newId(), name: q.name, tenantId: q.tenantId, allowedDomains: q.allowedDomains,
      type: q.type, tested: false, isDefault: false };
    c.dec.push(d);
    return send(res, 200, envelope({ resourceId: d.resourceId }));
  },
  'POST /api/companies/direct-email-settings/test': (req, res, body, client) => {
    const c = scope(req, res, client);
    if (!c) return undefined;
    const q = jsonBody(req, res, body);
    if (!q) return undefined;
    const d = c.dec.find((x) => x.resourceId === q.resourceId);
    if (!d) return send(res, 404, failure('Direct email setting not found'));
    if (typeof q.sendTestEmailTo !== 'string' || !q.sendTestEmailTo.includes('@')) {
      return send(res, 400, failure('Validation failed', ['SendTestEmailTo must be an email address']));
    }
    if (config.decTestFails) {
      return send(res, 400, failure('Test email could not be sent',
        ['The application has no admin consent in the tenant']));
    }
    d.tested = true;
    return send(res, 200, envelope({ isSuccess: true }));
  },
};

function route(method, path) {
  const key = `${method} ${path}`;
  if (routes[key]) return routes[key];
  const m = /^\/api\/companies\/direct-email-settings\/make-default\/([^/]+)$/.exec(path);
  if (method === 'PUT' && m) {
    return (req, res, body, client) => {
      const c = scope(req, res, client);
      if (!c) return undefined;
      const d = c.dec.find((x) => x.resourceId === decodeURIComponent(m[1]));
      if (!d) return send(res, 404, failure('Direct email setting not found'));
      for (const x of c.dec) x.isDefault = false;
      d.isDefault = true;
      return send(res, 200, envelope(true));
    };
  }
  return null;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const path = req.url.split('?')[0];
    const entry = { method: req.method, path, company: req.headers['x-keepnet-company-id'] || null };
    if (path.startsWith('/admin/')) {
      if (req.method === 'POST' && path === '/admin/config') {
        Object.assign(config, JSON.parse(body.toString() || '{}'));
        return send(res, 200, config);
      }
      if (path === '/admin/state') {
        return send(res, 200, { companies: [...state.companies.values()], tokensIssued: state.tokensIssued,
          log: state.log });
      }
      return send(res, 404, {});
    }
    state.log.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });
    if (req.method === 'POST' && path === '/connect/token') return token(req, res, body);
    const handler = route(req.method, path);
    if (!handler) return send(res, 404, failure('Not found'));
    return setTimeout(() => {
      const client = authenticate(req);
      if (!client) return send(res, 401, failure('Unauthorized'));
      const injected = config.failRoute[`${req.method} ${path}`];
      if (injected) return send(res, injected, failure(`injected ${injected}`));
      return handler(req, res, body, client.client);
    }, config.latencyMs);
  });
});
server.listen(Number(argOf('--port', '0')), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
