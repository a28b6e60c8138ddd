#!/usr/bin/env node
'use strict';
// Loads a page in real headless Chromium and reports, as one JSON line, what a page that
// needs SharedArrayBuffer depends on, and what the browser's own WebSocket agreed with the
// server:
//
//   node isolation_browser.js PAGE_URL WS_URL
//
// Prints `isolation: {"crossOriginIsolated":…,"sharedArrayBuffer":…,"extensions":"…"}`.
// `crossOriginIsolated` is true only when the page came with
// `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
// require-corp`; `extensions` is the `Sec-WebSocket-Extensions` the server agreed to
// (Chromium offers permessage-deflate). Exits non-zero on any failure.

const chromium = require('./lib/chromium');

const [pageUrl, wsUrl] = process.argv.slice(2);
if (!pageUrl || !wsUrl) {
  console.error('usage: node isolation_browser.js PAGE_URL WS_URL');
  process.exit(2);
}
const LIMIT = 20000;

(async () => {
  const browser = await chromium.launch();
  try {
    const page = await browser.newPage();
    const response = await page.goto(pageUrl);
    if (!response || !response.ok()) throw new Error(`GET ${pageUrl}: ${response && response.status()}`);
    const report = await page.evaluate(async ([url, limit]) => {
      const extensions = await new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        const timer = setTimeout(() => reject(new Error('WebSocket did not open')), limit);
        ws.onopen = () => { clearTimeout(timer); const e = ws.extensions; ws.close(); resolve(e); };
        ws.onerror = () => { clearTimeout(timer); reject(new Error('WebSocket error')); };
      });
      return {
        crossOriginIsolated: self.crossOriginIsolated,
        sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
        extensions,
      };
    }, [wsUrl, LIMIT]);
    console.log(`isolation: ${JSON.stringify(report)}`);
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(`isolation_browser: FAILED: ${e.stack || e}`);
  process.exit(1);
});
