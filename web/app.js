// app.js — the dispatcher dashboard's entry point: wires the header (/health,
// who is signed in, live-update mode), the Q1 alert, "take next call" and my
// calls, the open queue, the call detail with its dispatch part, the map, the
// upload form and the live-call panel together. What changed on the server
// arrives from updates.js (the event stream, or polling without one); each
// change refetches the queue and the open call, debounced.
import { fetchHealth, fetchCalls, fetchCall, fetchQueue, fetchHeld, takeNextCall, analyzeFile } from './api.js';
import { QueueView } from './queue.js';
import { DetailView } from './detail.js';
import { DispatchPanel } from './dispatch.js';
import { MapView } from './map.js';
import { LivePanel } from './live.js';
import { Session } from './session.js';
import { Q1Alerts } from './alerts.js';
import { LiveUpdates } from './updates.js';
import { seconds, clockTime, effectiveQueue, setText } from './format.js';

const HEALTH_EVERY_MS = 5000;
const DEBOUNCE_MS = 150;
const $ = (id) => document.getElementById(id);

// queue: the open calls in dispatch order; recent: the newest stored calls (the map,
// duplicate targets); held: the calls I hold (My calls); selected: the open call with its history.
const state = { queue: [], recent: [], held: [], selectedId: null, selected: null, loaded: false };

const session = new Session({ root: $('session'), name: $('me-name'), signOut: $('sign-out') }, () => {
  detail.dispatch.setMe(session.me);
  renderWork();
  scheduleRefresh(); // My calls are fetched by name
});
const queue = new QueueView($('queue-list'), $('queue-summary'), (id) => select(id));
const mine = new QueueView($('mine-list'), null, (id) => select(id));
const detail = new DetailView($('detail'), new DispatchPanel(() => scheduleRefresh(), duplicateCandidates));
const map = new MapView($('map'), $('map-note'), (id) => select(id, true));
const alerts = new Q1Alerts({ banner: $('q1-alert'), text: $('q1-alert-text'), ack: $('q1-alert-ack'), enable: $('alerts-enable') },
  (id) => select(id, true));
detail.clear();

function callLabel(call) {
  const title = call.kind === 'live' ? 'Live call' : call.filename || 'Uploaded recording';
  return `${effectiveQueue(call) || 'pending'} · ${clockTime(call.created_at)} · ${title} · ${call.id.slice(0, 8)}`;
}

// Every stored call the page knows of, the open queue first.
function knownCalls() {
  const byId = new Map(state.queue.map((c) => [c.id, c]));
  for (const c of [...state.held, ...state.recent]) if (!byId.has(c.id)) byId.set(c.id, c);
  return [...byId.values()];
}

function duplicateCandidates() {
  return knownCalls().map((c) => ({ id: c.id, label: callLabel(c) }));
}

// ---- header: /health --------------------------------------------------------
async function refreshHealth() {
  try {
    const hl = await fetchHealth();
    const m = hl.model || {};
    $('health').dataset.status = hl.status;
    setText($('health-status'), hl.status);
    setText($('health-model'), `${m.state || '?'}${m.name ? ` · ${m.name}` : ''}${m.lora ? ` + ${m.lora}` : ''}`);
    setText($('health-calls'), String(hl.total_calls ?? '—'));
    setText($('health-live'), String(hl.live_sessions ?? 0));
    setText($('health-db'), hl.database ? `${hl.database.backend || hl.database.status}` : '—');
    $('health').title = `version ${hl.version} · up ${seconds(hl.uptime_s)}` + (m.error ? ` · model error: ${m.error}` : '');
  } catch (err) {
    $('health').dataset.status = 'unreachable';
    setText($('health-status'), 'server unreachable');
  }
}

// ---- queue, my calls, detail, map --------------------------------------------
let refreshTimer = null;
let refreshing = null;
let refreshAgain = false;

// Refetches soon; changes arriving together are read once.
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, DEBOUNCE_MS);
}

async function refresh() {
  if (refreshing) { refreshAgain = true; return refreshing; }
  refreshing = (async () => {
    try {
      const id = state.selectedId;
      const me = session.dispatcher();
      const [open, recent, held, call] = await Promise.all([fetchQueue(200), fetchCalls(100),
        me ? fetchHeld(me.name) : { calls: [] },
        id ? fetchCall(id).catch((err) => (err.status === 404 ? null : Promise.reject(err))) : null]);
      state.queue = open.calls || [];
      state.recent = recent.calls || [];
      state.held = held.calls || [];
      state.loaded = true;
      setText($('queue-total'), `${open.total} open${open.overdue ? ` · ${open.overdue} overdue` : ''}`);
      $('queue-error').hidden = true;
      if (id && id === state.selectedId) state.selected = call;
      alerts.update(state.queue);
      render();
    } catch (err) {
      setText($('queue-error'), `Cannot load the queue: ${err.message}`);
      $('queue-error').hidden = false;
    }
  })();
  await refreshing;
  refreshing = null;
  if (refreshAgain) {
    refreshAgain = false;
    await refresh();
  }
}

// Calls I hold: claimed or dispatched by me, as the server lists them (however many calls are stored).
function myCalls() {
  return session.dispatcher() ? state.held : [];
}

function renderWork() {
  const calls = myCalls();
  mine.render(calls);
  $('mine-empty').hidden = calls.length > 0;
  setText($('mine-count'), calls.length ? String(calls.length) : '');
  const me = session.dispatcher();
  $('take-next').disabled = !me;
  $('take-next').title = me ? 'Claim the most urgent waiting call' : 'Only a dispatcher or a supervisor takes calls';
}

function render() {
  queue.render(state.queue);
  renderWork();
  map.render(knownCalls(), state.selectedId);
  $('queue-empty').hidden = state.queue.length > 0 || !state.loaded;
  if (state.selectedId && state.selected && state.selected.id === state.selectedId) detail.show(state.selected, session.me);
}

async function select(id, focusList = false) {
  state.selectedId = id;
  queue.select(id);
  mine.select(id);
  history.replaceState(null, '', `#${encodeURIComponent(id)}`);
  try {
    const call = await fetchCall(id);
    if (state.selectedId !== id) return;
    state.selected = call;
  } catch (err) {
    if (state.selectedId === id) {
      state.selected = null;
      detail.clear();
    }
  }
  render();
  if (focusList) {
    const btn = document.querySelector(`.queue-list button[data-id="${CSS.escape(id)}"]`);
    if (btn) btn.scrollIntoView({ block: 'nearest' });
  }
}

// Arrow keys move between calls in a list.
for (const list of [$('queue-list'), $('mine-list')]) {
  list.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
    const buttons = [...list.querySelectorAll('button.call-item')];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    ev.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, i + (ev.key === 'ArrowDown' ? 1 : -1)))].focus();
  });
}

// ---- take the next call -----------------------------------------------------------
$('take-next').addEventListener('click', async () => {
  const button = $('take-next');
  const status = $('take-next-status');
  button.disabled = true;
  status.dataset.result = '';
  try {
    const call = await takeNextCall();
    alerts.acknowledge();
    if (!call) {
      setText(status, 'No call is waiting.');
      status.dataset.result = 'none';
    } else {
      setText(status, `Yours: ${callLabel(call)}`);
      status.dataset.result = 'claimed';
      status.dataset.callId = call.id;
      await select(call.id, true);
    }
  } catch (err) {
    setText(status, `Not taken — ${err.message}`);
    status.dataset.result = 'error';
  } finally {
    renderWork();
    scheduleRefresh();
  }
});

// ---- upload -------------------------------------------------------------------
$('upload-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = $('upload-file');
  const file = input.files && input.files[0];
  const status = $('upload-status');
  const error = $('upload-error');
  const progress = $('upload-progress');
  error.hidden = true;
  if (!file) {
    setText(error, 'Choose a recording first.');
    error.hidden = false;
    return;
  }
  $('upload-submit').disabled = true;
  progress.hidden = false;
  progress.value = 0;
  setText(status, `Uploading ${file.name}…`);
  try {
    const result = await analyzeFile(file, {
      onProgress: (f) => { if (f == null) progress.removeAttribute('value'); else progress.value = f; },
      onUploaded: () => { progress.removeAttribute('value'); setText(status, `Analysing ${file.name}…`); },
    });
    progress.value = 1;
    setText(status, `${file.name}: ${result.triage ? result.triage.queue : 'analysed'} (${seconds(result.duration)})`);
    input.value = '';
    await refresh();
    if (result.call_id) select(result.call_id, true);
  } catch (err) {
    setText(status, '');
    setText(error, `Upload failed: ${err.message}`);
    error.hidden = false;
  } finally {
    $('upload-submit').disabled = false;
    progress.hidden = true;
  }
});

// ---- live call ----------------------------------------------------------------
new LivePanel({
  root: $('live'), start: $('live-start'), end: $('live-end'), status: $('live-status'),
  level: $('live-level'), levelText: $('live-level-text'), buffer: $('live-buffer'), bufferText: $('live-buffer-text'),
  speech: $('live-speech'), duration: $('live-duration'), utterances: $('live-utterances'), queue: $('live-queue'),
  confidence: $('live-confidence'), distress: $('live-distress'), transcript: $('live-transcript'), log: $('live-log'),
}, (msg) => {
  // The call's record changes on these events: refresh the queue soon (debounced).
  if (['connected', 'processing_complete', 'call_ended'].includes(msg.type)) {
    scheduleRefresh();
  }
  if (msg.type === 'connected' || msg.type === 'call_ended') setTimeout(refreshHealth, 200);
});

// ---- start --------------------------------------------------------------------
if (location.hash.length > 1) select(decodeURIComponent(location.hash.slice(1)));
refreshHealth();
setInterval(refreshHealth, HEALTH_EVERY_MS);
session.check();
refresh();
new LiveUpdates($('updates'), () => scheduleRefresh()).start();
