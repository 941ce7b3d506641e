// api.js — the server's HTTP API as the dashboard uses it (README "## API").
// Every function resolves with parsed JSON or throws an Error whose message is
// the server's {"detail"} (or a plain description when there is none); err.status
// is the HTTP status and, for 409, err.dispatch the call's state as it is now.
// A 401 (not signed in, the session expired or its token was revoked) goes to
// the sign-in page; the session cookie goes with every request by itself.

const SIGN_IN = '/dashboard/signin.html';

function signInOn401(status) {
  if (status === 401) location.assign(SIGN_IN);
}

async function errorFrom(response) {
  let detail = `${response.status} ${response.statusText}`.trim();
  let dispatch = null;
  try {
    const body = await response.json();
    if (body && typeof body.detail === 'string') detail = body.detail;
    if (body && body.dispatch) dispatch = body.dispatch;
  } catch { /* not JSON: keep the status line */ }
  signInOn401(response.status);
  const err = new Error(detail);
  err.status = response.status;
  err.dispatch = dispatch;
  return err;
}

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store', headers: { Accept: 'application/json' } });
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

// POST with an optional JSON body; resolves null for 204 (nothing to answer).
async function postJson(path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method: 'POST', cache: 'no-store', headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await errorFrom(response);
  return response.status === 204 ? null : response.json();
}

// GET /: the API's name, version and endpoint list.
export function fetchInfo() {
  return getJson('/');
}

export function fetchHealth() {
  return getJson('/health');
}

export function fetchCalls(limit = 100, queue = null) {
  return getJson(`/api/calls?limit=${limit}${queue ? `&queue=${encodeURIComponent(queue)}` : ''}`);
}

export function fetchCall(id) {
  return getJson(`/api/calls/${encodeURIComponent(id)}`);
}

// The open queue (waiting and claimed calls) in the server's dispatch order.
export function fetchQueue(limit = 200) {
  return getJson(`/api/queue?limit=${limit}`);
}

// The calls one dispatcher holds (claimed or dispatched), in the same order.
export function fetchHeld(name, limit = 200) {
  return getJson(`/api/queue?limit=${limit}&held_by=${encodeURIComponent(name)}`);
}

// Who is signed in: {"name", "role", "auth"} (auth false: the server has no tokens).
export function fetchSession() {
  return getJson('/api/session');
}

// Ends the session on the server (the cookie is cleared), then shows the sign-in page.
export async function signOut() {
  await fetch('/api/session', { method: 'DELETE' });
  location.assign(SIGN_IN);
}

// Claims the most urgent waiting call: the call, or null when none waits.
export function takeNextCall() {
  return postJson('/api/queue/next');
}

// A lifecycle step: claim, release, dispatch, resolve, cancel, duplicate ({of}),
// override ({queue, reason}) or notes ({note}). Resolves {"id", "dispatch"}.
export function callAction(id, action, body) {
  return postJson(`/api/calls/${encodeURIComponent(id)}/${action}`, body);
}

// The server's change stream (Server-Sent Events).
export const EVENTS_URL = '/api/events';

export function audioUrl(id) {
  return `/api/calls/${encodeURIComponent(id)}/audio`;
}

// POST /api/analyze with multipart field "file". onProgress(fraction) follows the
// upload (null when the size is unknown); onUploaded() fires when the body is sent
// and the server is analysing. XMLHttpRequest, because fetch reports no upload progress.
export function analyzeFile(file, { onProgress, onUploaded } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/analyze');
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (ev) => {
      if (onProgress) onProgress(ev.lengthComputable ? ev.loaded / ev.total : null);
    });
    xhr.upload.addEventListener('load', () => { if (onUploaded) onUploaded(); });
    xhr.addEventListener('load', () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* handled below */ }
      if (xhr.status >= 200 && xhr.status < 300 && body) {
        resolve(body);
      } else {
        signInOn401(xhr.status);
        const detail = body && typeof body.detail === 'string'
          ? body.detail : `upload failed: ${xhr.status} ${xhr.statusText}`.trim();
        const err = new Error(detail);
        err.status = xhr.status;
        reject(err);
      }
    });
    xhr.addEventListener('error', () => reject(new Error('the server could not be reached')));
    xhr.addEventListener('abort', () => reject(new Error('upload cancelled')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

// ws://host/ws/live (wss:// when the page is served over https).
export function liveSocketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws/live`;
}
