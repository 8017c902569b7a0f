// Commands as an administrator uses them (issue 9 §4): what `status` says about a state
// file that is not there, and what `plan` needs.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

function csvConfig(dir, target = {}) {
  const csv = path.join(dir, 'people.csv');
  h.writeCsv(csv, [{ externalId: 'E1', userName: 'ann@example.com', email: 'ann@example.com' }],
    ['externalId', 'userName', 'email']);
  return h.writeConfig(dir, {
    state: path.join(dir, 'state.db'),
    source: { type: 'csv', users: csv },
    target: { url: 'http://127.0.0.1:9/scim/v2', ...target },
  });
}

test('status on a state file that does not exist says so and exits 2', async () => {
  const dir = h.tmpDir('cli');
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, 'cli-token\n', { mode: 0o600 });
  const cfg = csvConfig(dir, { token_file: tokenFile });
  for (const args of [['status'], ['status', '--json']]) {
    const r = await h.run(['--config', cfg, ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const err = r.lines.find((l) => l.event === 'state_error');
    assert.ok(err, r.stderr);
    assert.match(err.error, /state file .*state\.db does not exist/);
    assert.match(err.error, /scimsync\.toml/);
    assert.ok(!fs.existsSync(path.join(dir, 'state.db')), 'status created no state file');
  }
});
