// api.js — the server's HTTP API as the dashboard uses it (README "## API").
// Every function resolves with parsed JSON or throws an Error whose message is
// the server's {"detail"} (or a plain description when there is none). A 401
// (not signed in, the session expired or its token was revoked) goes to the
// sign-in page; the session cookie goes with every request by itself.

const SIGN_IN = '/dashboard/signin.html';

function signInOn401(status) {
  if (status === 401) location.assign(SIGN_IN);
}

async function errorFrom(response) {
  let detail = `${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    if (body && typeof body.detail === 'string') detail = body.detail;
  } catch { /* not JSON: keep the status line */ }
  signInOn401(response.status);
  const err = new Error(detail);
  err.status = response.status;
  return err;
}

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store', headers: { Accept: 'application/json' } });
  if (!response.ok) throw await errorFrom(response);
  return response.json();
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
