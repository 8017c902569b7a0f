// Issue 9: the response policies against the real binary and the SCIM test server.
// ETag-required targets (428 without If-Match, 412 answered to a write), a re-activation
// refused for seats, and the bound on a cycle against a target that is down.
// Exit codes (DESIGN §9): 0 ok, 1 some objects failed, 2 usage/config, 3 cycle stopped.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./lib/harness');

const COLUMNS = ['externalId', 'userName', 'givenName', 'familyName', 'email', 'title', 'active',
  'groups'];
const key = (i) => `E${String(i).padStart(4, '0')}`;
function person(i, groups = []) {
  return { externalId: key(i), userName: `user${i}@example.com`, givenName: `Given${i}`,
    familyName: `Family${i}`, email: `user${i}@example.com`, title: 'Analyst', active: 'true',
    groups: groups.join(';') };
}

// A fresh server (with `switches`) and temp dir.
async function setup(t, switches = {}, rows = [], opts = {}) {
  const dir = h.tmpDir('policies');
  const srv = await h.startScimServer({ token: 'policies-token', ...switches });
  t.after(() => srv.stop());
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, rows, COLUMNS);
  const cfg = h.writeConfig(dir, {
    state: path.join(dir, 'state.db'),
    source: { type: 'csv', users: csv },
    target: { max_retries: 1, timeout: '20s', ...(opts.target || {}) },
  }, srv);
  const run = (args, runOpts = {}) => h.run(['--config', cfg, ...args], { timeoutMs: 120000, ...runOpts });
  return { dir, srv, cfg, csv, run, sync: (...a) => run(['sync', ...a]),
    rewrite: (r) => h.writeCsv(csv, r, COLUMNS),
    statusJson: async () => {
      const r = await run(['status', '--json']);
      assert.equal(r.code, 0, `status --json: exit ${r.code}\n${r.stderr}`);
      return JSON.parse(r.stdout);
    } };
}

function assertExit(r, code, what) {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}\n${r.stderr.slice(-3000)}`);
  assert.equal(r.code, code, `${what}: exit ${r.code}, want ${code}\n${r.stderr.slice(-3000)}`);
}

function cycleEnd(r) {
  const ends = r.lines.filter((l) => l.event === 'cycle_end');
  assert.equal(ends.length, 1, `one cycle_end line in:\n${r.stderr}`);
  return ends[0];
}

const byExternalId = (users) => new Map(users.map((u) => [u.externalId, u]));
const byName = (groups) => new Map(groups.map((g) => [g.displayName, g]));
const memberIds = (g) => (g.members || []).map((m) => m.value).sort();
const ids = (users, ...ks) => ks.map((k) => users.get(k).id).sort();

// Every write reached the server twice: first refused with `refusal` (no If-Match), then
// applied once with If-Match. Per method and path: as many refusals as successes, nothing
// else, and one precondition_retry log line per refusal.
function assertRetriedOnce(log, r, refusal) {
  const per = new Map();
  for (const w of log) {
    const k = `${w.method} ${w.path}`;
    if (!per.has(k)) per.set(k, { refused: 0, ok: 0, other: [] });
    const e = per.get(k);
    if (w.status === refusal) e.refused++;
    else if (w.status >= 200 && w.status < 300) e.ok++;
    else e.other.push(w.status);
  }
  let refused = 0;
  for (const [k, e] of per) {
    assert.deepEqual(e.other, [], `${k}: only ${refusal} and 2xx answers: ${JSON.stringify(log)}`);
    assert.ok(e.ok >= 1, `${k}: applied: ${JSON.stringify(log)}`);
    assert.equal(e.refused, e.ok, `${k}: each write refused once, then applied once: ${JSON.stringify(log)}`);
    refused += e.refused;
  }
  const retries = r.lines.filter((l) => l.event === 'precondition_retry');
  assert.equal(retries.length, refused, `one precondition_retry line per refusal\n${r.stderr}`);
  return [...per.keys()];
}

// Sales: 1-3, Support: 4-6.
const sixPeople = () => [1, 2, 3, 4, 5, 6].map((i) => person(i, [i <= 3 ? 'Sales' : 'Support']));

test('1a. etagRequired: leaver disable, group rename and membership PATCHes retried once with If-Match', async (t) => {
  const rows = sixPeople();
  const s = await setup(t, {}, rows);
  assertExit(await s.sync(), 0, 'first sync');
  const before = byName(await s.srv.groups());
  await s.srv.configure({ etagRequired: true });
  await s.srv.reset();

  // E0006 leaves, Sales becomes "sales" (a rename PATCH), E0001 joins Support too.
  const next = rows.filter((x) => x.externalId !== key(6))
    .map((x) => ({ ...x, groups: x.externalId === key(1) ? 'sales;Support' : x.groups.replace('Sales', 'sales') }));
  s.rewrite(next);
  const r = await s.sync('--allow-deletions');
  assertExit(r, 0, 'sync under etagRequired');
  assert.equal(cycleEnd(r).result, 'ok');

  const users = byExternalId(await s.srv.users());
  assert.equal(users.get(key(6)).active, false, 'the leaver is disabled');
  for (const i of [1, 2, 3, 4, 5]) assert.equal(users.get(key(i)).active, true);
  const groups = byName(await s.srv.groups());
  assert.equal(groups.size, 2);
  assert.equal(groups.get('sales')?.id, before.get('Sales').id, 'renamed in place');
  assert.deepEqual(memberIds(groups.get('sales')), ids(users, key(1), key(2), key(3)));
  assert.deepEqual(memberIds(groups.get('Support')), ids(users, key(1), key(4), key(5)));

  const log = await s.srv.writes();
  const writes = assertRetriedOnce(log, r, 428);
  assert.ok(writes.includes(`PATCH /scim/v2/Users/${users.get(key(6)).id}`), `disable PATCH: ${writes}`);
  assert.ok(writes.includes(`PATCH /scim/v2/Groups/${before.get('Sales').id}`), `rename PATCH: ${writes}`);
  assert.ok(writes.includes(`PATCH /scim/v2/Groups/${before.get('Support').id}`), `membership PATCH: ${writes}`);
  const stats = await s.srv.stats();
  console.log(`# etagRequired: ${log.length} writes for ${writes.length} changes, ${stats.requests} requests`);

  await s.srv.reset();
  assertExit(await s.sync(), 0, 'idle sync');
  assert.equal((await s.srv.stats()).writes, 0, 'nothing left to write');
});

test('1b. etagRequired with deprovision = "delete": user and group DELETEs retried once with If-Match', async (t) => {
  const rows = sixPeople();
  const s = await setup(t, {}, rows, { target: { deprovision: 'delete' } });
  assertExit(await s.sync(), 0, 'first sync');
  const before = byName(await s.srv.groups());
  const u6 = byExternalId(await s.srv.users()).get(key(6)).id;
  await s.srv.configure({ etagRequired: true });
  await s.srv.reset();

  // E0006 leaves; E0004 and E0005 move to Sales, so Support is gone from the source.
  s.rewrite(rows.filter((x) => x.externalId !== key(6)).map((x) => ({ ...x, groups: 'Sales' })));
  const r = await s.sync('--allow-deletions');
  assertExit(r, 0, 'sync under etagRequired');

  const users = byExternalId(await s.srv.users());
  assert.equal(users.has(key(6)), false, 'the leaver is deleted');
  assert.equal(users.size, 5);
  const groups = byName(await s.srv.groups());
  assert.deepEqual([...groups.keys()], ['Sales'], 'Support deleted');
  assert.deepEqual(memberIds(groups.get('Sales')), ids(users, key(1), key(2), key(3), key(4), key(5)));

  const writes = assertRetriedOnce(await s.srv.writes(), r, 428);
  assert.ok(writes.includes(`DELETE /scim/v2/Users/${u6}`), `user DELETE: ${writes}`);
  assert.ok(writes.includes(`DELETE /scim/v2/Groups/${before.get('Support').id}`), `group DELETE: ${writes}`);

  await s.srv.reset();
  assertExit(await s.sync(), 0, 'idle sync');
  assert.equal((await s.srv.stats()).writes, 0, 'nothing left to write');
});

// The test server answers a stale If-Match with 412, but scimsync only sends If-Match after
// it has just read the current ETag. So the 412 comes from the fault switches: every other
// PATCH/DELETE gets 412 (one connection, so a write's first try and its retry alternate).
test('1c. a 412 to a write: re-read, retried once with the current ETag', async (t) => {
  const rows = sixPeople();
  const s = await setup(t, {}, rows, { target: { deprovision: 'delete', max_connections: 1 } });
  assertExit(await s.sync(), 0, 'first sync');
  const before = byName(await s.srv.groups());
  const u6 = byExternalId(await s.srv.users()).get(key(6)).id;
  await s.srv.configure({ etags: true, errorStatus: 412, faultMatch: '^(PATCH|DELETE) ', faultEvery: 2 });
  await s.srv.reset();
  // One matching request by hand first (after the reset, which restarts the fault count), so
  // that the faults land on each write's first try.
  const primed = await s.srv.scim('PATCH', '/Users/no-such-user',
    { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] });
  assert.notEqual(primed.status, 412, 'the first matching request is not faulted');

  s.rewrite(rows.filter((x) => x.externalId !== key(6))
    .map((x) => ({ ...x, groups: x.externalId === key(1) ? 'sales;Support' : x.groups.replace('Sales', 'sales') })));
  const r = await s.sync('--allow-deletions');
  assertExit(r, 0, 'sync with 412s');

  const users = byExternalId(await s.srv.users());
  assert.equal(users.has(key(6)), false, 'the leaver is deleted');
  const groups = byName(await s.srv.groups());
  assert.equal(groups.get('sales')?.id, before.get('Sales').id, 'renamed in place');
  assert.deepEqual(memberIds(groups.get('sales')), ids(users, key(1), key(2), key(3)));
  assert.deepEqual(memberIds(groups.get('Support')), ids(users, key(1), key(4), key(5)));
  const log = (await s.srv.writes()).filter((w) => !w.path.includes('no-such-user'));
  const writes = assertRetriedOnce(log, r, 412);
  assert.ok(writes.includes(`DELETE /scim/v2/Users/${u6}`), `user DELETE: ${writes}`);
  assert.ok(writes.includes(`PATCH /scim/v2/Groups/${before.get('Sales').id}`), `rename PATCH: ${writes}`);
});

test('2. a re-activation refused for seats is seat-blocked, then re-activated once a seat frees', async (t) => {
  const rows = [1, 2, 3].map((i) => person(i));
  const s = await setup(t, { seatLimit: 3 }, rows);
  assertExit(await s.sync(), 0, 'first sync');
  // E0003 leaves (a seat frees), E0004 joins and takes it.
  s.rewrite([rows[0], rows[1]]);
  assertExit(await s.sync('--allow-deletions'), 0, 'leaver');
  s.rewrite([rows[0], rows[1], person(4)]);
  assertExit(await s.sync(), 0, 'joiner');
  assert.equal((await s.srv.users()).filter((u) => u.active).length, 3, 'all seats taken');

  // E0003 comes back: PATCH active:true is refused with 428 (with If-Match too).
  const all = [rows[0], rows[1], rows[2], person(4)];
  s.rewrite(all);
  await s.srv.reset();
  const r = await s.sync();
  assertExit(r, 1, 're-activation without a seat');
  assert.equal(cycleEnd(r).result, 'partial');
  assert.ok(r.lines.some((l) => l.event === 'seats_exhausted'), r.stderr);
  assert.equal(byExternalId(await s.srv.users()).get(key(3)).active, false);
  const patches = (await s.srv.writes()).filter((w) => w.method === 'PATCH');
  assert.ok(patches.length >= 1 && patches.length <= 2, `one PATCH, at most one retry: ${JSON.stringify(patches)}`);
  assert.ok(patches.every((w) => w.status === 428), JSON.stringify(patches));
  const st = await s.statusJson();
  const entry = st.attention.find((a) => a.key === key(3));
  assert.ok(entry, `E0003 in attention: ${JSON.stringify(st.attention)}`);
  assert.equal(entry.status, 'seat-blocked', JSON.stringify(entry));

  // A seat frees: the next cycle re-activates E0003.
  await s.srv.configure({ seatLimit: 4 });
  const again = await s.sync();
  assertExit(again, 0, 'once a seat frees');
  assert.equal(byExternalId(await s.srv.users()).get(key(3)).active, true, 'E0003 re-activated');
  const after = await s.statusJson();
  assert.deepEqual(after.attention, [], 'nothing needs attention');
});

test('3. a target that is down: a sync with 4 pending objects stops (exit 3) within the bound', { timeout: 200000 }, async (t) => {
  // The default retries (max_retries 3), as an administrator has them: with fewer, every
  // request gives up long before the outage bound.
  const rows = [1, 2, 3, 4].map((i) => person(i));
  const s = await setup(t, {}, rows, { target: { max_retries: 3 } });
  assertExit(await s.sync(), 0, 'first sync');
  s.rewrite(rows.map((x) => ({ ...x, title: 'Lead' })));
  await s.srv.configure({ down: true });
  const t0 = Date.now();
  const r = await s.run(['sync'], { timeoutMs: 190000 });
  const ms = Date.now() - t0;
  assertExit(r, 3, 'sync against a down target');
  assert.equal(cycleEnd(r).result, 'stopped');
  const stop = r.lines.filter((l) => l.event === 'cycle_stopping');
  assert.equal(stop.length, 1, r.stderr);
  // Either stop of a down target, whichever comes first: the outage bound (no usable
  // answer for 2 minutes) or every request having spent its retries (with 503 backoff
  // capped at 30 s the two land within seconds of each other).
  assert.match(stop[0].reason,
    /^target unavailable: (no usable answer for |all 4 requests failed after retries)/, stop[0].reason);
  assert.ok(ms < 170000, `stopped after ${ms} ms`);
  console.log(`# down target, 4 pending: stopped after ${ms} ms: ${stop[0].reason}`);
});
