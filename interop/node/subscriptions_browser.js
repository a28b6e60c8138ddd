#!/usr/bin/env node
'use strict';
// Server-side subscriptions from the real npm wslink client inside headless Chromium
// (Debian's /usr/bin/chromium through playwright-core):
//
//   node subscriptions_browser.js ORIGIN WS_URL --gen 2|1 --private TOPIC
//
// ORIGIN serves interop/node/node_modules, so the page loads the client's browser
// bundle (`/wslink2/dist/wslink.js`) from the server's own origin. In the page, client A
// subscribes on the server with {where, fields}, client B never does; A publishes.
// Prints one JSON line `result: {...}` and checks it; exits non-zero on any failure.
// "Nothing else arrived" is known as in subscriptions.js: a connection's queue is sent
// in order, so a call made after a publication answers after it has arrived.

const assert = require('node:assert/strict');
const chromium = require('./lib/chromium');

const argv = process.argv.slice(2);
const { flag } = require('./lib/args');
const [origin, wsUrl] = argv;
const gen = Number(flag('--gen', '2'));
const privateTopic = flag('--private', 'private.news');
if (!origin || !wsUrl || (gen !== 1 && gen !== 2)) {
  console.error('usage: node subscriptions_browser.js ORIGIN WS_URL --gen 2|1 --private TOPIC');
  process.exit(2);
}
const LIMIT = 20000;

/** Runs in the page. */
async function inPage({ wsUrl, topic, privateTopic }) {
  const api = window.wslink.SmartConnect ? window.wslink : window.wslink.default;
  const connect = () => new Promise((resolve, reject) => {
    const sc = api.SmartConnect.newInstance({ config: { sessionURL: wsUrl, secret: 'wslink-secret' } });
    sc.onConnectionReady((c) => resolve(c.getSession()));
    sc.onConnectionError((_c, e) => reject(new Error(`connect: ${(e && e.message) || e}`)));
    sc.connect();
  });
  const listen = async (session, t) => {
    const got = [];
    await session.subscribe(t, ([payload]) => got.push(payload)).promise;
    return got;
  };
  const a = await connect();
  const b = await connect();
  const gotA = await listen(a, topic);
  const gotB = await listen(b, topic);
  const reply = await a.call('wslink.subscribe', [topic, { where: { seq: 1 }, fields: ['seq'] }]);
  await a.call('test.publish', [topic, 3, 2]);
  await a.call('test.add', [1, 2]); // replies precede their handler's publications
  await b.call('test.add', [1, 2]);

  const privA = await listen(a, privateTopic);
  const privB = await listen(b, privateTopic);
  await a.call('wslink.subscribe', [privateTopic]);
  await a.call('test.publish', [privateTopic, 2]);
  await a.call('test.add', [1, 2]);
  await b.call('test.add', [1, 2]);
  let error = null;
  try {
    await a.call('wslink.subscribe', ['not a topic']);
  } catch (e) {
    error = e;
  }
  a.close();
  b.close();
  return { reply, gotA, gotB, privA, privB, error };
}

chromium.runPage('subscriptions_browser', async (page) => {
  await page.goto(`${origin}/wslink${gen}/package.json`);
  await page.addScriptTag({ url: `/wslink${gen}/dist/wslink.js` });
  const topic = `browser.subs.t${Date.now()}`;
  const result = await Promise.race([
    page.evaluate(inPage, { wsUrl, topic, privateTopic }),
    new Promise((_, reject) => { setTimeout(() => reject(new Error('page timed out')), LIMIT); }),
  ]);
  console.log(`result: ${JSON.stringify(result)}`);
  assert.deepEqual(result.reply, { topic });
  assert.deepEqual(result.gotA, [{ seq: 1 }], 'only the matching publication, projected');
  assert.deepEqual(result.gotB, [0, 1, 2].map((seq) => ({ seq, pad: 'xx' })), 'never subscribed: all, whole');
  assert.deepEqual(result.privA, [{ seq: 0, pad: '' }, { seq: 1, pad: '' }]);
  assert.deepEqual(result.privB, [], 'subscribers-only: nothing for a client that never subscribed');
  assert.equal(result.error && result.error.code, -32001, JSON.stringify(result.error));
  console.log(`gen ${gen}: subscriptions in chromium: ok`);
});
