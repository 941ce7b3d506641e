// dispatch.js — the dispatch part of the call detail: the call's state and who
// holds it, the lifecycle buttons (claim, dispatch, resolve, release, cancel,
// mark duplicate), override of the queue with its mandatory reason, notes, and
// the call's history. Built once and updated in place, so what a dispatcher is
// typing survives refreshes. A refused step (409: another dispatcher got there
// first, or the call is closed) shows the server's detail and the state as it is now.
import { callAction } from './api.js';
import { QUEUES, clockTime, words, h, setText } from './format.js';

// When each action is offered (docs/api.md, Dispatch): state → may I, given whether I hold the call
// (and my role: a dispatcher or supervisor acts, only a supervisor overrides).
const ALLOWED = {
  claim: (st) => st === 'waiting',
  dispatch: (st, mine) => st === 'claimed' && mine,
  resolve: (st, mine) => (st === 'claimed' || st === 'dispatched') && mine,
  release: (st, mine) => st === 'claimed' && mine,
  cancel: (st, mine) => st === 'waiting' || (st === 'claimed' && mine),
  duplicate: (st, mine) => st === 'waiting' || (st === 'claimed' && mine),
  override: (st, mine) => st === 'waiting' || (st === 'claimed' && mine),
};
const DONE = {
  claim: 'Claimed.', dispatch: 'Marked dispatched.', resolve: 'Resolved.', release: 'Released to the queue.',
  cancel: 'Cancelled.', duplicate: 'Marked a duplicate.', override: 'Queue overridden.', notes: 'Note added.',
};

function stateText(d) {
  if (!d) return 'not in the dispatch queue';
  const by = d.claimed_by ? ` by ${d.claimed_by}` : '';
  switch (d.state) {
    case 'waiting': return `waiting since ${clockTime(d.waiting_since)}`;
    case 'claimed': return `claimed${by}`;
    case 'dispatched': return `dispatched${by}`;
    case 'resolved': return `resolved${by}`;
    case 'duplicate': return `duplicate of ${d.duplicate_of || '?'}`;
    default: return words(d.state);
  }
}

export class DispatchPanel {
  // onChanged(id): the call changed on the server (refetch what is shown).
  // candidates(): calls a duplicate may point at, [{id, label}].
  constructor(onChanged, candidates) {
    this.onChanged = onChanged;
    this.candidates = candidates;
    this.call = null;
    this.me = null;
    this.busy = false;
    this.buttons = {};
    for (const [action, label, cls] of [['claim', 'Claim'], ['dispatch', 'Dispatch units'], ['resolve', 'Resolve'],
      ['release', 'Release'], ['cancel', 'Cancel call', 'danger'], ['duplicate', 'Mark duplicate…', 'quiet']]) {
      this.buttons[action] = h('button', {
        type: 'button', id: `act-${action}`, class: cls || null, dataset: { action },
        onclick: () => (action === 'duplicate' ? this.openDuplicate() : this.act(action)),
      }, label);
    }
    this.state = h('strong', { id: 'dispatch-state' });
    this.overdue = h('span', { class: 'chip overdue', hidden: true }, 'OVERDUE');
    this.override = h('p', { id: 'dispatch-override', class: 'override-note', hidden: true });
    this.hint = h('p', { class: 'muted dispatch-hint' });
    this.message = h('p', { id: 'dispatch-message', class: 'dispatch-message', role: 'alert', hidden: true });

    this.dupSelect = h('select', { id: 'duplicate-of' });
    this.dupForm = h('form', { id: 'duplicate-form', class: 'inline-form', hidden: true,
      onsubmit: (ev) => { ev.preventDefault(); this.act('duplicate', { of: this.dupSelect.value }); } },
    h('label', { for: 'duplicate-of' }, 'Duplicate of'), this.dupSelect,
    h('button', { type: 'submit', id: 'duplicate-submit' }, 'Mark duplicate'),
    h('button', { type: 'button', class: 'quiet', onclick: () => { this.dupForm.hidden = true; } }, 'Back'));

    this.ovQueue = h('select', { id: 'override-queue' },
      ...Object.keys(QUEUES).map((q) => h('option', { value: q }, q)));
    this.ovReason = h('input', { id: 'override-reason', type: 'text', maxlength: 500, autocomplete: 'off',
      placeholder: 'reason (required)' });
    this.ovButton = h('button', { type: 'submit', id: 'override-submit' }, 'Override');
    this.ovWho = h('span', { class: 'muted', id: 'override-who' }, 'a supervisor’s step');
    this.ovForm = h('form', { id: 'override-form', class: 'inline-form', onsubmit: (ev) => { ev.preventDefault(); this.submitOverride(); } },
      h('label', { for: 'override-queue' }, 'Move to'), this.ovQueue,
      h('label', { for: 'override-reason', class: 'visually-hidden' }, 'Reason for the override'), this.ovReason, this.ovButton,
      this.ovWho);

    this.noteText = h('input', { id: 'note-text', type: 'text', maxlength: 2000, autocomplete: 'off', placeholder: 'a note for the history' });
    this.noteButton = h('button', { type: 'submit', id: 'note-submit' }, 'Add note');
    this.noteForm = h('form', { id: 'note-form', class: 'inline-form', onsubmit: (ev) => { ev.preventDefault(); this.submitNote(); } },
      h('label', { for: 'note-text', class: 'visually-hidden' }, 'Note'), this.noteText, this.noteButton);

    this.history = h('ol', { id: 'history', class: 'history', 'aria-label': 'History of the call, oldest first' });

    this.root = h('section', { class: 'detail-section dispatch', id: 'dispatch', 'aria-labelledby': 'sec-dispatch' },
      h('h3', { id: 'sec-dispatch' }, 'Dispatch'),
      h('p', { class: 'dispatch-line' }, this.state, ' ', this.overdue),
      this.override,
      h('div', { class: 'dispatch-actions', role: 'group', 'aria-label': 'Call lifecycle' }, ...Object.values(this.buttons)),
      this.dupForm, this.message, this.hint,
      h('div', { class: 'dispatch-forms' }, this.ovForm, this.noteForm),
      h('h3', { id: 'sec-history' }, 'History'),
      this.history);
  }

  // call: a call with dispatch and history (GET /api/calls/{id}); me: {name, role} or null.
  show(call, me) {
    if (!this.call || this.call.id !== call.id) {
      this.message.hidden = true;
      this.dupForm.hidden = true;
      this.ovReason.value = '';
      this.noteText.value = '';
      this.ovQueue.value = (call.dispatch && call.dispatch.queue) || call.queue || 'Q1-IMMEDIATE';
    }
    this.call = call;
    this.me = me;
    this.render();
  }

  setMe(me) {
    this.me = me;
    if (this.call) this.render();
  }

  render() {
    const call = this.call;
    const d = call.dispatch || null;
    const st = d ? d.state : null;
    const dispatcher = this.me && ['dispatcher', 'supervisor'].includes(this.me.role) ? this.me : null;
    const supervisor = !!(dispatcher && dispatcher.role === 'supervisor');
    const mine = !!(dispatcher && d && d.claimed_by === dispatcher.name);
    this.root.dataset.state = st || 'none';
    this.root.dataset.mine = mine ? 'true' : 'false';
    setText(this.state, stateText(d));
    this.overdue.hidden = !(d && d.overdue);
    for (const [action, button] of Object.entries(this.buttons)) {
      button.disabled = this.busy || !dispatcher || !st || !ALLOWED[action](st, mine);
    }
    const canOverride = !this.busy && supervisor && st && ALLOWED.override(st, mine);
    for (const el of [this.ovQueue, this.ovReason, this.ovButton]) el.disabled = !canOverride;
    this.ovWho.hidden = supervisor;
    for (const el of [this.noteText, this.noteButton]) el.disabled = this.busy || !dispatcher || !st;
    setText(this.hint, !this.me ? 'Sign in to work this call.'
      : !dispatcher ? `${this.me.name} is a ${this.me.role}: the call can be read, not changed.`
        : st === 'claimed' && !mine ? `${d.claimed_by} is working this call.` : '');
    this.hint.hidden = !this.hint.textContent;

    // The override in force and its reason (the latest override in the history).
    const history = call.history || [];
    const last = [...history].reverse().find((e) => e.action === 'override');
    this.override.hidden = !(d && d.queue_override);
    if (d && d.queue_override) {
      setText(this.override, `Queue overridden to ${d.queue_override} (triage: ${call.queue || 'none'})` +
        (last ? ` by ${last.by} at ${clockTime(last.at)} — reason: ${last.note || '—'}` : ''));
    }

    const key = JSON.stringify([call.id, history.map((e) => e.seq)]);
    if (this.history.dataset.key !== key) {
      this.history.dataset.key = key;
      this.history.replaceChildren(...(history.length ? history.map((e) => h('li', { dataset: { action: e.action } },
        h('time', { datetime: e.at }, clockTime(e.at)), ' ',
        h('strong', {}, e.by || '—'), ' ',
        h('span', { class: 'history-action' }, e.action === 'note' ? 'note' : words(e.action)),
        e.from !== e.to ? h('span', { class: 'muted' }, ` ${e.from} → ${e.to}`) : null,
        e.note ? h('span', { class: 'history-note' }, ` — ${e.note}`) : null))
        : [h('li', { class: 'muted' }, 'Nothing yet: the call waits in its queue.')]));
    }
  }

  say(text, kind) {
    setText(this.message, text);
    this.message.className = `dispatch-message ${kind}`;
    this.message.dataset.kind = kind;
    this.message.hidden = !text;
  }

  openDuplicate() {
    const options = this.candidates().filter((c) => c.id !== this.call.id);
    this.dupSelect.replaceChildren(...options.map((c) => h('option', { value: c.id }, c.label)));
    if (!options.length) {
      this.say('No other call to point at.', 'error');
      return;
    }
    this.dupForm.hidden = false;
    this.dupSelect.focus();
  }

  submitOverride() {
    const reason = this.ovReason.value.trim();
    if (!reason) {
      this.say('An override needs a reason: say why this call moves.', 'error');
      this.ovReason.focus();
      return;
    }
    this.act('override', { queue: this.ovQueue.value, reason });
  }

  submitNote() {
    const note = this.noteText.value.trim();
    if (!note) {
      this.say('Write the note first.', 'error');
      this.noteText.focus();
      return;
    }
    this.act('notes', { note });
  }

  async act(action, body) {
    const call = this.call;
    if (!call || this.busy) return;
    this.busy = true;
    this.render();
    try {
      const answer = await callAction(call.id, action, body);
      if (this.call.id === call.id) {
        this.call = { ...this.call, dispatch: answer.dispatch };
        this.say(DONE[action], 'ok');
        if (action === 'override') this.ovReason.value = '';
        if (action === 'notes') this.noteText.value = '';
        if (action === 'duplicate') this.dupForm.hidden = true;
      }
    } catch (err) {
      if (this.call.id === call.id) {
        if (err.status === 409 && err.dispatch) {
          // Show what the call is now, not what this page thought it was.
          this.call = { ...this.call, dispatch: err.dispatch };
          this.say(`Not done — ${err.message}. The call is now ${stateText(err.dispatch)}.`, 'conflict');
        } else {
          this.say(`Not done — ${err.message}`, 'error');
        }
      }
    } finally {
      this.busy = false;
      if (this.call.id === call.id) this.render();
      this.onChanged(call.id);
    }
  }
}
