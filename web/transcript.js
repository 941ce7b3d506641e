// transcript.js — the transcript with the words that produced entities
// highlighted. Evidence offsets (nlp.evidence[].start/end) are UTF-8 byte
// offsets into the transcript, so the text is cut as bytes, not as JS string
// indices. Overlapping evidence is merged into one mark listing every reason.
import { h, words } from './format.js';

export function evidenceCategory(entity) {
  const e = String(entity || '');
  if (e.startsWith('mechanism_hazard')) return 'hazard';
  if (e.startsWith('clinical_indicators')) return 'clinical';
  if (e.startsWith('scale')) return 'scale';
  if (e.startsWith('location')) return 'location';
  if (e.startsWith('urgency')) return 'urgency';
  return 'other';
}

function reason(ev) {
  const entity = String(ev.entity || '').replace(/^clinical_indicators\./, '').replace(/^scale\./, '').replace(/^location\./, '');
  const points = Number.isFinite(ev.weight) && ev.weight > 0 ? ` +${ev.weight}` : '';
  return `${words(entity)}: ${words(ev.value)}${ev.negated ? ' (negated)' : ''}${points}`;
}

// Spans [{start, end, items: [evidence...]}] in byte offsets, merged where they overlap.
export function mergeEvidence(evidence, byteLength) {
  const valid = (evidence || [])
    .filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.start >= 0 && e.end > e.start && e.end <= byteLength)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const spans = [];
  for (const e of valid) {
    const last = spans[spans.length - 1];
    if (last && e.start < last.end) {
      last.end = Math.max(last.end, e.end);
      last.items.push(e);
    } else {
      spans.push({ start: e.start, end: e.end, items: [e] });
    }
  }
  return spans;
}

// A DocumentFragment: text nodes and <mark> elements.
export function renderTranscript(text, evidence) {
  const frag = document.createDocumentFragment();
  const bytes = new TextEncoder().encode(text || '');
  const decoder = new TextDecoder();
  const slice = (a, b) => decoder.decode(bytes.subarray(a, b));
  let at = 0;
  for (const span of mergeEvidence(evidence, bytes.length)) {
    if (span.start > at) frag.append(slice(at, span.start));
    const categories = [...new Set(span.items.map((e) => evidenceCategory(e.entity)))];
    const negated = span.items.every((e) => e.negated);
    const title = span.items.map(reason).join('; ');
    frag.append(h('mark', {
      class: `ev ev-${categories[0]}${negated ? ' ev-negated' : ''}`,
      title, dataset: { entity: span.items.map((e) => e.entity).join(' ') },
    }, slice(span.start, span.end)));
    at = span.end;
  }
  if (at < bytes.length) frag.append(slice(at, bytes.length));
  return frag;
}
