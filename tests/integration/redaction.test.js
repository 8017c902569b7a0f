// Issue 8 item 1: a target (or a proxy in front of it) that echoes the Authorization
// header back in a 401/400/500 body must not get the bearer token into any log line,
// the state file, or the output of `status` and `check` (DESIGN §7).
//
// The target here is a tiny HTTP server of this file's own on a loopback port: it
// answers every request with the configured status and a body that repeats what the
// client sent, in the forms a real server or proxy might use.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const h = require('./lib/harness');

// '/' and '+' make the percent-encoded and the JSON-escaped ("\/") forms differ.
const TOKEN = 'Sx9-t0ken/of+redaction_test.7Qz';
const FORMS = {
  raw: TOKEN,
  percent: encodeURIComponent(TOKEN),
  json_slash: TOKEN.replace(/\//g, '\\/'),
  // Either half alone: catches any other escaping (logfmt doubles the "\" of "\/").
  head: TOKEN.slice(0, 9),
  tail: TOKEN.slice(-18),
};

// Body styles, each echoing req.headers.authorization.
const STYLES = {
  // Plain text, the header quoted whole.
  text: (status, auth) => `${status}: Unauthorized. You sent: ${auth}`,
  // A SCIM error whose detail holds the header, JSON-encoded with "/" escaped.
  scim: (status, auth) => JSON.stringify({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
    status: String(status),
    detail: `rejected request with Authorization: ${auth}`,
  }).replace(/\//g, '\\/'),
  // The token alone, without the "Bearer" word, and percent-encoded, as in an
  // echoed URL: only the registered secret can catch these.
  bare: (status, auth) => {
    const tok = String(auth || '').replace(/^Bearer\s+/i, '');
    return `${status} invalid credential ${tok} (see /login?t=${encodeURIComponent(tok)})`;
  },
};

function startEchoServer(status, style) {
  return new Promise((resolve) => {
    let hits = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hits++;
        const body = STYLES[style](status, req.headers.authorization);
        const json = style === 'scim';
        res.writeHead(status, { 'Content-Type': json ? 'application/scim+json' : 'text/plain' });
        res.end(body);
      });
    });
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}/scim/v2`, hits: () => hits,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
    });
  });
}

function setup(srv, level) {
  const dir = h.tmpDir('redaction');
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, [
    { externalId: 'E1', userName: 'ann@example.com', givenName: 'Ann', familyName: 'A', email: 'ann@example.com' },
    { externalId: 'E2', userName: 'bob@example.com', givenName: 'Bob', familyName: 'B', email: 'bob@example.com' },
  ]);
  const cfg = h.writeConfig(dir, {
    state: path.join(dir, 'state.db'),
    source: { type: 'csv', users: csv },
    target: { max_retries: 0, timeout: '5s' },
    log: { level },
  }, { url: srv.url, token: TOKEN });
  return { dir, cfg };
}

// Every file of the state (the database, its WAL and shared-memory files), raw bytes.
function stateBytes(dir) {
  const out = [];
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith('state.db')) out.push([f, fs.readFileSync(path.join(dir, f)).toString('latin1')]);
  }
  return out;
}

function assertNoSecret(where, text) {
  for (const [form, value] of Object.entries(FORMS)) {
    const n = text.split(value).length - 1;
    assert.equal(n, 0, `${where}: the token (${form} form) occurs ${n} times in:\n${text}`);
  }
}

for (const status of [401, 400, 500]) {
  for (const style of Object.keys(STYLES)) {
    for (const level of ['info', 'debug']) {
      test(`HTTP ${status} echoing the token (${style}), log level ${level}: no secret anywhere`, async (t) => {
        const srv = await startEchoServer(status, style);
        t.after(() => srv.close());
        const { dir, cfg } = setup(srv, level);

        const sync = await h.run(['--config', cfg, 'sync'], { timeoutMs: 60000 });
        assert.ok(srv.hits() > 0, 'the target was asked');
        assert.notEqual(sync.code, 0, `sync failed against a refusing target:\n${sync.stderr}`);
        assertNoSecret('sync stdout', sync.stdout);
        assertNoSecret('sync stderr', sync.stderr);
        // Not vacuous: the echoed text did reach the log, with the secret cut out.
        assert.match(sync.stderr, /\[REDACTED\]/, sync.stderr);

        const files = stateBytes(dir);
        assert.ok(files.some(([f]) => f === 'state.db'), 'a state file was written');
        for (const [f, bytes] of files) assertNoSecret(`state file ${f}`, bytes);

        for (const args of [['status'], ['status', '--json']]) {
          const st = await h.run(['--config', cfg, ...args]);
          assert.equal(st.code, 0, st.stderr);
          assertNoSecret(`${args.join(' ')} stdout`, st.stdout);
          assertNoSecret(`${args.join(' ')} stderr`, st.stderr);
        }
        if (status === 401) {
          // The cycle stopped on the refused credentials and says why.
          const st = await h.run(['--config', cfg, 'status']);
          assert.match(st.stdout, /reason: .*\[REDACTED\]/, st.stdout);
        }
        if (status === 400) {
          // The first cycle reads the whole target (empty state); a 400 on that read
          // stops the cycle before planning, and the stop reason keeps the target's
          // (redacted) words; failed users, if any, carry them too.
          const st = await h.run(['--config', cfg, 'status', '--json']);
          const j = JSON.parse(st.stdout);
          assert.match(j.cycles[0].reason, /\[REDACTED\]/, st.stdout);
          for (const a of j.attention) assert.match(a.last_error, /\[REDACTED\]/, st.stdout);
        }

        const check = await h.run(['--config', cfg, 'check'], { timeoutMs: 60000 });
        assert.equal(check.code, 3, `check fails on the refusing target:\n${check.stdout}${check.stderr}`);
        assertNoSecret('check stdout', check.stdout);
        assertNoSecret('check stderr', check.stderr);
        assert.match(check.stdout, /FAIL {2}target .*\[REDACTED\]/, check.stdout);
      });
    }
  }
}

// A state file written by a run that did not know the secret (an older binary, or a
// token rotated since) may hold it raw: `status` reads the configured secrets and
// redacts what it prints. Here the server echoes a value that only the second
// configuration's token file holds.
test('status redacts a secret stored by a run that did not know it', async (t) => {
  const LATER = 'Lq4-rotated-token-value-93';
  const srv = await new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(400, { 'Content-Type': 'text/plain' }); res.end(`bad value ${LATER}`); });
    });
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}/scim/v2`,
      close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) }));
  });
  t.after(() => srv.close());
  const { dir, cfg } = setup(srv, 'info');
  const sync = await h.run(['--config', cfg, 'sync']);
  // The first cycle's whole-target read is refused (400): the cycle stops (exit 3)
  // and its reason, with the server's words, is stored.
  assert.equal(sync.code, 3, sync.stderr);
  const raw = stateBytes(dir).map(([, b]) => b).join('');
  assert.ok(raw.includes(LATER), 'the unknown value was stored as the server sent it');

  fs.writeFileSync(path.join(dir, 'token'), `${LATER}\n`, { mode: 0o600 });
  for (const args of [['status'], ['status', '--json']]) {
    const st = await h.run(['--config', cfg, ...args]);
    assert.equal(st.code, 0, st.stderr);
    assert.ok(!st.stdout.includes(LATER), `${args.join(' ')}:\n${st.stdout}`);
    assert.match(st.stdout, /bad value \[REDACTED\]/, st.stdout);
  }
});
