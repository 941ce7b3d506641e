// queue.js — a list of calls in the order given (the open queue as the server
// orders it: Q1-IMMEDIATE first, then the longest waiting; or "my calls"), with
// each call's dispatch state: who holds it, overdue. The list is updated in
// place, keyed by call id, so a refresh changes only what changed (no flicker,
// focus and scroll position kept).
import { QUEUES, queueInfo, effectiveQueue, pct, clockTime, ago, h, setText } from './format.js';

export function callTitle(call) {
  if (call.kind === 'live') return call.status === 'in_progress' ? 'Live call (on the line)' : 'Live call';
  return call.filename || 'Uploaded recording';
}

function snippet(text) {
  const t = (text || '').trim();
  if (!t) return 'No transcript';
  return t.length > 90 ? `${t.slice(0, 90)}…` : t;
}

export class QueueView {
  // summaryEl (calls per queue) may be null.
  constructor(listEl, summaryEl, onSelect) {
    this.list = listEl;
    this.summary = summaryEl;
    this.onSelect = onSelect;
    this.items = new Map(); // id → {li, parts}
    this.selectedId = null;
  }

  build(call) {
    const parts = {};
    parts.badge = h('span', { class: 'qbadge' });
    parts.title = h('span', { class: 'call-title' });
    parts.time = h('time', { class: 'call-time' });
    parts.flags = h('span', { class: 'flags' });
    parts.metrics = h('span', { class: 'call-metrics' });
    parts.snippet = h('span', { class: 'call-snippet' });
    parts.button = h('button', {
      type: 'button', class: 'call-item', dataset: { id: call.id },
      onclick: () => this.onSelect(call.id),
    },
    h('span', { class: 'call-row' }, parts.badge, parts.time),
    parts.flags,
    h('span', { class: 'call-row' }, parts.title, parts.metrics),
    parts.snippet);
    const li = h('li', { class: 'call', dataset: { id: call.id } }, parts.button);
    return { li, parts, key: '' };
  }

  update(item, call, now) {
    const queue = effectiveQueue(call);
    const q = queueInfo(queue);
    const d = call.dispatch || {};
    const review = !!(call.flag_audio_review || (call.flags && call.flags.audio_review));
    const escalate = !!(call.escalation_required || (call.flags && call.flags.escalation_required));
    const key = JSON.stringify([queue, call.status, call.updated_at, review, escalate, call.id === this.selectedId,
      d.state, d.claimed_by, d.overdue]);
    setText(item.parts.time, ago(call.created_at, now));
    item.parts.time.title = `received ${clockTime(call.created_at)}`;
    if (item.key === key) return;
    item.key = key;
    item.li.className = `call ${q.cls}${call.id === this.selectedId ? ' selected' : ''}${d.overdue ? ' overdue' : ''}`;
    item.li.dataset.state = d.state || '';
    item.parts.button.setAttribute('aria-current', call.id === this.selectedId ? 'true' : 'false');
    setText(item.parts.badge, queue || (call.status === 'abandoned' ? 'NO SPEECH' : 'PENDING'));
    item.parts.badge.className = `qbadge ${q.cls}`;
    item.parts.time.setAttribute('datetime', call.created_at || '');
    setText(item.parts.title, callTitle(call));
    item.parts.flags.replaceChildren(...[
      d.overdue ? h('span', { class: 'chip overdue' }, 'OVERDUE') : null,
      d.state && d.state !== 'waiting' ? h('span', { class: `chip state-${d.state}` },
        `${d.state.toUpperCase()}${d.claimed_by ? ` · ${d.claimed_by}` : ''}`) : null,
      d.queue_override ? h('span', { class: 'chip muted' }, 'OVERRIDE') : null,
      call.status === 'in_progress' ? h('span', { class: 'chip live' }, 'LIVE') : null,
      escalate ? h('span', { class: 'chip escalate' }, '▲ ESCALATE') : null,
      review ? h('span', { class: 'chip review' }, '◉ AUDIO REVIEW') : null,
      !['completed', 'in_progress'].includes(call.status) ? h('span', { class: 'chip muted' }, call.status.toUpperCase()) : null,
    ].filter(Boolean));
    setText(item.parts.metrics, `D ${pct(call.distress_score)} · C ${pct(call.confidence)}`);
    item.parts.metrics.title = `distress ${pct(call.distress_score)}, ASR confidence ${pct(call.confidence)}`;
    setText(item.parts.snippet, snippet(call.transcript));
    const label = [queue || 'pending', callTitle(call), d.overdue ? 'overdue' : '',
      d.state && d.state !== 'waiting' ? `${d.state}${d.claimed_by ? ` by ${d.claimed_by}` : ''}` : '',
      review ? 'audio review' : '', escalate ? 'escalation required' : '',
      `distress ${pct(call.distress_score)}`, `received ${clockTime(call.created_at)}`].filter(Boolean).join(', ');
    item.parts.button.setAttribute('aria-label', label);
  }

  render(calls) {
    const now = Date.now();
    const seen = new Set();
    let previous = null;
    for (const call of calls) {
      seen.add(call.id);
      let item = this.items.get(call.id);
      if (!item) {
        item = this.build(call);
        this.items.set(call.id, item);
      }
      this.update(item, call, now);
      // Move only when out of place.
      const expected = previous ? previous.nextSibling : this.list.firstChild;
      if (expected !== item.li) this.list.insertBefore(item.li, expected);
      previous = item.li;
    }
    for (const [id, item] of this.items) {
      if (!seen.has(id)) {
        item.li.remove();
        this.items.delete(id);
      }
    }
    if (this.summary) this.renderSummary(calls);
  }

  renderSummary(calls) {
    const counts = new Map(Object.keys(QUEUES).map((q) => [q, 0]));
    for (const c of calls) {
      const q = effectiveQueue(c);
      if (counts.has(q)) counts.set(q, counts.get(q) + 1);
    }
    const key = JSON.stringify([...counts]);
    if (this.summary.dataset.key === key) return;
    this.summary.dataset.key = key;
    this.summary.replaceChildren(...[...counts].map(([q, n]) =>
      h('li', { class: `qcount ${queueInfo(q).cls}`, title: `${q}: ${n}` },
        h('span', { class: 'qcount-label' }, queueInfo(q).short), h('span', { class: 'qcount-label' }, queueInfo(q).label),
        h('strong', {}, n))));
  }

  select(id) {
    this.selectedId = id;
    for (const item of this.items.values()) item.key = ''; // re-mark the selection on next render
  }
}
