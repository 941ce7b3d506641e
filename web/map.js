// map.js — the location map: Jamaica's outline (jamaica.js) as an SVG, drawn
// locally, with one marker per call that has coordinates (nlp.entities.location
// lat/lng), coloured by queue. Markers are keyboard-focusable and select the call.
import { BOUNDS, COASTLINE, TOWNS } from './jamaica.js';
import { queueInfo, effectiveQueue, clockTime, h, setText } from './format.js';

const WIDTH = 1000;
// Equirectangular with the longitude scaled by cos(latitude) at the island's centre.
const KX = Math.cos(((BOUNDS.north + BOUNDS.south) / 2) * Math.PI / 180);
const SCALE = WIDTH / ((BOUNDS.east - BOUNDS.west) * KX);
const HEIGHT = Math.round((BOUNDS.north - BOUNDS.south) * SCALE);

export function project(lng, lat) {
  return [(lng - BOUNDS.west) * KX * SCALE, (BOUNDS.north - lat) * SCALE];
}

// The call's coordinates, from the stored analysis or a live event's nlp.
export function callLocation(call) {
  const nlp = call && call.analysis ? call.analysis.nlp : call && call.nlp;
  const loc = nlp && nlp.entities ? nlp.entities.location : null;
  if (!loc || !Number.isFinite(loc.lat) || !Number.isFinite(loc.lng)) return null;
  return loc;
}

export class MapView {
  constructor(container, noteEl, onSelect) {
    this.note = noteEl;
    this.onSelect = onSelect;
    this.markers = new Map();
    const coast = COASTLINE.map(([lng, lat]) => project(lng, lat).map((v) => v.toFixed(1)).join(',')).join(' ');
    this.layer = h('g', { class: 'markers' });
    this.svg = h('svg', {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'map-svg', role: 'group',
      'aria-label': 'Map of Jamaica with calls plotted by location',
    },
    h('rect', { class: 'sea', x: 0, y: 0, width: WIDTH, height: HEIGHT }),
    h('polygon', { class: 'land', points: coast }),
    h('g', { class: 'towns', 'aria-hidden': 'true' }, ...TOWNS.map((t) => {
      const [x, y] = project(t.lng, t.lat);
      const left = t.anchor === 'end';
      return h('g', {}, h('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 4 }),
        h('text', { x: (x + (left ? -8 : 8)).toFixed(1), y: (y + (t.dy || 7)).toFixed(1), 'text-anchor': left ? 'end' : 'start' }, t.name));
    })),
    this.layer);
    container.replaceChildren(this.svg);
  }

  render(calls, selectedId) {
    const seen = new Set();
    let unplaced = 0;
    for (const call of calls) {
      const loc = callLocation(call);
      if (!loc) { unplaced += 1; continue; }
      seen.add(call.id);
      const q = queueInfo(effectiveQueue(call));
      const [x, y] = project(loc.lng, loc.lat);
      const place = [loc.town, loc.parish].filter(Boolean).join(', ') || `${loc.lat.toFixed(3)}, ${loc.lng.toFixed(3)}`;
      const label = `${effectiveQueue(call) || 'pending'} call at ${place}, ${clockTime(call.created_at)}`;
      let m = this.markers.get(call.id);
      if (!m) {
        const title = h('title');
        const dot = h('circle', { r: 11 });
        const g = h('g', {
          class: 'marker', tabindex: 0, role: 'button', dataset: { id: call.id },
          onclick: () => this.onSelect(call.id),
          onkeydown: (ev) => {
            if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); this.onSelect(call.id); }
          },
        }, title, dot);
        m = { g, dot, title };
        this.markers.set(call.id, m);
        this.layer.append(g);
      }
      m.dot.setAttribute('cx', x.toFixed(1));
      m.dot.setAttribute('cy', y.toFixed(1));
      m.g.setAttribute('class', `marker ${q.cls}${call.id === selectedId ? ' selected' : ''}`);
      m.g.setAttribute('aria-label', label);
      setText(m.title, label);
    }
    for (const [id, m] of this.markers) {
      if (!seen.has(id)) { m.g.remove(); this.markers.delete(id); }
    }
    // Higher priority drawn last (on top).
    const order = [...this.markers.entries()].sort((a, b) => {
      const ca = calls.find((c) => c.id === a[0]);
      const cb = calls.find((c) => c.id === b[0]);
      return queueInfo(effectiveQueue(cb)).rank - queueInfo(effectiveQueue(ca)).rank;
    });
    const want = order.map(([, m]) => m.g);
    if (want.some((g, i) => this.layer.childNodes[i] !== g)) this.layer.append(...want);
    setText(this.note, `${seen.size} placed` + (unplaced ? ` · ${unplaced} without a known location` : ''));
  }
}
