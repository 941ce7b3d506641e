// session.js — who is at this dashboard: the token field in the header (the
// token itself is kept by api.js `auth`), the name and role the server gives
// for it (GET /api/me), and onChange(me) when that changes (me null: nobody,
// or a token the server refused).
import { auth, fetchMe } from './api.js';
import { setText } from './format.js';

export class Session {
  // els: {root, form, input, me, name, clear, error}
  constructor(els, onChange) {
    this.els = els;
    this.onChange = onChange;
    this.me = null;
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = els.input.value.trim();
      if (!token) {
        this.showError('Paste your dispatcher token first.');
        return;
      }
      auth.set(token);
      els.input.value = '';
      this.check();
    });
    els.clear.addEventListener('click', () => {
      auth.clear();
      this.set(null);
      els.input.focus();
    });
  }

  showError(text) {
    setText(this.els.error, text || '');
    this.els.error.hidden = !text;
  }

  // Asks the server who the stored token is.
  async check() {
    if (!auth.token()) {
      this.set(null);
      return;
    }
    try {
      this.set(await fetchMe());
    } catch (err) {
      if (err.status === 401 || err.status === 403) auth.clear();
      this.set(null);
      this.showError(err.status === 401 ? 'The server does not know that token.' : err.message);
    }
  }

  set(me) {
    this.me = me;
    this.els.root.dataset.role = me ? me.role : 'none';
    this.els.form.hidden = !!me;
    this.els.me.hidden = !me;
    if (me) {
      setText(this.els.name, `${me.name} · ${me.role}`);
      this.showError('');
    }
    this.onChange(me);
  }

  // The dispatcher who may change calls, or null (nobody, or a viewer).
  dispatcher() {
    return this.me && this.me.role === 'dispatcher' ? this.me : null;
  }
}
