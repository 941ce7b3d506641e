// alerts.js — the Q1 alert: every call that newly waits in Q1-IMMEDIATE (a new
// upload, a live call whose triage reaches Q1, an override to Q1) raises a
// banner in the page, a flashing tab title, a short tone and, when the browser
// allows it, a desktop notification. The title keeps the number of Q1 calls
// waiting; the flashing stops when the dispatcher acknowledges the alert.
import { clockTime, effectiveQueue, setText } from './format.js';

const Q1 = 'Q1-IMMEDIATE';
const FLASH_MS = 1000;

export class Q1Alerts {
  // els: {banner, text, ack, enable}; onOpen(id) shows a call (notification or banner clicked).
  constructor(els, onOpen) {
    this.els = els;
    this.onOpen = onOpen;
    this.baseTitle = document.title;
    this.known = null;   // ids waiting in Q1 at the last look; null before the first
    this.waiting = 0;
    this.fresh = [];     // unacknowledged new Q1 calls, newest last
    this.flashTimer = null;
    this.flashOn = false;
    this.audio = null;
    this.alerts = 0;
    els.ack.addEventListener('click', () => this.acknowledge());
    els.text.addEventListener('click', () => { if (this.fresh.length) this.onOpen(this.fresh[this.fresh.length - 1].id); });
    els.enable.addEventListener('click', () => this.askPermission());
    // Browsers start audio only after a gesture in the page: prepare it on the first one.
    document.addEventListener('pointerdown', () => this.audioContext(), { once: true });
    this.showPermission();
  }

  showPermission() {
    const can = typeof Notification === 'function';
    this.els.enable.hidden = !can || Notification.permission !== 'default';
  }

  async askPermission() {
    if (typeof Notification !== 'function') return;
    try { await Notification.requestPermission(); } catch { /* refused or unsupported */ }
    this.showPermission();
  }

  // calls: the open queue as the server answered it.
  update(calls) {
    const waitingQ1 = calls.filter((c) => c.dispatch && c.dispatch.state === 'waiting' && effectiveQueue(c) === Q1);
    const ids = new Set(waitingQ1.map((c) => c.id));
    const first = this.known === null;
    const added = first ? [] : waitingQ1.filter((c) => !this.known.has(c.id));
    this.known = ids;
    this.waiting = ids.size;
    // An alert is over once its calls no longer wait.
    this.fresh = this.fresh.filter((c) => ids.has(c.id));
    if (added.length) {
      this.fresh.push(...added);
      this.alerts += added.length;
      this.els.banner.dataset.alerts = String(this.alerts);
      this.ring(added);
    }
    this.render();
  }

  ring(added) {
    this.beep();
    if (typeof Notification === 'function' && Notification.permission === 'granted') {
      for (const call of added) {
        try {
          const n = new Notification('New Q1-IMMEDIATE call', {
            body: `${call.kind === 'live' ? 'Live call' : call.filename || 'Uploaded recording'} · ${clockTime(call.created_at)}`,
            tag: `trident-q1-${call.id}`,
          });
          n.addEventListener('click', () => { window.focus(); this.onOpen(call.id); n.close(); });
        } catch { /* the page's own banner and title still show it */ }
      }
    }
  }

  audioContext() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!this.audio && Ctx) {
      try { this.audio = new Ctx(); } catch { this.audio = null; }
    }
    return this.audio;
  }

  // Two short high tones.
  beep() {
    const ctx = this.audio;
    if (!ctx || ctx.state !== 'running') return;
    for (const [at, freq] of [[0, 880], [0.25, 1175]]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, ctx.currentTime + at);
      gain.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + at + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + at);
      osc.stop(ctx.currentTime + at + 0.22);
    }
  }

  acknowledge() {
    this.fresh = [];
    this.render();
  }

  render() {
    const n = this.fresh.length;
    this.els.banner.hidden = n === 0;
    if (n) {
      const last = this.fresh[n - 1];
      setText(this.els.text, n === 1
        ? `New Q1-IMMEDIATE call at ${clockTime(last.created_at)} — show it`
        : `${n} new Q1-IMMEDIATE calls — show the latest (${clockTime(last.created_at)})`);
    }
    if (n && !this.flashTimer) {
      this.flashTimer = setInterval(() => { this.flashOn = !this.flashOn; this.title(); }, FLASH_MS);
      this.flashOn = true;
    } else if (!n && this.flashTimer) {
      clearInterval(this.flashTimer);
      this.flashTimer = null;
      this.flashOn = false;
    }
    this.title();
  }

  title() {
    const count = this.waiting ? `(${this.waiting} Q1) ` : '';
    const t = this.flashOn ? `⚠ NEW Q1 CALL — ${count}${this.baseTitle}` : `${count}${this.baseTitle}`;
    if (document.title !== t) document.title = t;
  }
}
