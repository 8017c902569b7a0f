// The target over HTTPS (every real target is): the real binary against the SCIM test
// server behind a TLS terminator on loopback, with a CA of the test's own. Direct
// transfers frame HTTP/1.1 over the TLS connection libcurl opened, so this is where
// certificate verification, keep-alive reuse across TLS (a TLS 1.3 session ticket
// arrives after the handshake and must not make a pooled connection look closed) and
// TLS reads split across records are proven.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const tls = require('node:tls');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const { makeCerts } = require('./lib/slapd');

// A TLS terminator in front of `port`: counts handshakes, pipes bytes both ways.
function startTlsFront(certs, port) {
  let handshakes = 0;
  const server = tls.createServer({
    cert: fs.readFileSync(certs.certFile), key: fs.readFileSync(certs.keyFile),
  }, (client) => {
    ++handshakes;
    const upstream = net.connect(port, '127.0.0.1');
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: server.address().port,
    handshakes: () => handshakes,
    close: () => new Promise((r) => server.close(() => r())),
  })));
}

test('HTTPS target: verified, keep-alive reused, a foreign CA refused before any request', async (t) => {
  if (require('node:child_process').spawnSync('openssl', ['version']).status !== 0) {
    t.skip('needs openssl');
    return;
  }
  const dir = h.tmpDir('tls');
  const certs = await makeCerts(dir);
  const srv = await h.startScimServer({ token: 'tls-token' });
  t.after(() => srv.stop());
  const front = await startTlsFront(certs, srv.port);
  t.after(() => front.close());

  const csv = path.join(dir, 'people.csv');
  const people = [];
  for (let i = 0; i < 60; i++) {
    people.push({ externalId: `T${i}`, userName: `t${i}@example.com`, email: `t${i}@example.com`,
      givenName: `Given ${'x'.repeat(i * 50)}`, groups: `Team ${i % 3}` });
  }
  h.writeCsv(csv, people, ['externalId', 'userName', 'email', 'givenName', 'groups']);
  const config = (name, caFile) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    return h.writeConfig(d, {
      source: { type: 'csv', users: csv },
      target: { url: `https://127.0.0.1:${front.port}/scim/v2`, ca_file: caFile, max_connections: 2 },
    }, srv);
  };

  // An unrelated CA: the handshake fails, nothing reaches the server.
  const before = (await srv.stats()).requests;
  const bad = await h.run(['--config', config('bad', certs.otherCaFile), 'sync']);
  assert.equal(bad.signal, null);
  assert.notEqual(bad.code, 0, bad.stderr);
  assert.match(bad.stderr, /certificate|SSL|TLS/i);
  assert.equal((await srv.stats()).requests, before, 'no request passed a failed verification');

  // The right CA: a first sync of users, groups and memberships over two connections.
  const good = config('good', certs.caFile);
  const first = await h.run(['--config', good, 'sync']);
  assert.equal(first.code, 0, first.stderr.slice(-3000));
  assert.equal((await srv.users()).length, 60);
  const groups = await srv.groups();
  assert.equal(groups.length, 3);
  const long = (await srv.users()).find((u) => u.externalId === 'T59');
  assert.equal(long.name.givenName, `Given ${'x'.repeat(59 * 50)}`, 'a body of several TLS records');
  const handshakes = front.handshakes();
  assert.ok(handshakes <= 4, `connections were reused: ${handshakes} handshakes for ${60 + 3 + 3} writes`);

  // Again after the server's idle keep-alive may have closed them: nothing to do, and
  // nothing lost to a dead pooled connection.
  const again = await h.run(['--config', good, 'sync', '--reconcile']);
  assert.equal(again.code, 0, again.stderr.slice(-3000));
  const end = again.lines.find((l) => l.event === 'cycle_end');
  assert.equal(end.result, 'ok');
  for (const k of ['users_created', 'users_updated', 'groups_created', 'groups_updated']) {
    assert.equal(Number(end[k]), 0, `${k} on a second sync`);
  }
});
