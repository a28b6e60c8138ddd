// The remote view page: vtk.js's RemoteView shows the frames a wslink server renders, and
// sends the mouse back to it. Everything here is the npm packages' own API; this file only
// wires them together and exposes a few counters (`window.remoteView`) for the tests.
//
// Query parameters: secret (default wslink-secret), view (default -1: the server's
// first view), w and h (a fixed view size in CSS pixels instead of the whole window),
// animate=1 (start the server's animation once connected).
import SmartConnect from 'wslink/src/SmartConnect';
import vtkRemoteView, { connectImageStream } from '@kitware/vtk.js/Rendering/Misc/RemoteView';

const params = new URLSearchParams(location.search);
const secret = params.get('secret') || 'wslink-secret';
const sessionURL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const $ = (id) => document.getElementById(id);

const container = $('view');
if (params.has('w') && params.has('h')) {
  container.classList.add('fixed');
  container.style.setProperty('--w', `${Number(params.get('w'))}px`);
  container.style.setProperty('--h', `${Number(params.get('h'))}px`);
}

// What the tests read: frames displayed, the time of the first and last one, errors.
const state = { connected: false, frames: 0, first: 0, last: 0, errors: [], session: null, view: null };
window.remoteView = state;

function setStatus(text, kind) {
  $('status').textContent = text;
  $('status').className = kind || '';
}

function report(error) {
  const text = (error && (error.message || error.data)) || String(error);
  state.errors.push(text);
  setStatus(`error: ${text}`, 'error');
}

const smartConnect = SmartConnect.newInstance({ config: { sessionURL, secret } });
smartConnect.onConnectionReady((connection) => {
  const session = connection.getSession();
  state.session = session;
  // The shared image stream subscribes to the image topic; RemoteView then registers its
  // view as an observer (viewport.image.push.observer.add) and asks for frames.
  connectImageStream(session);
  const view = vtkRemoteView.newInstance({
    rpcWheelEvent: 'viewport.mouse.zoom.wheel',
    interactiveQuality: 60,
    stillQuality: 90,
  });
  view.setSession(session);
  view.setViewId(params.get('view') || '-1');
  view.setContainer(container);
  state.view = view;
  view.getViewStream().onImageReady(() => {
    const now = performance.now();
    if (!state.frames) state.first = now;
    state.frames += 1;
    state.last = now;
  });
  window.addEventListener('resize', () => view.resize());

  let animating = false;
  const animate = (on) => {
    animating = on;
    $('animate').textContent = on ? 'Stop' : 'Animate';
    const stream = view.getViewStream();
    return (on ? stream.startAnimation() : stream.stopAnimation()).catch(report);
  };
  $('animate').addEventListener('click', () => animate(!animating));
  $('reset').addEventListener('click', () => view.getViewStream().resetCamera().then(() => view.render(), report));
  ['animate', 'reset'].forEach((id) => { $(id).disabled = false; });
  if (params.get('animate') === '1') animate(true);

  setInterval(() => {
    const fps = view.getViewStream().getFps();
    const recent = fps.slice(-10);
    const mean = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : 0;
    $('fps').textContent = `${state.frames} frames, ${mean.toFixed(1)} fps`;
  }, 500);

  state.connected = true;
  setStatus('connected', 'connected');
});
smartConnect.onConnectionError((_, error) => report(error || 'cannot connect'));
smartConnect.onConnectionClose(() => {
  state.connected = false;
  setStatus('disconnected', 'error');
});
smartConnect.connect();
