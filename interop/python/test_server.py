#!/usr/bin/env python3
"""Test-protocol server built on the real PyPI ``wslink`` package.

Implements the methods of docs/test-protocol.md (``test.*``) and the chat
example methods (``wslink.say.hello`` / ``wslink.start.talking`` /
``wslink.stop.talking``). The same file runs unchanged under wslink 2.x and 1.x;
the only difference is how binary results leave the server:

* 2.x: ``bytes`` values are encoded natively (msgpack bin);
* 1.x: ``bytes`` must be registered with ``self.addAttachment`` and the returned
  key string put in their place (the server then sends header + binary frame).

Usage::

    python test_server.py --host 127.0.0.1 --port 0 --authKey S [--timeout 0]

All of wslink's own options are accepted (``--ws-endpoint``, ``--debug``, ...).
``--timeout`` defaults to 0 here (never exit when idle), unlike wslink's 300 s.
Once listening, the server prints ``READY ws://HOST:PORT/ENDPOINT`` on its own line
to stdout (flushed); with ``--port 0`` the line carries the port actually bound.
"""

import asyncio
import os
import sys
from importlib.metadata import version as _dist_version

from wslink import register, server
from wslink.websocket import LinkProtocol, ServerProtocol

WSLINK_VERSION = _dist_version("wslink")
GENERATION = int(WSLINK_VERSION.split(".")[0])  # 1 or 2
SERVER_NAME = "python-wslink"
CHAT_TOPIC = "wslink.communication.channel"

# Where the ready line should point; filled in by TestServer.configure().
_endpoint = {"host": "localhost", "path": "ws"}


def _pattern(n):
    """n bytes where byte i is i % 256."""
    block = bytes(range(256))
    return (block * (n // 256 + 1))[:n]


class TestProtocol(LinkProtocol):
    """The ``test.*`` methods of the test protocol."""

    def _wire(self, value):
        """Make `value` sendable: on 1.x replace every bytes-like value (at any
        depth) by an attachment key; on 2.x leave it as is."""
        if GENERATION >= 2:
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self.addAttachment(bytes(value))
        if isinstance(value, list):
            return [self._wire(v) for v in value]
        if isinstance(value, dict):
            return {k: self._wire(v) for k, v in value.items()}
        return value

    @register("test.echo")
    def echo(self, x=None):
        return self._wire(x)

    @register("test.add")
    def add(self, a, b):
        return a + b

    @register("test.kwargs")
    def kwargs(self, *args, **kwargs):
        return self._wire({"args": list(args), "kwargs": kwargs})

    @register("test.fail")
    def fail(self, message="test.fail called"):
        raise ValueError(message)

    @register("test.bytes")
    def bytes_(self, n):
        return self._wire(_pattern(int(n)))

    @register("test.byte_len")
    def byte_len(self, blob):
        if not isinstance(blob, (bytes, bytearray, memoryview)):
            raise TypeError(f"expected binary, got {type(blob).__name__}")
        data = bytes(blob)
        n = len(data)
        return {
            "len": n,
            "first": data[0] if n else None,
            "last": data[-1] if n else None,
            "pattern": data == _pattern(n),
        }

    @register("test.publish")
    def publish_many(self, topic, count, size=0):
        pad = "x" * int(size)
        for i in range(int(count)):
            self.publish(topic, {"seq": i, "pad": pad})
        return count

    @register("test.publish_to")
    def publish_to(self, client, topic, count):
        for i in range(int(count)):
            self.publish(topic, {"seq": i, "pad": ""}, client_id=client)
        return count

    @register("test.sleep")
    async def sleep(self, ms):
        # asyncio.sleep yields to the loop: other connections keep being served.
        # (The Python server still handles one connection's messages in order.)
        await asyncio.sleep(ms / 1000.0)
        return ms

    @register("test.version")
    def version(self):
        return {"implementation": SERVER_NAME, "version": WSLINK_VERSION}


class ChatProtocol(LinkProtocol):
    """The seed's chat-rpc-pub-sub methods, on topic wslink.communication.channel."""

    def __init__(self):
        super().__init__()
        self._talker = None  # asyncio.Task while talking

    @register("wslink.say.hello")
    def say_hello(self, message):
        text = f"{SERVER_NAME}: {message}"
        self.publish(CHAT_TOPIC, text)
        return text

    @register("wslink.start.talking")
    def start_talking(self, period=5):
        self.stop_talking()
        self._talker = asyncio.ensure_future(self._talk(float(period)))
        return None

    @register("wslink.stop.talking")
    def stop_talking(self):
        if self._talker is not None:
            self._talker.cancel()
            self._talker = None
        return None

    async def _talk(self, period):
        n = 0
        while True:
            self.publish(CHAT_TOPIC, f"{SERVER_NAME}: talking ({n})")
            n += 1
            await asyncio.sleep(period)


class TestServer(ServerProtocol):
    """Registers the link protocols and applies --authKey (wslink does not)."""

    authKey = "wslink-secret"

    @staticmethod
    def configure(options):
        TestServer.authKey = options.authKey
        _endpoint["host"] = options.host
        _endpoint["path"] = options.ws.lstrip("/")

    def initialize(self):
        self.registerLinkProtocol(TestProtocol())
        self.registerLinkProtocol(ChatProtocol())
        self.updateSecret(TestServer.authKey)

    def port_callback(self, port):
        # Called by the aiohttp backend once the site is listening (both
        # generations), with the real port when --port 0 was given.
        line = f"READY ws://{_endpoint['host']}:{port}/{_endpoint['path']}\n"
        # Goes through fd 1 directly, like wslink 2.x's own ready text, so it is
        # never stuck in a buffer. A leading newline separates it from any
        # unterminated text already written.
        os.write(1, ("\n" + line).encode())


def main(argv):
    argv = list(argv)
    if not any(a == "--timeout" or a.startswith("--timeout=") or a == "-t" for a in argv):
        argv += ["--timeout", "0"]
    server.start(argv, TestServer, description="wslink test-protocol server")


if __name__ == "__main__":
    main(sys.argv[1:])
