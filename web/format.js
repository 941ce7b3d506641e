// format.js — queue metadata, number and time formatting, and a small DOM builder
// (text is always set as text, never parsed as HTML).

// The triage queues in dispatch order (DESIGN.md: Q1-IMMEDIATE … Q5-ROUTINE).
export const QUEUES = {
  'Q1-IMMEDIATE': { rank: 1, cls: 'q1', short: 'Q1', label: 'Immediate' },
  'Q2-ELEVATED': { rank: 2, cls: 'q2', short: 'Q2', label: 'Elevated' },
  'Q3-MONITOR': { rank: 3, cls: 'q3', short: 'Q3', label: 'Monitor' },
  'Q5-REVIEW': { rank: 5, cls: 'q5r', short: 'Q5', label: 'Review' },
  'Q5-ROUTINE': { rank: 6, cls: 'q5', short: 'Q5', label: 'Routine' },
};

const PENDING = { rank: 9, cls: 'qnone', short: '—', label: 'Pending' };

export function queueInfo(queue) {
  return QUEUES[queue] || PENDING;
}

// The queue a call is ordered by: an override if any, else its triage.
export function effectiveQueue(call) {
  return (call && call.dispatch && call.dispatch.queue) || (call && call.queue) || null;
}

export function pct(x) {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : '—';
}

export function num(x, digits = 2) {
  return Number.isFinite(x) ? x.toFixed(digits) : '—';
}

export function seconds(x) {
  if (!Number.isFinite(x)) return '—';
  if (x < 60) return `${x.toFixed(1)} s`;
  const m = Math.floor(x / 60);
  return `${m} min ${Math.round(x - m * 60)} s`;
}

export function clockTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
}

export function ago(iso, now = Date.now()) {
  const t = new Date(iso).getTime();
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// "not_breathing" → "not breathing"
export function words(value) {
  return value == null ? '—' : String(value).replace(/_/g, ' ');
}

// h('div', {class: 'x', 'aria-label': 'y', onclick: fn}, 'text', child, ...)
export function h(tag, attrs = {}, ...children) {
  const svg = ['svg', 'g', 'path', 'polygon', 'circle', 'text', 'title', 'line', 'rect'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Sets an element's text only when it changed (no needless layout, no flicker).
export function setText(el, text) {
  const t = text == null ? '' : String(text);
  if (el.textContent !== t) el.textContent = t;
}
