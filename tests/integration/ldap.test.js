// Issue 3 scenarios: the real scimsync binary reading a throwaway slapd (mdb, size
// limit 500 for non-root users, so only paged reads see everything) loaded with the
// fixture of tests/fixtures/ldap (3,000 people, 32 groups, a nested chain, a group of
// 3,000 members), pushing into the scimmy-based SCIM test server.
//
// Expected values come from ldapsearch (a different LDAP client) run by the test,
// never from scimsync's own reading.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const slapd = require('./lib/slapd');
const fixture = require('../fixtures/ldap/gen_fixture');

const skip = slapd.missing();  // throws in CI when slapd is missing
const SUFFIX = fixture.SUFFIX;
const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

// Loose DN comparison for the fixture's spellings (case, spaces after commas, UID suffix).
const normDn = (dn) => dn.replace(/#'[01]*'B$/, '').split(',').map((p) => p.trim().toLowerCase()).join(',');

// What the directory holds, read with ldapsearch.
async function directory(s) {
  const people = await s.search(PEOPLE, '(objectClass=inetOrgPerson)',
    ['entryUUID', 'mail', 'departmentNumber', 'uid']);
  const users = new Map();
  const byDn = new Map();
  const byUid = new Map();
  for (const p of people) {
    const key = p.attrs.entryUUID[0];
    users.set(key, { mail: p.attrs.mail[0], department: (p.attrs.departmentNumber || [''])[0] });
    byDn.set(normDn(p.dn), key);
    byUid.set(p.attrs.uid[0].toLowerCase(), key);
  }
  const groups = new Map();
  for (const g of await s.search(GROUPS, '(objectClass=*)', ['entryUUID', 'cn', 'member', 'uniqueMember', 'memberUid'])) {
    if (!g.attrs.cn) continue;  // the ou itself
    const members = new Set();
    for (const dn of [...(g.attrs.member || []), ...(g.attrs.uniqueMember || [])]) {
      if (byDn.has(normDn(dn))) members.add(byDn.get(normDn(dn)));
    }
    for (const uid of g.attrs.memberUid || []) {
      if (byUid.has(uid.toLowerCase())) members.add(byUid.get(uid.toLowerCase()));
    }
    groups.set(g.attrs.entryUUID[0], { name: g.attrs.cn[0], members });
  }
  return { users, groups, byUid };
}

// What the SCIM target holds, keyed by externalId.
async function target(srv) {
  const users = new Map();
  const idToKey = new Map();
  for (const u of await srv.users()) {
    assert.ok(!users.has(u.externalId), `duplicate user ${u.externalId} on the target`);
    users.set(u.externalId, u);
    idToKey.set(u.id, u.externalId);
  }
  const groups = new Map();
  for (const g of await srv.groups()) {
    assert.ok(!groups.has(g.externalId), `duplicate group ${g.externalId} on the target`);
    groups.set(g.externalId, { name: g.displayName, id: g.id,
      members: new Set((g.members || []).map((m) => idToKey.get(m.value))) });
  }
  return { users, groups };
}

function assertInSync(dir, tgt) {
  const active = [...tgt.users.values()].filter((u) => u.active !== false);
  assert.equal(active.length, dir.users.size, 'active users on the target = people in the directory');
  for (const [key, want] of dir.users) {
    const u = tgt.users.get(key);
    assert.ok(u, `user ${key} (${want.mail}) on the target`);
    assert.notEqual(u.active, false, `${want.mail} active`);
    assert.equal(u.userName, want.mail);
    assert.equal(u[ENTERPRISE] && u[ENTERPRISE].department, want.department, `${want.mail} department`);
  }
  assert.equal(tgt.groups.size, dir.groups.size, 'groups on the target');
  for (const [key, want] of dir.groups) {
    const g = tgt.groups.get(key);
    assert.ok(g, `group ${want.name} on the target`);
    assert.equal(g.name, want.name);
    assert.deepEqual([...g.members].sort(), [...want.members].sort(), `members of ${want.name}`);
  }
}

function writeSecret(dir, name, value) {
  const f = path.join(dir, name);
  fs.writeFileSync(f, `${value}\n`, { mode: 0o600 });
  fs.chmodSync(f, 0o600);
  return f;
}

function ldapSource(s, dir, extra = {}) {
  return {
    type: 'ldap',
    url: s.url,
    bind_dn: s.readerDn,
    bind_password_file: writeSecret(dir, 'ldap-password', s.readerPw),
    base_dn: SUFFIX,
    user_base: PEOPLE,
    group_base: GROUPS,
    timeout: '5s',
    ...extra,
  };
}

// Resolves once some process holds an established TCP connection to 127.0.0.1:port.
async function waitForClientOf(port, timeoutMs = 20000) {
  const want = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length > 3 && cols[2].endsWith(want) && cols[3] === '01') return;
      }
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`no client connected to port ${port} within ${timeoutMs} ms`);
}

function cycleEnd(r) {
  return r.lines.find((l) => l.event === 'cycle_end') || {};
}

test('LDAP source against a real slapd', { skip: skip || false, timeout: 900000 }, async (t) => {
  const s = await slapd.start({ ldif: fixture.generate({ users: 3000 }), sizeLimit: 500 });
  t.after(() => s.stop());
  const srv = await h.startScimServer({ token: 'ldap-token' });
  t.after(() => srv.stop());
  const dir = h.tmpDir('ldap');
  const config = (source, name = 'scimsync.toml') => {
    const d = path.join(dir, name.replace(/\W/g, '_'));
    fs.mkdirSync(d, { recursive: true });
    return h.writeConfig(d, { state: path.join(dir, 'state.db'), source, target: { max_retries: 2 } }, srv);
  };
  const cfg = config(ldapSource(s, dir));
  const sync = (c = cfg, ...args) => h.run(['--config', c, 'sync', ...args], { timeoutMs: 600000 });

  await t.test('0. the fixture needs paging: an unpaged search hits the size limit', async () => {
    const { execFile } = require('node:child_process');
    const out = await new Promise((resolve) => execFile('ldapsearch', ['-x', '-LLL', '-H', s.url,
      '-D', s.readerDn, '-w', s.readerPw, '-b', PEOPLE, '(objectClass=inetOrgPerson)', 'dn'],
    { maxBuffer: 1 << 26 }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr })));
    assert.equal(out.code, 4, 'ldapsearch without paging: sizeLimitExceeded (4)');
    assert.equal(out.stdout.split('\n').filter((l) => l.startsWith('dn:')).length, 500);
  });

  await t.test('1. first sync equals the directory; the second sends zero writes', async () => {
    const r = await sync();
    assert.equal(r.code, 0, r.stderr);
    const read = r.lines.find((l) => l.event === 'ldap_read');
    assert.ok(read, `an ldap_read line in:\n${r.stderr.slice(0, 2000)}`);
    assert.equal(read.users, '3000');
    assert.ok(Number(read.pages) >= 7, `paged read (${read.pages} pages)`);
    const want = await directory(s);
    assert.equal(want.users.size, 3000);
    assertInSync(want, await target(srv));
    // Checks on the fixture's special groups: nested members are not flattened by
    // default, members outside the user scope are left out, odd DN spellings match.
    const tgt = await target(srv);
    const byName = new Map([...tgt.groups.values()].map((g) => [g.name, g]));
    assert.equal(byName.get('all-staff').members.size, 3000);
    assert.equal(byName.get('nest-a').members.size, 1);
    assert.equal(byName.get('mixed').members.size, 2);
    assert.equal(byName.get('posix-1').members.size, 10);

    await srv.reset();
    const again = await sync();
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await srv.stats()).writes, 0, 'no write on an unchanged directory');
  });

  await t.test('2. mail, department, membership change and a deletion: exactly those changes', async () => {
    const before = await target(srv);
    const dirBefore = await directory(s);
    const key = (uid) => dirBefore.byUid.get(uid);
    const project = [...dirBefore.groups.entries()].find(([, g]) => g.name === 'project-01');
    const projectMembers = [...project[1].members];
    const leaving = projectMembers[1];
    const leavingUid = [...dirBefore.byUid.entries()].find(([, k]) => k === leaving)[0];
    await s.modify([
      `dn: uid=user00100,${PEOPLE}`, 'changetype: modify', 'replace: mail', 'mail: renamed.user100@example.org', '',
      `dn: uid=user00200,${PEOPLE}`, 'changetype: modify', 'replace: departmentNumber', 'departmentNumber: Moved', '',
      `dn: cn=project-01,${GROUPS}`, 'changetype: modify', 'add: uniqueMember', `uniqueMember: uid=user02999,${PEOPLE}`, '',
      `dn: cn=project-01,${GROUPS}`, 'changetype: modify', 'delete: uniqueMember',
      `uniqueMember: uid=${leavingUid},${PEOPLE}`, '',
      `dn: uid=user00300,${PEOPLE}`, 'changetype: delete', '',
    ].join('\n'));
    await srv.reset();
    const r = await sync(cfg);
    assert.equal(r.code, 0, r.stderr);
    const stats = await srv.stats();
    assert.equal(stats.byMethod.POST || 0, 0, 'no creates');
    assert.equal(stats.byMethod.DELETE || 0, 0, 'no deletes (deprovision = disable)');
    const after = await target(srv);
    const want = await directory(s);
    assertInSync(want, after);
    assert.equal(after.users.get(key('user00100')).userName, 'renamed.user100@example.org');
    assert.equal(after.users.get(key('user00100')).id, before.users.get(key('user00100')).id);
    assert.equal(after.users.get(key('user00200'))[ENTERPRISE].department, 'Moved');
    assert.equal(after.users.get(key('user00300')).active, false, 'the deleted person is disabled');
    // Writes: 2 user PATCHes, 1 disable, project-01 add + remove, and the removals of the
    // deleted person from the groups that held them (all-staff, a department, maybe more).
    const groupsOfDeleted = [...dirBefore.groups.values()].filter((g) => g.members.has(key('user00300'))).length;
    const expectedMax = 3 + 2 + groupsOfDeleted;
    assert.ok(stats.writes >= 5 && stats.writes <= expectedMax,
      `writes ${stats.writes} between 5 and ${expectedMax}: ${JSON.stringify(stats.byMethod)}`);
    // Nothing else changed: every other user is byte-identical.
    for (const [k, u] of before.users) {
      if ([key('user00100'), key('user00200'), key('user00300')].includes(k)) continue;
      assert.deepEqual(after.users.get(k), u);
    }
  });

  await t.test('3. modrdn: same entryUUID, no delete, no create, no write', async () => {
    const beforeDir = await directory(s);
    const k = beforeDir.byUid.get('user00400');
    await s.modify([`dn: uid=user00400,${PEOPLE}`, 'changetype: modrdn', 'newrdn: uid=user00400-renamed',
      'deleteoldrdn: 1', ''].join('\n'));
    const afterDir = await directory(s);
    assert.equal(afterDir.byUid.get('user00400-renamed'), k, 'entryUUID kept across modrdn');
    const before = await target(srv);
    await srv.reset();
    const r = await sync();
    assert.equal(r.code, 0, r.stderr);
    const stats = await srv.stats();
    assert.equal(stats.writes, 0, `no writes after a modrdn: ${JSON.stringify(stats.byMethod)}`);
    const after = await target(srv);
    assert.deepEqual(after.users.get(k), before.users.get(k));
    assertInSync(afterDir, after);
  });

  await t.test('4. failed reads stop the cycle: exit 3, zero writes, target unchanged', async () => {
    const before = await target(srv);
    const cases = [
      ['wrong password', config({ ...ldapSource(s, dir), bind_password_file: writeSecret(dir, 'wrong-password', 'nope') }, 'wrongpw'),
        /Invalid credentials \(LDAP result 49\)/],
      ['base DN that does not exist', config(ldapSource(s, dir, { user_base: `ou=nobody,${SUFFIX}` }), 'nobase'),
        /No such object \(LDAP result 32\)/],
      ['filter that matches nothing', config(ldapSource(s, dir, { user_filter: '(uid=nobody-at-all)' }), 'nomatch'),
        /empty|no users/i],
    ];
    for (const [name, c, message] of cases) {
      await srv.reset();
      const r = await sync(c);
      assert.equal(r.code, 3, `${name}: exit 3\n${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.equal((await srv.stats()).writes, 0, `${name}: zero writes`);
    }

    // slapd stops answering in the middle of the read (SIGSTOP once scimsync is
    // connected and paging, one entry a page so the read lasts): the page times out.
    await srv.reset();
    const frozen = config(ldapSource(s, dir, { timeout: '2s', page_size: 1 }), 'frozen');
    const p = sync(frozen);
    await waitForClientOf(s.port);
    await new Promise((r) => setTimeout(r, 100));
    s.freeze();
    const r1 = await p;
    s.thaw();
    assert.equal(r1.code, 3, `frozen slapd: exit 3\n${r1.stderr}`);
    assert.match(r1.stderr, /no answer within 2000 ms \(page \d+\)/);
    assert.equal((await srv.stats()).writes, 0, 'frozen slapd: zero writes');

    // slapd shut down in the middle of the read.
    await srv.reset();
    const p2 = sync(frozen);
    await waitForClientOf(s.port);
    await new Promise((r) => setTimeout(r, 100));
    await s.shutdown();
    const r3 = await p2;
    await s.restart();
    assert.equal(r3.code, 3, `slapd shut down mid-read: exit 3\n${r3.stderr}`);
    // Depending on timing the client sees the connection drop (-1) or slapd's notice
    // of disconnection (52, unavailable); either way the read fails whole.
    assert.match(r3.stderr,
      /Can't contact LDAP server \(LDAP result -1\)|Server is unavailable \(LDAP result 52\)/);
    assert.equal((await srv.stats()).writes, 0, 'slapd shut down mid-read: zero writes');

    // slapd gone: every URI fails, the message lists them.
    await s.shutdown();
    await srv.reset();
    const down = config(ldapSource(s, dir, { url: `${s.url} ldap://127.0.0.1:1` }), 'down');
    const r2 = await sync(down);
    await s.restart();
    assert.equal(r2.code, 3, `slapd stopped: exit 3\n${r2.stderr}`);
    assert.match(r2.stderr, /Can't contact LDAP server \(LDAP result -1\)/);
    assert.equal((await srv.stats()).writes, 0, 'slapd stopped: zero writes');

    assert.deepEqual(await target(srv), before, 'target unchanged by any failed run');
    // And the state still says "in sync": a good run afterwards writes nothing.
    await srv.reset();
    const ok = await sync();
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await srv.stats()).writes, 0);
  });
});

test('LDAP StartTLS with a test CA', { skip: skip || false, timeout: 300000 }, async (t) => {
  const s = await slapd.start({ ldif: fixture.generate({ users: 60 }), tls: true });
  t.after(() => s.stop());
  const srv = await h.startScimServer({ token: 'tls-token' });
  t.after(() => srv.stop());
  const dir = h.tmpDir('ldap-tls');
  const run = (name, extra) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    const cfg = h.writeConfig(d, { state: path.join(d, 'state.db'), source: ldapSource(s, d, extra) }, srv);
    return h.run(['--config', cfg, 'sync'], { timeoutMs: 120000 });
  };

  await t.test('a CA that does not match is refused', async () => {
    const r = await run('wrong-ca', { start_tls: true, ca_file: s.otherCaFile });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /StartTLS with ldap:\/\/127\.0\.0\.1:\d+: Connect error \(LDAP result -11\)/);
    assert.equal((await srv.stats()).writes, 0);
  });

  await t.test('the right CA works', async () => {
    const r = await run('right-ca', { start_tls: true, ca_file: s.caFile });
    assert.equal(r.code, 0, r.stderr);
    assertInSync(await directory(s), await target(srv));
  });
});

test('LDAP SASL EXTERNAL over ldapi', { skip: skip || false, timeout: 120000 }, async (t) => {
  const s = await slapd.start({ ldif: fixture.generate({ users: 60 }) });
  t.after(() => s.stop());
  const srv = await h.startScimServer({ token: 'ldapi-token' });
  t.after(() => srv.stop());
  const dir = h.tmpDir('ldap-ldapi');
  const cfg = h.writeConfig(dir, { state: path.join(dir, 'state.db'), source: {
    type: 'ldap', url: s.ldapiUrl, base_dn: SUFFIX, user_base: PEOPLE, group_base: GROUPS } }, srv);
  const r = await h.run(['--config', cfg, 'sync'], { timeoutMs: 120000 });
  assert.equal(r.code, 0, r.stderr);
  assertInSync(await directory(s), await target(srv));

  // `check` binds and finds one user and one group.
  const c = await h.run(['--config', cfg, 'check'], { timeoutMs: 60000 });
  assert.equal(c.code, 0, c.stdout + c.stderr);
  assert.match(c.stdout + c.stderr,
    /bind ok as gidNumber=\d+\+uidNumber=\d+,cn=peercred,cn=external,cn=auth, users found, groups found/);

  // A referral inside the user scope would hide people: the read fails, nothing is written.
  await s.modify([`dn: ou=elsewhere,${PEOPLE}`, 'changetype: add', 'objectClass: referral',
    'objectClass: extensibleObject', 'ou: elsewhere', 'ref: ldap://ldap.elsewhere.example/ou=people,dc=example,dc=org', ''].join('\n'));
  await srv.reset();
  const ref = await h.run(['--config', cfg, 'sync'], { timeoutMs: 120000 });
  assert.equal(ref.code, 3, ref.stderr);
  assert.match(ref.stderr, /returned a referral \(ldap:\/\/ldap\.elsewhere\.example\/ou=people,dc=example,dc=org\?\?sub\) that scimsync does not follow/);
  assert.equal((await srv.stats()).writes, 0);
});
