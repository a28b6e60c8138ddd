#!/usr/bin/env node
'use strict';
// Large binaries both ways between the npm wslink 2.x client in real headless Chromium
// and a server:
//
//   node bulk_browser.js PAGE_URL BYTES
//
// PAGE_URL is the chat example's page, served by a server that also speaks the test
// protocol; the page loads the npm client as the global `wslink`. In the page, a second
// session calls test.bytes(BYTES) and checks the pattern it gets, then uploads BYTES of
// pattern with test.byte_len. Prints one `down:` and one `up:` line; exits non-zero
// (with the reason) on any failure.

const chromium = require('./lib/chromium');

const [pageUrl, size] = process.argv.slice(2);
const n = Number(size);
if (!pageUrl || !Number.isInteger(n) || n <= 0) {
  console.error('usage: node bulk_browser.js PAGE_URL BYTES');
  process.exit(2);
}
const LIMIT = 60000;

async function inPage({ n }) {
  const api = window.wslink.SmartConnect ? window.wslink : window.wslink.default;
  const sessionURL = `ws://${location.host}/ws`;
  const session = await new Promise((resolve, reject) => {
    const smartConnect = api.SmartConnect.newInstance({ config: { sessionURL, secret: 'wslink-secret' } });
    smartConnect.onConnectionReady((connection) => resolve(connection.getSession()));
    smartConnect.onConnectionError((_, e) => reject(new Error(`connect: ${e && (e.message || e.data) || e}`)));
    smartConnect.connect();
  });
  const asBytes = (v) => (v instanceof Uint8Array ? v : new Uint8Array(v.buffer ? v.buffer : v));
  let t0 = performance.now();
  const down = asBytes(await session.call('test.bytes', [n]));
  const downMs = performance.now() - t0;
  let pattern = down.length === n;
  for (let i = 0; pattern && i < down.length; i += 1) pattern = down[i] === (i & 255);
  const blob = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) blob[i] = i & 255;
  t0 = performance.now();
  const up = await session.call('test.byte_len', [blob]);
  const upMs = performance.now() - t0;
  return { downLen: down.length, pattern, downMs, up, upMs };
}

chromium.runPage('bulk_browser', async (page) => {
  await page.goto(pageUrl);
  await page.waitForSelector('#status.connected', { timeout: LIMIT });
  let timer;
  const r = await Promise.race([
    page.evaluate(inPage, { n }),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timed out')), LIMIT); }),
  ]).finally(() => clearTimeout(timer));
  console.log(`down: ${r.downLen} bytes, pattern ${r.pattern}, ${Math.round(r.downMs)} ms`);
  console.log(`up: ${JSON.stringify(r.up)}, ${Math.round(r.upMs)} ms`);
  if (r.downLen !== n || !r.pattern) throw new Error(`test.bytes(${n}) came back wrong`);
  const want = { len: n, first: 0, last: (n - 1) & 255, pattern: true };
  if (JSON.stringify(r.up) !== JSON.stringify(want)) {
    throw new Error(`test.byte_len: ${JSON.stringify(r.up)}, expected ${JSON.stringify(want)}`);
  }
});
