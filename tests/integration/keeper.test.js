// Keeper Security (issue 11): the real binary with `profile = "keeper"` against the
// SCIM test server switched to behave like Keeper: 1,000 results a page at most,
// duplicate team names allowed, DELETE locks the user, and (for the lookup cases)
// no filters at all. docs/targets.md, "Keeper Security", is the page these prove.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./lib/harness');

const KEEPER = { pageCap: 1000, uniqueGroupNames: false, deleteLocks: true };
const COLUMNS = ['externalId', 'userName', 'givenName', 'familyName', 'email', 'active', 'groups'];

// n people; the first 10 are Admins, everyone is in one of 5 teams.
function people(n, { admins = 10, teams = true } = {}) {
  const rows = [];
  for (let i = 1; i <= n; i++) {
    const groups = [];
    if (teams) groups.push(`Team ${i % 5}`);
    if (i <= admins) groups.push('Admins');
    rows.push({
      externalId: `K${String(i).padStart(5, '0')}`,
      userName: `person${i}@example.com`,
      givenName: `Given${i}`,
      familyName: `Family${i}`,
      email: `person${i}@example.com`,
      active: 'true',
      groups: groups.join(';'),
    });
  }
  return rows;
}

async function setup(t, switches, rows, target = {}) {
  const dir = h.tmpDir('keeper');
  const srv = await h.startScimServer({ token: 'keeper-token', ...KEEPER, ...switches });
  t.after(() => srv.stop());
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, rows, COLUMNS);
  const write = (extra = {}) => h.writeConfig(dir, {
    state: path.join(dir, 'state.db'),
    source: { type: 'csv', users: csv },
    target: { profile: 'keeper', deprovision: 'delete', roles: ['Admins'], max_retries: 2,
      ...target, ...extra },
  }, srv);
  const cfg = write();
  const sync = (...args) => h.run(['--config', cfg, 'sync', ...args], { timeoutMs: 120000 });
  const rewrite = (r) => h.writeCsv(csv, r, COLUMNS);
  return { dir, srv, cfg, sync, rewrite, write };
}

function cycleEnd(r) {
  const ends = r.lines.filter((l) => l.event === 'cycle_end');
  assert.equal(ends.length, 1, `one cycle_end line in:\n${r.stderr}`);
  return ends[0];
}

const route = (stats, key) => stats.byRoute[key] || 0;

test('2,500 users over the 1,000 page cap: first sync, role group, and a reconcile that pages right', async (t) => {
  const rows = people(2500);
  const s = await setup(t, {}, rows);
  const first = await s.sync();
  assert.equal(first.code, 0, first.stderr);
  const users = await s.srv.users();
  assert.equal(users.length, 2500);
  assert.equal(new Set(users.map((u) => u.externalId)).size, 2500);
  const groups = await s.srv.groups();
  const names = groups.map((g) => g.displayName).sort();
  assert.deepEqual(names, ['ROLE_Admins', 'Team 0', 'Team 1', 'Team 2', 'Team 3', 'Team 4']);
  const role = groups.find((g) => g.displayName === 'ROLE_Admins');
  assert.equal(role.externalId, 'Admins');
  assert.equal(role.members.length, 10);
  assert.equal(groups.find((g) => g.displayName === 'Team 1').members.length, 500);

  // A whole read of 2,500 users at 1,000 a page: three pages, nothing to write.
  await s.srv.reset();
  const again = await s.sync('--reconcile');
  assert.equal(again.code, 0, again.stderr);
  const stats = await s.srv.stats();
  assert.equal(stats.writes, 0, JSON.stringify(stats.byRoute));
  assert.equal(stats.lists.Users, 3);
  const read = again.lines.find((l) => l.event === 'reconcile');
  assert.equal(read.target_users, '2500');
  assert.equal(read.target_groups, '6');
});

test('a locked leaver stays locked, and its re-hire is unlocked in place: no POST', async (t) => {
  const rows = people(20);
  const s = await setup(t, {}, rows);
  assert.equal((await s.sync()).code, 0);
  const before = (await s.srv.users()).find((u) => u.externalId === 'K00003');

  // K00003 leaves: removed from its teams and role, then DELETE (Keeper locks).
  s.rewrite(rows.filter((r) => r.externalId !== 'K00003'));
  await s.srv.reset();
  const leave = await s.sync();
  assert.equal(leave.code, 0, leave.stderr);
  assert.equal(cycleEnd(leave).users_deleted, '1');
  let stats = await s.srv.stats();
  assert.equal(route(stats, 'DELETE /Users'), 1);
  const locked = (await s.srv.users()).find((u) => u.externalId === 'K00003');
  assert.equal(locked.id, before.id);
  assert.equal(locked.active, false);
  for (const g of await s.srv.groups()) {
    assert.ok(!g.members.some((m) => m.value === before.id), `${g.displayName} lost the leaver`);
  }
  assert.ok(leave.lines.some((l) => l.event === 'user_locked' && l.key === 'K00003'));

  // Not DELETEd again every cycle.
  await s.srv.reset();
  const idle = await s.sync();
  assert.equal(idle.code, 0, idle.stderr);
  assert.equal((await s.srv.stats()).writes, 0);

  // Back in the source: PATCH active=true on the same id, and back in its groups.
  s.rewrite(rows);
  await s.srv.reset();
  const back = await s.sync();
  assert.equal(back.code, 0, back.stderr);
  stats = await s.srv.stats();
  assert.equal(route(stats, 'POST /Users'), 0, JSON.stringify(stats.byRoute));
  assert.equal(stats.usersEnabled, 1);
  const users = await s.srv.users();
  assert.equal(users.length, 20);
  const rehired = users.find((u) => u.externalId === 'K00003');
  assert.equal(rehired.id, before.id);
  assert.equal(rehired.active, true);
  const admins = (await s.srv.groups()).find((g) => g.displayName === 'ROLE_Admins');
  assert.ok(admins.members.some((m) => m.value === before.id));
  // And a reconciling read agrees.
  await s.srv.reset();
  assert.equal((await s.sync('--reconcile')).code, 0);
  assert.equal((await s.srv.stats()).writes, 0);
});

test('a dropped team-create response on a target without filters: found by listing, no duplicate team', async (t) => {
  const rows = people(12, { admins: 0, teams: false });
  const s = await setup(t, { filterRefused: true }, rows);
  assert.equal((await s.sync()).code, 0);
  // A new team; the next write (its POST) is applied and its answer lost.
  const ops = rows.map((r, i) => ({ ...r, groups: i < 4 ? 'Ops' : '' }));
  s.rewrite(ops);
  const writes = (await s.srv.stats()).writes;
  await s.srv.configure({ dropAfterCommitEvery: writes + 1 });
  await s.srv.reset();
  const r = await s.sync();
  assert.equal(r.code, 0, r.stderr);
  const stats = await s.srv.stats();
  assert.equal(stats.dropped, 1);
  assert.equal(route(stats, 'POST /Groups'), 1, JSON.stringify(stats.byRoute));
  const teams = (await s.srv.groups()).filter((g) => g.displayName === 'Ops');
  assert.equal(teams.length, 1, 'one Ops team');
  assert.equal(teams[0].externalId, 'Ops');
  assert.equal(teams[0].members.length, 4);
  assert.ok(r.lines.some((l) => l.event === 'lookup_filter_refused' && l.lookup === 'Groups:externalId'),
    r.stderr);
  await s.srv.configure({ dropAfterCommitEvery: 0 });
  await s.srv.reset();
  assert.equal((await s.sync()).code, 0);
  assert.equal((await s.srv.stats()).writes, 0);
});

test('filter refused: a 409 on a user create is resolved by listing and adopting', async (t) => {
  const rows = people(8, { admins: 0, teams: false });
  const s = await setup(t, { filterRefused: true }, rows.slice(0, 6));
  assert.equal((await s.sync()).code, 0);
  // Made on Keeper by hand (no externalId), then the source gets the same person.
  const [seeded] = await s.srv.seed({ users: [{ userName: 'PERSON7@example.com' }] });
  s.rewrite(rows.slice(0, 7));
  await s.srv.reset();
  const r = await s.sync();
  assert.equal(r.code, 0, r.stderr);
  const users = await s.srv.users();
  assert.equal(users.length, 7);
  const p7 = users.find((u) => u.id === seeded.id);
  assert.equal(p7.externalId, 'K00007');
  assert.ok(r.lines.some((l) => l.event === 'lookup_filter_refused' && l.lookup === 'Users:userName'),
    r.stderr);
  const stats = await s.srv.stats();
  assert.equal(route(stats, 'POST /Users'), 1);
  assert.ok(stats.lists.Users >= 2, 'looked up by listing');

  // lookup = "list" never sends a filter at all.
  const cfg = s.write({ lookup: 'list' });
  await s.srv.seed({ users: [{ userName: 'person8@example.com' }] });
  s.rewrite(rows);
  await s.srv.reset();
  const listed = await h.run(['--config', cfg, 'sync']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(!listed.lines.some((l) => l.event === 'lookup_filter_refused'), listed.stderr);
  assert.equal((await s.srv.users()).length, 8);
  assert.equal((await s.srv.stats()).byStatus['400'] || 0, 0);
});

test('a role taken out of roles becomes a team: a new group, the role deleted', async (t) => {
  const rows = people(12);
  const s = await setup(t, {}, rows);
  assert.equal((await s.sync()).code, 0);
  const role = (await s.srv.groups()).find((g) => g.displayName === 'ROLE_Admins');
  s.write({ roles: [] });
  await s.srv.reset();
  const r = await s.sync();
  assert.equal(r.code, 0, r.stderr);
  const stats = await s.srv.stats();
  assert.equal(route(stats, 'POST /Groups'), 1);
  assert.equal(route(stats, 'DELETE /Groups'), 1);
  const groups = await s.srv.groups();
  assert.ok(!groups.some((g) => g.id === role.id));
  const team = groups.find((g) => g.displayName === 'Admins');
  assert.equal(team.externalId, 'Admins');
  assert.equal(team.members.length, 10);
});

test('428 seats and a 409 "Email already taken" elsewhere keep their DESIGN §6 handling', async (t) => {
  const rows = people(10, { admins: 0, teams: false });
  const s = await setup(t, {
    seatLimit: 8,
    // Another Keeper enterprise holds person2: 409, and nothing in this node matches.
    faultMatch: '^POST /scim/v2/Users .*"person2@', errorStatus: 409,
  }, rows);
  const r = await s.sync();
  assert.equal(r.code, 1, r.stderr);
  const end = cycleEnd(r);
  assert.ok(Number(end.seat_blocked) >= 1, r.stderr);
  assert.ok(r.lines.some((l) => l.event === 'seats_exhausted'), r.stderr);
  assert.ok(r.lines.some((l) => l.event === 'user_conflict' && l.key === 'K00002'), r.stderr);
  assert.equal((await s.srv.users()).length, 8);
});
