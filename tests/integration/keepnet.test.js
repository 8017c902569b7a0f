// `scimsync keepnet onboard` against the fake Keepnet reseller API
// (tests/keepnet_fake/server.js), and the config it writes syncing the demo CSV into
// the SCIM test server whose URL the fake hands out as the integration's baseUrl.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { spawn } = require('node:child_process');
const h = require('./lib/harness');

const SECRET = 'reseller-secret-1234';
const SCIM_TOKEN = 'scim-token-given-once-5678';

function get(port, urlPath, method = 'GET', body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath,
      headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {} },
    (res) => { let s = ''; res.on('data', (c) => { s += c; }); res.on('end', () => resolve(JSON.parse(s))); });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function startKeepnet(t, cfg = {}) {
  const proc = spawn(process.execPath, [path.join(h.REPO, 'tests', 'keepnet_fake', 'server.js'),
    '--port', '0', '--config', JSON.stringify({ scimToken: SCIM_TOKEN, ...cfg })],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; const m = /^listening (\d+)$/m.exec(out); if (m) resolve(Number(m[1])); });
    proc.on('exit', (code) => reject(new Error(`fake Keepnet exited ${code}`)));
  });
  t.after(() => proc.kill('SIGKILL'));
  return {
    url: `http://127.0.0.1:${port}`,
    state: () => get(port, '/admin/state'),
    configure: (c) => get(port, '/admin/config', 'POST', c),
  };
}

// A temp dir with the reseller credentials (0600), a company file and a --source file.
function setUp(name, opts = {}) {
  const dir = h.tmpDir(`keepnet-${name}`);
  const cred = path.join(dir, 'keepnet-credentials');
  fs.writeFileSync(cred, `${opts.clientId || 'reseller-client'}:${SECRET}\n`, { mode: 0o600 });
  fs.chmodSync(cred, 0o600);
  const company = path.join(dir, 'acme.company.toml');
  fs.writeFileSync(company, opts.companyText || [
    '# Acme, a new customer',
    'Name = "Acme Corp"',
    'CountryResourceId = "ctry-DE"',
    'IndustryResourceId = "ind-IT"',
    'LicenseTypeResourceId = "lic-full"',
    'LicensePeriodTypeResourceId = "per-1y"',
    'NumberOfUsers = 250',
    'TimeZoneId = "Europe/Berlin"',
    'DateFormat = "dd.MM.yyyy"',
    'TimeFormat = "HH:mm"',
    'LicenseModuleResourceIdArray = ["mod-phishing", "mod-awareness"]',
    'IsNumberOfUsersLimited = true',
    ''].join('\n'));
  const source = path.join(dir, 'source.toml');
  const demo = path.join(h.REPO, 'examples', 'demo');
  fs.writeFileSync(source, [
    `state = ${JSON.stringify(path.join(dir, 'state.db'))}`,
    '[source]',
    'type = "csv"      # the HR export',
    `users = ${JSON.stringify(path.join(demo, 'people.csv'))}`,
    `groups = ${JSON.stringify(path.join(demo, 'groups.csv'))}`,
    ''].join('\n'));
  const dec = path.join(dir, 'dec.toml');
  fs.writeFileSync(dec, ['name = "Acme M365"', 'tenant_id = "6f1c0a4e-0000-4000-8000-000000000001"',
    'domains = ["acme.example"]', 'type = "microsoft365"', 'test_address = "it@acme.example"', ''].join('\n'));
  const out = path.join(dir, 'acme.toml');
  return { dir, cred, company, source, dec, out, token: path.join(dir, 'acme-token') };
}

function onboard(kn, s, extra = []) {
  return h.run(['keepnet', 'onboard', '--api', kn.url, '--credentials', s.cred, '--out', s.out, ...extra]);
}

function assertNoSecret(r) {
  for (const secret of [SECRET, SCIM_TOKEN]) {
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `a secret was printed:\n${r.stdout}${r.stderr}`);
  }
}

const acme = (st) => st.companies.filter((c) => c.name === 'Acme Corp');

test('new company end to end: company, SCIM, DEC made default, config that syncs the demo CSV', async (t) => {
  const srv = await h.startScimServer({ token: SCIM_TOKEN });
  t.after(() => srv.stop());
  const kn = await startKeepnet(t, { scimBaseUrl: srv.url });
  const s = setUp('new');
  const r = await onboard(kn, s, ['--new-company', s.company, '--source', s.source, '--dec', s.dec]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assertNoSecret(r);

  const st = await kn.state();
  const [c] = acme(st);
  assert.ok(c, 'the company was created');
  // The multipart form arrived field by field, the array as repeated fields.
  assert.equal(c.fields.NumberOfUsers, '250');
  assert.deepEqual(c.fields.LicenseModuleResourceIdArray, ['mod-phishing', 'mod-awareness']);
  assert.equal(c.fields.IsNumberOfUsersLimited, 'true');
  assert.equal(c.scim.length, 1);
  assert.equal(c.scim[0].name, 'scimsync');
  assert.equal(c.dec.length, 1);
  assert.ok(c.dec[0].tested && c.dec[0].isDefault, JSON.stringify(c.dec));
  // Scoping: the reseller's own context for the search and the create, the customer's after.
  const byPath = (p) => st.log.filter((e) => e.path === p);
  assert.ok(byPath('/api/companies/search').every((e) => e.company === null));
  assert.ok(byPath('/api/companies').every((e) => e.company === null));
  for (const p of ['/api/scim', '/api/companies/direct-email-settings', '/api/companies/direct-email-settings/test']) {
    assert.deepEqual(byPath(p).map((e) => e.company), [c.resourceId], p);
  }
  // One line per request's outcome, with ids.
  assert.match(r.stdout, /^ok +token: fetched \(expires in 3600 s\)$/m);
  assert.match(r.stdout, new RegExp(`^ok +company: created "Acme Corp" \\(resourceId ${c.resourceId}\\)$`, 'm'));
  assert.match(r.stdout, new RegExp(`^ok +scim: created "scimsync" \\(resourceId ${c.scim[0].resourceId}\\), baseUrl ${srv.url}$`, 'm'));
  assert.match(r.stdout, /^ok +dec test: test mail sent to it@acme\.example$/m);
  assert.match(r.stdout, /^ok +dec: "Acme M365" is the default$/m);

  // The files: the token alone in a 0600 file, the config pointing at the baseUrl.
  assert.equal(fs.readFileSync(s.token, 'utf8'), `${SCIM_TOKEN}\n`);
  assert.equal(fs.statSync(s.token).mode & 0o777, 0o600);
  const cfg = fs.readFileSync(s.out, 'utf8');
  assert.ok(!cfg.includes(SCIM_TOKEN));
  assert.match(cfg, new RegExp(`^url = "${srv.url}"$`, 'm'));
  assert.match(cfg, /^profile = "keepnet"$/m);
  assert.match(cfg, /^token_file = "acme-token"/m);
  assert.match(cfg, /type = "csv" {6}# the HR export/, 'the --source text is copied with its comments');

  // The written config, untouched, syncs the demo directory into that SCIM server.
  const sync = await h.run(['--config', s.out, 'sync']);
  assert.equal(sync.code, 0, sync.stderr);
  assert.equal((await srv.users()).length, 40);
  assert.ok((await srv.groups()).length >= 1);
  const again = await h.run(['--config', s.out, 'sync']);
  assert.equal(again.code, 0, again.stderr);
  const end = again.lines.find((l) => l.event === 'cycle_end');
  assert.equal(end.users_created, '0');
});

test('an existing company: by --company-id, and found by Name across search pages', async (t) => {
  const companies = Array.from({ length: 60 }, (_, i) => ({ resourceId: `C${String(i).padStart(4, '0')}`, name: `Customer ${i}` }));
  companies.push({ resourceId: 'ACME00000001', name: 'acme corp' });
  const kn = await startKeepnet(t, { companies });

  const s1 = setUp('byname');
  const r1 = await onboard(kn, s1, ['--new-company', s1.company]);
  assert.equal(r1.code, 0, r1.stdout);
  assert.match(r1.stdout, /^ok +company search: page 2: \d+ companies$/m);
  assert.match(r1.stdout, /^ok +company: "acme corp" exists \(resourceId ACME00000001\); not created again$/m);
  let st = await kn.state();
  assert.equal(st.log.filter((e) => e.path === '/api/companies').length, 0, 'no company created');
  assert.equal(st.companies.find((c) => c.resourceId === 'ACME00000001').scim.length, 1);
  // Without --source the config holds a commented [source] template.
  assert.match(fs.readFileSync(s1.out, 'utf8'), /^# \[source\]$/m);

  const s2 = setUp('byid');
  const r2 = await onboard(kn, s2, ['--company-id', 'C0007', '--scim-name', 'scimsync-hr']);
  assert.equal(r2.code, 0, r2.stdout);
  st = await kn.state();
  assert.equal(st.log.filter((e) => e.path === '/api/companies/search').length, 2, 'no search for --company-id');
  assert.deepEqual(st.companies.find((c) => c.resourceId === 'C0007').scim.map((x) => x.name), ['scimsync-hr']);

  // A company id this reseller does not manage.
  const s3 = setUp('unknown');
  const r3 = await onboard(kn, s3, ['--company-id', 'NOPE']);
  assert.equal(r3.code, 2, r3.stdout);
  assert.match(r3.stdout, /^FAIL +scim create: POST \/api\/scim: HTTP 404: Company NOPE not found$/m);
  assert.ok(!fs.existsSync(s3.out) && !fs.existsSync(s3.token));
});

test('a second run changes nothing: files kept, company found, the SCIM 409 explained', async (t) => {
  const kn = await startKeepnet(t);
  const s = setUp('twice');
  const args = ['--new-company', s.company, '--source', s.source];
  const first = await onboard(kn, s, args);
  assert.equal(first.code, 0, first.stdout);
  const cfg = fs.readFileSync(s.out, 'utf8');
  const requests = (await kn.state()).log.length;

  // Same command again: the files exist, so nothing is sent at all.
  const second = await onboard(kn, s, args);
  assert.equal(second.code, 2, second.stdout);
  assert.match(second.stdout, /acme\.toml exists .*not replaced without --force/);
  assert.match(second.stdout, /nothing was sent to Keepnet/);
  assert.equal((await kn.state()).log.length, requests);

  // With --force: the company is found, the integration exists (409), nothing is replaced.
  const third = await onboard(kn, s, [...args, '--force']);
  assert.equal(third.code, 2, third.stdout);
  assertNoSecret(third);
  assert.match(third.stdout, /^ok +company: "Acme Corp" exists/m);
  assert.match(third.stdout, /^FAIL +scim create: POST \/api\/scim: HTTP 409: A SCIM setting named scimsync already exists$/m);
  assert.match(third.stdout, /shows its token only once.*another --scim-name.*revoke/);
  assert.match(third.stdout, /nothing was created by this run/);
  const st = await kn.state();
  assert.equal(acme(st).length, 1);
  assert.equal(acme(st)[0].scim.length, 1);
  assert.equal(fs.readFileSync(s.out, 'utf8'), cfg);
  assert.equal(fs.readFileSync(s.token, 'utf8'), `${SCIM_TOKEN}\n`);
});

test('a token refused mid-run is fetched again once; a lapsing one is renewed before it lapses', async (t) => {
  const kn = await startKeepnet(t, { tokenUses: 2 });
  const s = setUp('refresh');
  const r = await onboard(kn, s, ['--new-company', s.company, '--dec', s.dec]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^ok +token: fetched again after an HTTP 401/m);
  let st = await kn.state();
  assert.ok(st.tokensIssued >= 2, `${st.tokensIssued} tokens`);
  assert.ok(acme(st)[0].dec[0].isDefault);

  // Tokens of 2 s, 150 ms per request, 16 requests (13 search pages): renewed 200 ms
  // (a tenth of the lifetime) ahead, so no request is refused.
  const companies = Array.from({ length: 640 }, (_, i) => ({ resourceId: `C${i}`, name: `Customer ${i}` }));
  const kn2 = await startKeepnet(t, { tokenTtl: 2, latencyMs: 150, companies });
  const s2 = setUp('ttl');
  const r2 = await onboard(kn2, s2, ['--new-company', s2.company]);
  assert.equal(r2.code, 0, r2.stdout);
  st = await kn2.state();
  assert.ok(st.tokensIssued >= 2, `${st.tokensIssued} tokens`);
  assert.equal(st.log.filter((e) => e.status === 401).length, 0, r2.stdout + JSON.stringify(st.log.slice(-8)));
});

test('a failing DEC test: the setting stays, is not made default, exit 1', async (t) => {
  const kn = await startKeepnet(t, { decTestFails: true });
  const s = setUp('dec');
  const r = await onboard(kn, s, ['--new-company', s.company, '--dec', s.dec]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /^FAIL +dec test: POST \/api\/companies\/direct-email-settings\/test: HTTP 400: Test email could not be sent; The application has no admin consent in the tenant$/m);
  assert.match(r.stdout, /^skip +dec make-default: /m);
  const st = await kn.state();
  assert.equal(acme(st)[0].dec[0].isDefault, false);
  assert.equal(st.log.filter((e) => e.method === 'PUT').length, 0);
  assert.ok(fs.existsSync(s.out), 'the config is written before the DEC steps');
});

test('a credential that is not a Reseller: 403, told why, nothing created', async (t) => {
  const kn = await startKeepnet(t, { clients: [{ id: 'admin-client', secret: SECRET, role: 'CompanyAdmin' }] });
  const s = setUp('403', { clientId: 'admin-client' });
  const r = await onboard(kn, s, ['--new-company', s.company]);
  assert.equal(r.code, 2, r.stdout);
  assert.match(r.stdout, /^FAIL +company search: POST \/api\/companies\/search: HTTP 403: Forbidden$/m);
  assert.match(r.stdout, /Client Role must be Reseller/);
  assert.match(r.stdout, /nothing was created by this run/);
  assertNoSecret(r);
  // A wrong secret: the token request is refused.
  const s2 = setUp('badsecret', { clientId: 'nobody' });
  const r2 = await onboard(kn, s2, ['--new-company', s2.company]);
  assert.equal(r2.code, 2, r2.stdout);
  assert.match(r2.stdout, /^FAIL +company search: POST \/connect\/token: HTTP 400: invalid_client$/m);
});

test('bad input is refused before any request, with file:line', async (t) => {
  const kn = await startKeepnet(t);
  const s = setUp('input', { companyText: 'Name = "Acme Corp"\nIndustryResourceId = "ind"\nLicenseTypeResourceId = "l"\n'
    + 'LicensePeriodTypeResourceId = "p"\nNumberOfUsers = 0\nTimeZoneId = "UTC"\nDateFormat = "d"\nTimeFormat = "t"\n' });
  let r = await onboard(kn, s, ['--new-company', s.company]);
  assert.equal(r.code, 2, r.stdout);
  assert.match(r.stdout, new RegExp(`^FAIL +${s.company.replace(/[.]/g, '\\.')}:1: CountryResourceId: missing required company field$`, 'm'));
  fs.writeFileSync(s.company, fs.readFileSync(s.company, 'utf8').replace('Name', 'CountryResourceId = "c"\nName'));
  r = await onboard(kn, s, ['--new-company', s.company]);
  assert.match(r.stdout, /:6: NumberOfUsers: expected an integer from 1 to 2147483647$/m);
  r = await onboard(kn, s, ['--company-id', 'X', '--scim-name', 'a-name-that-is-longer-than-thirty']);
  assert.match(r.stdout, /--scim-name: must be 1 to 30 characters/);
  fs.chmodSync(s.cred, 0o644);
  r = await onboard(kn, s, ['--company-id', 'X']);
  assert.equal(r.code, 2);
  assert.match(r.stdout, /keepnet-credentials: mode 0644 is readable by group or others; chmod 600 it/);
  const st = await kn.state();
  assert.equal(st.log.length, 0, 'no request was sent');
  assert.equal(st.tokensIssued, 0);
});

test('a remote failure names the step and what was already created; exit 3', async (t) => {
  const kn = await startKeepnet(t, { failRoute: { 'POST /api/scim': 503 } });
  const s = setUp('503');
  const r = await onboard(kn, s, ['--new-company', s.company]);
  assert.equal(r.code, 3, r.stdout);
  const id = acme(await kn.state())[0].resourceId;
  assert.match(r.stdout, /^FAIL +scim create: POST \/api\/scim: HTTP 503: injected 503$/m);
  assert.match(r.stdout, new RegExp(`already created by this run .*: company "Acme Corp" \\(resourceId ${id}\\)`));
  // Run again once Keepnet is back: the company is found, the integration created.
  await kn.configure({ failRoute: {} });
  const again = await onboard(kn, s, ['--new-company', s.company]);
  assert.equal(again.code, 0, again.stdout);
  assert.equal(acme(await kn.state()).length, 1);
});

test('$CREDENTIALS_DIRECTORY/keepnet as the credential; --systemd writes no token_file', async (t) => {
  const srv = await h.startScimServer({ token: SCIM_TOKEN });
  t.after(() => srv.stop());
  const kn = await startKeepnet(t, { scimBaseUrl: srv.url });
  const s = setUp('systemd');
  const creds = path.join(s.dir, 'creds');
  fs.mkdirSync(creds);
  fs.renameSync(s.cred, path.join(creds, 'keepnet'));
  const r = await h.run(['keepnet', 'onboard', '--api', kn.url, '--out', s.out, '--new-company', s.company,
    '--source', s.source, '--systemd'], { env: { CREDENTIALS_DIRECTORY: creds } });
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^next +sudo systemctl enable --now scimsync@acme /m);
  const cfg = fs.readFileSync(s.out, 'utf8');
  assert.doesNotMatch(cfg, /^token_file/m);
  // As the unit runs it: the token file handed over as the credential "token".
  const unitCreds = path.join(s.dir, 'unit-creds');
  fs.mkdirSync(unitCreds);
  fs.copyFileSync(s.token, path.join(unitCreds, 'token'));
  const check = await h.run(['--config', s.out, 'check'], { env: { CREDENTIALS_DIRECTORY: unitCreds } });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /^ok +target .*HTTP 200$/m);
});

test('an API that does not answer: exit 3; a plain-http API is warned about', async () => {
  const s = setUp('down');
  const r = await h.run(['keepnet', 'onboard', '--api', 'http://127.0.0.2:1', '--credentials', s.cred,
    '--out', s.out, '--company-id', 'C1']);
  assert.equal(r.code, 3, r.stdout);
  assert.match(r.stdout, /^warn +--api http:\/\/127\.0\.0\.2:1 is not https/m);
  assert.match(r.stdout, /^FAIL +scim create: POST \/connect\/token: no answer: /m);
  assert.match(r.stdout, /no answer from Keepnet; check --api/);
  assert.ok(!fs.existsSync(s.out));
});
