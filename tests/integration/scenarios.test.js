// Issue 2 scenarios: the real scimsync binary against the scimmy-based SCIM test
// server, both on loopback, one fresh server and temp dir per test.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

const DEPTS = ['Sales', 'Engineering', 'Finance', 'Support', 'Marketing'];

// ~200 people in 10 groups.
function people(n = 200) {
  const rows = [];
  for (let i = 1; i <= n; i++) {
    const groups = [`Team ${i % 10}`];
    if (i % 7 === 0) groups.push('Managers');
    rows.push({
      externalId: `E${String(i).padStart(4, '0')}`,
      userName: `user${i}@example.com`,
      givenName: `Given${i}`,
      familyName: `Family${i}`,
      email: `user${i}@example.com`,
      department: DEPTS[i % DEPTS.length],
      title: i % 3 === 0 ? 'Engineer' : 'Analyst',
      active: 'true',
      groups: groups.join(';'),
    });
  }
  return rows;
}
const COLUMNS = ['externalId', 'userName', 'givenName', 'familyName', 'email', 'department',
  'title', 'active', 'groups'];

async function setup(t, switches = {}, rows = people(), extra = {}) {
  const dir = h.tmpDir('scenario');
  const srv = await h.startScimServer({ token: 'secret-token', ...switches });
  t.after(() => srv.stop());
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, rows, COLUMNS);
  const cfg = h.writeConfig(dir, {
    state: path.join(dir, 'state.db'),
    source: { type: 'csv', users: csv },
    ...extra,
    target: { max_retries: 2, ...(extra.target || {}) },
  }, srv);
  const sync = (...args) => h.run(['--config', cfg, 'sync', ...args], { timeoutMs: 120000 });
  const rewrite = (r) => h.writeCsv(csv, r, COLUMNS);
  return { dir, srv, cfg, csv, sync, rewrite };
}

function cycleEnd(r) {
  const ends = r.lines.filter((l) => l.event === 'cycle_end');
  assert.equal(ends.length, 1, `one cycle_end line in:\n${r.stderr}`);
  return ends[0];
}

// Map externalId -> user, asserting no externalId appears twice.
function byExternalId(users) {
  const m = new Map();
  for (const u of users) {
    assert.ok(!m.has(u.externalId), `duplicate user for ${u.externalId}`);
    m.set(u.externalId, u);
  }
  return m;
}

function assertMatches(users, groups, rows) {
  const m = byExternalId(users);
  const active = rows.filter((r) => r.active !== 'false');
  assert.equal(users.filter((u) => u.active !== false).length, active.length);
  for (const r of rows) {
    const u = m.get(r.externalId);
    assert.ok(u, `user ${r.externalId} on the target`);
    assert.equal(u.userName, r.userName);
    assert.equal(u.name.givenName, r.givenName);
    assert.equal(u.name.familyName, r.familyName);
    assert.equal(u.emails[0].value, r.email);
    assert.equal(u.title, r.title);
    assert.equal(u['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department,
      r.department);
  }
  const want = new Map();
  for (const r of rows) {
    for (const g of r.groups.split(';').filter(Boolean)) {
      if (!want.has(g)) want.set(g, new Set());
      want.get(g).add(m.get(r.externalId).id);
    }
  }
  assert.equal(groups.length, want.size);
  for (const g of groups) {
    const ids = new Set((g.members || []).map((x) => x.value));
    assert.deepEqual([...ids].sort(), [...want.get(g.displayName)].sort(), `members of ${g.displayName}`);
  }
}

test('1+2. first sync of 200 people in 11 groups, then an idle sync with zero writes', async (t) => {
  const s = await setup(t);
  const rows = people();
  const t0 = Date.now();
  const r = await s.sync();
  const ms = Date.now() - t0;
  assert.equal(r.code, 0, r.stderr);
  const end = cycleEnd(r);
  assert.equal(end.result, 'ok');
  assert.equal(end.users_created, '200');
  assert.equal(end.groups_created, '11');
  assertMatches(await s.srv.users(), await s.srv.groups(), rows);
  console.log(`# first sync of 200 users: ${ms} ms, ${(await s.srv.stats()).requests} requests`);

  await s.srv.reset();
  const again = await s.sync();
  assert.equal(again.code, 0, again.stderr);
  const stats = await s.srv.stats();
  assert.equal(stats.writes, 0, 'no write request on an idle sync');
  console.log(`# idle sync: ${stats.requests} requests, ${stats.writes} writes`);
  assert.equal(cycleEnd(again).requests, String(stats.requests));
});

test('3. rename: one PATCH, same target id', async (t) => {
  const s = await setup(t);
  const rows = people();
  assert.equal((await s.sync()).code, 0);
  const before = byExternalId(await s.srv.users()).get('E0005');
  rows[4].userName = 'renamed5@example.com';
  rows[4].email = 'renamed5@example.com';
  s.rewrite(rows);
  await s.srv.reset();
  const r = await s.sync();
  assert.equal(r.code, 0, r.stderr);
  const stats = await s.srv.stats();
  assert.equal(stats.writes, 1);
  assert.equal(stats.byMethod.PATCH, 1);
  const after = byExternalId(await s.srv.users()).get('E0005');
  assert.equal(after.id, before.id);
  assert.equal(after.userName, 'renamed5@example.com');
  assert.equal(after.emails[0].value, 'renamed5@example.com');
});

test('4. leaver is disabled, and re-activated with the same id when back', async (t) => {
  const s = await setup(t);
  const rows = people();
  assert.equal((await s.sync()).code, 0);
  const id = byExternalId(await s.srv.users()).get('E0010').id;
  s.rewrite(rows.filter((r) => r.externalId !== 'E0010'));
  const r = await s.sync();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(cycleEnd(r).users_disabled, '1');
  let u = byExternalId(await s.srv.users()).get('E0010');
  assert.equal(u.active, false);
  assert.equal(u.id, id);
  s.rewrite(rows);
  const back = await s.sync();
  assert.equal(back.code, 0, back.stderr);
  u = byExternalId(await s.srv.users()).get('E0010');
  assert.equal(u.active, true);
  assert.equal(u.id, id);
  assertMatches(await s.srv.users(), await s.srv.groups(), rows);
});

test('4b. delete mode: leaver DELETEd; on a DELETE-locks target the returning user is adopted', async (t) => {
  const s = await setup(t, { deleteLocks: true }, people(), { target: { deprovision: 'delete' } });
  const rows = people();
  assert.equal((await s.sync()).code, 0);
  const id = byExternalId(await s.srv.users()).get('E0011').id;
  s.rewrite(rows.filter((r) => r.externalId !== 'E0011'));
  const r = await s.sync();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(cycleEnd(r).users_deleted, '1');
  assert.equal(byExternalId(await s.srv.users()).get('E0011').active, false, 'locked, not deleted');
  s.rewrite(rows);
  const back = await s.sync();
  assert.equal(back.code, 0, back.stderr);
  const u = byExternalId(await s.srv.users()).get('E0011');
  assert.equal(u.id, id);
  assert.equal(u.active, true);
});

test('5. membership churn: only the difference is sent', async (t) => {
  const s = await setup(t);
  const rows = people();
  assert.equal((await s.sync()).code, 0);
  rows[0].groups = 'Team 5';             // E0001: Team 1 -> Team 5
  rows[13].groups = 'Team 4;Team 9';     // E0014: Team 4 + Managers -> Team 4 + Team 9
  s.rewrite(rows);
  await s.srv.reset();
  const r = await s.sync();
  assert.equal(r.code, 0, r.stderr);
  const end = cycleEnd(r);
  assert.equal(end.members_added, '2');
  assert.equal(end.members_removed, '2');
  const stats = await s.srv.stats();
  assert.equal(stats.byMethod.PATCH, 4);
  assert.equal(stats.writes, 4);
  assertMatches(await s.srv.users(), await s.srv.groups(), rows);
});

test('6. a user pre-created on the target: 409, adopted, no duplicate', async (t) => {
  const s = await setup(t);
  await s.srv.seed({ users: [{ userName: 'USER3@example.com', name: { givenName: 'Old' },
    emails: [{ value: 'old@example.com', type: 'work' }], active: true }] });
  const r = await s.sync();
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.lines.some((l) => l.event === 'user_adopted' && l.key === 'E0003'), r.stderr);
  const users = await s.srv.users();
  assert.equal(users.length, 200);
  const u = users.find((x) => x.userName.toLowerCase() === 'user3@example.com');
  assert.equal(u.name.givenName, 'Given3');
  assert.equal(u.emails[0].value, 'user3@example.com');
});

test('7. seat limit: creates stop at the limit, the rest applied, then resumed after leavers', async (t) => {
  const rows = people(30);
  const s = await setup(t, { seatLimit: 20 }, rows);
  const r = await s.sync();
  assert.equal(r.code, 1, r.stderr);
  const warns = r.lines.filter((l) => l.event === 'seats_exhausted');
  assert.equal(warns.length, 1, r.stderr);
  assert.equal(warns[0].level, 'warn');
  assert.equal(warns[0].seat_blocked, '10');
  assert.equal((await s.srv.users()).length, 20);
  assert.equal(cycleEnd(r).result, 'partial');
  // An update in the same cycle still goes through while seats are out.
  rows[0].title = 'Lead';
  // Ten leavers (E0002..E0011) free ten seats once they are disabled.
  const leaving = new Set(Array.from({ length: 10 }, (_, i) => `E${String(i + 2).padStart(4, '0')}`));
  const kept = rows.filter((x) => !leaving.has(x.externalId));
  s.rewrite(kept);
  let next = await s.sync('--allow-deletions');
  for (let i = 0; i < 2 && next.code !== 0; i++) next = await s.sync();
  assert.equal(next.code, 0, next.stderr);
  const users = byExternalId(await s.srv.users());
  for (const x of kept) assert.equal(users.get(x.externalId)?.active, true, `${x.externalId} active`);
  for (const k of leaving) assert.equal(users.get(k).active, false, `${k} disabled`);
  assert.equal(users.get('E0001').title, 'Lead');
});

test('8. injected 503s and dropped responses: converges within three syncs, no duplicates', async (t) => {
  const s = await setup(t, { fail503Every: 7, dropAfterCommitEvery: 11 });
  const rows = people();
  let last;
  for (let i = 0; i < 3; i++) {
    last = await s.sync();
    if (last.code === 0) break;
  }
  await s.srv.configure({ fail503Every: 0, dropAfterCommitEvery: 0 });
  const check = await s.sync();
  assert.equal(last.code, 0, last.stderr);
  assert.equal(check.code, 0, check.stderr);
  assertMatches(await s.srv.users(), await s.srv.groups(), rows);
});

test('9. kill -9 mid-sync, then sync again: no duplicates, no 409 loop, exact result', async (t) => {
  const s = await setup(t, { latencyMs: 40 });
  const rows = people();
  const child = h.spawn(['--config', s.cfg, 'sync']);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  const partial = (await s.srv.users()).length;
  assert.ok(partial > 0 && partial < 200, `killed mid-way (${partial} users)`);
  await s.srv.configure({ latencyMs: 0 });
  const r = await s.sync();
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.lines.some((l) => l.event === 'user_conflict'), r.stderr);
  assertMatches(await s.srv.users(), await s.srv.groups(), rows);
  await s.srv.reset();
  assert.equal((await s.sync()).code, 0);
  assert.equal((await s.srv.stats()).writes, 0);
});

// Issue 13: state rows are committed in groups and creates marked uncertain a few
// hundred at a time. A kill -9 at any instant must still cost only lookups: with
// userName uniqueness off, a create sent twice would be a second user, visible here.
test('9b. kill -9 at random instants of a 5,000-user sync, again and again: no duplicate, exact result', async (t) => {
  // reconcile = "never": only the state file's markers guard against a second POST (a
  // reconciling read of the target would find the users and hide a lost marker).
  const s = await setup(t, { uniqueUserNames: false }, people(),
    { target: { reconcile: 'never' } });
  const rows = people(5000);
  s.rewrite(rows);
  const delays = [];
  const counts = [];
  const settled = [];  // state_intents_settled lines: a killed run's create intents
  const started = Date.now();
  for (let round = 0; round < 12 && Date.now() - started < 30000; round++) {
    const delay = 50 + Math.floor(Math.random() * 1500);
    delays.push(delay);
    const child = h.spawn(['--config', s.cfg, 'sync']);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    const code = await exited;
    clearTimeout(timer);
    settled.push(...stderr.split('\n').filter((l) => l.includes('event=state_intents_settled')));
    const users = await s.srv.users();
    byExternalId(users);  // no duplicate at any point
    counts.push(users.length);
    if (code === 0) break;  // finished before its kill: nothing left to interrupt
  }
  console.log(`# killed after ${delays.join(', ')} ms; users on the target: ${counts.join(', ')}`);
  assert.ok(counts.some((n) => n > 0 && n < rows.length), 'some kill landed among the creates');
  const r = await s.sync();
  assert.equal(r.code, 0, `after kills at ${delays.join(', ')} ms:\n${r.stderr}`);
  settled.push(...r.stderr.split('\n').filter((l) => l.includes('event=state_intents_settled')));
  // A kill among the creates left create intents (the markers of users the state did
  // not know), which the next run's open turned into uncertain rows: the path that
  // kept those users from being created twice.
  assert.ok(settled.length > 0, 'a killed run left create intents that the next run settled');
  assert.ok(!r.lines.some((l) => l.event === 'user_conflict' || l.event === 'group_conflict'),
    r.stderr);
  assertMatches(await s.srv.users(), await s.srv.groups(), rows);
  const status = JSON.parse((await h.run(['--config', s.cfg, 'status', '--json'])).stdout);
  assert.deepEqual(status.attention, [], 'no object left uncertain or failed');
  await s.srv.reset();
  const idle = await s.sync();
  assert.equal(idle.code, 0, idle.stderr);
  assert.equal((await s.srv.stats()).writes, 0, 'an idle sync writes nothing');
});

test('10. malformed CSV, bad config, wrong token, unreachable target: exit code, message, nothing sent', async (t) => {
  const s = await setup(t);
  const rows = people(20);
  s.rewrite(rows);
  assert.equal((await s.sync()).code, 0);
  const statusBefore = await h.run(['--config', s.cfg, 'plan', '--json']);
  await s.srv.reset();

  // Malformed CSV: unterminated quote.
  const good = fs.readFileSync(s.csv, 'utf8');
  fs.writeFileSync(s.csv, good + 'E9999,"broken@example.com,x\n');
  let r = await s.sync();
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /people\.csv:22: unterminated quoted field/);
  fs.writeFileSync(s.csv, good);

  // Bad config: unknown key, with file:line.
  const badCfg = path.join(s.dir, 'bad.toml');
  fs.writeFileSync(badCfg, fs.readFileSync(s.cfg, 'utf8') + '\n[target2]\nfoo = 1\n');
  r = await h.run(['--config', badCfg, 'sync']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /bad\.toml:\d+: target2: /);

  // Wrong token.
  const wrongToken = path.join(s.dir, 'wrong-token');
  fs.writeFileSync(wrongToken, 'not-the-token\n', { mode: 0o600 });
  const wrongCfg = path.join(s.dir, 'wrong.toml');
  fs.writeFileSync(wrongCfg, fs.readFileSync(s.cfg, 'utf8')
    .replace(/^"?token_file"?\s*=.*$/m, `token_file = ${JSON.stringify(wrongToken)}`));
  rows[0].title = 'Changed';
  s.rewrite(rows);
  r = await h.run(['--config', wrongCfg, 'sync']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /target refused the credentials: HTTP 401/);
  assert.ok(!r.stderr.includes('secret-token') && !r.stderr.includes('not-the-token'));

  // Unreachable target (the server stopped).
  await s.srv.stop();
  r = await s.sync();
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /target unreachable/);

  s.rewrite(people(20));
  const statusAfter = await h.run(['--config', s.cfg, 'plan', '--json']);
  assert.equal(statusAfter.stdout, statusBefore.stdout, 'known state unchanged');
});
