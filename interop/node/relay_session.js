#!/usr/bin/env node
'use strict';
// One browser session through a relay, with the real npm wslink 2.x client: hello, a call,
// 20 MiB down and up (4 MiB chunks from the server, 4 MiB chunks from the client after
// the hello), then a quiet close.
//
//   node relay_session.js URL [--secret S] [--size BYTES]

const { test } = require('node:test');
const assert = require('node:assert/strict');
const client = require('./lib/client');

const url = process.argv[2];
const { flag: arg } = require('./lib/args');
const secret = arg('--secret', 'wslink-secret');
const size = Number(arg('--size', String(20 * 1024 * 1024)));
if (!url) {
  console.error('usage: node relay_session.js URL [--secret S] [--size BYTES]');
  process.exit(2);
}

test('a browser session through the relay', { timeout: 60000 }, async () => {
  const conn = await client.connect({ url, secret, gen: 2 });
  try {
    assert.equal(await conn.session.call('test.add', [20, 22]), 42);
    const down = await client.toBuffer(await conn.session.call('test.bytes', [size]));
    assert.equal(down.length, size);
    assert.ok(down.equals(client.pattern(size)), 'download follows the pattern');
    const up = await conn.session.call('test.byte_len', [client.attach(conn.session, client.pattern(size))]);
    assert.deepEqual(up, { len: size, first: 0, last: (size - 1) % 256, pattern: true });
  } finally {
    await conn.close();
    client.terminateAll();
  }
});
