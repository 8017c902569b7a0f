// Issue 8: a hostile SCIM target (or a proxy in front of it). The real binary against the
// test server's hostile switches; each test asserts no crash (no signal), the exit code
// (DESIGN §9: 0 ok, 1 some objects failed, 2 usage/config, 3 cycle stopped), that the
// bearer token occurs nowhere (stdout, stderr, every file the run leaves behind: the
// state file, its -wal and -shm), and that no wrong write reached the server.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./lib/harness');

// A token that cannot occur by chance; its random part is searched for as well.
const SECRET = crypto.randomBytes(16).toString('hex');
const TOKEN = `hostile-${SECRET}`;

const COLUMNS = ['externalId', 'userName', 'givenName', 'familyName', 'email', 'title', 'active',
  'groups'];
const key = (i) => `E${String(i).padStart(4, '0')}`;
function people(n = 20, groupsOf = (i) => [`Team ${i % 4}`]) {
  const rows = [];
  for (let i = 1; i <= n; i++) {
    rows.push({ externalId: key(i), userName: `user${i}@example.com`, givenName: `Given${i}`,
      familyName: `Family${i}`, email: `user${i}@example.com`, title: 'Analyst', active: 'true',
      groups: groupsOf(i).join(';') });
  }
  return rows;
}

// A fresh server (with `switches`) and temp dir. Every run's output is kept for assertClean.
async function setup(t, switches = {}, opts = {}) {
  const dir = h.tmpDir('hostile');
  const srv = await h.startScimServer({ token: TOKEN, ...switches });
  t.after(() => srv.stop());
  const rows = opts.rows || people();
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, rows, COLUMNS);
  const cfg = h.writeConfig(dir, {
    state: path.join(dir, 'state.db'),
    source: { type: 'csv', users: csv },
    target: { max_retries: 1, timeout: '20s', ...(opts.target || {}) },
    ...(opts.safety ? { safety: opts.safety } : {}),
    log: { level: opts.level || 'info' },
  }, srv);
  const outputs = [];
  const live = { snapshots: 0, walSnapshots: 0, leaks: new Set() };
  const run = async (args, runOpts = {}) => {
    const stopWatch = watchStateFiles(dir, live);
    try {
      const r = await h.run(['--config', cfg, ...args], { timeoutMs: 120000, ...runOpts });
      outputs.push({ what: `scimsync ${args.join(' ')}`, r });
      return r;
    } finally {
      stopWatch();
    }
  };
  return { dir, srv, cfg, csv, rows, outputs, live, run, sync: (...a) => run(['sync', ...a]),
    rewrite: (r) => h.writeCsv(csv, r, COLUMNS) };
}

// The state file and its -wal while a run has them open (the -wal is gone after a clean
// exit): read every 10 ms, each copy searched for the token.
function watchStateFiles(dir, live) {
  const timer = setInterval(() => {
    for (const f of ['state.db', 'state.db-wal']) {
      let b;
      try { b = fs.readFileSync(path.join(dir, f)); } catch (_) { continue; }
      live.snapshots++;
      if (f.endsWith('-wal') && b.length > 0) live.walSnapshots++;
      if (occurrences(b, SECRET) > 0) live.leaks.add(`${f} (read while the run had it open)`);
    }
  }, 10);
  return () => clearInterval(timer);
}

// No signal (a crash), then the exit code.
function assertExit(r, code, what) {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal} (a crash)\n${r.stderr.slice(-3000)}`);
  assert.equal(r.code, code, `${what}: exit ${r.code}, want ${code}\n${r.stderr.slice(-3000)}`);
}

function occurrences(buf, needle) {
  let n = 0;
  for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + 1)) n++;
  return n;
}

// The token (or its random part) in no output and no file of the run (the token file aside).
// Every place is checked before the assertion, so a failure lists them all.
function assertClean(s) {
  const leaks = [];
  for (const { what, r } of s.outputs) {
    for (const [name, text] of [['stdout', r.stdout], ['stderr', r.stderr]]) {
      const n = occurrences(text, SECRET);
      if (n === 0) continue;
      const line = text.split('\n').find((l) => l.includes(SECRET));
      leaks.push(`${what}: ${n} in ${name}, e.g.: ${line.slice(0, 400)}`);
    }
  }
  const tokenFile = path.join(s.dir, 'token');
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) { walk(f); continue; }
      if (f === tokenFile || !e.isFile()) continue;
      const n = occurrences(fs.readFileSync(f), SECRET);
      if (n > 0) leaks.push(`${n} in the file ${path.basename(f)}`);
    }
  };
  walk(s.dir);
  for (const f of s.live.leaks) leaks.push(`in the file ${f}`);
  assert.equal(leaks.length, 0, `the token leaked:\n${leaks.join("\n")}`);
}

// Administrator commands on the same config: output checked by assertClean.
async function statusAndCheck(s) {
  for (const args of [['status'], ['status', '--json'], ['check']]) {
    const r = await s.run(args, { timeoutMs: 30000 });
    assert.equal(r.signal, null, `${args.join(' ')}: killed by ${r.signal}`);
  }
}

function cycleEnd(r) {
  const ends = r.lines.filter((l) => l.event === 'cycle_end');
  assert.equal(ends.length, 1, `one cycle_end line in:\n${r.stderr}`);
  return ends[0];
}

function byExternalId(users) {
  const m = new Map();
  for (const u of users) {
    if (u.externalId === undefined) continue;
    assert.ok(!m.has(u.externalId), `two target users for ${u.externalId} (a duplicate create)`);
    m.set(u.externalId, u);
  }
  return m;
}

// The target holds exactly `rows`: one user each, and every membership.
async function assertTargetMatches(srv, rows) {
  const users = await srv.users();
  const m = byExternalId(users);
  assert.equal(users.length, rows.length, 'users on the target');
  for (const r of rows) {
    const u = m.get(r.externalId);
    assert.ok(u, `user ${r.externalId} on the target`);
    assert.equal(u.userName, r.userName);
  }
  const want = new Map();
  for (const r of rows) {
    for (const g of r.groups.split(';').filter(Boolean)) {
      if (!want.has(g)) want.set(g, new Set());
      want.get(g).add(m.get(r.externalId).id);
    }
  }
  const groups = await srv.groups();
  assert.equal(groups.length, want.size, 'groups on the target');
  for (const g of groups) {
    assert.deepEqual((g.members || []).map((x) => x.value).sort(), [...want.get(g.displayName)].sort(),
      `members of ${g.displayName}`);
  }
}

// A warn line naming `k` (user_failed or user_deferred).
function assertFailedAtWarn(r, k) {
  const lines = r.lines.filter((l) => l.key === k && /^user_(failed|deferred|conflict)$/.test(l.event));
  assert.ok(lines.some((l) => l.level === 'warn'), `a warn line for ${k} in:\n${r.stderr.slice(-3000)}`);
}

const POST_USER = (keys) => `^POST /scim/v2/Users .*"externalId":"(${keys.join('|')})"`;

// ---------------------------------------------------------------------------
// 1. The Authorization header echoed in error bodies.

for (const level of ['info', 'debug']) {
  test(`echoed token in a 401 body: cycle stops (exit 3), token nowhere, nothing written [${level}]`,
    async (t) => {
      const s = await setup(t, { errorStatus: 401, echoAuth: true }, { level });
      const r = await s.sync();
      assertExit(r, 3, 'sync');
      assert.match(r.stderr, /401/);
      await statusAndCheck(s);
      assertClean(s);
      assert.equal((await s.srv.users()).length, 0);
    });

  test(`echoed token in 400 bodies: those users fail (exit 1), the rest synced, token nowhere [${level}]`,
    async (t) => {
      const bad = [key(3), key(7)];
      // latencyMs: a cycle long enough to read its -wal a few times.
      const s = await setup(t, { errorStatus: 400, echoAuth: true, faultMatch: POST_USER(bad), latencyMs: 40 },
        { level });
      const r = await s.sync();
      assertExit(r, 1, 'sync');
      for (const k of bad) assertFailedAtWarn(r, k);
      assert.ok(s.live.walSnapshots > 0, 'the -wal was read while the sync ran');
      await statusAndCheck(s);
      assertClean(s);
      const users = byExternalId(await s.srv.users());
      assert.equal(users.size, 18);
      for (const k of bad) assert.ok(!users.has(k));
    });

  test(`echoed token in 500 bodies: retried, deferred (exit 1), token nowhere [${level}]`, async (t) => {
    const bad = [key(3), key(7)];
    const s = await setup(t, { errorStatus: 500, echoAuth: true, faultMatch: POST_USER(bad) }, { level });
    const r = await s.sync();
    assertExit(r, 1, 'sync');
    for (const k of bad) assertFailedAtWarn(r, k);
    await statusAndCheck(s);
    assertClean(s);
    assert.equal((await s.srv.users()).length, 18);
  });
}

// ---------------------------------------------------------------------------
// 2. Deeply nested JSON (400,000 '[').

// A 201 the client cannot use (deep JSON, huge, empty, HTML, no id): the user is created on
// the target, the client must count it failed (warn, exit 1) and find it by lookup next
// cycle: no second POST, no duplicate (the server has no userName uniqueness here, so a
// second POST would be a second user).
async function unusableCreateAnswer(t, switches, opts = {}) {
  const bad = [key(3), key(7)];
  const s = await setup(t, { uniqueUserNames: false, faultMatch: POST_USER(bad), ...switches }, opts);
  const first = await s.run(['sync'], opts.runOpts || {});
  if (opts.afterFirst) opts.afterFirst(first);
  if (opts.lostAnswer) {
    // The answer was cut off (a transfer abort: the outcome is unknown, unlike a 201
    // that arrived without an id): the create is not sent again blind; a lookup by
    // externalId in the same cycle finds it.
    assertExit(first, 0, 'first sync');
    for (const k of bad) {
      assert.ok(first.lines.some((l) => l.event === 'user_adopted' && l.key === k &&
        /answer was lost/.test(l.reason)), `${k} found by lookup in the same cycle\n${first.stderr}`);
    }
  } else {
    assertExit(first, 1, 'first sync');
    for (const k of bad) assertFailedAtWarn(first, k);
  }
  assert.equal((await s.srv.users()).length, 20, 'every POST was applied on the target');

  await s.srv.reset();
  const second = await s.sync();
  assertExit(second, 0, 'second sync');
  const stats = await s.srv.stats();
  assert.equal(stats.byRoute['POST /Users'] || 0, 0, 'resolved by lookup, not created again');
  await assertTargetMatches(s.srv, s.rows);

  await s.srv.reset();
  const third = await s.sync();
  assertExit(third, 0, 'third sync');
  assert.equal((await s.srv.stats()).writes, 0, 'converged: no write');
  assertClean(s);
  return { s, first };
}

test('deep JSON (400,000 [) in a 201: no crash, user failed (exit 1), found by lookup next cycle', async (t) => {
  await unusableCreateAnswer(t, { deepJson: 'create', echoAuth: true });
});

// A pre-existing user (same userName, no externalId): POST 409, then the lookup reads a list.
// A first cycle on an empty state reads the whole target and would bind the account
// from that read; to reach the lookup, everyone but person 3 is synced first (a state
// with rows is planned from the state), then the account appears and person 3 joins.
async function lookupAfterFirstSync(s, seedUsers, switches) {
  s.rewrite(s.rows.filter((r) => r.externalId !== key(3)));
  assertExit(await s.sync(), 0, 'first sync without person 3');
  const seeded = await s.srv.seed({ users: seedUsers });
  await s.srv.configure(switches);
  await s.srv.reset();
  s.rewrite(s.rows);
  return seeded;
}

async function hostileLookup(t, switches) {
  const s = await setup(t);
  const [seeded] = await lookupAfterFirstSync(s, [{ userName: 'user3@example.com', name: { givenName: 'Old' },
    emails: [{ value: 'old3@example.com', type: 'work' }] }],
  { faultMatch: '^GET /scim/v2/Users\\?filter=.*(E0003|user3%40|user3@)', ...switches });
  const r = await s.sync();
  assertExit(r, 1, 'sync');
  assertFailedAtWarn(r, key(3));
  const users = await s.srv.users();
  assert.equal(users.length, 20, '19 created, the pre-existing one not duplicated');
  const after = users.find((u) => u.id === seeded.id);
  assert.equal(after.name.givenName, 'Old', 'the pre-existing user was not written');
  assert.equal(after.externalId, undefined);
  const writes = await s.srv.writes();
  assert.ok(!writes.some((w) => w.path.includes(seeded.id)), 'no write to the pre-existing user');
  assertClean(s);
  return s;
}

test('deep JSON (400,000 [) in a list response: no crash, that user failed (exit 1), no adoption', async (t) => {
  await hostileLookup(t, { deepJson: 'list' });
});

// ---------------------------------------------------------------------------
// 3. A huge body: bounded memory, the request fails cleanly.

// Peak resident memory (VmHWM) of a child, polled from /proc while it runs.
function watchPeak(child, peak) {
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak.kb = Math.max(peak.kb, Number(m[1]));
    } catch (_) { /* exited */ }
  }, 20);
  child.on('exit', () => clearInterval(timer));
}

const HUGE_MIB = 96;
// A sync peaks at about 16 MiB; each of max_connections (4) requests may buffer up to
// max_response_size (8 MiB) before it is cut off: 48 MiB at worst, so 64 with headroom,
// well below one 96 MiB body (without the cap the peak was 567 MiB).
const PEAK_LIMIT_MIB = 64;

test(`huge 201 body (${HUGE_MIB} MiB): memory stays bounded, the create is found by lookup, never POSTed twice`,
  async (t) => {
    const peak = { kb: 0 };
    const t0 = Date.now();
    await unusableCreateAnswer(t, { hugeBody: 'create', hugeBodyMiB: HUGE_MIB }, {
      lostAnswer: true,
      runOpts: { onSpawn: (p) => watchPeak(p, peak) },
      afterFirst: (r) => {
        console.log(`# two ${HUGE_MIB} MiB answers: peak RSS ${(peak.kb / 1024).toFixed(1)} MiB, `
          + `first sync ${Date.now() - t0} ms, exit ${r.code}`);
        assert.equal(r.signal, null, `killed by ${r.signal}`);
        assert.ok(peak.kb > 0, 'peak measured');
        assert.ok(peak.kb < PEAK_LIMIT_MIB * 1024,
          `peak RSS ${(peak.kb / 1024).toFixed(1)} MiB >= ${PEAK_LIMIT_MIB} MiB: the body was buffered`);
      },
    });
  });

test(`huge list response (${HUGE_MIB} MiB): memory stays bounded, that user failed (exit 1), no adoption`,
  async (t) => {
    const peak = { kb: 0 };
    // Person 2 first (a state with rows is planned from the state, not from a target
    // read), then person 1, whose account already exists: POST 409, then the lookup.
    const s = await setup(t, {}, { rows: people(2) });
    s.rewrite(s.rows.filter((r) => r.externalId !== key(1)));
    assertExit(await s.sync(), 0, 'first sync without person 1');
    const [seeded] = await s.srv.seed({ users: [{ userName: 'user1@example.com', name: { givenName: 'Old' } }] });
    await s.srv.configure({ hugeBody: 'list', hugeBodyMiB: HUGE_MIB, faultMatch: '^GET /scim/v2/Users\\?filter=' });
    s.rewrite(s.rows);
    const r = await s.run(['sync'], { onSpawn: (p) => watchPeak(p, peak) });
    console.log(`# peak RSS with a ${HUGE_MIB} MiB list page: ${(peak.kb / 1024).toFixed(1)} MiB, exit ${r.code}`);
    assert.equal(r.signal, null, `killed by ${r.signal}`);
    assert.ok(peak.kb < PEAK_LIMIT_MIB * 1024,
      `peak RSS ${(peak.kb / 1024).toFixed(1)} MiB >= ${PEAK_LIMIT_MIB} MiB: the body was buffered`);
    assertExit(r, 1, 'sync');
    const writes = await s.srv.writes();
    assert.ok(!writes.some((w) => w.path.includes(seeded.id)), 'no write to the pre-existing user');
    assertClean(s);
  });

// ---------------------------------------------------------------------------
// 4. 201 without an id.

for (const kind of ['empty', 'html', 'json']) {
  test(`201 without an id (${kind}): user failed at warn (exit 1), resolved by lookup next cycle, never duplicated`,
    async (t) => {
      await unusableCreateAnswer(t, { createNoId: kind });
    });
}

// ---------------------------------------------------------------------------
// 5. HTML error pages (a proxy's 502), with the token echoed in the page.

test('HTML 502 page echoing the token: retried, deferred (exit 1), converges next cycle, token nowhere', async (t) => {
  const bad = [key(3)];
  const s = await setup(t, { errorStatus: 502, errorBody: 'html', echoAuth: true, faultMatch: POST_USER(bad) },
    { level: 'debug' });
  const r = await s.sync();
  assertExit(r, 1, 'sync');
  assertFailedAtWarn(r, key(3));
  assert.ok(r.lines.some((l) => l.key === key(3) && /502/.test(l.error || '')), 'the error names HTTP 502');
  assert.equal((await s.srv.users()).length, 19);
  await s.srv.configure({ errorStatus: 0 });
  const again = await s.sync();
  assertExit(again, 0, 'second sync');
  await assertTargetMatches(s.srv, s.rows);
  await statusAndCheck(s);
  assertClean(s);
});

// ---------------------------------------------------------------------------
// 6. Retry-After: -5 (invalid: treated as absent, the cycle neither hangs nor spins).

test('429 with Retry-After: -5: treated as absent, the sync converges in bounded time (exit 0)', async (t) => {
  const s = await setup(t, { rate429Every: 4, rateRetryAfter: '-5' }, { target: { max_retries: 3 } });
  const t0 = Date.now();
  const r = await s.sync();
  const ms = Date.now() - t0;
  console.log(`# 20 users, every 4th request 429 with Retry-After -5: ${ms} ms`);
  assertExit(r, 0, 'sync');
  assert.ok(ms < 60000, `took ${ms} ms`);
  await assertTargetMatches(s.srv, s.rows);
  assertClean(s);
});

test('503 with Retry-After: -5: treated as absent, the sync converges in bounded time (exit 0)', async (t) => {
  const s = await setup(t, { errorStatus: 503, errorRetryAfter: '-5', faultEvery: 3,
    faultMatch: '^(POST|PATCH) ' }, { target: { max_retries: 3 } });
  const t0 = Date.now();
  const r = await s.sync();
  const ms = Date.now() - t0;
  console.log(`# 20 users, every 3rd write 503 with Retry-After -5: ${ms} ms`);
  assertExit(r, 0, 'sync');
  assert.ok(ms < 60000, `took ${ms} ms`);
  await assertTargetMatches(s.srv, s.rows);
  assertClean(s);
});

// ---------------------------------------------------------------------------
// 7. Lying totalResults and repeated pages (on the lookups after a 409).

test('lying totalResults (1000): lookups stop at the empty page, adopt the one match, report the two', async (t) => {
  // user3 exists once (adopt it); user7 twice (a conflict, never an adoption).
  const s = await setup(t, { lieTotalResults: 1000, pageCap: 1 });
  const seeded = await s.srv.seed({ users: [
    { userName: 'user3@example.com', name: { givenName: 'Old' } },
    { userName: 'user7@example.com', name: { givenName: 'Old7a' } },
    { userName: 'user7@example.com', name: { givenName: 'Old7b' } }] });
  const r = await s.sync();
  assertExit(r, 1, 'sync');
  assert.ok(r.lines.some((l) => l.event === 'user_conflict' && l.key === key(7)), r.stderr);
  const users = await s.srv.users();
  assert.equal(users.length, 21, '18 created + 3 pre-existing');
  const u3 = users.filter((u) => u.userName.toLowerCase() === 'user3@example.com');
  assert.equal(u3.length, 1);
  assert.equal(u3[0].id, seeded[0].id, 'adopted, same id');
  assert.equal(u3[0].name.givenName, 'Given3', 'adopted and updated');
  const writes = await s.srv.writes();
  for (const x of seeded.slice(1)) {
    assert.ok(!writes.some((w) => w.path.includes(x.id)), 'no write to either user7');
  }
  const stats = await s.srv.stats();
  assert.ok(stats.byMethod.GET < 40, `bounded reads (${stats.byMethod.GET} GETs)`);
  assertClean(s);
});

test('repeated pages (startIndex ignored): a lookup that cannot see every match adopts nothing', async (t) => {
  // user3 exists twice; page 2 of `userName eq "user3..."` repeats page 1, which hides the
  // second match: adopting the first would be a guess.
  const s = await setup(t);
  const seeded = await lookupAfterFirstSync(s, [
    { userName: 'user3@example.com', name: { givenName: 'Old3a' } },
    { userName: 'user3@example.com', name: { givenName: 'Old3b' } }], { repeatPages: true, pageCap: 1 });
  const r = await s.sync();
  assertExit(r, 1, 'sync');
  assertFailedAtWarn(r, key(3));
  const writes = await s.srv.writes();
  for (const x of seeded) {
    assert.ok(!writes.some((w) => w.path.includes(x.id)), `no write to a pre-existing user3 (${x.name.givenName})`);
  }
  const users = await s.srv.users();
  assert.equal(users.length, 21, '19 created + 2 pre-existing');
  assert.ok(!users.some((u) => u.externalId === key(3)), 'neither pre-existing user3 was adopted');
  const stats = await s.srv.stats();
  assert.ok(stats.byMethod.GET < 40, `bounded reads (${stats.byMethod.GET} GETs)`);
  assertClean(s);
});

// ---------------------------------------------------------------------------
// 8. A FIFO as token_file: refused at once, never opened for a blocking read.

test('a FIFO as token_file: check and sync fail fast (exit 2) naming the file', async (t) => {
  const s = await setup(t);
  const fifo = path.join(s.dir, 'token-fifo');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const cfg = fs.readFileSync(s.cfg, 'utf8')
    .replace(/^"?token_file"?\s*=.*$/m, `token_file = ${JSON.stringify(fifo)}`);
  fs.writeFileSync(s.cfg, cfg);
  for (const cmd of ['check', 'sync']) {
    const t0 = Date.now();
    let r;
    try {
      r = await h.run(['--config', s.cfg, cmd], { timeoutMs: 10000 });
    } catch (e) {
      assert.fail(`scimsync ${cmd} hangs on a FIFO token_file: ${e.message.split('\n')[0]}`);
    }
    assertExit(r, 2, cmd);
    assert.ok(Date.now() - t0 < 5000, `${cmd} took ${Date.now() - t0} ms`);
    // `check` reports on stdout (one line per item), `sync` logs on stderr.
    assert.match(r.stdout + r.stderr, /token-fifo: not a regular file \(a FIFO\)/, `${cmd} names the file`);
  }
  assert.equal((await s.srv.stats()).requests, 0, 'nothing sent');
});

// ---------------------------------------------------------------------------
// 9. The deletion guard holds: nothing destructive for the held-back leavers.

test('deletion guard trips (exit 3): no membership removal, no disable, no delete reaches the target', async (t) => {
  // 40 people in 4 teams, every 5th also in Managers.
  const groupsOf = (i) => (i % 5 === 0 ? [`Team ${i % 4}`, 'Managers'] : [`Team ${i % 4}`]);
  // Two of the coming leavers are inactive in the source already (disabled on the target,
  // still in their groups), as in any HR export.
  const inactive = [key(1), key(3)];
  const rows = people(40, groupsOf);
  for (const r of rows) if (inactive.includes(r.externalId)) r.active = 'false';
  const s = await setup(t, {}, { rows });
  assertExit(await s.sync(), 0, 'first sync');

  // 10 leavers (25% > the default 10%), one joiner, one changed title; nobody else moves.
  const leavers = new Set(Array.from({ length: 10 }, (_, i) => key(2 * i + 1)));
  const kept = rows.filter((r) => !leavers.has(r.externalId)).map((r) => ({ ...r }));
  kept[0].title = 'Lead';
  assert.ok(!inactive.includes(kept[0].externalId));
  const joiner = { ...people(41, groupsOf)[40] };
  s.rewrite([...kept, joiner]);
  await s.srv.reset();
  const r = await s.sync();
  assertExit(r, 3, 'sync with the guard');
  assert.ok(r.lines.some((l) => l.event === 'deletion_guard'), r.stderr);

  const stats = await s.srv.stats();
  const writes = await s.srv.writes();
  const removals = writes.filter((w) => w.ops.some((o) => o.startsWith('remove')));
  assert.equal(stats.membersRemoved, 0,
    `membership removals sent while the guard holds:\n${removals.map((w) => `${w.method} ${w.path} ${w.ops}`).join('\n')}`);
  assert.equal(stats.patchOps.remove, 0);
  assert.equal(stats.usersDisabled, 0, 'no disable');
  assert.equal(stats.byMethod.DELETE, 0, 'no delete');
  // Creates and updates still go through.
  assert.equal(stats.byRoute['POST /Users'], 1, 'the joiner is created');
  const users = byExternalId(await s.srv.users());
  assert.equal(users.get(kept[0].externalId).title, 'Lead');
  for (const k of leavers) {
    assert.equal(users.get(k).active, !inactive.includes(k), `${k} ${inactive.includes(k) ? 'still inactive' : 'still active'}`);
  }
  const groups = await s.srv.groups();
  for (const k of leavers) {
    const id = users.get(k).id;
    const want = rows.find((x) => x.externalId === k).groups.split(';');
    const has = groups.filter((g) => g.members.some((m) => m.value === id)).map((g) => g.displayName);
    assert.deepEqual(has.sort(), want.sort(), `${k} keeps its memberships`);
  }

  // Let it through once: now the removals and disables do reach the target.
  await s.srv.reset();
  assertExit(await s.sync('--allow-deletions'), 0, 'sync --allow-deletions');
  const after = await s.srv.stats();
  assert.equal(after.usersDisabled, 8);
  assert.ok(after.membersRemoved >= 10, `${after.membersRemoved} member removals`);
  assertClean(s);
});
