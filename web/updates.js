// updates.js — how the dashboard learns that calls changed: the server's event
// stream (GET /api/events, Server-Sent Events, `event: call` with
// {"id", "change", "state", "queue", ...}) when the server lists it among its
// endpoints (GET /; asking first keeps a 404 out of the console), else polling.
// onChange(event) is called with the event's data, or with null for a poll;
// the caller refetches what it shows. While the stream is open a slow poll
// still runs (time-based flags such as overdue change without an event).
import { EVENTS_URL, fetchInfo } from './api.js';
import { setText } from './format.js';

const POLL_MS = 2000;         // without the stream
const BACKSTOP_MS = 5000;     // with the stream
const RECHECK_MS = 30000;     // a server without /api/events may be replaced by one with it

export class LiveUpdates {
  // indicator: an element whose data-mode ("events" | "polling") and text say which is in use.
  constructor(indicator, onChange) {
    this.indicator = indicator;
    this.onChange = onChange;
    this.source = null;
    this.pollTimer = null;
    this.retryTimer = null;
    this.mode = null;
  }

  start() {
    this.setMode('polling');
    this.findStream();
  }

  async findStream() {
    clearTimeout(this.retryTimer);
    let listed = false;
    try {
      const info = await fetchInfo();
      listed = (info.endpoints || []).some((e) => String(e).includes(EVENTS_URL));
    } catch { /* unreachable now: poll, ask again later */ }
    if (listed && typeof EventSource === 'function') this.openStream();
    else this.retryTimer = setTimeout(() => this.findStream(), RECHECK_MS);
  }

  setMode(mode) {
    if (this.mode === mode) return;
    this.mode = mode;
    this.indicator.dataset.mode = mode;
    setText(this.indicator, mode === 'events' ? 'Live updates' : 'Polling');
    this.indicator.title = mode === 'events'
      ? 'Changes arrive from the server as they happen (GET /api/events)'
      : `The server sends no change events: the queue is read every ${POLL_MS / 1000} s`;
    this.schedulePoll();
  }

  schedulePoll() {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => {
      this.onChange(null);
      this.schedulePoll();
    }, this.mode === 'events' ? BACKSTOP_MS : POLL_MS);
  }

  openStream() {
    const source = new EventSource(EVENTS_URL);
    this.source = source;
    source.addEventListener('open', () => {
      this.setMode('events');
      this.onChange(null); // catch up on what changed while the stream was down
    });
    source.addEventListener('call', (ev) => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch { return; }
      if (data && typeof data === 'object') this.onChange(data);
    });
    source.addEventListener('error', () => {
      this.setMode('polling');
      // CONNECTING: the browser reconnects by itself (the stream's retry:).
      // CLOSED: the stream was refused (404, not an event stream); look again later.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.source = null;
        this.retryTimer = setTimeout(() => this.findStream(), RECHECK_MS);
      }
    });
  }
}
