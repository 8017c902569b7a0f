// Commands as an administrator uses them (issue 9 §4): what `status` says about a state
// file that is not there, and what `plan` needs.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

function csvConfig(dir, target = {}) {
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, [{ externalId: 'E1', userName: 'ann@example.com', email: 'ann@example.com' }],
    ['externalId', 'userName', 'email']);
  return h.writeConfig(dir, {
    state: path.join(dir, 'state.db'),
    source: { type: 'csv', users: csv },
    target: { url: 'http://127.0.0.1:9/scim/v2', ...target },
  });
}

test('status on a state file that does not exist says so and exits 2', async () => {
  const dir = h.tmpDir('cli');
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, 'cli-token\n', { mode: 0o600 });
  const cfg = csvConfig(dir, { token_file: tokenFile });
  for (const args of [['status'], ['status', '--json']]) {
    const r = await h.run(['--config', cfg, ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const err = r.lines.find((l) => l.event === 'state_error');
    assert.ok(err, r.stderr);
    assert.match(err.error, /state file .*state\.db does not exist/);
    assert.match(err.error, /scimsync\.toml/);
    assert.ok(!fs.existsSync(path.join(dir, 'state.db')), 'status created no state file');
  }
});

// A loopback forward proxy for plain http: counts what passes and forwards it.
function startProxy() {
  const http = require('node:http');
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const u = new URL(req.url);  // a proxy gets the absolute URL
    const out = http.request({ host: u.hostname, port: u.port, method: req.method,
      path: u.pathname + u.search, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    out.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(out);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, seen,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  })));
}

test('[target] proxy: every request goes through it; no_proxy and "none" bypass it', async (t) => {
  const srv = await h.startScimServer({ token: 'proxy-token' });
  t.after(() => srv.stop());
  const proxy = await startProxy();
  t.after(() => proxy.close());
  const dir = h.tmpDir('cli-proxy');
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, [{ externalId: 'E1', userName: 'ann@example.com', email: 'ann@example.com' }],
    ['externalId', 'userName', 'email']);
  const write = (target) => h.writeConfig(dir, {
    state: path.join(dir, 'state.db'), source: { type: 'csv', users: csv }, target }, srv);

  let cfg = write({ proxy: proxy.url });
  let r = await h.run(['--config', cfg, 'sync']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(proxy.seen.some((s) => s.startsWith(`POST ${srv.url}/Users`)), proxy.seen.join('\n'));
  assert.equal((await srv.users()).length, 1);

  // The environment's proxy is used when the config names none...
  proxy.seen.length = 0;
  cfg = write({});
  r = await h.run(['--config', cfg, 'sync', '--reconcile'], { env: { http_proxy: proxy.url } });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(proxy.seen.length > 0, 'http_proxy from the environment is honoured');

  // ...and "none" or a matching no_proxy bypass every proxy.
  for (const target of [{ proxy: 'none' }, { proxy: proxy.url, no_proxy: '127.0.0.1' }]) {
    proxy.seen.length = 0;
    cfg = write(target);
    r = await h.run(['--config', cfg, 'sync', '--reconcile'], { env: { http_proxy: proxy.url } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(proxy.seen, [], JSON.stringify(target));
  }
});

test('plan needs no token unless it must read the target', async (t) => {
  const srv = await h.startScimServer({ token: 'plan-token' });
  t.after(() => srv.stop());
  const dir = h.tmpDir('cli-plan');
  const csv = path.join(dir, 'people.csv');
  const rows = [{ externalId: 'E1', userName: 'ann@example.com', email: 'ann@example.com' }];
  h.writeCsv(csv, rows, ['externalId', 'userName', 'email']);
  const cfg = h.writeConfig(dir, { state: path.join(dir, 'state.db'), source: { type: 'csv', users: csv } }, srv);
  const token = path.join(dir, 'token');

  // An empty state: the plan, like a sync, must read the target first, and says why it cannot.
  fs.rmSync(token);
  let r = await h.run(['--config', cfg, 'plan']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /no target to read: target token: .*token: cannot open/, r.stderr);

  fs.writeFileSync(token, 'plan-token\n', { mode: 0o600 });
  assert.equal((await h.run(['--config', cfg, 'sync'])).code, 0);
  await srv.reset();

  // A state with rows: the plan comes from the state; no token, no request.
  fs.rmSync(token);
  rows.push({ externalId: 'E2', userName: 'bob@example.com', email: 'bob@example.com' });
  h.writeCsv(csv, rows, ['externalId', 'userName', 'email']);
  r = await h.run(['--config', cfg, 'plan']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /create-user +E2 bob@example.com/, r.stdout);
  assert.equal((await srv.stats()).requests, 0, 'the plan sent nothing');
  r = await h.run(['--config', cfg, 'plan', '--reconcile']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /no target to read/, r.stderr);
});

test('JSON log lines: counts are JSON numbers, every line has a timestamp', async (t) => {
  const srv = await h.startScimServer({ token: 'json-token' });
  t.after(() => srv.stop());
  const dir = h.tmpDir('cli-json');
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, [{ externalId: 'E1', userName: 'ann@example.com', email: 'ann@example.com', groups: 'Staff' }],
    ['externalId', 'userName', 'email', 'groups']);
  const cfg = h.writeConfig(dir, { state: path.join(dir, 'state.db'), source: { type: 'csv', users: csv } }, srv);
  const r = await h.run(['--config', cfg, '--log-format', 'json', 'sync']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
  const numeric = /^(users|groups|requests|duration_ms|ms|count|cycle|target_users|target_groups|memberships|users_created|members_added|failed|drift)$/;
  let checked = 0;
  for (const l of lines) {
    assert.match(l.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, JSON.stringify(l));
    for (const [k, v] of Object.entries(l)) {
      if (numeric.test(k)) {
        assert.equal(typeof v, 'number', `${l.event}.${k} is a number: ${JSON.stringify(l)}`);
        checked += 1;
      }
    }
  }
  assert.ok(checked >= 10, `numbers checked: ${checked}`);
});

test('sync --progress: a live line on stderr only when asked or on a terminal; logs stay plain lines', async (t) => {
  const srv = await h.startScimServer({ token: 'progress-token' });
  t.after(() => srv.stop());
  const dir = h.tmpDir('cli-progress');
  const csv = path.join(dir, 'people.csv');
  const people = [];
  for (let i = 0; i < 300; i++) people.push({ externalId: `E${i}`, userName: `p${i}@example.com`, email: `p${i}@example.com` });
  h.writeCsv(csv, people, ['externalId', 'userName', 'email']);
  const cfg = h.writeConfig(dir, { state: path.join(dir, 'state.db'), source: { type: 'csv', users: csv } }, srv);

  // stderr is a pipe here: auto shows nothing.
  const quiet = await h.run(['--config', cfg, 'sync', '--reconcile']);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.ok(!quiet.stderr.includes('\r'), 'no live line into a pipe with --progress=auto');

  const dir2 = h.tmpDir('cli-progress2');
  const cfg2 = h.writeConfig(dir2, { state: path.join(dir2, 'state.db'), source: { type: 'csv', users: csv } }, srv);
  await srv.clear();
  const live = await h.run(['--config', cfg2, 'sync', '--progress=always']);
  assert.equal(live.code, 0, live.stderr);
  assert.match(live.stderr, /\r\x1b\[Ksyncing 300\/300 \(100%\)/);
  assert.match(live.stderr, /\r\x1b\[Kreading source/);
  // Every log line still starts a line of its own, and the live line is wiped at the end.
  assert.ok(live.stderr.endsWith('\r\x1b[K'), JSON.stringify(live.stderr.slice(-80)));
  const end = live.lines.find((l) => l.event === 'cycle_end');
  assert.ok(end, live.stderr);
  assert.equal(end.users_created, '300');

  const bad = await h.run(['--config', cfg2, 'sync', '--progress=sometimes']);
  assert.equal(bad.code, 2);
});
