// detail.js — the call detail panel: the dispatch part (dispatch.js: state,
// lifecycle, override, notes, history), triage decision and guidance, the
// transcript with evidence highlighted, entities, bio-acoustic measurements with
// the distress score, ASR confidence, and the recording.
import { audioUrl } from './api.js';
import { queueInfo, pct, num, seconds, clockTime, words, h } from './format.js';
import { renderTranscript } from './transcript.js';

function meter(key, label, value, { low = 0.4, high = 0.7, invert = false } = {}) {
  const v = Number.isFinite(value) ? Math.max(0, Math.min(1, value)) : 0;
  // <meter> colours: optimum at the good end (low distress, high confidence).
  return h('div', { class: 'meter-row', dataset: { signal: key } },
    h('span', { class: 'meter-label' }, label),
    h('meter', { min: 0, max: 1, low, high, optimum: invert ? 1 : 0, value: v, 'aria-label': label }),
    h('strong', { class: 'meter-value' }, pct(value)));
}

function dl(rows) {
  return h('dl', { class: 'kv' }, ...rows.filter(Boolean).flatMap(([k, v, cls]) =>
    [h('dt', {}, k), h('dd', { class: cls || null }, v == null || v === '' ? '—' : v)]));
}

function section(title, id, ...children) {
  return h('section', { class: 'detail-section', 'aria-labelledby': id },
    h('h3', { id }, title), ...children);
}

function severityClass(value) {
  return ['not_breathing', 'unresponsive', 'heavy'].includes(value) ? 'sev-high'
    : ['impaired', 'altered', 'minor', 'immobile'].includes(value) ? 'sev-mid' : null;
}

export class DetailView {
  // dispatch: the DispatchPanel shown in every call's detail.
  constructor(root, dispatch) {
    this.root = root;
    this.dispatch = dispatch;
    this.callId = null;
    this.key = '';
    this.audio = null;
  }

  clear() {
    this.callId = null;
    this.key = '';
    this.audio = null;
    this.root.replaceChildren(h('p', { class: 'empty' }, 'Select a call in the queue to see its transcript, triage and recording.'));
  }

  // Re-renders only when the call changed (a poll returns the same record most of the time);
  // the dispatch part updates itself in place. me: the dashboard's user ({name, role}) or null.
  show(call, me) {
    this.dispatch.show(call, me);
    const d = call.dispatch || {};
    const key = `${call.id}|${call.updated_at}|${call.status}|${d.queue}`;
    if (key === this.key) return;
    const sameCall = call.id === this.callId;
    this.key = key;
    this.callId = call.id;

    const a = call.analysis || {};
    const triage = a.triage || {};
    const nlp = a.nlp || {};
    const ent = nlp.entities || {};
    const bio = a.bio_acoustic || {};
    const asr = a.asr || {};
    const abandoned = call.status === 'abandoned'; // no speech: in no queue, whatever its analysis says
    const queue = d.queue || call.queue || triage.queue; // an override moves the call
    const q = queueInfo(abandoned ? null : queue);
    const queueName = abandoned ? 'NO SPEECH' : queue || 'PENDING';
    const review = !abandoned && !!(call.flag_audio_review || triage.flag_audio_review);
    const escalate = !abandoned && !!(call.escalation_required || triage.escalation_required);
    const transcript = call.transcript || a.transcript || '';

    const header = h('header', { class: `detail-head ${q.cls}` },
      h('span', { class: `qbadge big ${q.cls}`, id: 'detail-queue' }, queueName),
      h('div', { class: 'detail-title' },
        h('h2', { id: 'detail-heading' }, call.kind === 'live' ? (call.caller ? `Live call from ${call.caller}` : 'Live call') : (call.filename || 'Uploaded recording')),
        h('p', { class: 'muted' },
          `${clockTime(call.created_at)} · ${seconds(call.duration)} · ${call.kind || 'upload'} · ${words(call.status)}` +
          (call.kind === 'live' ? ` · ${call.utterance_count || 0} utterance(s)` : ''))),
      h('div', { class: 'flags' },
        escalate ? h('span', { class: 'chip escalate big' }, '▲ ESCALATION REQUIRED') : null,
        review ? h('span', { class: 'chip review big' }, '◉ AUDIO REVIEW') : null,
        triage.early_exit ? h('span', { class: 'chip muted' }, 'EARLY EXIT') : null));

    const action = section('Dispatcher action', 'sec-action',
      h('p', { class: 'dispatcher-action', id: 'detail-action' }, triage.dispatcher_action || '—'),
      h('p', { class: 'reasoning', id: 'detail-reasoning' }, triage.reasoning || '—'));

    const transcriptEl = h('blockquote', { class: 'transcript', id: 'detail-transcript', lang: 'en' });
    if (transcript) transcriptEl.append(renderTranscript(transcript, nlp.evidence));
    else transcriptEl.append(h('em', {}, asr.reason ? `No transcript: ${asr.reason}` : 'No transcript'));
    const legend = h('p', { class: 'legend', 'aria-hidden': 'true' },
      ...['hazard', 'clinical', 'scale', 'location', 'urgency'].map((c) => h('mark', { class: `ev ev-${c}` }, c)));

    const loc = ent.location || {};
    const ci = ent.clinical_indicators || {};
    const scale = ent.scale || {};
    const entities = section('Entities', 'sec-entities', dl([
      ['Hazard', words(ent.mechanism_hazard), ent.mechanism_hazard ? 'hazard' : null],
      ['Breathing', words(ci.breathing), severityClass(ci.breathing)],
      ['Consciousness', words(ci.consciousness), severityClass(ci.consciousness)],
      ['Bleeding', words(ci.bleeding), severityClass(ci.bleeding)],
      ['Mobility', words(ci.mobility), severityClass(ci.mobility)],
      ['Persons affected', scale.persons_affected ? String(scale.persons_affected) : '—'],
      ['Vulnerable', scale.vulnerable_population ? 'yes' : 'no', scale.vulnerable_population ? 'sev-mid' : null],
      ['Escalating', scale.escalating ? 'yes' : 'no', scale.escalating ? 'sev-mid' : null],
      ['Location', [loc.address, loc.landmark].filter(Boolean).join(' · ') || loc.geographic_ref || '—'],
      ['Town / parish', [loc.town, loc.parish].filter(Boolean).join(', ') || '—'],
      ['Coordinates', Number.isFinite(loc.lat) ? `${num(loc.lat, 4)}, ${num(loc.lng, 4)}` : '—'],
      ['Urgency words', (ent.urgency_keywords || []).join(', ') || '—'],
      ['Content score', pct(call.content_score ?? nlp.content_score)],
    ]));

    const signals = section('Signals', 'sec-signals',
      h('div', { class: 'meters' },
        meter('distress', 'Distress', call.distress_score ?? bio.distress_score, { low: 0.5, high: 0.8 }),
        meter('confidence', 'Confidence', call.confidence ?? a.confidence, { low: 0.5, high: 0.7, invert: true }),
        meter('content', 'Content', call.content_score ?? nlp.content_score, { low: 0.2, high: 0.4 })),
      dl([
        ['Mean F0', Number.isFinite(bio.f0_mean) ? `${num(bio.f0_mean, 0)} Hz` : '—'],
        ['F0 variation (CV)', num(bio.f0_cv)],
        ['Pitch elevation', num(bio.pitch_elevation)],
        ['Instability', num(bio.instability)],
        ['Energy', num(bio.energy)],
        ['Jitter', num(bio.jitter)],
        ['Voiced frames', Number.isFinite(bio.frames) ? `${bio.voiced_frames} / ${bio.frames}` : '—'],
        ['ASR', [asr.status, asr.model, asr.lora].filter(Boolean).join(' · ') || '—'],
      ]));

    // Keep the player (and its playback position) when the same call is refreshed.
    const hasAudio = !!call.audio_url;
    if (!sameCall || !this.audio) {
      this.audio = hasAudio ? h('audio', { controls: true, preload: 'metadata', src: call.audio_url || audioUrl(call.id), id: 'detail-audio', 'aria-label': 'Call recording' }) : null;
    }
    const recording = section('Recording', 'sec-recording',
      this.audio || h('p', { class: 'muted' }, 'The recording is available when the call ends.'));

    this.root.replaceChildren(header, this.dispatch.root, action,
      section('Transcript', 'sec-transcript', transcriptEl, legend), recording,
      h('div', { class: 'detail-cols' }, signals, entities));
  }
}
