'use strict';
// Helpers for driving the remote_view example's page (vtk.js RemoteView) in Chromium:
// what it displays, read back as pixels, and its frame counters (`window.remoteView`).

/** Waits until the page has displayed at least `count` frames. */
async function waitForFrames(page, count, timeout) {
  await page.waitForFunction((n) => window.remoteView && window.remoteView.frames >= n, count,
    { timeout, polling: 50 });
}

/** The frame counters: frames displayed, first and last time and now (page ms), errors. */
function counters(page) {
  return page.evaluate(() => {
    const { frames, first, last, errors, connected } = window.remoteView;
    return { frames, first, last, now: performance.now(), errors, connected };
  });
}

/**
 * What the view shows on screen: a screenshot of the view's box (so an image hidden
 * behind something counts as not shown), read back in the page as a 64×48 grey
 * thumbnail, with the share of its pixels that differ from the first pixel of their row
 * (the background is a vertical gradient and the object does not reach the left edge).
 */
async function displayed(page) {
  const png = await page.locator('#view').screenshot();
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0, 64, 48);
    const { data } = ctx.getImageData(0, 0, 64, 48);
    const grey = [];
    for (let i = 0; i < data.length; i += 4) grey.push((data[i] + data[i + 1] + data[i + 2]) / 3);
    const covered = grey.filter((g, i) => Math.abs(g - grey[i - (i % 64)]) > 24).length / grey.length;
    const frame = document.querySelector('#view img');
    const size = frame ? [frame.naturalWidth, frame.naturalHeight] : [0, 0];
    return { grey, covered, width: size[0], height: size[1] };
  }, png.toString('base64'));
}

/** The share of thumbnail pixels that differ by more than 24 grey levels. */
function difference(a, b) {
  let changed = 0;
  for (let i = 0; i < a.grey.length; i++) if (Math.abs(a.grey[i] - b.grey[i]) > 24) changed += 1;
  return changed / a.grey.length;
}

/** Calls a server method through the page's own wslink session. */
function call(page, method, args = []) {
  return page.evaluate(([m, a]) => window.remoteView.session.call(m, a), [method, args]);
}

module.exports = { waitForFrames, counters, displayed, difference, call };
