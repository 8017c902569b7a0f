// Shared harness of the integration tests: the real scimsync binary, the scimmy-based
// SCIM test server on a loopback port, temp dirs, config and CSV writers.
// Node built-ins only (the server's own packages live in tests/scim_server).
'use strict';
const { spawn: spawnChild } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');

const REPO = path.resolve(__dirname, '..', '..', '..');
const dirs = [];
const servers = new Set();
process.on('exit', () => {
  for (const s of servers) { try { s.proc.kill('SIGKILL'); } catch (_) { /* gone */ } }
  if (!process.env.KEEP_TMP) for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function binary() {
  return process.env.SCIMSYNC_BIN ? path.resolve(process.env.SCIMSYNC_BIN)
    : path.join(REPO, 'build', 'scimsync');
}

function tmpDir(name = 'scimsync') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `scimsync-it-${name}-`));
  dirs.push(d);
  return d;
}

function request(port, method, urlPath, body, headers = {}, full = false) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath,
      headers: { ...headers,
        ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}) },
    }, (res) => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { s += c; });
      res.on('end', () => {
        let parsed;
        try { parsed = s ? JSON.parse(s) : null; } catch (e) { return reject(new Error(`${urlPath}: ${s}`)); }
        return resolve(full ? { status: res.statusCode, body: parsed } : parsed);
      });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// The SCIM servers a test can start: the scimmy-based one with its switches, and
// Better Auth's SCIM plugin (tests/scim_server/better_auth_server.js), which issues
// its own token and serves SCIM under /api/auth/scim/v2.
const SERVER_KINDS = {
  scimmy: { script: 'server.js', scimPath: '/scim/v2', ownToken: false },
  'better-auth': { script: 'better_auth_server.js', scimPath: '/api/auth/scim/v2', ownToken: true },
};

// Node 18 has no global Web Crypto (Better Auth needs it) without this flag; Node 19
// and later have it by default, so the flag is passed to Node 18 only.
function nodeFlags() {
  return Number(process.versions.node.split('.')[0]) < 19 ? ['--experimental-global-webcrypto'] : [];
}

// Starts a SCIM test server on a free loopback port: options.kind 'scimmy' (default,
// tests/scim_server/server.js, any of its switches) or 'better-auth'.
async function startScimServer(options = {}) {
  const { token: wantToken = 'test-token', kind = 'scimmy', ...switches } = options;
  const k = SERVER_KINDS[kind];
  if (!k) throw new Error(`unknown SCIM server kind ${kind}`);
  const proc = spawnChild(process.execPath,
    [...nodeFlags(), path.join(REPO, 'tests', 'scim_server', k.script), '--port', '0',
      ...(k.ownToken ? [] : ['--token', wantToken]), '--config', JSON.stringify(switches)],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  let token = k.ownToken ? null : wantToken;
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`SCIM server did not start: ${stderr}`)), 15000);
    proc.stdout.on('data', (d) => {
      out += d;
      const t = /^token (\S+)$/m.exec(out);
      if (t) token = t[1];
      const m = /^listening (\d+)$/m.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`SCIM server exited ${code}: ${stderr}`)); });
  });
  proc.removeAllListeners('exit');
  const srv = {
    port, token, proc, kind,
    url: `http://127.0.0.1:${port}${k.scimPath}`,
    stats: () => request(port, 'GET', '/admin/stats'),
    reset: () => request(port, 'POST', '/admin/reset', {}),
    configure: (s) => request(port, 'POST', '/admin/config', s),
    users: () => request(port, 'GET', '/admin/users'),
    groups: () => request(port, 'GET', '/admin/groups'),
    writes: () => request(port, 'GET', '/admin/writes'),
    seed: (body) => request(port, 'POST', '/admin/seed', body),
    clear: () => request(port, 'POST', '/admin/clear', {}),
    // A SCIM request with the bearer token, as an administrator editing the target by hand
    // (counted like any client's): scim('PATCH', '/Users/<id>', body) -> {status, body}.
    scim: (method, urlPath, body) => request(port, method, `${k.scimPath}${urlPath}`, body,
      { Authorization: `Bearer ${token}` }, true),
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
      servers.delete(srv);
    }),
  };
  servers.add(srv);
  return srv;
}

function tomlValue(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  if (v && typeof v === 'object') {
    return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)} = ${tomlValue(x)}`).join(', ')} }`;
  }
  throw new Error(`cannot write ${v} as TOML`);
}

// Writes <dir>/scimsync.toml. With `srv`, target.url and a mode-0600 token file
// default to that server's.
function writeConfig(dir, obj, srv) {
  const o = JSON.parse(JSON.stringify(obj));
  o.target = o.target || {};
  if (srv) {
    if (!o.target.url) o.target.url = srv.url;
    if (!o.target.token_file && !o.target.token_env) {
      const tokenFile = path.join(dir, 'token');
      fs.writeFileSync(tokenFile, `${srv.token}\n`, { mode: 0o600 });
      fs.chmodSync(tokenFile, 0o600);
      o.target.token_file = tokenFile;
    }
  }
  if (!o.state) o.state = path.join(dir, 'state.db');
  const lines = [];
  const tables = [];
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) tables.push([k, v]);
    else lines.push(`${k} = ${tomlValue(v)}`);
  }
  for (const [name, t] of tables) {
    lines.push('', `[${name}]`);
    for (const [k, v] of Object.entries(t)) lines.push(`${JSON.stringify(k)} = ${tomlValue(v)}`);
  }
  const file = path.join(dir, 'scimsync.toml');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function csvField(v) {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
function writeCsv(file, rows, columns) {
  const cols = columns || Object.keys(rows[0] || {});
  const out = [cols.join(',')];
  for (const r of rows) out.push(cols.map((c) => csvField(r[c])).join(','));
  fs.writeFileSync(file, `${out.join('\n')}\n`);
}

function parseLogfmt(line) {
  const o = {};
  const re = /([\w.]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let m;
  while ((m = re.exec(line)) !== null) {
    let v = m[2];
    if (v.startsWith('"')) { try { v = JSON.parse(v); } catch (_) { v = v.slice(1, -1); } }
    o[m[1]] = v;
  }
  return o;
}

function spawn(args, opts = {}) {
  return spawnChild(binary(), args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts,
    env: { ...process.env, ...(opts.env || {}) } });
}

// Runs scimsync to completion: {code, signal, stdout, stderr, lines}. opts.onSpawn(child)
// is called once the process is started (to watch its pid).
function run(args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(args, opts);
    if (opts.onSpawn) opts.onSpawn(p);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`timeout: scimsync ${args.join(' ')}\n${stderr}`)); },
      opts.timeoutMs || 60000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stderr.split('\n').filter((l) => l.includes('=')).map(parseLogfmt);
      resolve({ code, signal, stdout, stderr, lines });
    });
  });
}

module.exports = { binary, tmpDir, startScimServer, writeConfig, writeCsv, parseLogfmt, spawn, run, REPO };
