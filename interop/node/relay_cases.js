#!/usr/bin/env node
'use strict';
// The cases a relay must not break, with the real npm wslink client (2.x or 1.x) through
// a relay: a wrong secret gets its -32000 error, session.close() ends in a clean close
// (not 1006), two browsers at once (a publication reaches both; a slow call on one does
// not delay a fast call on the other), 20 MiB down and up, and a path with no server
// behind it closes with a clear code and reason.
//
//   node relay_cases.js URL --missing URL2 --missing-code CODE --missing-reason TEXT
//        [--gen 2|1] [--secret S] [--size BYTES]

const { test } = require('node:test');
const assert = require('node:assert/strict');
const client = require('./lib/client');

const url = process.argv[2];
const { flag: arg } = require('./lib/args');
const gen = Number(arg('--gen', '2'));
const secret = arg('--secret', 'wslink-secret');
const size = Number(arg('--size', String(20 * 1024 * 1024)));
const missing = arg('--missing');
const missingCode = Number(arg('--missing-code', '1013'));
const missingReason = arg('--missing-reason');
if (!url || !missing || missingReason === undefined) {
  console.error('usage: node relay_cases.js URL --missing URL2 --missing-code CODE ' +
    '--missing-reason TEXT [--gen 2|1] [--secret S] [--size BYTES]');
  process.exit(2);
}
const T = 20000;
const { withTimeout, toBuffer, pattern, attach } = client;
const connect = (extra = {}) => client.connect({ url, secret, gen, timeoutMs: 10000, ...extra });
const call = (c, method, args = []) => withTimeout(c.session.call(method, args), T, method);
const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

test.after(() => client.terminateAll());

test('wrong secret → -32000 "Authentication failed"', { timeout: T }, async () => {
  const err = await connect({ secret: `${secret}-wrong` }).then(
    (c) => { c.close(); throw new Error('connected with a wrong secret'); },
    (e) => e,
  );
  assert.equal(err.code, -32000, `got ${err && (err.stack || JSON.stringify(err))}`);
  assert.equal(err.message, 'Authentication failed');
});

test('session.close() ends in a clean close, not 1006', { timeout: T }, async () => {
  const c = await connect();
  assert.equal(await call(c, 'test.add', [1, 2]), 3);
  const event = await c.close(5000);
  console.log(`# close event: code ${event.code}, wasClean ${event.wasClean}`);
  assert.notEqual(event.code, 1006, 'the close handshake was cut');
  assert.equal(event.wasClean, true, 'both close frames were exchanged');
  // The client closes without a code; a server answers with the same (none: 1005).
  assert.equal(event.code, 1005);
});

test('two browsers at once: a publication reaches both', { timeout: T }, async () => {
  const [a, b] = [await connect(), await connect()];
  try {
    const topic = `relay.two.t${process.pid}_${Date.now()}`;
    const got = [[], []];
    const arrived = [a, b].map((c, i) => new Promise((resolve) => {
      c.session.subscribe(topic, ([payload]) => { got[i].push(payload); resolve(); });
    }));
    assert.equal(await call(b, 'test.publish', [topic, 1, 3]), 1);
    await withTimeout(Promise.all(arrived), T / 2, 'the publication on both');
    await sleep(100);
    assert.deepEqual(got, [[{ seq: 0, pad: 'xxx' }], [{ seq: 0, pad: 'xxx' }]]);
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
});

test('two browsers at once: a slow call on one does not delay the other', { timeout: T }, async () => {
  const [a, b] = [await connect(), await connect()];
  try {
    const t0 = Date.now();
    const slow = call(a, 'test.sleep', [1500]).then(() => Date.now() - t0);
    await sleep(50);
    assert.equal(await call(b, 'test.add', [20, 22]), 42);
    const fastAt = Date.now() - t0;
    const slowAt = await slow;
    console.log(`# fast call at ${fastAt} ms, slow call at ${slowAt} ms`);
    assert.ok(fastAt < 1000 && fastAt < slowAt, `the fast call waited (${fastAt} ms)`);
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
});

test(`${size} bytes down and up`, { timeout: 120000 }, async () => {
  const c = await connect();
  try {
    const down = await toBuffer(await withTimeout(c.session.call('test.bytes', [size]), 100000, 'download'));
    assert.equal(down.length, size);
    assert.ok(down.equals(pattern(size)), 'download follows the pattern');
    const up = await withTimeout(
      c.session.call('test.byte_len', [attach(c.session, pattern(size))]), 100000, 'upload');
    assert.deepEqual(up, { len: size, first: 0, last: (size - 1) % 256, pattern: true });
  } finally {
    await c.close();
  }
});

test('no server behind the path: a clear close code and reason', { timeout: T }, async () => {
  const { SmartConnect } = client.loadWslink(gen);
  const smartConnect = SmartConnect.newInstance({ config: { sessionURL: missing, secret } });
  const closed = new Promise((resolve) => {
    smartConnect.onConnectionClose((_conn, event) => resolve(event));
  });
  smartConnect.onConnectionError(() => {});
  smartConnect.connect();
  const event = await withTimeout(closed, T - 2000, 'the refusal');
  assert.equal(event.code, missingCode, `close code (reason: ${event.reason})`);
  assert.equal(event.reason, missingReason);
});
