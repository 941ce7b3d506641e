// session.js — who is at this dashboard: the name and role of the signed-in
// token (GET /api/session; with auth off the server names everyone `local`, a
// supervisor), shown in the header with a sign-out button, and onChange(me)
// when it is known. Without a session api.js has gone to the sign-in page.
import { fetchSession, signOut } from './api.js';
import { setText } from './format.js';

const ACTS = ['dispatcher', 'supervisor'];

export class Session {
  // els: {root, name, signOut}
  constructor(els, onChange) {
    this.els = els;
    this.onChange = onChange;
    this.me = null;
    els.signOut.addEventListener('click', () => signOut());
  }

  async check() {
    try {
      this.set(await fetchSession());
    } catch (err) {
      setText(this.els.name, `not signed in (${err.message})`);
      this.set(null);
    }
  }

  set(me) {
    this.me = me;
    this.els.root.dataset.role = me ? me.role : 'none';
    this.els.signOut.hidden = !(me && me.auth);
    if (me) setText(this.els.name, `${me.name} · ${me.role}${me.auth ? '' : ' (auth off)'}`);
    this.onChange(me);
  }

  // The signed-in user when they may take lifecycle steps (dispatcher, supervisor), else null.
  dispatcher() {
    return this.me && ACTS.includes(this.me.role) ? this.me : null;
  }
}
