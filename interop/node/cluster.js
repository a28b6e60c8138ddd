#!/usr/bin/env node
'use strict';
// Two server nodes sharing a broker, with the real npm wslink client (1.x or 2.x),
// unchanged: a client of node A receives, in order and each once, what `test.publish`
// makes on node B (through the broker), and a client of node B receives it too (B's
// own clients, never through the broker).
//
//   node cluster.js URL_A URL_B [--gen 2|1] [--count N] [--secret S]

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const client = require('./lib/client');
const { flag } = require('./lib/args');

const argv = process.argv.slice(2);
const [urlA, urlB] = argv.filter((a, i) => !a.startsWith('--') && (i === 0 || !argv[i - 1].startsWith('--')));
const gen = Number(flag('--gen', '2'));
const count = Number(flag('--count', '200'));
const secret = flag('--secret', 'wslink-secret');
if (!urlA || !urlB || (gen !== 1 && gen !== 2) || !(count > 0)) {
  console.error('usage: node cluster.js URL_A URL_B [--gen 2|1] [--count N] [--secret S]');
  process.exit(2);
}
const T = 20000;
const { withTimeout } = client;
const call = (c, method, args = []) => withTimeout(c.session.call(method, args), T, method);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const open = [];
async function connect(url) {
  const c = await client.connect({ url, secret, gen });
  open.push(c);
  return c;
}
after(async () => {
  await Promise.allSettled(open.map((c) => c.close(3000)));
  client.terminateAll();
});

/** Subscribes locally (the JS client's own routing) and records every payload. */
async function listen(c, topic) {
  const got = [];
  const sub = c.session.subscribe(topic, ([payload]) => got.push(payload));
  await withTimeout(sub.promise, T, 'subscribe');
  return got;
}

/** Resolves once `got` holds `n` payloads; fails after `ms`. */
async function waitFor(got, n, ms, what) {
  const deadline = Date.now() + ms;
  while (got.length < n) {
    if (Date.now() > deadline) throw new Error(`${what}: ${got.length} of ${n} after ${ms} ms`);
    await sleep(10);
  }
}

/** Publishes probes through B until one reaches A: both nodes have joined the broker. */
async function waitLinked(a, b) {
  const topic = `cluster.probe.p${process.pid}`;
  const got = await listen(a, topic);
  const deadline = Date.now() + T;
  while (got.length === 0) {
    if (Date.now() > deadline) throw new Error('no probe from node B reached node A');
    await call(b, 'test.publish', [topic, 1]);
    await sleep(100);
  }
}

test(`npm wslink ${gen}.x on node A gets node B's publications in order, each once`, async () => {
  const a = await connect(urlA);
  const b = await connect(urlB);
  await waitLinked(a, b);
  const topic = `cluster.js.g${gen}_${process.pid}`;
  const onA = await listen(a, topic);
  const onB = await listen(b, topic);
  assert.equal(await call(b, 'test.publish', [topic, count]), count);
  await waitFor(onA, count, T, 'node A');
  await waitFor(onB, count, T, 'node B');
  // Anything sent twice would have arrived by now.
  await sleep(300);
  for (const [name, got] of [['A', onA], ['B', onB]]) {
    assert.equal(got.length, count, `node ${name}: each publication once`);
    got.forEach((p, i) => assert.equal(p.seq, i, `node ${name}: publication ${i} in order`));
  }
});
