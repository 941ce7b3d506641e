// signin.test.mjs — signing in to the dashboard in a real browser.
//
// usage: node tests/web/signin.test.mjs TRIDENT_BINARY
//
// Makes a dispatcher token with `trident token add` in a temporary SQLite
// store, starts the real `trident serve` (no model) on a free loopback port,
// and drives Debian's chromium (playwright-core): the dashboard without a
// session goes to the sign-in page (api.js on 401); a wrong token shows the
// server's detail; the right one returns to the dashboard with an HttpOnly,
// SameSite=Strict session cookie that scripts cannot read and that the API
// accepts; signing out ends it. Exit 77 only when no chromium can be found.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BINARY = path.resolve(process.argv[2] || path.join(SOURCE, 'build/trident'));

let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (err) {
    failed++;
    console.log(`not ok - ${name}\n  ${String(err && err.stack ? err.stack : err).replace(/\n/g, '\n  ')}`);
  }
}
function check(cond, msg) {
  if (!cond) throw new Error(typeof msg === 'string' ? msg : JSON.stringify(msg));
}
async function until(what, fn, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const which = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
const chromiumPath = process.env.CHROMIUM || (which.status === 0 ? which.stdout.trim() : null);
if (!chromiumPath) {
  console.log('SKIP: chromium not found');
  process.exit(77);
}
const { chromium } = await import('playwright-core');

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'trident-signin-test-'));
const DB = path.join(TMP, 'calls.db');
const made = spawnSync(BINARY, ['token', 'add', '--db', DB, '--name', 'Sam', '--role', 'dispatcher'], { encoding: 'utf8' });
const TOKEN = made.stdout.trim();
if (made.status !== 0 || !TOKEN.startsWith('trd_')) {
  console.log(`not ok - trident token add: ${made.stderr}`);
  process.exit(1);
}

let log = '';
const proc = spawn(BINARY, ['serve', '--port', '0', '--db', DB, '--web-root', path.join(SOURCE, 'web')],
  { stdio: ['ignore', 'pipe', 'pipe'] });
proc.stdout.on('data', (d) => { log += d; });
proc.stderr.on('data', (d) => { log += d; });
const exited = new Promise((r) => proc.on('exit', (code) => r(code)));
let context = null;
try {
  const port = Number((await until('the port', async () => /Listening url=\S+ port=(\d+)/.exec(log)))[1]);
  const B = `http://127.0.0.1:${port}`;
  context = await chromium.launchPersistentContext(path.join(TMP, 'profile'), {
    executablePath: chromiumPath, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const page = context.pages()[0] || await context.newPage();

  await step('the dashboard without a session goes to the sign-in page', async () => {
    await page.goto(`${B}/dashboard/`);
    await page.waitForURL(`${B}/dashboard/signin.html`, { timeout: 20000 });
  });

  await step('a wrong token shows the server\'s detail and sets no cookie', async () => {
    await page.fill('#signin-token', `trd_${'0'.repeat(64)}`);
    await page.click('#signin-submit');
    await until('the error', async () => (await page.textContent('#signin-error')).includes('unknown or revoked token'));
    check((await context.cookies()).length === 0, await context.cookies());
  });

  await step('the right token returns to the dashboard with an HttpOnly SameSite=Strict cookie', async () => {
    await page.fill('#signin-token', TOKEN);
    await page.click('#signin-submit');
    await page.waitForURL(`${B}/dashboard/`, { timeout: 20000 });
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'trident_session');
    check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.path === '/' &&
      cookie.value.startsWith('trs_') && !cookie.value.includes(TOKEN), cookie);
    check(await page.evaluate(() => document.cookie) === '', 'scripts cannot read the cookie');
    const me = await page.evaluate(() => fetch('/api/session').then((r) => r.json()));
    check(me.name === 'Sam' && me.role === 'dispatcher' && me.auth === true, me);
    const calls = await page.evaluate(() => fetch('/api/calls').then((r) => r.status));
    check(calls === 200, `the API with the cookie: ${calls}`);
    // the dashboard's own refresh read the calls with the cookie (no 401, no redirect)
    await until('the queue', async () => /^\d+ open/.test(await page.textContent('#queue-total')));
    await until('the header names Sam', async () => (await page.textContent('#me-name')) === 'Sam · dispatcher');
    check(page.url() === `${B}/dashboard/`, page.url());
  });

  await step('the sign-in page says who is signed in, and signs out', async () => {
    await page.goto(`${B}/dashboard/signin.html`);
    await until('who', async () => (await page.textContent('#signin-who')).includes('Sam (dispatcher)'));
    await page.click('#signin-out');
    await until('signed out', async () => (await page.evaluate(() => fetch('/api/calls').then((r) => r.status))) === 401);
  });
} catch (err) {
  failed++;
  console.log(`not ok - ${err.stack || err}\n${log}`);
} finally {
  if (context) await context.close();
  proc.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) {
    failed++;
    console.log(`not ok - the server exited with ${code}\n${log}`);
  }
}
console.log(failed ? `${failed} failed` : 'all passed');
if (!failed) fs.rmSync(TMP, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
