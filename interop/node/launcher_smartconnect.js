'use strict';
// The real npm wslink 2.x SmartConnect, given only a launcher URL, against any
// launcher: it POSTs its config to the launcher (ProcessLauncher), takes the
// session's sessionURL and secret from the answer, connects and calls test.add.
//
//   node launcher_smartconnect.js --launcher http://127.0.0.1:P/launcher/ \
//        --application NAME [--token T] [--expect-error TEXT] [--timeout MS]
//
// Prints one JSON line: {"ok": true, "sum": 3, "sessionURL": ..., "id": ...} and
// exits 0; with --expect-error, succeeds only if SmartConnect reports a connection
// error whose message contains TEXT (the launcher's JSON `error`).
//
// Node has no XMLHttpRequest; ProcessLauncher needs one, so a small one is built
// on fetch() below (only what ProcessLauncher uses: open, setRequestHeader,
// responseType "json", send, onload/onerror, status, response).

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const launcherURL = option('launcher');
const application = option('application');
const token = option('token');
const expectError = option('expect-error');
const timeoutMs = Number(option('timeout', '30000'));
if (!launcherURL || !application) {
  console.error('usage: launcher_smartconnect.js --launcher URL --application NAME [--token T] [--expect-error TEXT]');
  process.exit(2);
}

// The page: served from 127.0.0.1, so USE_HOSTNAME in a sessionURL becomes an
// address the sessions really listen on (Node may resolve "localhost" to ::1).
globalThis.self = globalThis;
globalThis.window = globalThis;
globalThis.window.location = {
  protocol: 'http:', hostname: '127.0.0.1', host: '127.0.0.1', port: '',
  pathname: '/', href: 'http://127.0.0.1/',
};
globalThis.document = { baseURI: 'http://127.0.0.1/' };

class FetchXMLHttpRequest {
  constructor() {
    this.status = 0;
    this.response = null;
    this.responseText = '';
    this.responseType = '';
    this.onload = null;
    this.onerror = null;
    this._headers = {};
  }

  open(method, url) {
    this._method = method;
    this._url = url;
  }

  setRequestHeader(name, value) {
    this._headers[name] = value;
  }

  send(body) {
    fetch(this._url, { method: this._method, headers: this._headers, body })
      .then(async (res) => {
        this.status = res.status;
        this.responseText = await res.text();
        if (this.responseType === 'json') {
          try { this.response = JSON.parse(this.responseText); } catch (_) { this.response = null; }
        } else {
          this.response = this.responseText;
        }
        if (this.onload) this.onload({ target: this });
      })
      .catch((err) => {
        this.error = err;
        if (this.onerror) this.onerror({ target: this });
      });
  }
}
globalThis.XMLHttpRequest = FetchXMLHttpRequest;

const { loadWslink, withTimeout, terminateAll } = require('./lib/client');

function finish(code, line) {
  console.log(JSON.stringify(line));
  terminateAll();
  process.exit(code);
}

async function main() {
  const { SmartConnect } = loadWslink(2);
  const config = { sessionManagerURL: launcherURL, application };
  if (token) config.headers = { Authorization: `Bearer ${token}` };
  const smartConnect = SmartConnect.newInstance({ config });

  const outcome = new Promise((resolve) => {
    smartConnect.onConnectionReady((connection) => resolve({ connection }));
    smartConnect.onConnectionError((_data, err) => resolve({ error: err }));
  });
  smartConnect.connect();
  const result = await withTimeout(outcome, timeoutMs, 'SmartConnect');

  if (expectError !== undefined) {
    const message = result.error && (result.error.message || String(result.error));
    if (message && message.includes(expectError)) {
      finish(0, { ok: true, error: message });
    }
    finish(1, { ok: false, expected: expectError, got: message || 'a connection' });
  }
  if (result.error) {
    finish(1, { ok: false, error: String(result.error && (result.error.message || result.error)) });
  }
  const session = result.connection.getSession();
  const sum = await withTimeout(session.call('test.add', [1, 2]), 10000, 'test.add');
  const cfg = smartConnect.getConfig ? smartConnect.getConfig() : {};
  session.close();
  finish(sum === 3 ? 0 : 1, {
    ok: sum === 3, sum, sessionURL: cfg.sessionURL, id: cfg.id,
  });
}

main().catch((err) => finish(1, { ok: false, error: String((err && err.stack) || err) }));
