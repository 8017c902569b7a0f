// The core scenarios of the sync engine against two independent SCIM servers: the
// scimmy-based test server and Better Auth's SCIM plugin (docs/targets.md, "Tested
// servers"). Each scenario runs once per server, on a fresh server and temp dir.
// Writes are counted by each server from its request log (every non-GET request).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./lib/harness');

const KINDS = ['scimmy', 'better-auth'];
const COLUMNS = ['externalId', 'userName', 'givenName', 'familyName', 'email', 'department',
  'title', 'active', 'groups'];

// n people in 5 teams, some also in Managers. Mixed-case email addresses: Better Auth
// stores them lowercased, scimmy as sent.
function people(n = 60) {
  const rows = [];
  for (let i = 1; i <= n; i++) {
    const groups = [`Team ${i % 5}`];
    if (i % 7 === 0) groups.push('Managers');
    rows.push({
      externalId: `E${String(i).padStart(4, '0')}`,
      userName: `user${i}@example.com`,
      givenName: `Given${i}`,
      familyName: `Family${i}`,
      email: `User${i}@Example.com`,
      department: i % 2 ? 'Sales' : 'Engineering',
      title: i % 3 === 0 ? 'Engineer' : 'Analyst',
      active: 'true',
      groups: groups.join(';'),
    });
  }
  return rows;
}

async function setup(t, kind, switches = {}) {
  const dir = h.tmpDir(`servers-${kind}`);
  const srv = await h.startScimServer({ kind, ...switches });
  t.after(() => srv.stop());
  const csv = path.join(dir, 'people.csv');
  const rows = people();
  h.writeCsv(csv, rows, COLUMNS);
  const cfg = h.writeConfig(dir, { source: { type: 'csv', users: csv }, target: { max_retries: 2 } },
    srv);
  const sync = (...args) => h.run(['--config', cfg, 'sync', ...args], { timeoutMs: 120000 });
  const rewrite = (r) => h.writeCsv(csv, r, COLUMNS);
  return { srv, rows, sync, rewrite };
}

function cycleEnd(r) {
  const ends = r.lines.filter((l) => l.event === 'cycle_end');
  assert.equal(ends.length, 1, `one cycle_end line in:\n${r.stderr}`);
  return ends[0];
}

async function ok(s, ...args) {
  const r = await s.sync(...args);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

function byExternalId(users) {
  const m = new Map();
  for (const u of users) {
    if (!u.externalId) continue;
    assert.ok(!m.has(u.externalId), `duplicate user for ${u.externalId}`);
    m.set(u.externalId, u);
  }
  return m;
}

// The target holds exactly `rows`: attributes (email compared without case, as
// Better Auth lowercases it), active flags, and every group's members.
async function assertMatches(srv, rows) {
  const users = await srv.users();
  const m = byExternalId(users);
  assert.equal(m.size, rows.length);
  for (const r of rows) {
    const u = m.get(r.externalId);
    assert.ok(u, `user ${r.externalId} on the target`);
    assert.equal(u.userName, r.userName);
    assert.equal(u.name.givenName, r.givenName);
    assert.equal(u.name.familyName, r.familyName);
    assert.equal(u.emails.length, 1);
    assert.equal(u.emails[0].value.toLowerCase(), r.email.toLowerCase());
    assert.equal(u.title, r.title);
    assert.equal(u['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department,
      r.department);
    assert.equal(u.active, r.active !== 'false', `active of ${r.externalId}`);
  }
  const want = new Map();
  for (const r of rows) {
    for (const g of r.groups.split(';').filter(Boolean)) {
      if (!want.has(g)) want.set(g, new Set());
      want.get(g).add(m.get(r.externalId).id);
    }
  }
  const groups = await srv.groups();
  assert.deepEqual(groups.map((g) => g.displayName).sort(), [...want.keys()].sort());
  for (const g of groups) {
    const ids = (g.members || []).map((x) => x.value).sort();
    assert.deepEqual(ids, [...want.get(g.displayName)].sort(), `members of ${g.displayName}`);
  }
}

// A sync that must send no write: counted by the server.
async function assertIdle(s, ...args) {
  await s.srv.reset();
  await ok(s, ...args);
  const stats = await s.srv.stats();
  assert.equal(stats.writes, 0, `no write on an idle sync ${args.join(' ')}: ${JSON.stringify(await s.srv.writes())}`);
  return stats;
}

for (const kind of KINDS) {
  test(`${kind}: first sync, then idle syncs (plain and reconciling) with zero writes`, async (t) => {
    const s = await setup(t, kind);
    const end = cycleEnd(await ok(s));
    assert.equal(end.users_created, '60');
    assert.equal(end.groups_created, '6');
    await assertMatches(s.srv, s.rows);
    const idle = await assertIdle(s);
    assert.equal(idle.requests, 0, 'a plain idle sync reads nothing');
    const reconciling = await assertIdle(s, '--reconcile');
    console.log(`# ${kind}: reconciling idle sync ${reconciling.requests} requests, 0 writes`);
  });

  test(`${kind}: rename is one PATCH on the same id, then idle`, async (t) => {
    const s = await setup(t, kind);
    await ok(s);
    const before = byExternalId(await s.srv.users()).get('E0005');
    s.rows[4].userName = 'renamed5@example.com';
    s.rows[4].email = 'Renamed5@Example.com';
    s.rewrite(s.rows);
    await s.srv.reset();
    await ok(s);
    const stats = await s.srv.stats();
    assert.equal(stats.writes, 1);
    assert.equal(stats.byMethod.PATCH, 1);
    const after = byExternalId(await s.srv.users()).get('E0005');
    assert.equal(after.id, before.id);
    await assertMatches(s.srv, s.rows);
    await assertIdle(s, '--reconcile');
  });

  test(`${kind}: leaver disabled, re-hire re-activated with the same id`, async (t) => {
    const s = await setup(t, kind);
    await ok(s);
    const id = byExternalId(await s.srv.users()).get('E0010').id;
    s.rewrite(s.rows.filter((r) => r.externalId !== 'E0010'));
    assert.equal(cycleEnd(await ok(s)).users_disabled, '1');
    let u = byExternalId(await s.srv.users()).get('E0010');
    assert.equal(u.active, false);
    assert.equal(u.id, id);
    await assertIdle(s, '--reconcile');
    s.rewrite(s.rows);
    await s.srv.reset();
    await ok(s);
    assert.equal((await s.srv.stats()).byMethod.POST, 0, 're-activated, never re-created');
    u = byExternalId(await s.srv.users()).get('E0010');
    assert.equal(u.active, true);
    assert.equal(u.id, id);
    await assertMatches(s.srv, s.rows);
  });

  test(`${kind}: membership churn sends only the difference`, async (t) => {
    const s = await setup(t, kind);
    await ok(s);
    s.rows[0].groups = 'Team 3';            // E0001: Team 1 -> Team 3
    s.rows[13].groups = 'Team 4;Team 2';    // E0014: Team 4 + Managers -> Team 4 + Team 2
    s.rewrite(s.rows);
    await s.srv.reset();
    const end = cycleEnd(await ok(s));
    assert.equal(end.members_added, '2');
    assert.equal(end.members_removed, '2');
    const stats = await s.srv.stats();
    assert.equal(stats.writes, 4);
    assert.equal(stats.byMethod.PATCH, 4);
    await assertMatches(s.srv, s.rows);
    await assertIdle(s, '--reconcile');
  });

  test(`${kind}: a user already on the target is adopted (409), no duplicate`, async (t) => {
    const s = await setup(t, kind);
    await s.srv.seed({ users: [{ userName: 'USER3@example.com', name: { givenName: 'Old', familyName: 'Name' },
      emails: [{ value: 'old@example.com', type: 'work', primary: true }], active: true }] });
    const r = await ok(s);
    assert.ok(r.lines.some((l) => l.event === 'user_adopted' && l.key === 'E0003'), r.stderr);
    assert.equal((await s.srv.users()).length, 60);
    await assertMatches(s.srv, s.rows);
    await assertIdle(s, '--reconcile');
  });

  test(`${kind}: lost responses (applied, answer dropped) converge without duplicates`, async (t) => {
    const s = await setup(t, kind, { dropAfterCommitEvery: 9 });
    let last;
    for (let i = 0; i < 3; i++) {
      last = await s.sync();
      if (last.code === 0) break;
    }
    const dropped = (await s.srv.stats()).dropped;
    assert.ok(dropped > 0, 'some answers were lost');
    await s.srv.configure({ dropAfterCommitEvery: 0 });
    await ok(s);
    await assertMatches(s.srv, s.rows);
    await assertIdle(s, '--reconcile');
    console.log(`# ${kind}: ${dropped} answers lost on the way, converged`);
  });
}

test('better-auth: every user needs an email; one it derives from userName is kept with keep = true', async (t) => {
  const dir = h.tmpDir('servers-email');
  const srv = await h.startScimServer({ kind: 'better-auth' });
  t.after(() => srv.stop());
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, [
    { externalId: 'E1', userName: 'noemail@example.com', givenName: 'No', familyName: 'Mail', email: '' },
    { externalId: 'E2', userName: 'bob', givenName: 'Bob', familyName: 'Bare', email: '' },
    { externalId: 'E3', userName: 'cy@example.com', givenName: 'Cy', familyName: 'Dee', email: 'Cy@Example.com' },
  ], ['externalId', 'userName', 'givenName', 'familyName', 'email']);
  const cfg = h.writeConfig(dir, { source: { type: 'csv', users: csv }, target: { max_retries: 0 },
    mapping: { 'emails.work': { keep: true } } }, srv);
  const r = await h.run(['--config', cfg, 'sync']);
  assert.equal(r.code, 1, r.stderr);
  const failed = r.lines.filter((l) => l.event === 'user_failed');
  assert.deepEqual(failed.map((l) => l.key), ['E2']);
  assert.match(failed[0].error, /HTTP 400 invalidValue: .*emails must contain an email/);
  const e1 = (await srv.users()).find((u) => u.externalId === 'E1');
  assert.equal(e1.emails[0].value, 'noemail@example.com', 'Better Auth derived it from userName');
  // Without keep the reconciling sync would try to remove that address (and fail).
  await srv.reset();
  const again = await h.run(['--config', cfg, 'sync', '--reconcile']);
  assert.ok(!again.lines.some((l) => l.event === 'user_failed' && l.key === 'E1'), again.stderr);
  assert.equal((await srv.stats()).writes, 0);
});
