// signin.js — the sign-in page: POST /api/session with the pasted token (the
// server answers with an HttpOnly session cookie), then back to the dashboard;
// shows who is signed in and signs out (DELETE /api/session).
const form = document.getElementById('signin-form');
const input = document.getElementById('signin-token');
const who = document.getElementById('signin-who');
const out = document.getElementById('signin-out');
const error = document.getElementById('signin-error');

async function detailOf(response) {
  try {
    const body = await response.json();
    if (body && typeof body.detail === 'string') return body.detail;
  } catch { /* not JSON */ }
  return `${response.status} ${response.statusText}`.trim();
}

async function showWho() {
  const response = await fetch('/api/session', { cache: 'no-store' });
  if (!response.ok) return;
  const me = await response.json();
  who.textContent = me.auth ? `Signed in as ${me.name} (${me.role}).` : 'Authentication is off on this server.';
  who.hidden = false;
  out.hidden = !me.auth;
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  error.textContent = '';
  const response = await fetch('/api/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: input.value.trim() }),
  });
  input.value = '';
  if (!response.ok) {
    error.textContent = await detailOf(response);
    return;
  }
  location.assign('/dashboard/');
});

out.addEventListener('click', async () => {
  await fetch('/api/session', { method: 'DELETE' });
  who.hidden = true;
  out.hidden = true;
});

showWho();
