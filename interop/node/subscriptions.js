#!/usr/bin/env node
'use strict';
// Server-side subscriptions with the real npm wslink client (1.x or 2.x), unchanged:
// it opts in with an ordinary session.call('wslink.subscribe', [topic, options]).
//
//   node subscriptions.js URL [--gen 2|1] [--private TOPIC] [--secret S]
//
// TOPIC must be declared subscribers-only on the server.
//
// How "nothing else arrived" is known: each connection's queue is sent in order, and a
// call's reply leaves before what its own handler published (as with the reference). So
// once a call of connection X that was made after a publication has answered, that
// publication has reached X (see `settle`).

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const client = require('./lib/client');

const argv = process.argv.slice(2);
const { flag } = require('./lib/args');
const url = argv.find((a, i) => !a.startsWith('--') && (i === 0 || !argv[i - 1].startsWith('--')));
const gen = Number(flag('--gen', '2'));
const secret = flag('--secret', 'wslink-secret');
const privateTopic = flag('--private', 'private.news');
if (!url || (gen !== 1 && gen !== 2)) {
  console.error('usage: node subscriptions.js URL [--gen 2|1] [--private TOPIC] [--secret S]');
  process.exit(2);
}
const T = 20000;
const { withTimeout } = client;
const call = (c, method, args = []) => withTimeout(c.session.call(method, args), T, method);

const open = [];
async function connect() {
  const c = await client.connect({ url, secret, gen });
  open.push(c);
  return c;
}
after(async () => {
  await Promise.allSettled(open.map((c) => c.close(3000)));
  client.terminateAll();
});

let seq = 0;
const freshTopic = (name) => `interop.subs.${name}.t${process.pid}_${seq += 1}`;

/** Subscribes locally (the JS client's own routing) and records every payload. */
async function listen(c, topic) {
  const got = [];
  const sub = c.session.subscribe(topic, ([payload]) => got.push(payload));
  await withTimeout(sub.promise, T, 'local subscribe');
  return { got, unsubscribe: () => c.session.unsubscribe(sub) };
}

/** Waits until everything published before now has reached `c` (see the top). A call's
 * reply leaves before what its handler published (as with the reference), so the
 * publishing client settles too before its publications are counted. */
const settle = (c) => call(c, 'test.add', [1, 2]);

async function rejectsWith(promise, code, text) {
  const err = await withTimeout(promise.then(
    (v) => { throw new assert.AssertionError({ message: `expected error ${code}, got ${JSON.stringify(v)}` }); },
    (e) => e,
  ), T, 'call');
  assert.equal(err && err.code, code, JSON.stringify(err));
  assert.match(JSON.stringify(err), text);
}

test(`gen ${gen}: where and fields: only matching publications arrive, projected; a client that never subscribed gets all`, { timeout: T * 2 }, async () => {
  const a = await connect();
  const b = await connect();
  const topic = freshTopic('filter');
  const seenA = await listen(a, topic);
  const seenB = await listen(b, topic);
  assert.deepEqual(
    await call(a, 'wslink.subscribe', [topic, { where: { seq: 1 }, fields: ['seq'] }]),
    { topic },
  );
  assert.equal(await call(a, 'test.publish', [topic, 3, 2]), 3);
  await settle(a);
  await settle(b);
  assert.deepEqual(seenA.got, [{ seq: 1 }]);
  assert.deepEqual(seenB.got, [0, 1, 2].map((s) => ({ seq: s, pad: 'xx' })));

  // Unsubscribing on the server: everything again, whole.
  assert.deepEqual(await call(a, 'wslink.unsubscribe', [topic]), { topic });
  seenA.got.length = 0;
  assert.equal(await call(a, 'test.publish', [topic, 2, 1]), 2);
  await settle(a);
  assert.deepEqual(seenA.got, [{ seq: 0, pad: 'x' }, { seq: 1, pad: 'x' }]);
  await seenA.unsubscribe();
  await seenB.unsubscribe();
});

test(`gen ${gen}: a subscribers-only topic reaches only the subscribed client`, { timeout: T * 2 }, async () => {
  const a = await connect();
  const b = await connect();
  const seenA = await listen(a, privateTopic);
  const seenB = await listen(b, privateTopic);
  assert.equal(await call(a, 'test.publish', [privateTopic, 1]), 1, 'before subscribing');
  await settle(a);
  assert.deepEqual(seenA.got, []);
  assert.deepEqual(await call(a, 'wslink.subscribe', [privateTopic]), { topic: privateTopic });
  assert.equal(await call(a, 'test.publish', [privateTopic, 2]), 2);
  await settle(a);
  await settle(b);
  assert.deepEqual(seenA.got, [{ seq: 0, pad: '' }, { seq: 1, pad: '' }]);
  assert.deepEqual(seenB.got, [], 'never subscribed: nothing on a subscribers-only topic');
  await call(a, 'wslink.unsubscribe', [privateTopic]);
  await seenA.unsubscribe();
  await seenB.unsubscribe();
});

test(`gen ${gen}: bad input is a -32001 error with the reason`, { timeout: T }, async () => {
  const a = await connect();
  await rejectsWith(a.session.call('wslink.subscribe', ['not a topic']), -32001, /invalid topic/);
  await rejectsWith(a.session.call('wslink.subscribe', ['t', { where: 3 }]), -32001, /'where' must be a map/);
  await rejectsWith(a.session.call('wslink.unsubscribe', ['never.subscribed']), -32001, /not subscribed/);
  assert.equal(await call(a, 'test.add', [1, 2]), 3, 'the connection goes on');
});
