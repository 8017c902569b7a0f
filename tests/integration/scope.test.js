// Issue 16: `[scope]`, the real scimsync binary against the scimmy-based SCIM test server,
// with a CSV source and with a throwaway slapd. The same 200 people in both:
//   Keeper Users   30 people: CSV lists people 1-30 directly; LDAP holds 1-20 and the
//                  nested group Keeper Admins (21-30), resolved with flatten_nested
//   Keeper Admins  people 21-30
//   Team 0..9      person i is in Team (i % 10)
//   crm-legacy     people 1-5 and 150-160
// Expected values are written out here, never taken from scimsync's own reading.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./lib/harness');
const slapd = require('./lib/slapd');
const fixture = require('../fixtures/ldap/gen_fixture');

const N = 200;
const SUFFIX = fixture.SUFFIX;
const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const uid = (i) => `user${String(i).padStart(5, '0')}`;
const mail = (i) => `${uid(i)}@example.org`;
const userDn = (i) => `uid=${uid(i)},${PEOPLE}`;
const groupDn = (cn) => `cn=${cn},${GROUPS}`;
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, k) => a + k);
const TEAMS = range(0, 9).map((k) => `Team ${k}`);
const KEEPER = range(1, 30);

// Group name -> member numbers, as both sources hold them (Keeper Users flattened).
function memberships() {
  const m = new Map([['Keeper Users', new Set(KEEPER)], ['Keeper Admins', new Set(range(21, 30))],
    ['crm-legacy', new Set([...range(1, 5), ...range(150, 160)])]]);
  for (const [k, name] of TEAMS.entries()) m.set(name, new Set(range(1, N).filter((i) => i % 10 === k)));
  return m;
}

// --- the two sources, behind one interface: config, and membership changes ---

async function csvSource(dir) {
  const groups = memberships();
  const file = path.join(dir, 'people.csv');
  const write = () => {
    const rows = range(1, N).map((i) => ({
      externalId: `E${String(i).padStart(4, '0')}`, userName: mail(i), email: mail(i),
      givenName: `Given${i}`, familyName: `Family${i}`,
      groups: [...groups].filter(([, m]) => m.has(i)).map(([g]) => g).join(';'),
    }));
    h.writeCsv(file, rows, ['externalId', 'userName', 'email', 'givenName', 'familyName', 'groups']);
  };
  write();
  return {
    config: { type: 'csv', users: file },
    // The name a scope test uses for the scope group: case differs from the source's.
    scopeName: 'keeper USERS',
    join: async (group, i) => { groups.get(group).add(i); write(); },
    // Removed from the scope group; stays in its team (and in the source).
    leave: async (i) => { groups.get('Keeper Users').delete(i); write(); },
    leaver: 5,
  };
}

function ldif() {
  const out = [fixture.generate({ users: N, groups: false })];
  const group = (cn, members) => out.push(
    [`dn: ${groupDn(cn)}`, 'objectClass: groupOfNames', `cn: ${cn}`,
      ...members.map((m) => `member: ${m}`)].join('\n') + '\n\n');
  group('Keeper Users', [...range(1, 20).map(userDn), groupDn('Keeper Admins')]);
  group('Keeper Admins', range(21, 30).map(userDn));
  for (const [name, members] of memberships()) {
    if (!name.startsWith('Keeper')) group(name, [...members].map(userDn));
  }
  return out.join('');
}

async function ldapSource(dir, t) {
  const s = await slapd.start({ ldif: ldif() });
  t.after(() => s.stop());
  const secret = path.join(dir, 'ldap-password');
  require('node:fs').writeFileSync(secret, `${s.readerPw}\n`, { mode: 0o600 });
  const change = (cn, op, i) => s.modify(
    `dn: ${groupDn(cn)}\nchangetype: modify\n${op}: member\nmember: ${userDn(i)}\n`);
  return {
    config: { type: 'ldap', url: s.url, bind_dn: s.readerDn, bind_password_file: secret,
      base_dn: SUFFIX, user_base: PEOPLE, group_base: GROUPS, flatten_nested: true, timeout: '5s' },
    // By DN, spelled in another case and spacing than the server's.
    scopeName: 'CN=Keeper Users, OU=Groups, DC=Example, DC=Org',
    join: (group, i) => change(group, 'add', i),
    // Removed from the nested Keeper Admins: out of Keeper Users only through nesting.
    leave: (i) => change('Keeper Admins', 'delete', i),
    leaver: 25,
  };
}

const BACKENDS = [['csv', (dir) => csvSource(dir)], ['ldap', (dir, t) => ldapSource(dir, t)]];
const skipLdap = slapd.missing();  // throws in CI when slapd is missing

async function setup(t, kind, make, scope) {
  const dir = h.tmpDir(`scope-${kind}`);
  const srv = await h.startScimServer({ token: 'secret-token' });
  t.after(() => srv.stop());
  const source = await make(dir, t);
  const configure = (sc) => h.writeConfig(dir, {
    source: source.config, target: { max_retries: 1 }, scope: sc }, srv);
  let cfg = configure(scope);
  const run = (...args) => h.run(['--config', cfg, ...args], { timeoutMs: 60000 });
  return { dir, srv, source, run, rescope: (sc) => { cfg = configure(sc); } };
}

function line(r, event) {
  const found = r.lines.filter((l) => l.event === event);
  assert.equal(found.length, 1, `one ${event} line in:\n${r.stderr}`);
  return found[0];
}

// The target: userName -> user, and group name -> set of member userNames.
async function target(srv) {
  const users = new Map();
  const byId = new Map();
  for (const u of await srv.users()) {
    assert.ok(!users.has(u.userName), `duplicate ${u.userName}`);
    users.set(u.userName, u);
    byId.set(u.id, u.userName);
  }
  const groups = new Map();
  for (const g of await srv.groups()) {
    assert.ok(!groups.has(g.displayName), `duplicate group ${g.displayName}`);
    groups.set(g.displayName, new Set((g.members || []).map((m) => byId.get(m.value))));
  }
  const active = [...users.values()].filter((u) => u.active !== false).map((u) => u.userName).sort();
  return { users, groups, active };
}

const mails = (nums) => [...nums].map(mail).sort();

for (const [kind, make] of BACKENDS) {
  const opts = kind === 'ldap' && skipLdap ? { skip: skipLdap } : {};

  test(`${kind}: a scope group narrows 200 people to its 30 members; joiners are created, leavers deprovisioned`, opts, async (t) => {
    const s = await setup(t, kind, make, undefined);
    s.rescope({ groups: [s.source.scopeName] });

    const plan = await s.run('plan');
    assert.equal(plan.code, 0, plan.stderr);
    const planned = line(plan, 'plan_end');
    assert.equal(planned.users_created, '30');
    assert.equal(planned.users_out_of_scope, '170');
    assert.equal(planned.groups_out_of_scope, '0');

    const first = await s.run('sync');
    assert.equal(first.code, 0, first.stderr);
    const end = line(first, 'cycle_end');
    assert.equal(end.result, 'ok');
    assert.equal(end.users_created, '30');
    assert.equal(end.users_out_of_scope, '170');
    assert.equal(end.groups_out_of_scope, '0');
    assert.equal(line(first, 'scope').users, '30');
    let tgt = await target(s.srv);
    assert.deepEqual(tgt.active, mails(KEEPER), 'exactly the 30 members of Keeper Users');
    assert.equal(tgt.users.size, 30, 'nobody else was created');
    // Every group is pushed (no patterns), each with its in-scope members only.
    const want = memberships();
    assert.deepEqual([...tgt.groups.keys()].sort(), [...want.keys()].sort());
    for (const [name, members] of want) {
      assert.deepEqual([...tgt.groups.get(name)].sort(), mails([...members].filter((i) => i <= 30)),
        `members of ${name}`);
    }

    // Person 100 joins Keeper Users; the leaver drops out of it (LDAP: out of the nested group).
    await s.source.join('Keeper Users', 100);
    await s.source.leave(s.source.leaver);
    const id = tgt.users.get(mail(s.source.leaver)).id;
    await s.srv.reset();
    const next = await s.run('sync');
    assert.equal(next.code, 0, next.stderr);
    const e2 = line(next, 'cycle_end');
    assert.equal(e2.users_created, '1');
    assert.equal(e2.users_disabled, '1');
    assert.equal(e2.users_out_of_scope, '170');
    tgt = await target(s.srv);
    assert.equal(tgt.users.get(mail(100)).active, true, 'the joiner is created active');
    const gone = tgt.users.get(mail(s.source.leaver));
    assert.equal(gone.active, false, 'the leaver is deactivated, not deleted');
    assert.equal(gone.id, id);
    assert.deepEqual(tgt.active, mails([...KEEPER.filter((i) => i !== s.source.leaver), 100]));
    assert.ok(!tgt.groups.get(`Team ${s.source.leaver % 10}`).has(mail(s.source.leaver)),
      'the leaver left their team on the target too');
    assert.ok(tgt.groups.get('Team 0').has(mail(100)), 'the joiner is in their team');

    // Nothing changed: nothing is sent.
    await s.srv.reset();
    const idle = await s.run('sync');
    assert.equal(idle.code, 0, idle.stderr);
    assert.equal((await s.srv.stats()).writes, 0);
  });

  test(`${kind}: a misspelled scope group stops the cycle with a clear message and zero writes`, opts, async (t) => {
    const s = await setup(t, kind, make, undefined);
    s.rescope({ groups: ['Keeper Users'] });
    assert.equal((await s.run('sync')).code, 0);
    s.rescope({ groups: ['Keeper Userz', 'Keeper Users'] });
    await s.srv.reset();
    const r = await s.run('sync');
    assert.equal(r.code, 3, r.stderr);
    const end = line(r, 'cycle_end');
    assert.equal(end.result, 'stopped');
    assert.match(end.reason, /^scope group "Keeper Userz" not found in the source .*; refusing to treat its members as gone/);
    assert.equal(line(r, 'scope_group_missing').level, 'error');
    assert.equal((await s.srv.stats()).writes, 0, 'zero writes');
    const tgt = await target(s.srv);
    assert.deepEqual(tgt.active, mails(KEEPER), 'everyone is still active');

    const plan = await s.run('plan');
    assert.equal(plan.code, 3, 'plan stops the same way');
    assert.equal(line(plan, 'plan_end').result, 'stopped');

    const check = await s.run('check');
    assert.equal(check.code, 0, `check warns, does not fail:\n${check.stdout}${check.stderr}`);
    assert.match(check.stdout, /^warn {2}scope group "Keeper Userz" not found in the source/m);
    assert.match(check.stdout, /^warn {2}scope: 30 of 200 users, 13 of 13 groups$/m);
  });

  test(`${kind}: include and exclude patterns push exactly the chosen groups`, opts, async (t) => {
    const s = await setup(t, kind, make,
      { include_groups: ['team *', 'Keeper*'], exclude_groups: ['Team [0-4]', '*-LEGACY'] });
    const r = await s.run('sync');
    assert.equal(r.code, 0, r.stderr);
    const end = line(r, 'cycle_end');
    assert.equal(end.users_created, String(N), 'no scope groups: everyone');
    assert.equal(end.users_out_of_scope, '0');
    assert.equal(end.groups_created, '7');
    assert.equal(end.groups_out_of_scope, '6');
    let tgt = await target(s.srv);
    const chosen = ['Keeper Admins', 'Keeper Users', 'Team 5', 'Team 6', 'Team 7', 'Team 8', 'Team 9'];
    assert.deepEqual([...tgt.groups.keys()].sort(), chosen);
    const want = memberships();
    for (const g of chosen) assert.deepEqual([...tgt.groups.get(g)].sort(), mails(want.get(g)), g);

    // A group that leaves the pushed set is deleted on the target.
    s.rescope({ include_groups: ['team *', 'Keeper*'], exclude_groups: ['Team [0-4]', '*-LEGACY', 'team 9'] });
    const r2 = await s.run('sync');
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(line(r2, 'cycle_end').groups_deleted, '1');
    assert.equal(line(r2, 'cycle_end').groups_out_of_scope, '7');
    tgt = await target(s.srv);
    assert.deepEqual([...tgt.groups.keys()].sort(), chosen.filter((g) => g !== 'Team 9'));
    assert.equal(tgt.active.length, N, 'nobody is deprovisioned by a group pattern');
  });
}
