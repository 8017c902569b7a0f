'use strict';
// A running `scimsync daemon` whose stderr is parsed line by line (logfmt), for the
// tests that watch what it does over time (daemon, watch and ad tests).
//   const d = new DaemonProc(t, cfgFile);
//   await d.until((lines) => ..., 'what'); d.events('cycle_start'); await d.stop();
const assert = require('node:assert/strict');
const h = require('./harness');

class DaemonProc {
  constructor(t, cfg, env = {}) {
    this.lines = [];
    this.stderr = '';
    this.proc = h.spawn(['--config', cfg, 'daemon'], { env });
    this.exited = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => resolve({ code, signal, at: Date.now() }));
    });
    let buf = '';
    this.proc.stderr.on('data', (d) => {
      this.stderr += d;
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.includes('=')) this.lines.push({ ...h.parseLogfmt(line), at: Date.now() });
      }
    });
    t.after(() => { if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL'); });
  }

  events(name) { return this.lines.filter((l) => l.event === name); }

  // Waits until `pred(lines)` is truthy; returns its value.
  async until(pred, what, timeoutMs = 20000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.lines);
      if (v) return v;
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}; daemon stderr:\n${this.stderr}`);
      if (this.proc.exitCode !== null) assert.fail(`daemon exited (${this.proc.exitCode}) waiting for ${what}:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  cycleEnd(n, timeoutMs) {
    return this.until(() => this.events('cycle_end')[n - 1], `cycle_end #${n}`, timeoutMs);
  }

  // SIGTERM, then SIGKILL after timeoutMs; {code, signal, at, tookMs}.
  async stop(timeoutMs = 15000) {
    const sent = Date.now();
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(timer);
    return { ...r, tookMs: r.at - sent };
  }
}

// Polls `check()` (async, truthy when done) every 25 ms; returns the milliseconds it
// took from `since`, or fails after timeoutMs.
async function measure(since, check, what, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return Date.now() - since;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

module.exports = { DaemonProc, measure };
