#!/usr/bin/env node
'use strict';
// A load generator made of the REAL npm wslink 2.x client: `test.echo` calls for a fixed
// time, one at a time or with N in flight, on one connection (the way a page calls).
// wslink-bench starts it against each server and reads the server's CPU time from /proc
// between the two lines this prints:
//
//   node load.js URL [--secret S] [--depth N] [--secs S] [--warmup N]
//
//   STARTED                        once connected and warmed up (the measured part begins)
//   DONE {"calls": C, "secs": S}   when the time is up and every call in flight answered
//
// The exit status is non-zero (with the reason on stderr) when a call fails or the
// server cannot be reached.

const client = require('./lib/client');
const { flag } = require('./lib/args');

async function main() {
  const url = process.argv[2];
  if (!url || url.startsWith('--')) throw new Error('usage: node load.js URL [--secret S] [--depth N] [--secs S]');
  const secret = flag('--secret', 'wslink-secret');
  const depth = Number(flag('--depth', '1'));
  const secs = Number(flag('--secs', '2'));
  const warmup = Number(flag('--warmup', '50'));
  const c = await client.connect({ url, secret, gen: 2 });
  const payload = 'x'.repeat(32);
  for (let i = 0; i < warmup; i += 1) await c.session.call('test.echo', [payload]);
  console.log('STARTED');
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(secs * 1e9));
  let calls = 0;
  async function worker() {
    while (process.hrtime.bigint() < deadline) {
      await c.session.call('test.echo', [payload]);
      calls += 1;
    }
  }
  await Promise.all(Array.from({ length: depth }, worker));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`DONE ${JSON.stringify({ calls, secs: elapsed })}`);
  await c.close().catch(() => {});
  client.terminateAll();
}

main().then(() => process.exit(0), (e) => {
  console.error(`load.js: ${e && e.message ? e.message : JSON.stringify(e)}`);
  process.exit(1);
});
