#!/usr/bin/env node
'use strict';
// One server, both generations at once: the real npm wslink 1.12.4 and 2.5.0 clients
// connect to the same server, both subscribe to one topic, one publication reaches both,
// and binary travels both ways for each.
//
//   node mixed_generations.js URL [--secret S]

const { test } = require('node:test');
const assert = require('node:assert/strict');
const client = require('./lib/client');

const url = process.argv[2];
const secretAt = process.argv.indexOf('--secret');
const secret = secretAt > 0 ? process.argv[secretAt + 1] : 'wslink-secret';
if (!url) {
  console.error('usage: node mixed_generations.js URL [--secret S]');
  process.exit(2);
}

test('a 1.x and a 2.x client on one server both receive one publication', { timeout: 30000 }, async () => {
  const old = await client.connect({ url, secret, gen: 1 });
  const neu = await client.connect({ url, secret, gen: 2 });
  try {
    const received = (conn) => new Promise((resolve) => {
      conn.session.subscribe('mixed.topic', ([payload]) => resolve(payload));
    });
    const gotOld = received(old);
    const gotNew = received(neu);
    assert.equal(await neu.session.call('test.publish', ['mixed.topic', 1, 3]), 1);
    const expected = { seq: 0, pad: 'xxx' };
    assert.deepEqual(await client.withTimeout(gotOld, 10000, '1.x publication'), expected);
    assert.deepEqual(await client.withTimeout(gotNew, 10000, '2.x publication'), expected);

    for (const conn of [old, neu]) {
      const down = await client.toBuffer(await conn.session.call('test.bytes', [1000]));
      assert.deepEqual(down, client.pattern(1000));
      const up = await conn.session.call('test.byte_len', [client.attach(conn.session, client.pattern(300))]);
      assert.deepEqual(up, { len: 300, first: 0, last: 43, pattern: true });
    }
  } finally {
    await old.close();
    await neu.close();
    client.terminateAll();
  }
});
