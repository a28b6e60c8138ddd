#!/usr/bin/env node
'use strict';
// Drives the remote_view example's page (vtk.js RemoteView, npm wslink) in real headless
// Chromium against a running example server:
//
//   node remote_view_browser.js PAGE_URL SCREENSHOT.png
//
// Checks, in order: frames arrive and are displayed, and the view is not blank; the
// server counts this page as an observer; a left drag changes the image; the wheel
// zooms out (the object covers less of the view) and back in; the animation
// gives frames at some rate (printed as `fps: N`); then saves a screenshot and closes the
// page. Prints `observer while open: N` and `page closed`; the caller checks that the
// server's observer count falls back afterwards. Exits non-zero with the reason on any
// failure.

const chromium = require('./lib/chromium');
const view = require('./lib/remote_view_page');

const [pageUrl, screenshot] = process.argv.slice(2);
if (!pageUrl || !screenshot) {
  console.error('usage: node remote_view_browser.js PAGE_URL SCREENSHOT.png');
  process.exit(2);
}
const LIMIT = 20000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  const browser = await chromium.launch();
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });

    await page.goto(pageUrl);
    await view.waitForFrames(page, 1, LIMIT);
    // Let the still frame at the final size land (the first may predate the resize).
    await sleep(500);
    const before = await view.displayed(page);
    if (!before) throw new Error('no image is displayed');
    console.log(`first frame: ${before.width}x${before.height}, covered ${(before.covered * 100).toFixed(1)}%`);
    if (before.covered < 0.05) throw new Error(`the view looks blank (${before.covered})`);

    const stats = await view.call(page, 'remote_view.stats');
    const observers = stats.views.reduce((n, v) => n + v.observers, 0);
    console.log(`observer while open: ${observers}`);
    if (observers < 1) throw new Error('the server does not count this page as an observer');

    // A left drag across a quarter of the view, in small steps as a hand would.
    const box = await page.locator('#view').boundingBox();
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    const framesBefore = (await view.counters(page)).frames;
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) {
      await page.mouse.move(x + i * box.width / 40, y - i * box.height / 400);
      await sleep(40);
    }
    await page.mouse.up();
    await view.waitForFrames(page, framesBefore + 2, LIMIT);
    await sleep(500);
    const after = await view.displayed(page);
    const changed = view.difference(before, after);
    console.log(`drag changed ${(changed * 100).toFixed(1)}% of the view`);
    if (changed < 0.02) throw new Error(`the drag did not change the image (${changed})`);

    // The wheel (viewport.mouse.zoom.wheel) moves the camera away (the torus covers less
    // of the view), then back.
    const wheel = async (deltaY) => {
      const frames = (await view.counters(page)).frames;
      await page.mouse.move(x, y);
      for (let i = 0; i < 5; i++) {
        await page.mouse.wheel(0, deltaY);
        await sleep(60);
      }
      await view.waitForFrames(page, frames + 2, LIMIT);
      await sleep(800);
      return view.displayed(page);
    };
    const away = await wheel(120);
    const back = await wheel(-120);
    const pct = (d) => `${(d.covered * 100).toFixed(1)}%`;
    console.log(`wheel: covered ${pct(after)} -> ${pct(away)} -> ${pct(back)}`);
    if (!(away.covered < after.covered * 0.9)) throw new Error('the wheel did not zoom out');
    if (!(back.covered > away.covered * 1.1)) throw new Error('the wheel did not zoom back in');

    // The frame rate the page receives while the server animates.
    await page.click('#animate');
    await sleep(500);
    const start = await view.counters(page);
    await sleep(3000);
    const end = await view.counters(page);
    await page.click('#animate');
    const fps = ((end.frames - start.frames) * 1000) / (end.last - start.last || 1);
    console.log(`fps: ${fps.toFixed(1)} (${end.frames - start.frames} frames)`);
    if (!(end.frames - start.frames >= 2)) throw new Error('the animation gave no frames');

    await page.screenshot({ path: screenshot });
    console.log(`screenshot: ${screenshot}`);
    if (problems.length) throw new Error(problems.join('\n'));
    if (end.errors.length) throw new Error(`page errors: ${end.errors.join('; ')}`);
    await page.close();
    console.log('page closed');
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(`remote_view_browser: FAILED: ${e.stack || e}`);
  process.exit(1);
});
