// live.js — the live-call panel: streams the microphone (capture.js) to
// WS /ws/live as binary float32 16-kHz chunks, sends {"type":"end"} to hang up,
// and shows the server's events as they arrive (connected, buffer_update,
// processing_started, processing_complete, error, call_ended).
import { liveSocketUrl } from './api.js';
import { MicCapture, float32le } from './capture.js';
import { queueInfo, pct, seconds, clockTime, h, setText } from './format.js';

const MAX_LOG = 12;
const END_WAIT_MS = 30000; // bounded wait for call_ended after hanging up

export class LivePanel {
  // els: {start, end, status, level, levelText, buffer, speech, duration, utterances,
  //       queue, confidence, distress, transcript, log}; onChange(event) after each server event.
  constructor(els, onChange) {
    this.els = els;
    this.onChange = onChange;
    this.ws = null;
    this.mic = null;
    this.callId = null;
    this.state = 'idle';
    els.start.addEventListener('click', () => this.start());
    els.end.addEventListener('click', () => this.hangUp());
    this.setState('idle', 'Idle: press “Start live call” to stream the microphone.');
  }

  setState(state, message) {
    this.state = state;
    this.els.start.disabled = state !== 'idle';
    this.els.end.disabled = state !== 'live';
    this.els.root.dataset.state = state;
    if (message) setText(this.els.status, message);
  }

  log(text, cls) {
    const li = h('li', { class: cls || null }, h('time', {}, clockTime(new Date().toISOString())), ' ', text);
    this.els.log.prepend(li);
    while (this.els.log.childElementCount > MAX_LOG) this.els.log.lastElementChild.remove();
  }

  resetReadouts() {
    const e = this.els;
    e.level.value = 0;
    setText(e.levelText, '—');
    e.buffer.value = 0;
    setText(e.bufferText, '—');
    setText(e.speech, '—');
    setText(e.duration, '0.0 s');
    setText(e.utterances, '0');
    setText(e.queue, '—');
    e.queue.className = 'qbadge qnone';
    setText(e.confidence, '—');
    setText(e.distress, '—');
    setText(e.transcript, '');
    e.log.replaceChildren();
  }

  async start() {
    if (this.state !== 'idle') return;
    this.resetReadouts();
    for (const k of ['ended', 'updates', 'callId']) delete this.els.root.dataset[k];
    this.setState('connecting', 'Opening the microphone…');
    this.mic = new MicCapture((chunk, level) => this.sendChunk(chunk, level));
    try {
      const rate = await this.mic.start();
      this.log(`microphone open (${rate} Hz → 16000 Hz mono)`);
    } catch (err) {
      await this.stopMic();
      this.setState('idle', `Cannot start: ${err.message}`);
      this.log(err.message, 'error');
      return;
    }
    this.setState('connecting', 'Connecting to the server…');
    const ws = new WebSocket(liveSocketUrl());
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.addEventListener('message', (ev) => this.onMessage(ev));
    ws.addEventListener('close', () => this.onClose(ws));
    ws.addEventListener('error', () => this.log('connection error', 'error'));
  }

  sendChunk(chunk, level) {
    const db = level > 0 ? 20 * Math.log10(level) : -100;
    this.els.level.value = Math.max(0, Math.min(1, (db + 60) / 60));
    setText(this.els.levelText, `${Math.max(-60, db).toFixed(0)} dBFS`);
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.state === 'live') this.ws.send(float32le(chunk));
  }

  onMessage(ev) {
    if (typeof ev.data !== 'string') return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch { this.log('unreadable server message', 'error'); return; }
    const e = this.els;
    switch (msg.type) {
    case 'connected':
      this.callId = msg.call_id;
      e.root.dataset.callId = msg.call_id || '';
      this.setState('live', 'On the line: speak into the microphone. The server cuts an utterance after a pause.');
      this.log(`connected: call ${String(msg.call_id).slice(0, 8)} (max ${seconds(msg.max_call_s)})`);
      break;
    case 'buffer_update':
      setText(e.duration, seconds(msg.call_duration));
      setText(e.utterances, String(msg.utterances ?? 0));
      e.buffer.value = Math.min(30, msg.buffer_duration || 0);
      setText(e.bufferText, seconds(msg.buffer_duration));
      setText(e.speech, msg.in_speech ? 'speech' : 'silence');
      e.speech.className = msg.in_speech ? 'speech on' : 'speech';
      break;
    case 'processing_started':
      this.log(`utterance ${msg.utterance_index + 1}: ${seconds(msg.duration)} sent for analysis`);
      break;
    case 'processing_complete': {
      const q = (msg.triage && msg.triage.queue) || '—';
      setText(e.queue, q);
      e.queue.className = `qbadge ${queueInfo(q).cls}`;
      setText(e.confidence, pct(msg.confidence));
      setText(e.distress, pct(msg.distress));
      setText(e.transcript, msg.transcript || '(no words recognised)');
      if (Number.isFinite(msg.call_duration)) setText(e.duration, seconds(msg.call_duration));
      e.root.dataset.updates = String(Number(e.root.dataset.updates || 0) + 1);
      this.log(`analysis: ${q}, confidence ${pct(msg.confidence)}, distress ${pct(msg.distress)}`, 'complete');
      break;
    }
    case 'error':
      this.log(`server: ${msg.message}`, 'error');
      break;
    case 'call_ended': {
      const fa = msg.final_analysis || {};
      const q = (fa.triage && fa.triage.queue) || e.queue.textContent;
      this.log(`call ended: ${seconds(msg.call_duration)}, ${msg.utterance_count} utterance(s), ${q}`, 'complete');
      setText(e.duration, seconds(msg.call_duration));
      setText(e.utterances, String(msg.utterance_count ?? 0));
      e.root.dataset.ended = msg.call_id || '';
      this.setState('ending', `Call ended and stored (${q}).`);
      if (this.ws) this.ws.close(1000, 'call ended');
      break;
    }
    default:
      break;
    }
    if (this.onChange) this.onChange(msg);
  }

  async hangUp() {
    if (this.state !== 'live') return;
    if (this.mic) this.mic.flush(); // the last partial chunk goes out before the end message
    this.setState('ending', 'Hanging up: waiting for the last utterance’s analysis…');
    await this.stopMic();
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: 'end' }));
      this.log('hung up');
      this.endTimer = setTimeout(() => { if (this.ws === ws) ws.close(); }, END_WAIT_MS);
    }
  }

  async onClose(ws) {
    if (this.ws !== ws) return;
    clearTimeout(this.endTimer);
    this.ws = null;
    await this.stopMic();
    const ended = this.els.root.dataset.ended;
    this.setState('idle', ended ? this.els.status.textContent : 'Disconnected.');
    if (!ended) this.log('connection closed', 'error');
  }

  async stopMic() {
    const mic = this.mic;
    this.mic = null;
    if (mic) {
      try { await mic.stop(); } catch { /* already stopped */ }
    }
    this.els.level.value = 0;
  }
}
