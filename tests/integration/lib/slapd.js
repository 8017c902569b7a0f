'use strict';
// A throwaway OpenLDAP slapd for tests and benchmarks: its own temporary directory,
// its own slapd.conf (mdb backend), a free loopback port, never the host's /etc/ldap
// configuration (the schema files are only read) and never its database.
//
//   const slapd = require('./lib/slapd');
//   if (slapd.missing()) ... (a message: skip locally; in CI start() throws instead)
//   const s = await slapd.start({ldif, sizeLimit: 500, tls: true, syncprov: true});
//   s.url, s.ldapiUrl, s.suffix, s.readerDn, s.readerPw, s.rootDn, s.rootPw,
//   s.caFile / s.otherCaFile (tls), s.dir
//   await s.modify(ldifText)            // ldapmodify as the rootdn (changetype records)
//   await s.search(base, filter, attrs) // -> [{dn, attr: [values]}], paged, as the rootdn
//   s.freeze() / s.thaw()               // SIGSTOP / SIGCONT: a server that stops answering
//   await s.shutdown(); await s.restart()  // SIGTERM; then again on the same port and database
//   await s.stop()                      // shut down for good and remove the directory
//
// Limits: users other than the rootdn get `limits ... size.soft=N size.hard=N
// size.prtotal=unlimited`, so a plain search stops at N entries with
// sizeLimitExceeded while a paged search (RFC 2696) reads everything. The `refint`
// overlay keeps member/uniqueMember in step on modrdn and delete, as in real deployments.
// With `syncprov`, the syncprov overlay serves RFC 4533 content synchronisation (and
// keeps contextCSN on the suffix), as on a provider in a replicated deployment.
//
// CLI (bench/ldap_bench.sh): node slapd.js --ldif FILE [--size-limit N]
//   prints one JSON line {url, readerDn, readerPw, suffix, pid} and runs until SIGTERM.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { spawn, execFile } = require('node:child_process');

const SLAPD = process.env.SLAPD_BIN || '/usr/sbin/slapd';
const SLAPADD = process.env.SLAPADD_BIN || '/usr/sbin/slapadd';
const SCHEMA_DIR = process.env.LDAP_SCHEMA_DIR || '/etc/ldap/schema';
const MODULE_DIR = process.env.LDAP_MODULE_DIR || '/usr/lib/ldap';
const SUFFIX = 'dc=example,dc=org';
const READER_DN = `cn=reader,${SUFFIX}`;
const READER_PW = 'reader-secret';  // matches tests/fixtures/ldap/gen_fixture.js

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/sbin', '/usr/bin'])) {
    const p = path.join(dir, cmd);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

// null when slapd and the client tools are there; otherwise why not. In CI a missing
// slapd is a failure, not a skip.
function missing() {
  const lacking = [];
  for (const p of [SLAPD, SLAPADD]) if (!fs.existsSync(p)) lacking.push(p);
  for (const t of ['ldapmodify', 'ldapsearch']) if (!which(t)) lacking.push(t);
  for (const s of ['core', 'cosine', 'inetorgperson', 'nis']) {
    if (!fs.existsSync(path.join(SCHEMA_DIR, `${s}.schema`))) lacking.push(`${SCHEMA_DIR}/${s}.schema`);
  }
  if (lacking.length === 0) return null;
  const msg = `slapd not available (missing ${lacking.join(', ')}); install the Debian packages slapd and ldap-utils`;
  if (process.env.CI) throw new Error(msg);
  return msg;
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 1 << 30, ...opts }, (err, stdout, stderr) => {
      if (err) {
        err.message = `${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`;
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A CA, a server certificate for 127.0.0.1/localhost signed by it, and an unrelated CA.
async function makeCerts(dir) {
  const o = (args) => run('openssl', args, { cwd: dir });
  const subj = (cn) => ['-subj', `/CN=${cn}`];
  await o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', 'ca.key',
    '-out', 'ca.pem', ...subj('scimsync test CA')]);
  await o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', 'other-ca.key',
    '-out', 'other-ca.pem', ...subj('scimsync unrelated CA')]);
  await o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr',
    ...subj('127.0.0.1')]);
  fs.writeFileSync(path.join(dir, 'san.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' +
    'keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  await o(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-CAcreateserial', '-days', '2', '-out', 'server.pem', '-extfile', 'san.cnf']);
  return {
    caFile: path.join(dir, 'ca.pem'),
    otherCaFile: path.join(dir, 'other-ca.pem'),
    certFile: path.join(dir, 'server.pem'),
    keyFile: path.join(dir, 'server.key'),
  };
}

function slapdConf({ dir, sizeLimit, tls, syncprov }) {
  const lines = [];
  for (const s of ['core', 'cosine', 'inetorgperson', 'nis']) {
    lines.push(`include ${path.join(SCHEMA_DIR, s + '.schema')}`);
  }
  lines.push(`modulepath ${MODULE_DIR}`, 'moduleload back_mdb', 'moduleload refint');
  if (syncprov) lines.push('moduleload syncprov');
  lines.push(`pidfile ${path.join(dir, 'slapd.pid')}`, `argsfile ${path.join(dir, 'slapd.args')}`);
  if (tls) {
    lines.push(`TLSCACertificateFile ${tls.caFile}`, `TLSCertificateFile ${tls.certFile}`,
      `TLSCertificateKeyFile ${tls.keyFile}`);
  }
  lines.push('database mdb', `suffix "${SUFFIX}"`, `rootdn "cn=admin,${SUFFIX}"`,
    'rootpw admin-secret', `directory ${path.join(dir, 'db')}`, 'maxsize 4294967296',
    'index objectClass eq', 'index entryUUID eq', 'index uid eq', 'index member,uniqueMember eq',
    // Everyone but the rootdn: unpaged searches stop at sizeLimit, paged ones read it all.
    `limits users size.soft=${sizeLimit} size.hard=${sizeLimit} size.prtotal=unlimited`,
    `limits anonymous size.soft=${sizeLimit} size.hard=${sizeLimit} size.prtotal=unlimited`,
    'access to attrs=userPassword by self write by anonymous auth by * none',
    // SASL EXTERNAL over ldapi maps to the peer's uid/gid.
    'access to * by users read ' +
      'by dn.regex="^gidNumber=[0-9]+\\+uidNumber=[0-9]+,cn=peercred,cn=external,cn=auth$" read ' +
      'by * none',
    'overlay refint', 'refint_attributes member uniqueMember');
  if (syncprov) lines.push('index entryCSN eq', 'overlay syncprov', 'syncprov-checkpoint 1 1');
  return lines.join('\n') + '\n';
}

class Slapd {
  constructor(opts) { Object.assign(this, opts); this.child = null; }

  async _spawn() {
    const urls = `ldap://127.0.0.1:${this.port}/ ${this.ldapiUrl}`;
    // -d 0: stay in the foreground (we own the process) without debug output.
    const child = spawn(SLAPD, ['-f', this.confFile, '-h', urls, '-d', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    this.child = child;
    this._exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}: ${stderr}`);
      if (await canConnect(this.port)) return;
      await sleep(50);
    }
    child.kill('SIGKILL');
    throw new Error(`slapd did not listen on port ${this.port} within 15 s: ${stderr}`);
  }

  freeze() { if (this.child) this.child.kill('SIGSTOP'); }
  thaw() { if (this.child) this.child.kill('SIGCONT'); }

  async shutdown() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) { this.child = null; return; }
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    await this._exit;
    clearTimeout(timer);
    this.child = null;
  }

  async restart() { await this.shutdown(); await this._spawn(); }

  async stop() {
    await this.shutdown();
    running.delete(this);
    if (this.removeDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async modify(ldif) {
    await run('ldapmodify', ['-x', '-H', this.url, '-D', this.rootDn, '-w', this.rootPw], { input: ldif });
  }

  // Paged search as the rootdn; returns [{dn, attrs: {name: [values]}}] (base64 values decoded).
  async search(base, filter = '(objectClass=*)', attrs = []) {
    const { stdout } = await run('ldapsearch', ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', this.url,
      '-D', this.rootDn, '-w', this.rootPw, '-E', 'pr=500/noprompt', '-b', base, filter, ...attrs]);
    const out = [];
    for (const block of stdout.split(/\n\n+/)) {
      let cur = null;
      for (const line of block.split('\n')) {
        const m = /^([^:#]+)(::?) ?(.*)$/.exec(line);
        if (!m) continue;
        const value = m[2] === '::' ? Buffer.from(m[3], 'base64').toString('utf8') : m[3];
        if (m[1] === 'dn') { cur = { dn: value, attrs: {} }; out.push(cur); continue; }
        if (!cur) continue;
        (cur.attrs[m[1]] = cur.attrs[m[1]] || []).push(value);
      }
    }
    return out;
  }
}

const running = new Set();
process.on('exit', () => { for (const s of running) { try { s.child && s.child.kill('SIGKILL'); } catch { /* gone */ } } });

// Options: ldif (text) or ldifFile; sizeLimit (default 500); tls (bool); dir (default a
// fresh temp dir, removed on stop unless keep).
async function start(opts = {}) {
  const why = missing();
  if (why) throw new Error(why);
  const dir = opts.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'scimsync-slapd-'));
  fs.mkdirSync(path.join(dir, 'db'), { recursive: true });
  const tls = opts.tls ? await makeCerts(dir) : null;
  const confFile = path.join(dir, 'slapd.conf');
  fs.writeFileSync(confFile, slapdConf({ dir, sizeLimit: opts.sizeLimit || 500, tls,
    syncprov: !!opts.syncprov }));
  let ldifFile = opts.ldifFile;
  if (!ldifFile) {
    ldifFile = path.join(dir, 'fixture.ldif');
    fs.writeFileSync(ldifFile, opts.ldif || require('../../fixtures/ldap/gen_fixture').generate());
  }
  // slapadd (offline, fast) also generates entryUUID, entryCSN and the other operational attributes.
  await run(SLAPADD, ['-f', confFile, '-l', ldifFile, '-q']);
  const port = await freePort();
  const sock = path.join(dir, 'ldapi');
  const s = new Slapd({
    dir, confFile, port,
    url: `ldap://127.0.0.1:${port}`,
    ldapiUrl: `ldapi://${encodeURIComponent(sock)}`,
    suffix: SUFFIX, readerDn: READER_DN, readerPw: READER_PW,
    rootDn: `cn=admin,${SUFFIX}`, rootPw: 'admin-secret',
    caFile: tls && tls.caFile, otherCaFile: tls && tls.otherCaFile,
  });
  s.removeDir = !opts.keep && !opts.dir;
  await s._spawn();
  running.add(s);
  return s;
}

module.exports = { start, missing, makeCerts, SUFFIX, READER_DN, READER_PW };

if (require.main === module) {
  const args = process.argv.slice(2);
  const get = (k) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
  (async () => {
    const s = await start({ ldifFile: get('--ldif'), sizeLimit: Number(get('--size-limit') || 500),
      dir: get('--dir') });
    process.stdout.write(JSON.stringify({ url: s.url, readerDn: s.readerDn, readerPw: s.readerPw,
      suffix: s.suffix, pid: s.child.pid }) + '\n');
    const bye = async () => { await s.stop(); process.exit(0); };
    process.on('SIGTERM', bye);
    process.on('SIGINT', bye);
  })().catch((e) => { console.error(e.message); process.exit(1); });
}
