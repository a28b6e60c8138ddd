'use strict';
// Loads the real npm wslink client (1.x as "wslink1", 2.x as "wslink2") inside
// Node and connects it to a server, the way a web page would.
//
// The package's entry point is a browser (UMD) bundle. In Node it needs a few
// browser globals before it is required: `self`, `window.location`,
// `document.baseURI` (2.x reads it at load time) and a global `WebSocket`, for
// which the npm `ws` package stands in (8.18+ understands binaryType "blob").

const WS = require('ws');

// A browser WebSocket has no receive limit worth speaking of; ws defaults to
// 100 MiB. Allow up to 1 GiB so big test payloads are not cut by the harness.
// ws offers permessage-deflate by default (`perMessageDeflate: true`), as browsers do;
// what the server agreed to is kept for `agreedExtensions()`.
const sockets = new Set(); // every socket not yet closed, for terminateAll()
const agreed = []; // the `extensions` of every socket that opened, in order
class NodeWebSocket extends WS {
  constructor(url, protocols) {
    super(url, protocols, { maxPayload: 1024 * 1024 * 1024 });
    sockets.add(this);
    this.on('open', () => agreed.push(this.extensions));
    this.on('close', () => sockets.delete(this));
  }
}

/** The `Sec-WebSocket-Extensions` the server agreed to, for every socket opened so far. */
function agreedExtensions() {
  return agreed.slice();
}

/** Drops every socket still open (a leaked one would keep Node from exiting). */
function terminateAll() {
  const n = sockets.size;
  for (const ws of sockets) ws.terminate();
  sockets.clear();
  return n;
}

function installGlobals() {
  const g = globalThis;
  if (g.__wslinkInteropGlobals) return;
  g.__wslinkInteropGlobals = true;
  if (typeof g.self === 'undefined') g.self = g;
  if (typeof g.window === 'undefined') g.window = g;
  if (!g.window.location) {
    g.window.location = {
      protocol: 'http:', hostname: 'localhost', host: 'localhost',
      port: '', pathname: '/', href: 'http://localhost/',
    };
  }
  if (typeof g.document === 'undefined') g.document = { baseURI: 'http://localhost/' };
  // Always ours: Node 20's experimental WebSocket (if enabled) mishandles
  // compressed messages over 4 MiB.
  g.WebSocket = NodeWebSocket;
}

const modules = {};
/** The wslink module object ({SmartConnect, WebsocketConnection, ...}) of a generation. */
function loadWslink(gen) {
  gen = Number(gen);
  if (gen !== 1 && gen !== 2) throw new Error(`unknown wslink generation ${gen}`);
  if (!modules[gen]) {
    installGlobals();
    const m = require(gen === 1 ? 'wslink1' : 'wslink2');
    modules[gen] = m.default && m.default.SmartConnect ? m.default : m;
  }
  return modules[gen];
}

/** The version string of the npm package used for a generation. */
function wslinkVersion(gen) {
  return require(`${Number(gen) === 1 ? 'wslink1' : 'wslink2'}/package.json`).version;
}

/**
 * Connects with SmartConnect and resolves once the hello handshake succeeded.
 * Resolves to {gen, session, connection, smartConnect, closed, close()}:
 *  - `closed` is a promise resolving with the close event when the socket closes;
 *  - `close()` leaves quietly with session.close() (never destroy(), which asks
 *    the server to exit via application.exit.later) and waits for the close.
 * Rejects with the error given by the client (e.g. {code: -32000, message:
 * "Authentication failed"}) or with a timeout Error.
 */
function connect({ url, secret = 'wslink-secret', gen = 2, timeoutMs = 10000 }) {
  const { SmartConnect } = loadWslink(gen);
  const smartConnect = SmartConnect.newInstance({ config: { sessionURL: url, secret } });
  let onClosed;
  const closed = new Promise((resolve) => { onClosed = resolve; });
  smartConnect.onConnectionClose((_conn, event) => onClosed(event));

  // A failed attempt must not leave its socket open (it would keep Node alive).
  const abandon = () => {
    try { const s = smartConnect.getSession(); if (s) s.close(); } catch (_) { /* ignore */ }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      abandon();
      reject(new Error(`connect to ${url} timed out after ${timeoutMs} ms (no hello reply)`));
    }, timeoutMs);
    smartConnect.onConnectionReady((connection) => {
      clearTimeout(timer);
      const session = connection.getSession();
      resolve({
        gen: Number(gen),
        session,
        connection,
        smartConnect,
        closed,
        close: (ms = 5000) => {
          session.close();
          return withTimeout(closed, ms, 'close');
        },
      });
    });
    smartConnect.onConnectionError((_conn, err) => {
      clearTimeout(timer);
      abandon();
      reject(err instanceof Error || (err && err.code !== undefined) ? err
        : new Error(`connection error: ${(err && err.message) || (err && err.type) || err}`));
    });
    smartConnect.connect();
  });
}

/** Rejects when `promise` has not settled within `ms` milliseconds. */
function withTimeout(promise, ms, what = 'operation') {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

// --- binary helpers -----------------------------------------------------------

/** true for every binary shape a client may hand back (Blob, Buffer, views, ArrayBuffer). */
function isBinary(v) {
  return (typeof Blob !== 'undefined' && v instanceof Blob) ||
    v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

/** One binary value as a Buffer (2.x gives Uint8Array, 1.x gives Blob). */
async function toBuffer(v) {
  if (typeof Blob !== 'undefined' && v instanceof Blob) return Buffer.from(await v.arrayBuffer());
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new TypeError(`not binary: ${Object.prototype.toString.call(v)}`);
}

/** Deep copy of a result with every binary value turned into a Buffer. */
async function normalize(v) {
  if (isBinary(v)) return toBuffer(v);
  if (Array.isArray(v)) return Promise.all(v.map(normalize));
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = await normalize(x);
    return out;
  }
  return v;
}

/** Binary argument for a call: 1.x needs addAttachment (returns a key), 2.x takes the bytes. */
function attach(session, bytes) {
  return session.addAttachment(bytes);
}

/** n bytes where byte i is i % 256. */
function pattern(n) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 1) b[i] = i & 0xff;
  return b;
}

module.exports = {
  loadWslink, wslinkVersion, connect, withTimeout,
  isBinary, toBuffer, normalize, attach, pattern, NodeWebSocket, terminateAll, agreedExtensions,
};
