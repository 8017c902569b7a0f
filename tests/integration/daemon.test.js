// Issue 4: `scimsync daemon` with a CSV source against the SCIM test server, with
// intervals of a few seconds: cycles, CSV edits, signals (USR1 sync now, HUP reload,
// TERM during a slow cycle), the state lock shared with a manual sync, a target
// outage, `status --json` and the metrics file.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

const COLUMNS = ['externalId', 'userName', 'givenName', 'familyName', 'title', 'groups'];

function people(n, title = 'Analyst') {
  const rows = [];
  for (let i = 1; i <= n; i++) {
    rows.push({
      externalId: `D${String(i).padStart(3, '0')}`,
      userName: `d${i}@example.com`,
      givenName: `Given${i}`,
      familyName: `Family${i}`,
      title,
      groups: i % 2 ? 'Odd' : 'Even',
    });
  }
  return rows;
}

async function setup(t, { switches = {}, rows = people(5), config = {} } = {}) {
  const dir = h.tmpDir('daemon');
  const srv = await h.startScimServer({ token: 'daemon-token', ...switches });
  t.after(() => srv.stop());
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, rows, COLUMNS);
  const obj = {
    state: path.join(dir, 'state.db'),
    interval: '3s',
    interval_jitter: 0,
    source: { type: 'csv', users: csv },
    ...config,
    target: { max_retries: 1, ...(config.target || {}) },
  };
  const cfg = h.writeConfig(dir, obj, srv);
  const status = async () => {
    const r = await h.run(['--config', cfg, 'status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  return { dir, srv, csv, cfg, obj, status, rewrite: (r) => h.writeCsv(csv, r, COLUMNS) };
}

const { DaemonProc: Daemon } = require('./lib/daemon_proc');

function assertNoDuplicates(users) {
  const ext = users.map((u) => u.externalId);
  const names = users.map((u) => u.userName.toLowerCase());
  assert.equal(new Set(ext).size, ext.length, `duplicate externalId in ${ext}`);
  assert.equal(new Set(names).size, names.length, `duplicate userName in ${names}`);
}

test('daemon syncs at start, then picks up a CSV edit on the next cycle', async (t) => {
  const s = await setup(t);
  const d = new Daemon(t, s.cfg);
  const first = await d.cycleEnd(1);
  assert.equal(first.result, 'ok');
  assert.equal(first.users_created, '5');
  assert.equal(first.groups_created, '2');
  assert.equal((await s.srv.users()).length, 5);
  assert.ok(d.events('daemon_start')[0], 'daemon_start line');
  const next = d.events('next_cycle')[0];
  assert.ok(Number(next.in_ms) <= 3000 && Number(next.in_ms) > 1000, `next in ${next.in_ms} ms`);

  const rows = people(5);
  rows[2].title = 'Director';
  s.rewrite(rows);
  const edited = await d.until(() => d.events('cycle_end').find((l) => l.users_updated === '1'),
    'a cycle that updates the edited user', 15000);
  assert.equal(edited.result, 'ok');
  const u = (await s.srv.users()).find((x) => x.externalId === 'D003');
  assert.equal(u.title, 'Director');

  // Cycles come every ~3 s, from the start of the previous one.
  const n = d.events('cycle_end').length;
  const st = await s.status();
  assert.equal(st.daemon.running, true);
  assert.equal(st.daemon.pid, d.proc.pid);
  assert.match(st.daemon.next_cycle, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(st.cycles.length >= n - 1, 'status lists the cycles');
  assert.ok(['ok', 'running'].includes(st.cycles[0].result));

  const r = await d.stop();
  assert.equal(r.code, 0, d.stderr);
  assert.ok(d.events('daemon_stop')[0]);
  const after = await s.status();
  assert.equal(after.daemon.running, false);
  assert.equal(after.daemon.pid, null);
  assert.equal(after.daemon.next_cycle, null);
});

test('SIGUSR1 runs a cycle now', async (t) => {
  const s = await setup(t, { config: { interval: '1h' } });
  const d = new Daemon(t, s.cfg);
  await d.cycleEnd(1);
  const next = d.events('next_cycle')[0];
  assert.ok(Number(next.in_ms) > 3500 * 1000, `next cycle in an hour, got ${next.in_ms} ms`);
  const rows = people(6);
  s.rewrite(rows);
  const sent = Date.now();
  d.proc.kill('SIGUSR1');
  const second = await d.cycleEnd(2, 5000);
  assert.ok(Date.now() - sent < 5000);
  assert.equal(second.users_created, '1');
  assert.ok(d.events('cycle_now_requested')[0]);
  assert.equal((await s.srv.users()).length, 6);
  assert.equal((await d.stop()).code, 0);
});

test('SIGHUP with a broken config keeps the old one; a valid one applies', async (t) => {
  const s = await setup(t, { config: { interval: '1h' } });
  const d = new Daemon(t, s.cfg);
  await d.cycleEnd(1);
  const good = fs.readFileSync(s.cfg, 'utf8');
  fs.writeFileSync(s.cfg, `${good}\nno_such_key = 1\n`);
  d.proc.kill('SIGHUP');
  const failed = await d.until(() => d.events('config_reload_failed')[0], 'config_reload_failed');
  assert.equal(failed.level, 'error');
  assert.match(failed.error, /no_such_key/);
  assert.equal(failed.action, 'keeping the previous configuration');
  // Still running on the old config: a sync-now cycle works.
  d.proc.kill('SIGUSR1');
  assert.equal((await d.cycleEnd(2, 5000)).result, 'ok');
  assert.equal(d.proc.exitCode, null);

  // A valid new config: another users file with one more person.
  const csv2 = path.join(s.dir, 'people2.csv');
  h.writeCsv(csv2, people(7), COLUMNS);
  fs.writeFileSync(s.cfg, good.replace(JSON.stringify(s.csv), JSON.stringify(csv2)));
  d.proc.kill('SIGHUP');
  await d.until(() => d.events('config_reloaded')[0], 'config_reloaded');
  d.proc.kill('SIGUSR1');
  const third = await d.cycleEnd(3, 5000);
  assert.equal(third.users_created, '2');
  assert.equal((await s.srv.users()).length, 7);
  assert.equal((await d.stop()).code, 0);
});

test('SIGTERM during a slow cycle exits 0 within stop_timeout; the next run finishes with no duplicates', async (t) => {
  const rows = people(40);
  const s = await setup(t, {
    rows,
    switches: { latencyMs: 250 },
    config: { stop_timeout: '8s', target: { max_connections: 2 } },
  });
  const d = new Daemon(t, s.cfg);
  await d.until(() => d.events('user_created').length >= 3, 'some users created');
  const r = await d.stop(20000);
  assert.equal(r.code, 0, d.stderr);
  assert.ok(r.tookMs < 8000, `stopped in ${r.tookMs} ms`);
  const end = d.events('cycle_end')[0];
  assert.ok(end, `a cycle_end line after the stop:\n${d.stderr}`);
  assert.equal(end.result, 'stopped');
  const partial = await s.srv.users();
  assert.ok(partial.length < 40, `stopped before the end (${partial.length} users)`);
  assertNoDuplicates(partial);

  await s.srv.configure({ latencyMs: 0 });
  const again = await h.run(['--config', s.cfg, 'sync'], { timeoutMs: 60000 });
  assert.equal(again.code, 0, again.stderr);
  const users = await s.srv.users();
  assert.equal(users.length, 40);
  assertNoDuplicates(users);
  const st = await s.status();
  assert.equal(st.cycles[0].result, 'ok');
  assert.equal(st.cycles[1].result, 'stopped');
});

test('stop_timeout bounds the stop when the cycle cannot wind down in time', async (t) => {
  // One request takes 6 s; the daemon may wait only 1 s.
  const s = await setup(t, { switches: { latencyMs: 6000 }, config: { stop_timeout: '1s' } });
  const d = new Daemon(t, s.cfg);
  await d.until(() => d.events('source_read')[0], 'the cycle to start');
  await new Promise((r) => setTimeout(r, 300));
  const r = await d.stop(10000);
  assert.equal(r.code, 0, d.stderr);
  assert.ok(r.tookMs < 3000, `stopped in ${r.tookMs} ms`);
  const w = d.events('stop_timeout')[0];
  assert.ok(w, d.stderr);
  assert.equal(w.level, 'warn');
  // The next run re-reads the uncertain object and creates nothing twice.
  await s.srv.configure({ latencyMs: 0 });
  await new Promise((r) => setTimeout(r, 6500));  // the in-flight request lands
  const again = await h.run(['--config', s.cfg, 'sync'], { timeoutMs: 60000 });
  assert.equal(again.code, 0, again.stderr);
  const users = await s.srv.users();
  assert.equal(users.length, 5);
  assertNoDuplicates(users);
});

test('the target going down and coming back is survived without a restart', async (t) => {
  // Down = every SCIM request answers 503; the circuit breaker stops the cycle.
  const s = await setup(t, { switches: { down: true },
    config: { safety: { max_failures_per_cycle: 3 } } });
  const d = new Daemon(t, s.cfg);
  const first = await d.cycleEnd(1);
  assert.equal(first.result, 'stopped', d.stderr);
  const next = await d.until(() => d.events('next_cycle')[0], 'next_cycle');
  assert.equal(next.consecutive_stops, '1');
  assert.equal(next.backoff_ms, '3000');  // 1 min, capped at the 3 s interval
  const st = await s.status();
  assert.equal(st.daemon.running, true);
  assert.equal(st.cycles[0].result, 'stopped');

  await s.srv.configure({ down: false });
  const ok = await d.until(() => d.events('cycle_end').find((l) => l.result === 'ok'),
    'a successful cycle after the outage', 30000);
  assert.equal(Number(ok.users_created), 5);
  assert.equal(d.proc.exitCode, null);
  const users = await s.srv.users();
  assert.equal(users.length, 5);
  assertNoDuplicates(users);
  const after = await s.status();
  assert.equal(after.cycles[0].result, 'ok');
  assert.ok(after.cycles.some((c) => c.result === 'stopped'));
  assert.equal(after.daemon.pid, d.proc.pid);
  assert.equal((await d.stop()).code, 0);
});

test('a manual sync and the daemon share the lock: --no-wait exits 4, the daemon waits interruptibly', async (t) => {
  const s = await setup(t, { rows: people(20), switches: { latencyMs: 200 },
    config: { target: { max_connections: 1 } } });
  // The daemon's cycle holds the lock: a manual sync --no-wait reports it.
  const d = new Daemon(t, s.cfg);
  await d.until(() => d.events('user_created')[0], 'the daemon cycle to write');
  const busy = await h.run(['--config', s.cfg, 'sync', '--no-wait']);
  assert.equal(busy.code, 4, busy.stderr);
  assert.match(busy.stderr, /in use by pid \d+ \(scimsync daemon\)/);
  assert.equal((await d.stop()).code, 0);

  // A manual sync holds the lock: a new daemon waits for it, and a SIGTERM while it
  // waits ends it at once instead of deadlocking.
  const rows = people(20);
  rows.forEach((r) => { r.title = 'Changed'; });
  s.rewrite(rows);
  const manual = h.run(['--config', s.cfg, 'sync'], { timeoutMs: 60000 });
  await new Promise((r) => setTimeout(r, 700));
  const d2 = new Daemon(t, s.cfg);
  const waiting = await d2.until(() => d2.events('waiting_for_lock')[0], 'waiting_for_lock');
  assert.match(waiting.holder, /scimsync sync/);
  const r = await d2.stop(5000);
  assert.equal(r.code, 0, d2.stderr);
  assert.ok(r.tookMs < 2500, `stopped in ${r.tookMs} ms while waiting for the lock`);
  assert.equal(d2.events('cycle_start').length, 0);
  assert.ok([0, 1].includes((await manual).code));
});

test('metrics_file is written after every cycle in Prometheus text format', async (t) => {
  const s = await setup(t, {});
  const metrics = path.join(s.dir, 'scimsync.prom');
  s.obj.metrics_file = metrics;
  const cfg = h.writeConfig(s.dir, s.obj, s.srv);
  const d = new Daemon(t, cfg);
  await d.cycleEnd(1);
  await d.until(() => fs.existsSync(metrics), 'the metrics file');
  const text = fs.readFileSync(metrics, 'utf8');
  assert.match(text, /^scimsync_last_cycle_result\{result="ok"\} 1$/m);
  assert.match(text, /^scimsync_last_cycle_users_created 5$/m);
  assert.match(text, /^scimsync_cycles_total\{result="ok"\} 1$/m);
  assert.match(text, /^scimsync_objects_needing_attention\{status="failed"\} 0$/m);
  assert.match(text, /^scimsync_next_cycle_timestamp_seconds \d+\.\d{3}$/m);
  assert.equal((fs.statSync(metrics).mode & 0o777), 0o644);
  assert.deepEqual(fs.readdirSync(s.dir).filter((f) => f.includes('.prom.tmp')), []);
  assert.equal((await d.stop()).code, 0);
});

test('daemon with an invalid config exits 2 with a config_error line', async (t) => {
  const dir = h.tmpDir('daemon-bad');
  const cfg = path.join(dir, 'scimsync.toml');
  fs.writeFileSync(cfg, 'interval = "soon"\n');
  const r = await h.run(['--config', cfg, 'daemon'], { timeoutMs: 10000 });
  assert.equal(r.code, 2);
  const e = r.lines.find((l) => l.event === 'config_error');
  assert.ok(e, r.stderr);
  assert.equal(e.level, 'error');
});
