#!/usr/bin/env node
'use strict';
// Load for the remote_view example: CLIENTS pages of its vtk.js RemoteView page in one
// headless Chromium, each at WIDTHxHEIGHT, all observing view 1 while the server animates
// it; counts the frames each page displays during SECONDS.
//
//   node remote_view_bench.js PAGE_URL CLIENTS SECONDS WIDTH HEIGHT FPS
//
// Prints one JSON line: {"pages": [{frames, ms}], "before": stats, "after": stats,
// "statsMs": ms}, where the stats are the server's `remote_view.stats` at the start and
// end of the window (its frame count, render and encode CPU time, process CPU time), and
// statsMs the time between them; each page's ms is its own clock's window.

const chromium = require('./lib/chromium');
const view = require('./lib/remote_view_page');

const [pageUrl, clients, seconds, width, height, fps] = process.argv.slice(2);
if (!fps) {
  console.error('usage: node remote_view_bench.js PAGE_URL CLIENTS SECONDS WIDTH HEIGHT FPS');
  process.exit(2);
}
const LIMIT = 60000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  const browser = await chromium.launch();
  try {
    const context = await browser.newContext({
      viewport: { width: Number(width) + 40, height: Number(height) + 80 },
    });
    const url = `${pageUrl}?view=1&w=${width}&h=${height}`;
    const pages = [];
    for (let i = 0; i < Number(clients); i++) {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`page ${i}: ${e.message}`));
      await page.goto(url);
      pages.push(page);
    }
    await Promise.all(pages.map((p) => view.waitForFrames(p, 1, LIMIT)));
    await view.call(pages[0], 'viewport.image.animation.fps.max', [Number(fps)]);
    await view.call(pages[0], 'viewport.image.animation.start', ['1']);
    await sleep(500); // the first animated frames, then measure
    const start = await Promise.all(pages.map(view.counters));
    const before = await view.call(pages[0], 'remote_view.stats');
    const t0 = performance.now();
    await sleep(Number(seconds) * 1000);
    const after = await view.call(pages[0], 'remote_view.stats');
    const statsMs = performance.now() - t0;
    const end = await Promise.all(pages.map(view.counters));
    await view.call(pages[0], 'viewport.image.animation.stop', ['1']);
    const result = pages.map((_, i) => ({
      frames: end[i].frames - start[i].frames,
      ms: end[i].now - start[i].now,
      size: [Number(width), Number(height)],
    }));
    console.log(JSON.stringify({ pages: result, before, after, statsMs }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(`remote_view_bench: FAILED: ${e.stack || e}`);
  process.exit(1);
});
