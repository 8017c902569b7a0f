// Issue 11: target profiles (docs/targets.md). The real binary against the SCIM test
// server set up to behave like each target; every expectation is read from the
// server's own request counters, store and write log.
//   1. each profile asks its page size (count=) and reads groups as its row says;
//   2. Keepnet with push_groups = false: no /Groups request, known groups left alone;
//   3. AWS: 150-member groups into a server with AWS's caps (50 a page, 100 member
//      values a request, `attr eq value` filters only): zero 400s;
//   4. `check`: effective values, the Keepnet department warning, discovery warnings.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./lib/harness');

const COLUMNS = ['externalId', 'userName', 'givenName', 'familyName', 'email', 'department',
  'phone', 'active', 'groups'];
const key = (i) => `P${String(i).padStart(4, '0')}`;

// n people; groupsOf(i) -> the group names of person i.
function people(n, groupsOf = (i) => [`Team ${i % 2}`]) {
  const rows = [];
  for (let i = 1; i <= n; i++) {
    rows.push({ externalId: key(i), userName: `p${i}@example.com`, givenName: `Given${i}`,
      familyName: `Family${i}`, email: `p${i}@example.com`, department: i % 2 ? 'Sales' : 'Finance',
      phone: `+1 555 ${String(1000 + i)}`, active: 'true', groups: groupsOf(i).join(';') });
  }
  return rows;
}

async function setup(t, { switches = {}, rows = people(8), target = {}, mapping } = {}) {
  const dir = h.tmpDir('profiles');
  const srv = await h.startScimServer({ token: 'profiles-token', ...switches });
  t.after(() => srv.stop());
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, rows, COLUMNS);
  const config = { source: { type: 'csv', users: csv }, target: { max_retries: 1, ...target } };
  if (mapping) config.mapping = mapping;
  const cfg = h.writeConfig(dir, config, srv);
  const run = (...args) => h.run(['--config', cfg, ...args], { timeoutMs: 120000 });
  return {
    srv, cfg, run,
    sync: (...args) => run('sync', ...args),
    rewrite: (r) => h.writeCsv(csv, r, COLUMNS),
    reconfigure: (more) => h.writeConfig(dir, { ...config, target: { ...config.target, ...more } }, srv),
  };
}

function ok(r, what) {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
}
const groupRequests = (stats) => Object.entries(stats.byRoute).filter(([k]) => k.endsWith('/Groups'));
const statuses400 = (stats) => stats.byStatus['400'] || 0;

// ---------------------------------------------------------------------------
// 1. The table's page sizes and group reads, as the server saw them.

test('1. each profile asks its page size; keeper and aws read group members one group at a time', async (t) => {
  const want = { generic: 100, keeper: 1000, keepnet: 100, aws: 50 };
  const perGroupGets = {};
  for (const [profile, count] of Object.entries(want)) {
    const s = await setup(t, { target: { profile } });
    ok(await s.sync(), `${profile} first sync`);
    ok(await s.sync('--reconcile'), `${profile} reconciling sync`);
    const st = await s.srv.stats();
    const counts = Object.keys(st.listCounts).sort();
    assert.deepEqual(counts, [`Groups ${count}`, `Users ${count}`],
      `${profile}: every list read asks count=${count}: ${JSON.stringify(st.listCounts)}`);
    assert.equal((await s.srv.users()).length, 8, `${profile}: users pushed`);
    assert.equal((await s.srv.groups()).length, 2, `${profile}: groups pushed`);
    // GET /Groups counts list pages and GET /Groups/{id}; the lists are counted apart.
    perGroupGets[profile] = st.byRoute['GET /Groups'] - st.lists.Groups;
  }
  // Two groups on the target at the reconciling read: one GET each under
  // exclude_members (keeper, aws), none when members come inline.
  assert.deepEqual(perGroupGets, { generic: 0, keeper: 2, keepnet: 0, aws: 2 });
});

// ---------------------------------------------------------------------------
// 2. Keepnet with push_groups = false.

test('2. keepnet, push_groups = false: users with their Keepnet fields, not one /Groups request', async (t) => {
  const s = await setup(t, { target: { profile: 'keepnet', push_groups: false } });
  ok(await s.sync(), 'first sync');
  ok(await s.sync('--reconcile'), 'reconciling sync');
  const st = await s.srv.stats();
  assert.deepEqual(groupRequests(st), [], `no /Groups request: ${JSON.stringify(st.byRoute)}`);
  assert.deepEqual(await s.srv.groups(), [], 'no group on the target');
  const users = await s.srv.users();
  assert.equal(users.length, 8);
  const u = users.find((x) => x.externalId === key(3));
  assert.equal(u.userName, 'p3@example.com');
  assert.deepEqual(u.name, { givenName: 'Given3', familyName: 'Family3' });
  assert.equal(u.emails[0].value, 'p3@example.com');
  assert.equal(u.emails[0].type, 'work');
  assert.equal(u.phoneNumbers[0].value, '+1 555 1003');
  assert.equal(u['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department, 'Sales');
});

test('2b. push_groups turned off later: groups already pushed are left on the target as they are', async (t) => {
  const rows = people(8);
  const s = await setup(t, { rows, target: { profile: 'keepnet', deprovision: 'disable' },
    switches: {} });
  ok(await s.sync(), 'first sync, groups pushed');
  const before = await s.srv.groups();
  assert.equal(before.length, 2);

  s.reconfigure({ push_groups: false });
  // Membership churn, a leaver, a group that leaves the source, a new group.
  const next = rows.slice(1).map((r, i) => ({ ...r, groups: i % 3 === 0 ? 'Team 0;New team' : 'Team 0' }));
  s.rewrite(next);
  await s.srv.reset();
  const plan = await s.run('plan');
  ok(plan, 'plan');
  assert.match(plan.stdout, /push_groups = false: 2 known groups are left on the target as they are/);
  ok(await s.sync(), 'sync with push_groups = false');
  ok(await s.sync('--reconcile'), 'reconciling sync with push_groups = false');
  const st = await s.srv.stats();
  assert.deepEqual(groupRequests(st), [], `no /Groups request: ${JSON.stringify(st.byRoute)}`);
  assert.deepEqual(await s.srv.groups(), before, 'groups on the target exactly as they were');
  const leaver = (await s.srv.users()).find((x) => x.externalId === key(1));
  assert.equal(leaver.active, false, 'the leaver is disabled');
});

// ---------------------------------------------------------------------------
// 3. AWS IAM Identity Center: 50 a page, 100 member values a request, eq filters.

const AWS_LIKE = { pageCap: 50, maxMembersPerRequest: 100 };
// Users 1..150 in A, 51..200 in B (150 members each), 260 people.
const awsRows = (inA, inB) => people(260, (i) => [...(inA(i) ? ['A'] : []), ...(inB(i) ? ['B'] : [])]);

test('3. aws: 150-member groups, churn and a reconciling read against AWS caps: zero 400s', async (t) => {
  const rows = awsRows((i) => i <= 150, (i) => i > 50 && i <= 200);
  // members_per_request above the cap: the profile lowers it to 100. One write in 40
  // loses its answer, so lookups (filters) run too.
  const s = await setup(t, { rows, switches: { ...AWS_LIKE, dropAfterCommitEvery: 40 },
    target: { profile: 'aws', members_per_request: 500, max_retries: 3 } });
  ok(await s.sync(), 'first sync');
  let groups = await s.srv.groups();
  assert.deepEqual(groups.map((g) => g.members.length).sort(), [150, 150]);

  // Churn: A loses 1..120 and gains 151..260 (120 removes, 110 adds); B unchanged.
  s.rewrite(awsRows((i) => i > 120, (i) => i > 50 && i <= 200));
  ok(await s.sync(), 'churn sync');
  ok(await s.sync('--reconcile'), 'reconciling sync');
  groups = await s.srv.groups();
  const users = new Map((await s.srv.users()).map((u) => [u.id, u.externalId]));
  const a = groups.find((g) => g.displayName === 'A');
  assert.deepEqual(a.members.map((m) => users.get(m.value)).sort(),
    Array.from({ length: 140 }, (_, i) => key(121 + i)));

  const st = await s.srv.stats();
  assert.equal(statuses400(st), 0, `no 400: ${JSON.stringify(st.byStatus)}`);
  assert.ok(st.dropped > 0, 'some answers were lost (lookups ran)');
  assert.deepEqual(Object.keys(st.listCounts).filter((k) => !k.endsWith(' 50')), [],
    `every list read asks count=50: ${JSON.stringify(st.listCounts)}`);
  assert.ok(st.lists.Users >= 6, '260 users read 50 a page');
  assert.ok(st.filters.length > 0, 'lookups used filters');
  for (const f of st.filters) assert.match(f, /^GET \/(Users|Groups) (externalId|userName|displayName) eq "[^"]*"$/);
  for (const w of await s.srv.writes()) {
    if (w.path.includes('/Groups')) {
      const members = w.ops.filter((o) => o.startsWith('add members') || o.startsWith('remove members'));
      assert.ok(members.length <= 100, `${w.method} ${w.path}: ${members.length} member ops`);
    }
  }
  assert.ok(st.membersAdded >= 300 + 110 && st.membersRemoved >= 120);
});

test('3b. the AWS-like server is strict: generic with members_per_request = 500 gets 400s', async (t) => {
  const rows = awsRows((i) => i <= 150, () => false);
  const s = await setup(t, { rows, switches: AWS_LIKE, target: { members_per_request: 500 } });
  const r = await s.sync();
  assert.equal(r.code, 1, `partial: ${r.stderr}`);
  assert.ok(statuses400(await s.srv.stats()) > 0);
  // The server's filter parsing: only `attr eq value`.
  const refused = await s.srv.scim('GET', `/Users?filter=${encodeURIComponent('userName sw "p1"')}`);
  assert.equal(refused.status, 400);
  const and = await s.srv.scim('GET',
    `/Users?filter=${encodeURIComponent('userName eq "p1@example.com" and active eq true')}`);
  assert.equal(and.status, 400);
});

// ---------------------------------------------------------------------------
// 4. check: effective values, Keepnet's department, discovery.

test('4. check prints effective values, the keepnet department warning and discovery warnings', async (t) => {
  // AWS with a members_per_request above its cap; scimmy's discovery (maxResults 200).
  let s = await setup(t, { target: { profile: 'aws', members_per_request: 500 } });
  let r = await s.run('check');
  ok(r, 'check aws');
  assert.match(r.stdout, /^ok {4}target profile aws$/m);
  assert.match(r.stdout, /^ {8}page_size = 50 \(aws\)$/m);
  assert.match(r.stdout, /^ {8}members_per_request = 100 \(capped by aws\)$/m);
  assert.match(r.stdout, /^warn {2}target\.members_per_request = 500 is above the aws cap of 100 per request; using 100$/m);
  assert.match(r.stdout, /^ok {4}target \/ServiceProviderConfig: filter yes \(maxResults 200\), patch yes, etag no, bulk yes \(maxOperations 1000\), sort yes$/m);
  assert.doesNotMatch(r.stdout, /^warn.*maxResults/m);

  // Keeper asks 1000 a page: above scimmy's maxResults of 200.
  s = await setup(t, { target: { profile: 'keeper' } });
  r = await s.run('check');
  ok(r, 'check keeper');
  assert.match(r.stdout, /^warn {2}target\.page_size = 1000 \(keeper\) is above the target's filter\.maxResults of 200: expect pages of at most 200/m);

  // A target that says it cannot PATCH and serves 50 a page.
  s = await setup(t, { switches: { serviceProviderConfig: {
    patch: { supported: false }, filter: { supported: true, maxResults: 50 } } } });
  r = await s.run('check');
  ok(r, 'check generic');
  assert.match(r.stdout, /^warn {2}target\.page_size = 100 \(generic\) is above the target's filter\.maxResults of 50/m);
  assert.match(r.stdout, /^warn {2}the target says patch\.supported = false/m);

  // Not served; keepnet without a department mapping.
  s = await setup(t, { switches: { serviceProviderConfig: false }, target: { profile: 'keepnet' },
    mapping: { department: '' } });
  r = await s.run('check');
  ok(r, 'check keepnet');
  assert.match(r.stdout, /^ok {4}target does not serve \/ServiceProviderConfig \(HTTP 404/m);
  assert.match(r.stdout, /^warn {2}target\.profile = "keepnet" but the mapping sends no department/m);
  // With a department mapped (the CSV default), no such warning.
  s = await setup(t, { target: { profile: 'keepnet' } });
  r = await s.run('check', '--offline');
  ok(r, 'check keepnet offline');
  assert.doesNotMatch(r.stdout, /department/);
});
