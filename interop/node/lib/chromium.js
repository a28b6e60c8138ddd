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

module.exports = { CHROMIUM, launch };
