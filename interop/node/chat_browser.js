#!/usr/bin/env node
'use strict';
// Drives the chat example's page in real headless Chromium (Debian's /usr/bin/chromium,
// through playwright-core, which downloads no browser):
//
//   node chat_browser.js PAGE_URL SCREENSHOT.png
//
// Waits for the page to connect, types a message, sends it, and waits for the server's
// echo to arrive through the subscription; then starts the server talking and waits for
// one of its lines; saves a screenshot. Exits non-zero (with the reason) on any failure.

const chromium = require('./lib/chromium');

const [pageUrl, screenshot] = process.argv.slice(2);
if (!pageUrl || !screenshot) {
  console.error('usage: node chat_browser.js PAGE_URL SCREENSHOT.png');
  process.exit(2);
}
const LIMIT = 20000;

chromium.runPage('chat_browser', async (page, problems) => {
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });

  await page.goto(pageUrl);
  await page.waitForSelector('#status.connected', { timeout: LIMIT });

  const text = `hello from chromium ${Date.now()}`;
  await page.fill('#message', text);
  await page.click('#send');
  const echoed = page.locator('#log li', { hasText: `: ${text}` });
  await echoed.waitFor({ timeout: LIMIT });
  console.log(`echo received: ${await echoed.textContent()}`);

  await page.click('#start');
  const talk = page.locator('#log li', { hasText: 'Hello, is anyone there?' });
  await talk.first().waitFor({ timeout: LIMIT });
  await page.click('#stop');
  console.log(`server talked: ${await talk.first().textContent()}`);

  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
});
