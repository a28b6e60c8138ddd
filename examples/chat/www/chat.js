// The chat page: connects with the npm wslink client (loaded as the global `wslink`),
// subscribes to the chat topic and calls the chat methods.
(function () {
  'use strict';
  const TOPIC = 'wslink.communication.channel';
  const params = new URLSearchParams(location.search);
  const secret = params.get('secret') || 'wslink-secret';
  const sessionURL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const api = window.wslink.SmartConnect ? window.wslink : window.wslink.default;
  const generation = params.get('gen') === '1' ? '1.x' : '2.x';

  const $ = (id) => document.getElementById(id);
  $('generation').textContent = `(npm wslink ${generation})`;
  const controls = ['message', 'send', 'start', 'stop'].map($);
  let session = null;

  function setStatus(text, kind) {
    $('status').textContent = text;
    $('status').className = kind || '';
  }

  function show(line) {
    const item = document.createElement('li');
    item.textContent = typeof line === 'string' ? line : JSON.stringify(line);
    $('log').appendChild(item);
  }

  function report(error) {
    setStatus(`error: ${error && (error.message || error.data) || error}`, 'error');
  }

  // With ?launcher, ask the launcher serving this page for a session of its own (it starts
  // a chat server for this page and answers with its sessionURL and secret).
  const config = params.has('launcher')
    ? { sessionManagerURL: `${location.origin}/launcher/`, application: 'chat' }
    : { sessionURL, secret };
  const smartConnect = api.SmartConnect.newInstance({ config });
  smartConnect.onConnectionReady((connection) => {
    session = connection.getSession();
    // The client calls subscribers with the publication wrapped in an array.
    session.subscribe(TOPIC, ([line]) => show(line));
    controls.forEach((c) => { c.disabled = false; });
    setStatus('connected', 'connected');
  });
  smartConnect.onConnectionError((_, error) => report(error || 'cannot connect'));
  smartConnect.onConnectionClose(() => {
    controls.forEach((c) => { c.disabled = true; });
    setStatus('disconnected', 'error');
  });
  smartConnect.connect();

  $('say').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('message').value.trim();
    if (!text || !session) return;
    session.call('wslink.say.hello', [text]).then(() => { $('message').value = ''; }, report);
  });
  $('start').addEventListener('click', () => session && session.call('wslink.start.talking', [2]).catch(report));
  $('stop').addEventListener('click', () => session && session.call('wslink.stop.talking', []).catch(report));
})();
