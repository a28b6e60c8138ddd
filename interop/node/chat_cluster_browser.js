#!/usr/bin/env node
'use strict';
// The two-node chat: two headless Chromium browsers (Debian's, through playwright-core),
// each on the chat page of a different chat server, the two servers sharing a broker:
//
//   node chat_cluster_browser.js PAGE_A PAGE_B SHOT_A.png SHOT_B.png
//
// Each browser says something and waits for the other browser's line to arrive (it
// crossed the broker); then each saves a screenshot. Exits non-zero (with the reason)
// on any failure.

const chromium = require('./lib/chromium');

const [pageA, pageB, shotA, shotB] = process.argv.slice(2);
if (!pageA || !pageB || !shotA || !shotB) {
  console.error('usage: node chat_cluster_browser.js PAGE_A PAGE_B SHOT_A.png SHOT_B.png');
  process.exit(2);
}
const LIMIT = 20000;

async function open(url, problems) {
  const browser = await chromium.launch();
  const page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(`${url}: page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`${url}: console: ${m.text()}`); });
  await page.goto(url);
  await page.waitForSelector('#status.connected', { timeout: LIMIT });
  return { browser, page };
}

async function say(page, text) {
  await page.fill('#message', text);
  await page.click('#send');
}

async function waitLine(page, text) {
  const line = page.locator('#log li', { hasText: text });
  await line.first().waitFor({ timeout: LIMIT });
  return line.first().textContent();
}

(async () => {
  const problems = [];
  const a = await open(pageA, problems);
  try {
    const b = await open(pageB, problems);
    try {
      const fromA = `hello from browser A ${Date.now()}`;
      await say(a.page, fromA);
      console.log(`browser B got: ${await waitLine(b.page, fromA)}`);
      const fromB = `hello from browser B ${Date.now()}`;
      await say(b.page, fromB);
      console.log(`browser A got: ${await waitLine(a.page, fromB)}`);
      await a.page.screenshot({ path: shotA, fullPage: true });
      await b.page.screenshot({ path: shotB, fullPage: true });
      console.log(`screenshots: ${shotA} ${shotB}`);
      if (problems.length) throw new Error(problems.join('\n'));
    } finally {
      await b.browser.close();
    }
  } finally {
    await a.browser.close();
  }
})().catch((e) => {
  console.error(`chat_cluster_browser: FAILED: ${e.stack || e}`);
  process.exit(1);
});
