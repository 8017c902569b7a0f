// Issue 12: change-driven cycles. A daemon with `interval = "40m"` and
// `[source] watch = true` must bring a source change to the target within 5 s:
// CSV (rename-over, in-place edit, removal, a slow writer), OpenLDAP with syncprov
// (add, modify, delete, a server restart) and OpenLDAP without it (polled
// modifyTimestamp). Each test prints the measured change-to-target time.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const slapd = require('./lib/slapd');
const { spawn } = require('node:child_process');
const { DaemonProc, measure } = require('./lib/daemon_proc');
const fixture = require('../fixtures/ldap/gen_fixture');

const COLUMNS = ['externalId', 'userName', 'givenName', 'familyName', 'title'];
const LIMIT_MS = 5000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function row(i, title = 'Analyst') {
  return { externalId: `W${i}`, userName: `w${i}@example.com`, givenName: `G${i}`,
    familyName: `F${i}`, title };
}
function csvText(rows) {
  return `${COLUMNS.join(',')}\n${rows.map((r) => COLUMNS.map((c) => r[c]).join(',')).join('\n')}\n`;
}
const findUser = async (srv, ext) => (await srv.users()).find((u) => u.externalId === ext);

// systemd's notify socket, played by scimsync_notify_listener (built next to the
// binary); collects the STATUS= texts. Null when the tool is not built.
async function notifySocket(t, dir) {
  const tool = path.join(path.dirname(h.binary()), 'scimsync_notify_listener');
  if (!fs.existsSync(tool)) return null;
  const socketPath = path.join(dir, 'notify.sock');
  const p = spawn(tool, [socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => p.kill('SIGTERM'));
  const statuses = [];
  let buf = '';
  await new Promise((resolve) => {
    p.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'listening') resolve();
        for (const f of line.split('\\n')) if (f.startsWith('STATUS=')) statuses.push(f.slice(7));
      }
    });
  });
  return { socketPath, statuses };
}

function report(what, ms) {
  // The measured figure, in the test output (issue 12 asks for it).
  process.stdout.write(`# change-to-target ${what}: ${ms} ms\n`);
}

test('CSV: edits reach the target within 5 s; a half-written file is never read', async (t) => {
  const dir = h.tmpDir('watch-csv');
  const srv = await h.startScimServer({ token: 'watch-token' });
  t.after(() => srv.stop());
  const csv = path.join(dir, 'people.csv');
  let rows = [1, 2, 3, 4, 5].map((i) => row(i));
  fs.writeFileSync(csv, csvText(rows));
  const cfg = h.writeConfig(dir, { interval: '40m', interval_jitter: 0,
    source: { type: 'csv', users: csv, watch: true } }, srv);
  const notify = await notifySocket(t, dir);
  if (!notify) assert.ok(!process.env.CI, 'scimsync_notify_listener not built next to the binary');
  const d = new DaemonProc(t, cfg, notify ? { NOTIFY_SOCKET: notify.socketPath } : {});
  await d.cycleEnd(1);
  assert.equal(d.events('cycle_start')[0].trigger, 'start');
  const started = await d.until(() => d.events('watch_start')[0], 'watch_start');
  assert.equal(started.method, 'inotify');
  assert.equal(d.events('daemon_start')[0].watch, 'true');
  if (notify) {
    // STATUS= names the watch next to the next cycle.
    const want = `; watching (inotify on ${dir} (people.csv))`;
    await d.until(() => notify.statuses.some((x) => x.startsWith('idle, next cycle at ') && x.endsWith(want)),
      `STATUS= ending in "${want}" among ${JSON.stringify(notify.statuses)}`);
  }

  await t.test('a row added by writing a new file and renaming it over the old one', async () => {
    rows = [...rows, row(6)];
    fs.writeFileSync(`${csv}.tmp`, csvText(rows));
    const since = Date.now();
    fs.renameSync(`${csv}.tmp`, csv);
    const ms = await measure(since, async () => findUser(srv, 'W6'), 'W6 on the target');
    report('CSV rename-over (add)', ms);
    assert.ok(ms < LIMIT_MS, `${ms} ms`);
    await d.cycleEnd(2);
    assert.equal(d.events('cycle_start')[1].trigger, 'watch');
  });

  await t.test('a row changed in place', async () => {
    rows = rows.map((r) => (r.externalId === 'W2' ? { ...r, title: 'Director' } : r));
    const since = Date.now();
    fs.writeFileSync(csv, csvText(rows));
    const ms = await measure(since, async () => (await findUser(srv, 'W2')).title === 'Director',
      'W2 retitled on the target');
    report('CSV in-place rewrite (modify)', ms);
    assert.ok(ms < LIMIT_MS, `${ms} ms`);
    await d.cycleEnd(3);
  });

  await t.test('a row removed', async () => {
    rows = rows.filter((r) => r.externalId !== 'W3');
    const since = Date.now();
    fs.writeFileSync(csv, csvText(rows));
    const ms = await measure(since, async () => (await findUser(srv, 'W3')).active === false,
      'W3 disabled on the target');
    report('CSV in-place rewrite (remove)', ms);
    assert.ok(ms < LIMIT_MS, `${ms} ms`);
    await d.cycleEnd(4);
  });

  await t.test('a file written slowly in chunks is read once, whole', async () => {
    const before = d.events('cycle_start').length;
    rows = [...rows, row(7), row(8)];
    const text = csvText(rows);
    const lines = text.split('\n');
    const fd = fs.openSync(csv, 'w');  // in place: truncates, the writer keeps it open
    // Three chunks at line boundaries with pauses far longer than the quiet time: a
    // reader that did not wait for the close would see "these people left".
    fs.writeSync(fd, `${lines.slice(0, 2).join('\n')}\n`);
    await sleep(1500);
    fs.writeSync(fd, `${lines.slice(2, 5).join('\n')}\n`);
    await sleep(1500);
    assert.equal(d.events('cycle_start').length, before, 'no cycle while the file is open');
    fs.writeSync(fd, lines.slice(5).join('\n'));
    const since = Date.now();
    fs.closeSync(fd);
    const ms = await measure(since, async () => findUser(srv, 'W8'), 'W8 on the target');
    report('CSV slow writer (after close)', ms);
    await d.cycleEnd(before + 1);
    await sleep(1500);
    assert.equal(d.events('cycle_start').length, before + 1, 'exactly one cycle for the whole write');
    const end = d.events('cycle_end')[before];
    assert.equal(end.result, 'ok');
    assert.equal(end.users_disabled, '0', 'nobody looked gone');
    assert.equal(end.users_created, '2');
  });

  await t.test('a burst of edits is one cycle', async () => {
    const before = d.events('cycle_start').length;
    for (let i = 0; i < 5; i++) {
      rows = rows.map((r) => (r.externalId === 'W1' ? { ...r, title: `T${i}` } : r));
      fs.writeFileSync(csv, csvText(rows));
      await sleep(50);
    }
    await measure(Date.now(), async () => (await findUser(srv, 'W1')).title === 'T4', 'W1 = T4');
    await sleep(1500);
    assert.equal(d.events('cycle_start').length, before + 1);
  });

  const r = await d.stop();
  assert.equal(r.code, 0, d.stderr);
});

// ---------------------------------------------------------------------------------
// LDAP

const skipLdap = slapd.missing();  // throws in CI when slapd is missing
const SUFFIX = fixture.SUFFIX;
const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;

function ldapConfig(dir, s, srv, extra = {}) {
  const pw = path.join(dir, 'ldap-password');
  fs.writeFileSync(pw, s.readerPw, { mode: 0o600 });
  return h.writeConfig(dir, { interval: '40m', interval_jitter: 0,
    source: { type: 'ldap', url: s.url, bind_dn: s.readerDn, bind_password_file: pw,
      base_dn: SUFFIX, user_base: PEOPLE, group_base: GROUPS, timeout: '5s', watch: true,
      ...extra } }, srv);
}

const addPerson = (s, uid, title = 'Engineer') => s.modify(
  `dn: uid=${uid},${PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: ${uid}\n` +
  `cn: ${uid}\nsn: ${uid}\ngivenName: ${uid}\nmail: ${uid}@example.org\ntitle: ${title}\n`);
const byMail = async (srv, uid) => (await srv.users()).find((u) => u.userName === `${uid}@example.org`);

test('OpenLDAP with syncprov: add, modify, delete reach the target within 5 s; a restart loses nothing',
  { skip: skipLdap || false, timeout: 180000 }, async (t) => {
    const s = await slapd.start({ ldif: fixture.generate({ users: 20 }), syncprov: true });
    t.after(() => s.stop());
    const srv = await h.startScimServer({ token: 'watch-ldap' });
    t.after(() => srv.stop());
    const dir = h.tmpDir('watch-ldap');
    const d = new DaemonProc(t, ldapConfig(dir, s, srv));
    await d.cycleEnd(1);
    const started = await d.until(() => d.events('watch_start')[0], 'watch_start');
    assert.equal(started.method, 'syncrepl');
    assert.equal(d.events('watch_fallback').length, 0);

    let since = Date.now();
    await addPerson(s, 'newhire');
    let ms = await measure(since, () => byMail(srv, 'newhire'), 'newhire on the target');
    report('OpenLDAP syncrepl (add)', ms);
    assert.ok(ms < LIMIT_MS, `${ms} ms`);
    await d.until(() => d.events('cycle_end')[1], 'cycle 2');
    assert.equal(d.events('cycle_start')[1].trigger, 'watch');

    since = Date.now();
    await s.modify(`dn: uid=newhire,${PEOPLE}\nchangetype: modify\nreplace: title\ntitle: Director\n`);
    ms = await measure(since, async () => (await byMail(srv, 'newhire')).title === 'Director',
      'newhire retitled');
    report('OpenLDAP syncrepl (modify)', ms);
    assert.ok(ms < LIMIT_MS, `${ms} ms`);

    since = Date.now();
    await s.modify(`dn: uid=newhire,${PEOPLE}\nchangetype: delete\n`);
    ms = await measure(since, async () => (await byMail(srv, 'newhire')).active === false,
      'newhire disabled');
    report('OpenLDAP syncrepl (delete)', ms);
    assert.ok(ms < LIMIT_MS, `${ms} ms`);

    // The server goes away: the watch says so, comes back, and a change made right
    // after the restart (before the watch is up again) still reaches the target.
    await s.shutdown();
    await d.until(() => d.events('watch_lost')[0], 'watch_lost');
    await s.restart();
    since = Date.now();
    await addPerson(s, 'afterrestart');
    ms = await measure(since, () => byMail(srv, 'afterrestart'), 'afterrestart on the target', 20000);
    report('OpenLDAP syncrepl (add right after a server restart)', ms);
    await d.until(() => d.events('watch_resumed')[0], 'watch_resumed');
    since = Date.now();
    await addPerson(s, 'later');
    ms = await measure(since, () => byMail(srv, 'later'), 'later on the target');
    report('OpenLDAP syncrepl (add after the watch resumed)', ms);
    assert.ok(ms < LIMIT_MS, `${ms} ms`);
    const r = await d.stop();
    assert.equal(r.code, 0, d.stderr);
  });

test('OpenLDAP without syncprov: one warning, then polled modifyTimestamp',
  { skip: skipLdap || false, timeout: 120000 }, async (t) => {
    const s = await slapd.start({ ldif: fixture.generate({ users: 20 }) });
    t.after(() => s.stop());
    const srv = await h.startScimServer({ token: 'watch-poll' });
    t.after(() => srv.stop());
    const dir = h.tmpDir('watch-poll');
    const d = new DaemonProc(t, ldapConfig(dir, s, srv, { watch_interval: '1s' }));
    await d.cycleEnd(1);
    const started = await d.until(() => d.events('watch_start')[0], 'watch_start');
    assert.equal(started.method, 'modify_timestamp_poll');
    const fallbacks = d.events('watch_fallback');
    assert.deepEqual(fallbacks.map((f) => `${f.method}->${f.next}`),
      ['syncrepl->context_csn_poll', 'context_csn_poll->modify_timestamp_poll']);
    for (const f of fallbacks) assert.equal(f.level, 'warn');
    assert.match(fallbacks[0].error, /Critical extension is unavailable \(LDAP result 12\)/);

    let since = Date.now();
    await addPerson(s, 'polled');
    let ms = await measure(since, () => byMail(srv, 'polled'), 'polled on the target');
    report('OpenLDAP modifyTimestamp poll, watch_interval 1s (add)', ms);
    assert.ok(ms < LIMIT_MS, `${ms} ms`);
    since = Date.now();
    await s.modify(`dn: uid=polled,${PEOPLE}\nchangetype: delete\n`);
    ms = await measure(since, async () => (await byMail(srv, 'polled')).active === false,
      'polled disabled');
    report('OpenLDAP modifyTimestamp poll, watch_interval 1s (delete)', ms);
    assert.ok(ms < LIMIT_MS, `${ms} ms`);
    const r = await d.stop();
    assert.equal(r.code, 0, d.stderr);
  });
