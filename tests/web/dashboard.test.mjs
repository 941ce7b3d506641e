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
// Screenshot: $TRIDENT_SCREENSHOT or /tmp/trident-dashboard.png.
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
    console.log(`not ok - ${name}\n  ${String(err && err.stack ? err.stack : err).replace(/\n/g, '\n  ')}`);
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

// A raw GET: the path goes on the request line exactly as written (no normalisation).
function rawGet(base, rawPath, headers = {}) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: 'GET', path: rawPath, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function getJson(base, p) {
  const r = await fetch(base + p);
  check(r.ok, `${p} answered ${r.status}`);
  return r.json();
}

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
const consoleErrors = [];

try {
  await server.ready();
  const B = server.base;

  await step('the dashboard URL is logged at start-up', async () => {
    check(server.log.includes(`Dashboard url=http://127.0.0.1:${server.port}/dashboard/`), server.log);
  });

  await step('GET / is still the API info JSON', async () => {
    const r = await rawGet(B, '/');
    check(r.status === 200 && r.headers['content-type'] === 'application/json', r.headers);
    const info = JSON.parse(r.body);
    check(info.name && info.version && Array.isArray(info.endpoints) && info.endpoints.includes('GET /health'), info);
  });

  await step('static files: redirect, content types, caching headers, 304', async () => {
    const redirect = await rawGet(B, '/dashboard');
    check(redirect.status === 301 && redirect.headers.location === '/dashboard/', redirect);
    const types = {
      '/dashboard/': 'text/html', '/dashboard/index.html': 'text/html', '/dashboard/app.js': 'text/javascript',
      '/dashboard/pcm-worklet.js': 'text/javascript', '/dashboard/style.css': 'text/css', '/dashboard/icon.svg': 'image/svg+xml',
    };
    for (const [p, type] of Object.entries(types)) {
      const r = await rawGet(B, p);
      check(r.status === 200, `${p}: ${r.status}`);
      check(r.headers['content-type'].startsWith(type), `${p}: ${r.headers['content-type']}`);
      check(r.headers['cache-control'] === 'no-cache' && r.headers.etag, `${p}: ${JSON.stringify(r.headers)}`);
      check(r.headers['x-content-type-options'] === 'nosniff', r.headers);
      const again = await rawGet(B, p, { 'If-None-Match': r.headers.etag });
      check(again.status === 304 && again.body === '', `${p} revalidation: ${again.status}`);
    }
    const index = await rawGet(B, '/dashboard/');
    check(index.body === fs.readFileSync(path.join(SOURCE, 'web/index.html'), 'utf8'), 'index.html differs from web/index.html');
    const post = await fetch(`${B}/dashboard/`, { method: 'POST', body: 'x' });
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
      const r = await rawGet(B, p);
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
    check((await rawGet(other.base, '/dashboard/')).body.includes('<title>t</title>'), 'index from TRIDENT_WEB_ROOT');
    check((await rawGet(other.base, '/dashboard/sub/a.css')).headers['content-type'].startsWith('text/css'), 'sub/a.css');
    check((await rawGet(other.base, '/dashboard/leak.txt')).status === 404, 'symlink to /etc/passwd served');
    check((await rawGet(other.base, '/dashboard/src/CMakeLists.txt')).status === 404, 'symlinked directory served');
    check((await rawGet(other.base, '/dashboard/sub')).status === 404, 'directory served');
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
    const form = new FormData();
    form.append('file', new Blob([bad]), 'notes.wav');
    const direct = await fetch(`${B}/api/analyze`, { method: 'POST', body: form });
    check(direct.status === 400, direct.status);
    const detail = (await direct.json()).detail;
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
} catch (err) {
  results.push(['setup', false]);
  console.log(`not ok - setup\n  ${err && err.stack ? err.stack : err}`);
} finally {
  if (context) await context.close().catch(() => {});
  if (other) await other.stop();
  await server.stop();
  const failed = results.filter(([, ok]) => !ok).length;
  if (failed) console.log(`--- server log ---\n${server.log.split('\n').slice(-40).join('\n')}`);
  fs.rmSync(TMP, { recursive: true, force: true });
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}
