// Issue 12: the `ad` dialect against a real Active Directory: Samba's AD domain
// controller, provisioned once for this file (lib/samba.js). objectGUID keys,
// disabled accounts (userAccountControl), nested groups with flatten_nested, a UPN
// rename (same target id), LDAPS with ca_file, and the highestCommittedUSN watch.
// Expected values come from ldapsearch, never from scimsync's own reading.
// Samba needs the ports 389 and 636: when they are taken the test is skipped with a
// message, or fails when CI is set.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const samba = require('./lib/samba');
const { DaemonProc, measure } = require('./lib/daemon_proc');

const missing = samba.missing();  // throws in CI
const STAFF = `OU=Staff,${samba.SUFFIX}`;
const TEAMS = `OU=Teams,${samba.SUFFIX}`;
const NORMAL = 512 | 32;       // NORMAL_ACCOUNT | PASSWD_NOTREQD: enabled, no password needed
const DISABLED = NORMAL | 2;   // | ACCOUNTDISABLE

const person = (cn, sam, uac, title = 'Engineer') =>
  `dn: CN=${cn},${STAFF}\nchangetype: add\nobjectClass: user\nsAMAccountName: ${sam}\n` +
  `userPrincipalName: ${sam}@example.test\ngivenName: ${cn.split(' ')[0]}\nsn: ${cn.split(' ')[1]}\n` +
  `mail: ${sam}@example.test\ntitle: ${title}\nuserAccountControl: ${uac}\n\n`;
const group = (cn, members) =>
  `dn: CN=${cn},${TEAMS}\nchangetype: add\nobjectClass: group\nsAMAccountName: ${cn}\n` +
  `${members.map((m) => `member: ${m}\n`).join('')}\n`;

test('Active Directory dialect against a Samba AD DC', { skip: missing || false, timeout: 900000 }, async (t) => {
  const taken = await samba.portsTaken();
  if (taken) {
    assert.ok(!process.env.CI, `Samba AD DC needs ports 389 and 636: ${taken}`);
    t.skip(`Samba AD DC needs ports 389 and 636: ${taken}`);
    return;
  }
  const fileStart = Date.now();
  const dc = await samba.start();
  t.after(() => dc.stop());
  process.stdout.write(`# samba: provision ${dc.provisionMs} ms, start ${dc.startMs} ms\n`);
  await dc.modify(`dn: ${STAFF}\nchangetype: add\nobjectClass: organizationalUnit\n\n` +
    `dn: ${TEAMS}\nchangetype: add\nobjectClass: organizationalUnit\n\n` +
    person('Ann Lee', 'ann', NORMAL) + person('Bob Ray', 'bob', DISABLED) +
    person('Cara Fox', 'cara', NORMAL));
  await dc.modify(group('inner', [`CN=Ann Lee,${STAFF}`]) +
    group('outer', [`CN=inner,${TEAMS}`, `CN=Cara Fox,${STAFF}`]));

  const srv = await h.startScimServer({ token: 'ad-token' });
  t.after(() => srv.stop());
  const dir = h.tmpDir('ad');
  const pw = path.join(dir, 'ad-password');
  fs.writeFileSync(pw, dc.adminPw, { mode: 0o600 });
  const source = (extra = {}) => ({ type: 'ldap', dialect: 'ad', url: dc.url, bind_dn: dc.adminDn,
    bind_password_file: pw, base_dn: samba.SUFFIX, user_base: STAFF, group_base: TEAMS,
    flatten_nested: true, timeout: '10s', ...extra });
  const cfgIn = (name, obj) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    return h.writeConfig(d, { state: path.join(d, 'state.db'), ...obj }, srv);
  };
  const cfg = cfgIn('main', { source: source() });
  const guids = async () => {
    const m = new Map();
    for (const e of await dc.search(STAFF, '(objectClass=user)', ['objectGUID', 'sAMAccountName'])) {
      m.set(e.attrs.sAMAccountName[0].toString(), samba.guidString(e.attrs.objectGUID[0]));
    }
    return m;
  };
  const byExt = async (ext) => (await srv.users()).find((u) => u.externalId === ext);

  await t.test('objectGUID keys, disabled accounts, nested groups flattened', async () => {
    const r = await h.run(['--config', cfg, 'sync'], { timeoutMs: 120000 });
    assert.equal(r.code, 0, r.stderr);
    const g = await guids();
    const users = await srv.users();
    assert.equal(users.length, 3);
    assert.deepEqual(users.map((u) => u.externalId).sort(), [...g.values()].sort());
    assert.equal((await byExt(g.get('ann'))).userName, 'ann@example.test');
    assert.equal((await byExt(g.get('ann'))).active, true);
    assert.equal((await byExt(g.get('bob'))).active, false, 'ACCOUNTDISABLE is active=false');
    const groups = await srv.groups();
    const outer = groups.find((x) => x.displayName === 'outer');
    assert.ok(outer, JSON.stringify(groups));
    const memberExt = new Set();
    for (const m of outer.members || []) {
      const u = users.find((x) => x.id === m.value);
      if (u) memberExt.add(u.externalId);
    }
    assert.deepEqual([...memberExt].sort(), [g.get('ann'), g.get('cara')].sort(),
      'Ann is in outer through inner');
  });

  await t.test('a UPN rename keeps the target id', async () => {
    const g = await guids();
    const before = await byExt(g.get('ann'));
    await dc.modify(`dn: CN=Ann Lee,${STAFF}\nchangetype: modify\nreplace: userPrincipalName\n` +
      'userPrincipalName: anne@example.test\n');
    const r = await h.run(['--config', cfg, 'sync'], { timeoutMs: 120000 });
    assert.equal(r.code, 0, r.stderr);
    const after = await byExt(g.get('ann'));
    assert.equal(after.userName, 'anne@example.test');
    assert.equal(after.id, before.id);
    assert.equal((await srv.users()).length, 3);
  });

  await t.test('LDAPS with ca_file; a CA that did not sign the certificate is refused', async () => {
    const ok = cfgIn('ldaps', { source: source({ url: dc.ldapsUrl, ca_file: dc.caFile }) });
    const r = await h.run(['--config', ok, 'plan'], { timeoutMs: 120000 });
    assert.equal(r.code, 0, r.stderr);
    const bad = cfgIn('ldaps-bad', { source: source({ url: dc.ldapsUrl, ca_file: dc.otherCaFile }) });
    const r2 = await h.run(['--config', bad, 'plan'], { timeoutMs: 120000 });
    assert.equal(r2.code, 3, r2.stderr);
    // libldap reports a refused certificate on ldaps:// as "Can't contact LDAP server".
    assert.match(r2.stderr, /event=source_error error="bind to ldaps:\/\/127\.0\.0\.1 as /);
  });

  await t.test('the highestCommittedUSN watch: a new user and a disabled one within 5 s', async (tt) => {
    const wcfg = cfgIn('watch', { interval: '40m', interval_jitter: 0,
      source: source({ watch: true, watch_interval: '1s' }) });
    const d = new DaemonProc(tt, wcfg);
    await d.cycleEnd(1);
    const started = await d.until(() => d.events('watch_start')[0], 'watch_start');
    assert.equal(started.method, 'usn_poll');
    let since = Date.now();
    await dc.modify(person('Dan Moe', 'dan', NORMAL));
    const g = await guids();
    let ms = await measure(since, () => byExt(g.get('dan')), 'dan on the target');
    process.stdout.write(`# change-to-target Samba AD highestCommittedUSN poll, watch_interval 1s (add): ${ms} ms\n`);
    assert.ok(ms < 5000, `${ms} ms`);
    assert.equal(d.events('cycle_start')[1].trigger, 'watch');
    since = Date.now();
    await dc.modify(`dn: CN=Dan Moe,${STAFF}\nchangetype: modify\nreplace: userAccountControl\n` +
      `userAccountControl: ${DISABLED}\n`);
    ms = await measure(since, async () => (await byExt(g.get('dan'))).active === false, 'dan disabled');
    process.stdout.write(`# change-to-target Samba AD highestCommittedUSN poll, watch_interval 1s (disable): ${ms} ms\n`);
    assert.ok(ms < 5000, `${ms} ms`);
    const r = await d.stop();
    assert.equal(r.code, 0, d.stderr);
  });
  process.stdout.write(`# ad.test.js: ${Date.now() - fileStart} ms in all\n`);
});
