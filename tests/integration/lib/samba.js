'use strict';
// A throwaway Samba Active Directory domain controller for the `ad` dialect tests:
// provisioned into a temporary directory (samba-tool domain provision, no DNS, only
// the LDAP service, loopback only), started in the foreground in one process, with a
// TLS certificate for 127.0.0.1 signed by a CA the test makes (lib/slapd.js
// makeCerts). It listens on the standard ports 389 and 636 (AD cannot be moved), so
// the tests run as root and only one DC at a time.
//
//   const samba = require('./lib/samba');
//   samba.missing()            -> null, or why not (in CI: throws)
//   await samba.portsTaken()   -> null, or which of 389/636 is taken
//   const dc = await samba.start();
//   dc.url, dc.ldapsUrl, dc.caFile, dc.otherCaFile, dc.suffix, dc.adminDn, dc.adminPw,
//   dc.provisionMs, dc.startMs
//   await dc.modify(ldif); await dc.search(base, filter, attrs); await dc.stop()
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { spawn, execFile } = require('node:child_process');
const { makeCerts } = require('./slapd');

const SUFFIX = 'DC=example,DC=test';
const ADMIN_DN = `CN=Administrator,CN=Users,${SUFFIX}`;
const ADMIN_PW = 'Adm1n-Secret-Pw!';  // a throwaway DC on loopback

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/sbin', '/usr/bin'])) {
    const p = path.join(dir, cmd);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

function missing() {
  const lacking = ['samba-tool', 'samba', 'ldapmodify', 'ldapsearch', 'openssl'].filter((c) => !which(c));
  if (lacking.length === 0) return null;
  const msg = `Samba AD DC not available (missing ${lacking.join(', ')}); install the Debian ` +
    'packages samba samba-ad-dc samba-ad-provision ldap-utils';
  if (process.env.CI) throw new Error(msg);
  return msg;
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

async function portsTaken() {
  const taken = [];
  for (const p of [389, 636]) if (await canConnect(p)) taken.push(p);
  return taken.length ? `port ${taken.join(' and ')} already in use on 127.0.0.1` : null;
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 1 << 28, ...opts }, (err, stdout, stderr) => {
      if (err) { err.message = `${cmd} ${args.join(' ')}: ${err.message}\n${stderr}\n${stdout}`; reject(err); } else resolve({ stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const running = new Set();
process.on('exit', () => { for (const c of running) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

async function start() {
  const why = missing();
  if (why) throw new Error(why);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scimsync-samba-'));
  const t0 = Date.now();
  await run('samba-tool', ['domain', 'provision', `--targetdir=${dir}`, '--server-role=dc',
    '--dns-backend=NONE', '--host-ip=127.0.0.1', '--realm=EXAMPLE.TEST', '--domain=EXAMPLE',
    `--adminpass=${ADMIN_PW}`, '--option=interfaces = lo', '--option=bind interfaces only = yes',
    '--option=server services = ldap', `--option=log file = ${path.join(dir, 'log.%m')}`]);
  const provisionMs = Date.now() - t0;
  const certs = await makeCerts(dir);
  const t1 = Date.now();
  // Simple binds over plain ldap:// are what the tests use next to LDAPS.
  const child = spawn('samba', ['-i', '-M', 'single', '-s', path.join(dir, 'etc', 'smb.conf'),
    '--option=ldap server require strong auth = no',
    `--option=tls keyfile = ${certs.keyFile}`, `--option=tls certfile = ${certs.certFile}`,
    `--option=tls cafile = ${certs.caFile}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const dc = {
    dir, url: 'ldap://127.0.0.1', ldapsUrl: 'ldaps://127.0.0.1', caFile: certs.caFile,
    otherCaFile: certs.otherCaFile, suffix: SUFFIX, adminDn: ADMIN_DN, adminPw: ADMIN_PW,
    provisionMs,
    modify: (ldif) => run('ldapmodify', ['-x', '-H', 'ldap://127.0.0.1', '-D', ADMIN_DN, '-w', ADMIN_PW],
      { input: ldif }),
    // [{dn, attrs: {name: [values as Buffers]}}]
    search: async (base, filter = '(objectClass=*)', attrs = []) => {
      const { stdout } = await run('ldapsearch', ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', 'ldap://127.0.0.1',
        '-D', ADMIN_DN, '-w', ADMIN_PW, '-b', base, filter, ...attrs]);
      const res = [];
      for (const block of stdout.split(/\n\n+/)) {
        let cur = null;
        for (const line of block.split('\n')) {
          const m = /^([^:#]+)(::?) ?(.*)$/.exec(line);
          if (!m) continue;
          const value = m[2] === '::' ? Buffer.from(m[3], 'base64') : Buffer.from(m[3]);
          if (m[1] === 'dn') { cur = { dn: value.toString(), attrs: {} }; res.push(cur); continue; }
          if (cur) (cur.attrs[m[1]] = cur.attrs[m[1]] || []).push(value);
        }
      }
      return res;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
      if (!process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  // Up when the rootDSE answers a bind.
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`samba exited with ${child.exitCode}: ${out}`);
    try {
      await run('ldapsearch', ['-x', '-H', 'ldap://127.0.0.1', '-D', ADMIN_DN, '-w', ADMIN_PW,
        '-s', 'base', '-b', '', 'highestCommittedUSN']);
      break;
    } catch (e) {
      if (Date.now() > deadline) { await dc.stop(); throw new Error(`samba did not answer within 60 s: ${out}`); }
      await sleep(250);
    }
  }
  dc.startMs = Date.now() - t1;
  return dc;
}

// The standard string form of an objectGUID (docs/ldap.md): the first three fields
// little-endian, lower case.
function guidString(b) {
  const hex = (i, j) => Buffer.from(b.subarray(i, j)).toString('hex');
  const rev = (i, j) => Buffer.from(b.subarray(i, j)).reverse().toString('hex');
  return `${rev(0, 4)}-${rev(4, 6)}-${rev(6, 8)}-${hex(8, 10)}-${hex(10, 16)}`;
}

module.exports = { missing, portsTaken, start, guidString, SUFFIX };
