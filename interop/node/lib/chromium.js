'use strict';
// Starts Debian's Chromium headless through playwright-core (which downloads no
// browser), with the flags this machine's closed network needs: without the
// background-networking ones Chromium keeps trying hosts it cannot reach.

const { chromium } = require('playwright-core');

/** The browser binary: $CHROMIUM, else Debian's. */
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** A headless Chromium; close it with `browser.close()`. */
function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Runs `body(page, problems)` in a fresh page of a headless Chromium and closes the
 * browser after it. Errors thrown by the page are collected in `problems` (a body may
 * push more, from `console` for example); any left at the end fail the run. On failure
 * prints `NAME: FAILED: reason` and exits with status 1.
 */
function runPage(name, body) {
  (async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      await body(page, problems);
      if (problems.length) throw new Error(problems.join('\n'));
    } finally {
      await browser.close();
    }
  })().catch((e) => {
    console.error(`${name}: FAILED: ${e.stack || e}`);
    process.exit(1);
  });
}

module.exports = { CHROMIUM, launch, runPage };
