// dashboard.test.mjs — the dispatcher dashboard in a real browser.
//
// usage: node tests/web/dashboard.test.mjs TRIDENT_BINARY SHARED_DIR
//        (or TRIDENT_BINARY / TRIDENT_SHARED in the environment)
//
// Starts the real `trident serve` on a free loopback port (fixture model
// tiny-random-v2, a temporary SQLite database, the project's web/ as web root),
// checks the static file serving (content types, caching, no directory
// traversal), then drives Debian's chromium (playwright-core, a new empty
// profile, a fake microphone playing a recording from shared/audio) through
// the dashboard: page load without console errors, /health in the header, an
// upload through the form that lands in the queue with its queue label, the
// call's detail (transcript, reasoning, dispatcher action, distress, a playable
// recording), evidence highlighting on byte offsets, the map, an upload error
// showing the server's {"detail"}, and a live call from the fake microphone
// (processing_complete in the panel, then a stored live call in the queue).
// Then the dispatch floor, on a second server with API tokens (no model,
// --distress-model paper, --overdue-s 2), each person signed in in a browser
// context of their own: who is signed in, the queue in the server's order, the
// Q1 alert (banner, tab title, desktop notification), take next (the Q1 call
// first), dispatch/resolve/claim/release/cancel/duplicate read back through the
// API, override not offered to a dispatcher, a supervisor's refused without a
// reason and shown with one on both pages, a note in the history,
// the overdue highlight, a 409 shown with the call's current state, both pages
// taking next at once never getting the same call, a viewer offered no change,
// and the layout at 1024×768 and 1920×1080 (controls on screen, inside their
// panels, none overlapping).
// Screenshots: $TRIDENT_SCREENSHOT or /tmp/trident-dashboard.png (and -WxH.png).
// Exit 77 (ctest SKIP_RETURN_CODE) only when no chromium can be found.
// Waits are bounded; assertions are about behaviour, never timings.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.resolve(HERE, '../..');
const BINARY = path.resolve(process.argv[2] || process.env.TRIDENT_BINARY || path.join(SOURCE, 'build/trident'));
const SHARED = path.resolve(process.argv[3] || process.env.TRIDENT_SHARED || path.join(SOURCE, '../shared'));
const MODEL = path.join(SHARED, 'whisper-ref/models/tiny-random-v2');
const AUDIO = path.join(SHARED, 'audio');
const UPLOAD_WAV = path.join(AUDIO, 'call_1_calm.wav');
const MIC_WAV = path.join(AUDIO, process.env.TRIDENT_FAKE_MIC || 'call_2_calm.wav');
const SCREENSHOT = process.env.TRIDENT_SCREENSHOT || path.join(os.tmpdir(), 'trident-dashboard.png');
const QUEUES = ['Q1-IMMEDIATE', 'Q2-ELEVATED', 'Q3-MONITOR', 'Q5-ROUTINE', 'Q5-REVIEW'];
const SKIP = 77;

// ---- tiny test harness --------------------------------------------------------
const results = [];
async function step(name, fn) {
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok - ${name}`);
  } catch (err) {
    results.push([name, false]);
    const text = String(err && err.stack ? err.stack : err) + (err && err.cause ? `\ncause: ${err.cause.stack || err.cause}` : '');
    console.log(`not ok - ${name}\n  ${text.replace(/\n/g, '\n  ')}`);
  }
}
function check(cond, msg) {
  if (!cond) throw new Error(typeof msg === 'string' ? msg : JSON.stringify(msg));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, timeoutMs = 30000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

// ---- chromium -----------------------------------------------------------------
function findChromium() {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  for (const c of candidates) if (fs.existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : null;
}

// ---- the server ---------------------------------------------------------------
class Server {
  constructor(args, env = {}) {
    this.log = '';
    this.proc = spawn(BINARY, ['serve', '--port', '0', ...args], {
      env: { ...process.env, TRIDENT_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (d) => { this.log += d; });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    this.exited = new Promise((r) => this.proc.on('exit', (code, sig) => r({ code, sig })));
  }

  async ready() {
    const m = await until('the server to log its port', () => /Listening url=\S+ port=(\d+)/.exec(this.log), 30000);
    this.port = Number(m[1]);
    this.base = `http://127.0.0.1:${this.port}`;
    await until('TRIDENT backend ready', () => this.log.includes('TRIDENT backend ready'), 60000);
    return this;
  }

  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20000);
    await this.exited;
    clearTimeout(timer);
  }
}

// One request on a connection of its own (no keep-alive: the server closes an idle
// connection after 500 ms, and a pooled one reused at that moment fails with EPIPE).
// The path goes on the request line exactly as written (no normalisation).
function request(base, method, p, headers = {}, body = null) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, agent: false,
      headers: { ...headers, ...(body ? { 'Content-Length': body.length } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function getJson(base, p, token = null) {
  const r = await request(base, 'GET', p, token ? { Authorization: `Bearer ${token}` } : {});
  check(r.status === 200, `${p} answered ${r.status}`);
  return JSON.parse(r.body);
}

// A lifecycle POST as a dispatcher: {status, body}.
function postAs(base, p, token) {
  return request(base, 'POST', p, { Authorization: `Bearer ${token}` });
}

// POST /api/analyze, multipart field "file": {status, body} (body parsed when JSON).
async function upload(base, name, bytes, token = null) {
  const boundary = `----trident-test-${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: audio/wav\r\n\r\n`),
    bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const r = await request(base, 'POST', '/api/analyze', { 'Content-Type': `multipart/form-data; boundary=${boundary}`,
    ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body);
  let json = null;
  try { json = JSON.parse(r.body); } catch { /* not JSON */ }
  return { status: r.status, body: json };
}

// Uploads one file; resolves the stored call's id.
async function uploadTo(base, name, bytes, token = null) {
  const r = await upload(base, name, bytes, token);
  check(r.status === 200 && r.body && r.body.call_id, `upload ${name}: ${r.status}`);
  return r.body.call_id;
}

// 0.3 s of a 440-Hz tone, 16-kHz PCM16 WAV: no voice, no distress (Q5-REVIEW without a model).
function toneWav(seconds = 0.3, freq = 440) {
  const n = Math.round(16000 * seconds);
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(32000, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(6000 * Math.sin(2 * Math.PI * freq * i / 16000)), 44 + 2 * i);
  return b;
}
const TONE_WAV = toneWav();

// ---- main ---------------------------------------------------------------------
const chromiumPath = findChromium();
if (!chromiumPath) {
  console.log('SKIP: chromium not found (scripts/setup.sh installs Debian\'s chromium)');
  process.exit(SKIP);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (err) {
  console.log(`not ok - playwright-core is not installed: run npm ci --prefix tests/web (${err.message})`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
for (const f of [BINARY, MODEL, UPLOAD_WAV, MIC_WAV]) {
  if (!fs.existsSync(f)) {
    console.log(`not ok - missing ${f}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'trident-web-test-'));
const server = new Server(['--model', MODEL, '--db', path.join(TMP, 'calls.db'), '--web-root', path.join(SOURCE, 'web')]);
let other = null;
let context = null;
let floor = null;
let browser = null;
const TOKENS = {}; // name → the API token `trident token add` made for the dispatch floor
const consoleErrors = [];

try {
  await server.ready();
  const B = server.base;

  await step('the dashboard URL is logged at start-up', async () => {
    check(server.log.includes(`Dashboard url=http://127.0.0.1:${server.port}/dashboard/`), server.log);
  });

  await step('GET / is still the API info JSON', async () => {
    const r = await request(B, 'GET', '/');
    check(r.status === 200 && r.headers['content-type'] === 'application/json', r.headers);
    const info = JSON.parse(r.body);
    check(info.name && info.version && Array.isArray(info.endpoints) && info.endpoints.includes('GET /health'), info);
  });

  await step('static files: redirect, content types, caching headers, 304', async () => {
    const redirect = await request(B, 'GET', '/dashboard');
    check(redirect.status === 301 && redirect.headers.location === '/dashboard/', redirect);
    const types = {
      '/dashboard/': 'text/html', '/dashboard/index.html': 'text/html', '/dashboard/app.js': 'text/javascript',
      '/dashboard/pcm-worklet.js': 'text/javascript', '/dashboard/style.css': 'text/css', '/dashboard/icon.svg': 'image/svg+xml',
    };
    for (const [p, type] of Object.entries(types)) {
      const r = await request(B, 'GET', p);
      check(r.status === 200, `${p}: ${r.status}`);
      check(r.headers['content-type'].startsWith(type), `${p}: ${r.headers['content-type']}`);
      check(r.headers['cache-control'] === 'no-cache' && r.headers.etag, `${p}: ${JSON.stringify(r.headers)}`);
      check(r.headers['x-content-type-options'] === 'nosniff', r.headers);
      const again = await request(B, 'GET', p, { 'If-None-Match': r.headers.etag });
      check(again.status === 304 && again.body === '', `${p} revalidation: ${again.status}`);
    }
    const index = await request(B, 'GET', '/dashboard/');
    check(index.body === fs.readFileSync(path.join(SOURCE, 'web/index.html'), 'utf8'), 'index.html differs from web/index.html');
    const post = await request(B, 'POST', '/dashboard/', {}, Buffer.from('x'));
    check(post.status === 405, `POST /dashboard/: ${post.status}`);
  });

  await step('no directory traversal (plain and encoded) and no hidden files: 404', async () => {
    const attempts = [
      '/dashboard/../../etc/passwd', '/dashboard/../../../../../../etc/passwd', '/dashboard/%2e%2e/%2e%2e/etc/passwd',
      '/dashboard/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', '/dashboard/..%2f..%2f..%2fetc%2fpasswd',
      '/dashboard/%252e%252e%252f%252e%252e%252fetc%252fpasswd', '/dashboard/.%2e/.%2e/etc/passwd',
      '/dashboard/..%5c..%5cetc%5cpasswd', '/dashboard/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/dashboard//etc/passwd',
      '/dashboard/..', '/dashboard/../CMakeLists.txt', '/dashboard/%2e%2e/CMakeLists.txt', '/dashboard/.git/config',
      '/dashboard/nothere.js', '/dashboardx', '/dashboard/app.js/',
    ];
    for (const p of attempts) {
      const r = await request(B, 'GET', p);
      check(r.status === 404, `${p}: ${r.status}`);
      check(!r.body.includes('root:') && !r.body.includes('cmake_minimum_required'), `${p} leaked a file`);
      check(typeof JSON.parse(r.body).detail === 'string', `${p}: ${r.body}`);
    }
  });

  await step('web root from TRIDENT_WEB_ROOT: symbolic links out of the root are refused', async () => {
    const root = path.join(TMP, 'webroot');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>t</title>');
    fs.writeFileSync(path.join(root, 'sub', 'a.css'), 'body{}');
    fs.symlinkSync('/etc/passwd', path.join(root, 'leak.txt'));
    fs.symlinkSync(SOURCE, path.join(root, 'src'));
    other = await new Server(['--db', path.join(TMP, 'other.db')], { TRIDENT_WEB_ROOT: root }).ready();
    check(other.log.includes(`web_root=${fs.realpathSync(root)}`), other.log);
    check((await request(other.base, 'GET', '/dashboard/')).body.includes('<title>t</title>'), 'index from TRIDENT_WEB_ROOT');
    check((await request(other.base, 'GET', '/dashboard/sub/a.css')).headers['content-type'].startsWith('text/css'), 'sub/a.css');
    check((await request(other.base, 'GET', '/dashboard/leak.txt')).status === 404, 'symlink to /etc/passwd served');
    check((await request(other.base, 'GET', '/dashboard/src/CMakeLists.txt')).status === 404, 'symlinked directory served');
    check((await request(other.base, 'GET', '/dashboard/sub')).status === 404, 'directory served');
    await other.stop();
    other = null;
  });

  // ---- the browser ----
  const profile = fs.mkdtempSync(path.join(TMP, 'profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${MIC_WAV}`, '--autoplay-policy=no-user-gesture-required'],
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
  const offOrigin = [];
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(B) && !u.startsWith(B.replace('http', 'ws')) && !u.startsWith('data:') && !u.startsWith('blob:')) offOrigin.push(u);
  });

  await step('the page loads with no console errors and nothing from other origins', async () => {
    const r = await page.goto(`${B}/dashboard/`);
    check(r.status() === 200, r.status());
    check((await page.title()).includes('TRIDENT'), await page.title());
    await page.waitForFunction(() => document.querySelector('#queue-empty') && !document.querySelector('#queue-empty').hidden, null, { timeout: 15000 });
    await sleep(300);
    check(consoleErrors.length === 0, consoleErrors);
    check(offOrigin.length === 0, offOrigin);
  });

  await step('/health is shown in the header (model state, calls stored)', async () => {
    await page.waitForFunction(() => document.querySelector('#health').dataset.status === 'healthy', null, { timeout: 15000 });
    const health = await getJson(B, '/health');
    const model = await page.textContent('#health-model');
    check(model.includes('loaded') && model.includes(health.model.name), model);
    check((await page.textContent('#health-calls')) === String(health.total_calls), await page.textContent('#health-calls'));
    check((await page.textContent('#health-status')) === 'healthy', await page.textContent('#health-status'));
  });

  await step('the map of Jamaica is drawn locally (outline of ~40 points)', async () => {
    const points = await page.getAttribute('#map polygon.land', 'points');
    const pairs = points.trim().split(/\s+/);
    check(pairs.length >= 35, pairs.length);
    const box = await page.locator('#map svg').boundingBox();
    check(box && box.width > 250 && box.height > 80, box);
  });

  let uploaded = null;
  await step('uploading call_1_calm.wav through the form puts the call in the queue with its queue label', async () => {
    await page.setInputFiles('#upload-file', UPLOAD_WAV);
    await page.click('#upload-submit');
    const item = page.locator('#queue-list li.call');
    await until('the uploaded call in the queue', async () => (await item.count()) === 1, 180000, 250);
    const calls = (await getJson(B, '/api/calls')).calls;
    check(calls.length === 1 && calls[0].filename === 'call_1_calm.wav', calls.map((c) => c.filename));
    uploaded = calls[0];
    check(QUEUES.includes(uploaded.queue), uploaded.queue);
    check((await item.locator('.qbadge').textContent()) === uploaded.queue, await item.locator('.qbadge').textContent());
    check((await item.getAttribute('data-id')) === uploaded.id, 'data-id');
    await until('the upload status', async () => (await page.textContent('#upload-status')).includes(uploaded.queue), 10000);
    check(await page.locator('#upload-error').isHidden(), 'upload error shown');
    if (uploaded.flag_audio_review) check((await item.textContent()).includes('AUDIO REVIEW'), 'audio review flag not shown');
    if (uploaded.escalation_required) check((await item.textContent()).includes('ESCALATE'), 'escalation not shown');
    await until('the header count', async () => (await page.textContent('#health-calls')) === '1', 15000);
  });

  await step('clicking the call shows transcript, reasoning, dispatcher action, distress and a playable recording', async () => {
    check(uploaded, 'no uploaded call');
    await page.click(`#queue-list button[data-id="${uploaded.id}"]`);
    await page.waitForSelector('#detail-transcript', { timeout: 10000 });
    const a = uploaded.analysis;
    const norm = (s) => s.replace(/\s+/g, ' ').trim();
    check(norm(await page.textContent('#detail-transcript')) === norm(uploaded.transcript), 'transcript differs');
    check(uploaded.transcript.trim().length > 0, 'fixture model transcript empty');
    check((await page.textContent('#detail-reasoning')) === a.triage.reasoning, await page.textContent('#detail-reasoning'));
    check((await page.textContent('#detail-action')) === a.triage.dispatcher_action, await page.textContent('#detail-action'));
    check((await page.textContent('#detail-queue')) === uploaded.queue, 'detail queue');
    const distressRow = page.locator('.meter-row[data-signal="distress"]');
    check((await distressRow.locator('.meter-value').textContent()) === `${Math.round(uploaded.distress_score * 100)}%`, 'distress');
    const conf = page.locator('.meter-row[data-signal="confidence"]');
    check((await conf.locator('.meter-value').textContent()) === `${Math.round(uploaded.confidence * 100)}%`, 'confidence');
    check((await page.textContent('#detail')).includes(`${Math.round(a.bio_acoustic.f0_mean)} Hz`), 'mean F0');
    const src = await page.getAttribute('#detail-audio', 'src');
    check(src === `/api/calls/${uploaded.id}/audio`, src);
    const audio = await page.evaluate(async (s) => {
      const r = await fetch(s);
      return { status: r.status, type: r.headers.get('content-type'), size: (await r.arrayBuffer()).byteLength };
    }, src);
    check(audio.status === 200 && audio.type.startsWith('audio/wav') && audio.size > 44, audio);
    const duration = await page.waitForFunction(() => {
      const el = document.querySelector('#detail-audio');
      return el && el.readyState >= 1 && Number.isFinite(el.duration) ? el.duration : 0;
    }, null, { timeout: 15000 });
    check(Math.abs((await duration.jsonValue()) - uploaded.duration) < 0.2, 'audio element duration');
    check((await page.getAttribute(`#queue-list button[data-id="${uploaded.id}"]`, 'aria-current')) === 'true', 'selection');
  });

  await step('the queue refreshes in place (no re-created rows between polls)', async () => {
    await page.evaluate(() => { window.__row = document.querySelector('#queue-list li.call'); });
    const polls = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/calls?')).length);
    await until('two more polls', async () => (await page.evaluate(() => performance.getEntriesByType('resource')
      .filter((e) => e.name.includes('/api/calls?')).length)) >= polls + 2, 15000, 250);
    check(await page.evaluate(() => window.__row === document.querySelector('#queue-list li.call')), 'row was re-created');
  });

  await step('transcript evidence is highlighted on UTF-8 byte offsets', async () => {
    const text = 'Ayúdame — there is a fire at 12 King Street in Spanish Town, my granny is not breathing!';
    const r = spawnSync(BINARY, ['analyze', '--transcript', text, '--json'], { encoding: 'utf8' });
    check(r.status === 0, r.stderr);
    const evidence = JSON.parse(r.stdout).nlp.evidence;
    check(evidence.length >= 4, evidence);
    const marks = await page.evaluate(async ([t, ev]) => {
      const { renderTranscript } = await import('./transcript.js');
      const div = document.createElement('div');
      div.append(renderTranscript(t, ev));
      return { text: div.textContent, marks: [...div.querySelectorAll('mark')].map((m) => m.textContent) };
    }, [text, evidence]);
    check(marks.text === text, marks.text);
    for (const e of evidence) check(marks.marks.some((m) => m.includes(e.matched)), `no mark for ${e.matched}: ${marks.marks}`);
    check(marks.marks.includes('fire') && marks.marks.includes('Spanish Town'), marks.marks);
  });

  await step('the map plots a call at its latitude/longitude, coloured by queue', async () => {
    const placed = await page.evaluate(async () => {
      const { MapView } = await import('./map.js');
      const host = document.createElement('div');
      const note = document.createElement('p');
      const view = new MapView(host, note, () => {});
      const call = { id: 'x', queue: 'Q1-IMMEDIATE', created_at: new Date().toISOString(),
        analysis: { nlp: { entities: { location: { lat: 17.9911, lng: -76.9574, town: 'Spanish Town', parish: 'St. Catherine' } } } } };
      view.render([call, { id: 'y', queue: 'Q5-ROUTINE', analysis: null }], null);
      const poly = host.querySelector('polygon.land').points;
      const c = host.querySelector('.marker circle');
      const [xs, ys] = [[...poly].map((p) => p.x), [...poly].map((p) => p.y)];
      return { cls: c.parentNode.getAttribute('class'), cx: Number(c.getAttribute('cx')), cy: Number(c.getAttribute('cy')),
        minX: Math.min(...xs), maxX: Math.max(...xs), minY: Math.min(...ys), maxY: Math.max(...ys), note: note.textContent,
        label: c.parentNode.getAttribute('aria-label') };
    });
    check(placed.cls.includes('q1'), placed);
    check(placed.cx > placed.minX && placed.cx < placed.maxX && placed.cy > placed.minY && placed.cy < placed.maxY, placed);
    check(placed.label.includes('Spanish Town') && placed.note.includes('1 without a known location'), placed);
  });

  await step('labels: every control has an accessible name; the queue is keyboard-operable', async () => {
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, meter, progress, button, audio')]
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
      .map((el) => el.outerHTML.slice(0, 80)));
    check(unlabelled.length === 0, unlabelled);
    await page.focus(`#queue-list button[data-id="${uploaded.id}"]`);
    await page.keyboard.press('Enter');
    check((await page.getAttribute(`#queue-list button[data-id="${uploaded.id}"]`, 'aria-current')) === 'true', 'Enter selects');
  });

  let liveId = null;
  await step('a live call from the fake microphone shows processing_complete updates, then is stored in the queue', async () => {
    await page.click('#live-start');
    await page.waitForFunction(() => document.querySelector('#live').dataset.state === 'live', null, { timeout: 20000 });
    liveId = await page.getAttribute('#live', 'data-call-id');
    check(/^[0-9a-f-]{36}$/.test(liveId), liveId);
    await page.waitForFunction(() => Number(document.querySelector('#live').dataset.updates || 0) >= 1, null, { timeout: 120000 });
    check(QUEUES.includes(await page.textContent('#live-queue')), await page.textContent('#live-queue'));
    check(/^\d+%$/.test(await page.textContent('#live-confidence')), await page.textContent('#live-confidence'));
    check(/^\d+%$/.test(await page.textContent('#live-distress')), await page.textContent('#live-distress'));
    check((await page.textContent('#live-transcript')).trim().length > 0, 'live transcript empty');
    check(Number(await page.textContent('#live-utterances')) >= 1, await page.textContent('#live-utterances'));
    check((await page.textContent('#live-log')).includes('analysis: Q'), await page.textContent('#live-log'));
    // The call is in the queue while on the line.
    await until('the live call in the queue', async () => (await page.locator(`#queue-list button[data-id="${liveId}"]`).count()) === 1, 20000, 200);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-live.png') });
    await page.click('#live-end');
    await page.waitForFunction((id) => document.querySelector('#live').dataset.ended === id, liveId, { timeout: 60000 });
    await page.waitForFunction(() => document.querySelector('#live').dataset.state === 'idle', null, { timeout: 30000 });
    check((await page.textContent('#live-log')).includes('call ended'), await page.textContent('#live-log'));
    const stored = await getJson(B, `/api/live-calls/${liveId}`);
    check(stored.kind === 'live' && stored.status === 'completed' && stored.utterance_count >= 1, stored);
    const row = page.locator(`#queue-list button[data-id="${liveId}"]`);
    await until('the stored live call in the queue', async () => {
      const t = await row.textContent();
      return t.includes('Live call') && !t.includes('LIVE') && t.includes(stored.queue);
    }, 20000, 250);
    await row.click();
    await page.waitForFunction(() => document.querySelector('#detail-heading') && document.querySelector('#detail-heading').textContent === 'Live call', null, { timeout: 10000 });
    const audio = await page.evaluate(async () => {
      const r = await fetch(document.querySelector('#detail-audio').src);
      return r.status;
    });
    check(audio === 200, audio);
  });

  await step('no console errors during the session', async () => {
    check(consoleErrors.length === 0, consoleErrors);
    check(offOrigin.length === 0, offOrigin);
  });

  await step('screenshot at 1280×800', async () => {
    if (uploaded) await page.click(`#queue-list button[data-id="${uploaded.id}"]`);
    await sleep(300);
    await page.screenshot({ path: SCREENSHOT });
    check(fs.statSync(SCREENSHOT).size > 10000, 'screenshot too small');
    const overflow = await page.evaluate(() => ({ w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight }));
    check(overflow.w <= 1280 && overflow.h <= 800, `page scrolls at 1280×800: ${JSON.stringify(overflow)}`);
    console.log(`  screenshot: ${SCREENSHOT}`);
  });

  await step('an upload the server refuses shows its {"detail"}', async () => {
    const bad = Buffer.from('this is not audio at all, just text pretending to be a recording\n'.repeat(20));
    const direct = await upload(B, 'notes.wav', bad);
    check(direct.status === 400, direct.status);
    const detail = direct.body.detail;
    const before = consoleErrors.length;
    await page.setInputFiles('#upload-file', { name: 'notes.wav', mimeType: 'audio/wav', buffer: bad });
    await page.click('#upload-submit');
    await page.waitForSelector('#upload-error:not([hidden])', { timeout: 30000 });
    const shown = await page.textContent('#upload-error');
    check(shown.includes(detail), `${shown} / ${detail}`);
    // The browser itself logs the refused request ("Failed to load resource: ... 400"); nothing else.
    const fresh = consoleErrors.slice(before);
    check(fresh.every((e) => e.includes('400')), fresh);
    check(await page.locator('#upload-submit').isEnabled(), 'submit stays disabled');
  });

  // ---- the dispatch floor: a second server with API tokens (Alice and Bob dispatchers, Sue a
  // supervisor, Vera a viewer), no model (fast uploads, triaged on distress: with --distress-model
  // paper the calm recordings go to Q1-IMMEDIATE, a short tone to Q5-REVIEW) and --overdue-s 2; each
  // person signs in in a browser context of their own. The script reads and uploads as Sue.
  const FLOOR_DB = path.join(TMP, 'floor.db');
  for (const [name, role] of [['alice', 'dispatcher'], ['bob', 'dispatcher'], ['sue', 'supervisor'], ['vera', 'viewer']]) {
    const made = spawnSync(BINARY, ['token', 'add', '--db', FLOOR_DB, '--name', name[0].toUpperCase() + name.slice(1), '--role', role], { encoding: 'utf8' });
    check(made.status === 0 && made.stdout.trim().startsWith('trd_'), `token add ${name}: ${made.stderr}`);
    TOKENS[name] = made.stdout.trim();
  }
  floor = await new Server(['--db', FLOOR_DB, '--overdue-s', '2', '--distress-model', 'paper',
    '--web-root', path.join(SOURCE, 'web')]).ready();
  const F = floor.base;
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'] });
  const floorErrors = [];
  async function dispatcherPage(name, viewport = { width: 1280, height: 800 }) {
    const ctx = await browser.newContext({ viewport });
    await ctx.grantPermissions(['notifications'], { origin: F });
    // Records each desktop notification the page raises (the browser's own Notification still runs).
    await ctx.addInitScript(() => {
      window.__notifications = [];
      const Real = window.Notification;
      if (!Real) return;
      window.Notification = class extends Real {
        constructor(title, options) {
          window.__notifications.push({ title, body: options && options.body });
          super(title, options);
        }
        static get permission() { return Real.permission; }
        static requestPermission(...a) { return Real.requestPermission(...a); }
      };
    });
    const p = await ctx.newPage();
    p.on('console', (msg) => { if (msg.type() === 'error') floorErrors.push(`${name}: ${msg.text()}`); });
    p.on('pageerror', (err) => floorErrors.push(`${name}: page error: ${err.message}`));
    await p.goto(`${F}/dashboard/`);
    return p;
  }
  // The dashboard without a session goes to the sign-in page; the token brings it back, signed in.
  async function signIn(p, who) {
    await p.waitForURL(`${F}/dashboard/signin.html`, { timeout: 20000 });
    await p.fill('#signin-token', TOKENS[who]);
    await p.click('#signin-submit');
    await p.waitForURL(`${F}/dashboard/`, { timeout: 20000 });
    await p.waitForFunction(() => document.querySelector('#session').dataset.role !== 'none', null, { timeout: 10000 });
  }
  const rowOf = (p, id) => p.locator(`#queue-list li.call[data-id="${id}"]`);
  const pageOrder = (p) => p.$$eval('#queue-list li.call', (lis) => lis.map((li) => li.dataset.id));
  async function openCall(p, id) {
    await p.click(`#queue-list button[data-id="${id}"]`);
    await p.waitForFunction((cid) => {
      const b = document.querySelector(`#queue-list button[data-id="${cid}"]`);
      return b && b.getAttribute('aria-current') === 'true' && document.querySelector('#dispatch');
    }, id, { timeout: 10000 });
  }
  const apiCall = (id) => getJson(F, `/api/calls/${id}`, TOKENS.sue);
  const stateIs = (id, st) => until(`call ${id} ${st}`, async () => (await apiCall(id)).dispatch.state === st, 15000, 100);

  let pageA = null;
  let pageB = null;
  await step('each dispatcher signs in; the header names them and their role, and stays so on reload', async () => {
    pageA = await dispatcherPage('alice');
    await signIn(pageA, 'alice');
    check((await pageA.textContent('#me-name')) === 'Alice · dispatcher', await pageA.textContent('#me-name'));
    check(await pageA.locator('#take-next').isEnabled(), 'take next disabled for a dispatcher');
    check(await pageA.locator('#sign-out').isVisible(), 'no sign-out');
    await pageA.reload();
    await pageA.waitForFunction(() => document.querySelector('#me-name').textContent === 'Alice · dispatcher', null, { timeout: 10000 });
    pageB = await dispatcherPage('bob');
    await signIn(pageB, 'bob');
    check((await pageB.textContent('#me-name')) === 'Bob · dispatcher', await pageB.textContent('#me-name'));
    // Both have read the (empty) queue: what arrives from now on is new to them.
    for (const p of [pageA, pageB]) await p.waitForSelector('#queue-empty:not([hidden])', { timeout: 10000 });
    check(['events', 'polling'].includes(await pageA.getAttribute('#updates', 'data-mode')), 'update mode');
  });

  const ids = {};
  await step('the open queue is shown in the server\'s order: Q1 first, then the longest waiting', async () => {
    ids.tone1 = await uploadTo(F, 'tone1.wav', TONE_WAV, TOKENS.sue);
    ids.tone2 = await uploadTo(F, 'tone2.wav', TONE_WAV, TOKENS.sue);
    ids.calm = await uploadTo(F, 'call_1_calm.wav', fs.readFileSync(UPLOAD_WAV), TOKENS.sue);
    const api = (await getJson(F, '/api/queue', TOKENS.sue)).calls;
    check(api[0].id === ids.calm && api[0].dispatch.queue === 'Q1-IMMEDIATE', api.map((c) => c.dispatch.queue));
    check(api[1].id === ids.tone1 && api[2].id === ids.tone2, 'longest waiting first within a queue');
    await until('page A in the server order', async () => JSON.stringify(await pageOrder(pageA)) === JSON.stringify(api.map((c) => c.id)), 15000, 200);
  });

  await step('a new Q1 call raises the alert: banner, flashing tab title, a desktop notification, on every dashboard', async () => {
    for (const p of [pageA, pageB]) {
      await p.waitForSelector('#q1-alert:not([hidden])', { timeout: 15000 });
      await until('the title names the Q1 call', async () => (await p.title()).includes('Q1'), 10000, 100);
      const notes = await p.evaluate(() => window.__notifications);
      check(notes.length === 1 && notes[0].title === 'New Q1-IMMEDIATE call' && notes[0].body.includes('call_1_calm.wav'), notes);
    }
    const titles = new Set();
    await until('the title flashing', async () => { titles.add(await pageA.title()); return titles.size >= 2; }, 5000, 150);
    check([...titles].some((t) => t.startsWith('⚠ NEW Q1 CALL')), [...titles]);
    await pageB.click('#q1-alert-ack');
    check(await pageB.locator('#q1-alert').isHidden(), 'acknowledged alert still shown');
    await sleep(2200);
    check(!(await pageB.title()).includes('NEW Q1'), await pageB.title());
    check((await pageB.title()).startsWith('(1 Q1)'), await pageB.title());
  });

  await step('take next claims the Q1 call for the dispatcher; both dashboards show the claim', async () => {
    await pageA.click('#take-next');
    await pageA.waitForSelector('#take-next-status[data-result="claimed"]', { timeout: 10000 });
    check((await pageA.getAttribute('#take-next-status', 'data-call-id')) === ids.calm, 'not the Q1 call');
    const c = await apiCall(ids.calm);
    check(c.dispatch.state === 'claimed' && c.dispatch.claimed_by === 'Alice', c.dispatch);
    await until('detail shows the claim', async () => (await pageA.textContent('#dispatch-state')) === 'claimed by Alice', 10000);
    check(await pageA.locator('#q1-alert').isHidden(), 'taking the call acknowledges the alert');
    await until('my calls', async () => (await pageA.locator(`#mine-list li.call[data-id="${ids.calm}"]`).count()) === 1, 10000);
    await until('page B sees Alice\'s claim', async () => (await rowOf(pageB, ids.calm).textContent()).includes('CLAIMED · Alice'), 15000, 200);
    check((await pageB.locator('#mine-list li.call').count()) === 0, 'Bob has no calls');
  });

  await step('dispatch and resolve change the call\'s state (read back through the API) and fill the history', async () => {
    await pageA.click('#act-dispatch');
    await stateIs(ids.calm, 'dispatched');
    await until('detail shows dispatched', async () => (await pageA.textContent('#dispatch-state')) === 'dispatched by Alice', 10000);
    check(await pageA.locator(`#mine-list li.call[data-id="${ids.calm}"]`).count() === 1, 'a dispatched call stays in my calls');
    await pageA.click('#act-resolve');
    await stateIs(ids.calm, 'resolved');
    await until('history of three steps', async () => JSON.stringify(await pageA.$$eval('#history li', (lis) => lis.map((li) => li.dataset.action)))
      === JSON.stringify(['claim', 'dispatch', 'resolve']), 10000);
    const h = (await apiCall(ids.calm)).history;
    check(h.map((e) => `${e.by}:${e.action}`).join() === 'Alice:claim,Alice:dispatch,Alice:resolve', h);
    await until('resolved call out of my calls and the queue', async () =>
      (await pageA.locator(`#mine-list li.call[data-id="${ids.calm}"]`).count()) === 0 && (await rowOf(pageA, ids.calm).count()) === 0, 10000);
  });

  await step('claim, release and cancel from the call detail', async () => {
    await openCall(pageA, ids.tone1);
    await pageA.click('#act-claim');
    await stateIs(ids.tone1, 'claimed');
    await until('release offered', async () => pageA.locator('#act-release').isEnabled(), 10000);
    await pageA.click('#act-release');
    await stateIs(ids.tone1, 'waiting');
    await until('cancel offered', async () => pageA.locator('#act-cancel').isEnabled(), 10000);
    await pageA.click('#act-cancel');
    await stateIs(ids.tone1, 'cancelled');
    check((await apiCall(ids.tone1)).history.map((e) => e.action).join() === 'claim,release,cancel', 'history');
    await until('the page shows this call\'s history', async () => JSON.stringify(await pageA.$$eval('#history li', (lis) => lis.map((li) => li.dataset.action)))
      === JSON.stringify(['claim', 'release', 'cancel']), 10000);
  });

  let pageS = null;
  await step('override: not offered to a dispatcher; a supervisor\'s without a reason is refused, with one it moves the call and the reason is shown', async () => {
    await openCall(pageA, ids.tone2);
    check(await pageA.locator('#override-submit').isDisabled() && await pageA.locator('#override-reason').isDisabled(), 'override offered to a dispatcher');
    check(await pageA.locator('#override-who').isVisible(), 'no word on who overrides');
    pageS = await dispatcherPage('sue');
    await signIn(pageS, 'sue');
    check((await pageS.textContent('#me-name')) === 'Sue · supervisor', await pageS.textContent('#me-name'));
    await until('the call on Sue\'s page', async () => (await rowOf(pageS, ids.tone2).count()) === 1, 15000, 200);
    await openCall(pageS, ids.tone2);
    check(await pageS.locator('#override-who').isHidden(), 'supervisor told override is not theirs');
    await pageS.selectOption('#override-queue', 'Q2-ELEVATED');
    await pageS.fill('#override-reason', '   ');
    await pageS.click('#override-submit');
    await pageS.waitForSelector('#dispatch-message:not([hidden])', { timeout: 5000 });
    check((await pageS.textContent('#dispatch-message')).includes('reason'), await pageS.textContent('#dispatch-message'));
    await sleep(300);
    let c = await apiCall(ids.tone2);
    check(c.dispatch.queue_override === null && !c.history.some((e) => e.action === 'override'), c.dispatch);
    const reason = 'neighbour reports smoke from the roof';
    await pageS.fill('#override-reason', reason);
    await pageS.click('#override-submit');
    await until('the override stored', async () => (await apiCall(ids.tone2)).dispatch.queue_override === 'Q2-ELEVATED', 10000);
    c = await apiCall(ids.tone2);
    check(c.history.some((e) => e.action === 'override' && e.note === reason && e.by === 'Sue'), c.history);
    for (const p of [pageS, pageA]) {
      await until('the reason in the detail', async () => {
        const t = await p.textContent('#dispatch-override');
        return t.includes('Q2-ELEVATED') && t.includes(reason) && t.includes('Sue');
      }, 15000, 200);
      await until('the reason in the history', async () => (await p.locator('#history li[data-action="override"]').count()) === 1
        && (await p.textContent('#history li[data-action="override"]')).includes(reason), 10000);
      await until('the row moved to Q2', async () => (await rowOf(p, ids.tone2).locator('.qbadge').textContent()) === 'Q2-ELEVATED', 10000);
    }
    await pageS.context().close();
  });

  await step('a note appears in the history (page and API)', async () => {
    const note = 'caller rang back: two people hurt';
    await pageA.fill('#note-text', note);
    await pageA.click('#note-submit');
    await until('the note in the history', async () => (await pageA.locator('#history li[data-action="note"]').count()) === 1
      && (await pageA.textContent('#history li[data-action="note"]')).includes(note), 10000);
    check((await apiCall(ids.tone2)).history.some((e) => e.action === 'note' && e.note === note && e.by === 'Alice'), 'note not stored');
    check((await pageA.inputValue('#note-text')) === '', 'note field kept its text');
  });

  await step('a Q2 call waiting past --overdue-s is highlighted in the queue and the detail', async () => {
    await until('the server flags it', async () => (await getJson(F, '/api/queue', TOKENS.sue)).calls.some((c) => c.id === ids.tone2 && c.dispatch.overdue), 15000, 200);
    await until('the row highlighted', async () => (await rowOf(pageA, ids.tone2).getAttribute('class')).includes('overdue'), 15000, 200);
    check((await rowOf(pageA, ids.tone2).textContent()).includes('OVERDUE'), 'no overdue label');
    check(await pageA.locator('#dispatch .chip.overdue').isVisible(), 'no overdue chip in the detail');
    const bg = await rowOf(pageA, ids.tone2).locator('.call-item').evaluate((el) => getComputedStyle(el).backgroundColor);
    const plain = await pageA.evaluate(() => { const b = document.createElement('button'); b.className = 'call-item'; document.body.append(b);
      const c = getComputedStyle(b).backgroundColor; b.remove(); return c; });
    check(bg !== plain, `overdue background ${bg} = plain ${plain}`);
  });

  await step('mark a call a duplicate of another', async () => {
    ids.jfk = await uploadTo(F, 'jfk.wav', fs.readFileSync(path.join(AUDIO, 'jfk.wav')), TOKENS.sue);
    await until('the new call on page A', async () => (await rowOf(pageA, ids.jfk).count()) === 1, 15000, 200);
    await openCall(pageA, ids.jfk);
    await pageA.click('#act-duplicate');
    await pageA.waitForSelector('#duplicate-form:not([hidden])', { timeout: 5000 });
    await pageA.selectOption('#duplicate-of', ids.calm);
    await pageA.click('#duplicate-submit');
    await stateIs(ids.jfk, 'duplicate');
    check((await apiCall(ids.jfk)).dispatch.duplicate_of === ids.calm, 'duplicate_of');
    await until('the detail says so', async () => (await pageA.textContent('#dispatch-state')) === `duplicate of ${ids.calm}`, 10000);

  });

  await step('a step another dispatcher got to first: 409, and the page shows the call as it now is', async () => {
    await openCall(pageB, ids.tone2);
    await until('claim offered to Bob', async () => pageB.locator('#act-claim').isEnabled(), 10000);
    // Page B's reads are held (a slow network): it still shows the call waiting when Alice claims it.
    const held = [];
    const hold = (route) => (route.request().method() === 'GET' ? held.push(route) : route.continue());
    await pageB.route(/\/api\/(queue|calls|events)/, hold);
    const r = await postAs(F, `/api/calls/${ids.tone2}/claim`, TOKENS.alice);
    check(r.status === 200, r);
    check((await pageB.textContent('#dispatch-state')).startsWith('waiting'), 'page B was not stale');
    await pageB.click('#act-claim');
    await pageB.waitForSelector('#dispatch-message[data-kind="conflict"]:not([hidden])', { timeout: 10000 });
    const msg = await pageB.textContent('#dispatch-message');
    check(msg.includes('claimed by Alice'), msg);
    check((await pageB.textContent('#dispatch-state')) === 'claimed by Alice', await pageB.textContent('#dispatch-state'));
    check(await pageB.locator('#act-claim').isDisabled(), 'claim still offered after the conflict');
    await pageB.unroute(/\/api\/(queue|calls|events)/, hold);
    for (const route of held) await route.continue().catch(() => {});
    const c = await apiCall(ids.tone2);
    check(c.dispatch.claimed_by === 'Alice' && !c.history.some((e) => e.by === 'Bob'), c.history);
    const rel = await postAs(F, `/api/calls/${ids.tone2}/release`, TOKENS.alice);
    check(rel.status === 200, rel);
  });

  await step('two dashboards taking the next call as fast as they can never get the same call', async () => {
    for (let i = 0; i < 8; i++) await uploadTo(F, `burst${i}.wav`, TONE_WAV, TOKENS.sue);
    const waiting = (await getJson(F, '/api/queue', TOKENS.sue)).calls.filter((c) => c.dispatch.state === 'waiting').map((c) => c.id);
    check(waiting.length === 9, waiting.length);
    const takeAll = async (p) => {
      const got = [];
      for (let i = 0; i < 20; i++) {
        await p.click('#take-next');
        const handle = await p.waitForFunction(() => {
          const s = document.querySelector('#take-next-status');
          return !document.querySelector('#take-next').disabled && s.dataset.result ? [s.dataset.result, s.dataset.callId] : null;
        }, null, { timeout: 15000 });
        const [result, id] = await handle.jsonValue();
        if (result === 'none') return got;
        check(result === 'claimed', result);
        got.push(id);
      }
      throw new Error('take next never ran dry');
    };
    const [a, b] = await Promise.all([takeAll(pageA), takeAll(pageB)]);
    const both = a.filter((id) => b.includes(id));
    check(both.length === 0, `claimed by both: ${both}`);
    check(a.length + b.length === waiting.length && [...a, ...b].sort().join() === [...waiting].sort().join(), { a, b, waiting });
    for (const [who, got] of [['Alice', a], ['Bob', b]]) {
      for (const id of got) {
        const c = await apiCall(id);
        check(c.dispatch.state === 'claimed' && c.dispatch.claimed_by === who, c.dispatch);
        const last = c.history[c.history.length - 1];
        check(last.action === 'claim' && last.by === who, c.history);
      }
    }
    console.log(`  take-next: Alice ${a.length}, Bob ${b.length} of ${waiting.length}`);
    // Two calls whose histories are one claim each: opening one after the other shows each its own.
    for (const [who, id] of [['Bob', b[0]], ['Alice', a[0]], ['Bob', b[1]]]) {
      await openCall(pageA, id);
      await until(`${who}'s claim in the history`, async () => (await pageA.textContent('#history')).includes(`${who} claim`), 10000);
    }
    await until('my calls on both pages', async () => (await pageA.locator('#mine-list li.call').count()) === a.length
      && (await pageB.locator('#mine-list li.call').count()) === b.length, 15000, 200);
  });

  await step('a viewer reads the calls but is offered no change', async () => {
    const pageV = await dispatcherPage('vera');
    await signIn(pageV, 'vera');
    check((await pageV.textContent('#me-name')) === 'Vera · viewer', await pageV.textContent('#me-name'));
    check(await pageV.locator('#take-next').isDisabled(), 'take next offered to a viewer');
    await until('the queue on the viewer\'s page', async () => (await pageV.locator('#queue-list li.call').count()) > 0, 15000, 200);
    const first = await pageV.getAttribute('#queue-list li.call >> nth=0', 'data-id');
    await openCall(pageV, first);
    const enabled = await pageV.$$eval('#dispatch button, #dispatch input, #dispatch select', (els) => els.filter((e) => !e.disabled && !e.closest('[hidden]')).map((e) => e.id || e.textContent));
    check(enabled.length === 0, enabled);
    check((await pageV.textContent('#dispatch .dispatch-hint')).includes('viewer'), 'no viewer hint');
    await pageV.context().close();
  });

  for (const [w, hgt] of [[1024, 768], [1920, 1080]]) {
    await step(`layout at ${w}×${hgt}: the main controls are on screen, inside their panels, none overlapping`, async () => {
      await pageA.setViewportSize({ width: w, height: hgt });
      const mineFirst = await pageA.getAttribute('#mine-list li.call >> nth=0', 'data-id');
      await pageA.click(`#mine-list button[data-id="${mineFirst}"]`);
      await pageA.waitForFunction(() => document.querySelector('#dispatch') && document.querySelector('#dispatch').dataset.mine === 'true', null, { timeout: 10000 });
      await pageA.evaluate(() => { for (const el of document.querySelectorAll('.panel, .work-column, .side')) el.scrollTop = 0; });
      await sleep(300);
      const shot = SCREENSHOT.replace(/\.png$/, `-${w}x${hgt}.png`);
      await pageA.screenshot({ path: shot });
      console.log(`  screenshot: ${shot}`);
      const controls = ['#take-next', '#sign-out', '#queue-list li.call', '#mine-list li.call', '#act-claim', '#act-dispatch',
        '#act-resolve', '#act-release', '#act-cancel', '#act-duplicate', '#override-queue', '#override-reason',
        '#override-submit', '#note-text', '#note-submit', '#upload-submit', '#live-start', '#live-end'];
      const panels = ['header.top', '.work', '.queue', '.detail-panel', '.map-panel', '.upload-panel', '.live-panel'];
      const boxes = await pageA.evaluate(([cs, ps]) => {
        const box = (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
        const panelOf = (el) => el.closest('.panel, header.top');
        return {
          controls: cs.map((sel) => { const el = document.querySelector(sel); return el ? { sel, ...box(el), panel: box(panelOf(el)) } : { sel, missing: true }; }),
          panels: ps.map((sel) => ({ sel, ...box(document.querySelector(sel)) })),
          tiles: [...document.querySelectorAll('#queue-summary .qcount')].map((el) => ({ ...box(el), panel: box(panelOf(el)) })),
          scroll: { w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight },
        };
      }, [controls, panels]);
      const overlap = (a, b) => a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5;
      const inside = (a, p) => a.x >= p.x - 0.5 && a.y >= p.y - 0.5 && a.x + a.w <= p.x + p.w + 0.5 && a.y + a.h <= p.y + p.h + 0.5;
      check(boxes.scroll.w <= w && boxes.scroll.h <= hgt, `the page scrolls: ${JSON.stringify(boxes.scroll)}`);
      for (const c of boxes.controls) {
        check(!c.missing, `${c.sel} missing`);
        check(c.w > 0 && c.h > 0, `${c.sel} has no size`);
        check(c.x >= 0 && c.y >= 0 && c.x + c.w <= w && c.y + c.h <= hgt, `${c.sel} off screen: ${JSON.stringify(c)}`);
        check(inside(c, c.panel), `${c.sel} sticks out of its panel: ${JSON.stringify(c)}`);
      }
      for (let i = 0; i < boxes.controls.length; i++) {
        for (let j = i + 1; j < boxes.controls.length; j++) {
          check(!overlap(boxes.controls[i], boxes.controls[j]), `${boxes.controls[i].sel} overlaps ${boxes.controls[j].sel}`);
        }
      }
      for (let i = 0; i < boxes.panels.length; i++) {
        const p = boxes.panels[i];
        check(p.w > 0 && p.x >= 0 && p.x + p.w <= w, `${p.sel} off screen: ${JSON.stringify(p)}`);
        for (let j = i + 1; j < boxes.panels.length; j++) check(!overlap(p, boxes.panels[j]), `${p.sel} overlaps ${boxes.panels[j].sel}`);
      }
      check(boxes.tiles.length === 5 && boxes.tiles.every((t) => inside(t, t.panel)), `queue tiles clipped: ${JSON.stringify(boxes.tiles)}`);
    });
  }

  await step('the dispatch pages logged no errors but the 401 before signing in and the conflict (409)', async () => {
    const unexpected = floorErrors.filter((e) => !/status of (401|409)/.test(e));
    check(floorErrors.some((e) => e.includes('401')), 'no page went to sign in on a 401');
    check(unexpected.length === 0, unexpected);
    check(floorErrors.some((e) => e.includes('409')), 'the conflict was not a 409');
  });
} catch (err) {
  results.push(['setup', false]);
  console.log(`not ok - setup\n  ${err && err.stack ? err.stack : err}`);
} finally {
  if (context) await context.close().catch(() => {});
  if (browser) await browser.close().catch(() => {});
  if (other) await other.stop();
  if (floor) await floor.stop();
  await server.stop();
  const failed = results.filter(([, ok]) => !ok).length;
  if (failed) console.log(`--- server log ---\n${server.log.split('\n').slice(-40).join('\n')}`);
  if (failed && floor) console.log(`--- dispatch server log ---\n${floor.log.split('\n').slice(-40).join('\n')}`);
  fs.rmSync(TMP, { recursive: true, force: true });
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}
