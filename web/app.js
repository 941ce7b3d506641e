// app.js — the dispatcher dashboard's entry point: wires the header (/health),
// the priority queue, the call detail, the map, the upload form and the live-call
// panel together, and refreshes the queue every 2 s and on live-call events.
import { fetchHealth, fetchCalls, fetchCall, analyzeFile } from './api.js';
import { QueueView } from './queue.js';
import { DetailView } from './detail.js';
import { MapView } from './map.js';
import { LivePanel } from './live.js';
import { seconds, setText } from './format.js';

const CALLS_EVERY_MS = 2000;
const HEALTH_EVERY_MS = 5000;
const $ = (id) => document.getElementById(id);

const state = { calls: [], selectedId: null, loaded: false };

const queue = new QueueView($('queue-list'), $('queue-summary'), (id) => select(id));
const detail = new DetailView($('detail'));
const map = new MapView($('map'), $('map-note'), (id) => select(id, true));
detail.clear();

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

// ---- queue, detail, map -------------------------------------------------------
let callsTimer = null;
let callsBusy = false;

async function refreshCalls() {
  clearTimeout(callsTimer);
  if (callsBusy) { callsTimer = setTimeout(refreshCalls, 200); return; }
  callsBusy = true;
  try {
    // The newest calls, plus every recent Q1-IMMEDIATE call even when older ones fill the page.
    const [page, urgent] = await Promise.all([fetchCalls(100), fetchCalls(50, 'Q1-IMMEDIATE')]);
    const byId = new Map((page.calls || []).map((c) => [c.id, c]));
    for (const c of urgent.calls || []) if (!byId.has(c.id)) byId.set(c.id, c);
    state.calls = [...byId.values()];
    state.loaded = true;
    setText($('queue-total'), `${page.total} stored`);
    $('queue-error').hidden = true;
    render();
  } catch (err) {
    setText($('queue-error'), `Cannot load calls: ${err.message}`);
    $('queue-error').hidden = false;
  } finally {
    callsBusy = false;
    callsTimer = setTimeout(refreshCalls, CALLS_EVERY_MS);
  }
}

function render() {
  queue.render(state.calls);
  map.render(state.calls, state.selectedId);
  $('queue-empty').hidden = state.calls.length > 0 || !state.loaded;
  if (state.selectedId) {
    const call = state.calls.find((c) => c.id === state.selectedId);
    if (call) detail.show(call);
  }
}

async function select(id, focusList = false) {
  state.selectedId = id;
  queue.select(id);
  history.replaceState(null, '', `#${encodeURIComponent(id)}`);
  render();
  if (!state.calls.some((c) => c.id === id)) {
    try { detail.show(await fetchCall(id)); } catch (err) { detail.clear(); }
  }
  if (focusList) {
    const btn = $('queue-list').querySelector(`button[data-id="${CSS.escape(id)}"]`);
    if (btn) btn.scrollIntoView({ block: 'nearest' });
  }
}

// Arrow keys move between calls in the queue.
$('queue-list').addEventListener('keydown', (ev) => {
  if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
  const buttons = [...$('queue-list').querySelectorAll('button.call-item')];
  const i = buttons.indexOf(document.activeElement);
  if (i < 0) return;
  ev.preventDefault();
  const next = buttons[Math.max(0, Math.min(buttons.length - 1, i + (ev.key === 'ArrowDown' ? 1 : -1)))];
  next.focus();
});

$('queue-order').addEventListener('change', (ev) => {
  queue.oldestFirst = ev.target.value === 'oldest';
  render();
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
    await refreshCalls();
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
let liveRefresh = null;
new LivePanel({
  root: $('live'), start: $('live-start'), end: $('live-end'), status: $('live-status'),
  level: $('live-level'), levelText: $('live-level-text'), buffer: $('live-buffer'), bufferText: $('live-buffer-text'),
  speech: $('live-speech'), duration: $('live-duration'), utterances: $('live-utterances'), queue: $('live-queue'),
  confidence: $('live-confidence'), distress: $('live-distress'), transcript: $('live-transcript'), log: $('live-log'),
}, (msg) => {
  // The call's record changes on these events: refresh the queue soon (debounced).
  if (['connected', 'processing_complete', 'call_ended'].includes(msg.type)) {
    clearTimeout(liveRefresh);
    liveRefresh = setTimeout(refreshCalls, 100);
  }
  if (msg.type === 'connected' || msg.type === 'call_ended') setTimeout(refreshHealth, 200);
});

// ---- start --------------------------------------------------------------------
if (location.hash.length > 1) state.selectedId = decodeURIComponent(location.hash.slice(1));
if (state.selectedId) select(state.selectedId);
refreshHealth();
setInterval(refreshHealth, HEALTH_EVERY_MS);
refreshCalls();
