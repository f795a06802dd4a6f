// Starts a real Kairan server with a fresh demo and a Chromium browser for each test file.
// The server binary is the one `cargo build` produced; Chromium is Debian's (/usr/bin/chromium).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO_PASSWORD = 'e2e demo password for browser tests';
export const SHOTS = join(root, 'e2e', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

// A private clamd (G9) with one test signature: the EICAR string. This machine cannot download
// ClamAV's databases, and the tests need to know exactly what is "malware".
async function startClamd(dir) {
  const db = join(dir, 'clamdb');
  mkdirSync(db, { recursive: true });
  const hex = Buffer.from('EICAR-STANDARD-ANTIVIRUS-TEST-FILE').toString('hex');
  writeFileSync(join(db, 'kairan-test.ndb'), `Kairan.Test.EICAR:0:*:${hex}\n`);
  const socket = join(dir, 'clamd.sock');
  const conf = join(dir, 'clamd.conf');
  writeFileSync(conf, `DatabaseDirectory ${db}\nLocalSocket ${socket}\nForeground yes\nStreamMaxLength 64M\nSelfCheck 0\nLogFile ${join(dir, 'clamd.log')}\n`);
  const proc = spawn('/usr/sbin/clamd', ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !existsSync(socket); i++) {
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!existsSync(socket)) {
    proc.kill('SIGKILL');
    let log = '';
    try { log = readFileSync(join(dir, 'clamd.log'), 'utf8'); } catch { /* no log yet */ }
    throw new Error(`clamd did not start (scripts/test-all installs clamav-daemon): ${log}`);
  }
  return { socket, stop: () => proc.kill('SIGKILL') };
}

export async function startServer({ clamd = false, env = {} } = {}) {
  const data = mkdtempSync(join(tmpdir(), 'kairan-e2e-'));
  const port = await freePort();
  const bin = process.env.KAIRAN_BIN || join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'debug', 'kairan');
  const scanner = clamd ? await startClamd(mkdtempSync(join(tmpdir(), 'kairan-e2e-clamd-'))) : null;
  const proc = spawn(bin, ['serve', '--demo', '--data', data, '--bind', `127.0.0.1:${port}`], {
    env: {
      ...process.env,
      KAIRAN_DEMO_PASSWORD: DEMO_PASSWORD,
      KAIRAN_LOG_LEVEL: 'warn',
      ...(scanner ? { KAIRAN_FILES_CLAMD: `unix:${scanner.socket}` } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  // WebAuthn (a later issue) needs "localhost", not 127.0.0.1.
  const base = `http://localhost:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok && output.includes('Demo logins')) break;
    } catch { /* not up yet */ }
    if (proc.exitCode !== null) throw new Error(`server exited: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    output: () => output,
    async stop() {
      proc.kill('SIGINT');
      await new Promise((r) => proc.once('exit', r));
      scanner?.stop();
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

// The test's authenticator apps, by server and login ID: what a phone would hold.
const apps = new Map();

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0; let value = 0; const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { bits -= 8; out.push((value >>> bits) & 0xff); }
  }
  return Buffer.from(out);
}

// RFC 6238: HMAC-SHA1 over the 30-second step, six digits.
export function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigInt64BE(BigInt(step));
  const h = createHmac('sha1', secret).update(counter).digest();
  const o = h[19] & 0x0f;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

const nowStep = () => Math.floor(Date.now() / 1000 / 30);

// The next code the app would show that no earlier sign-in used, inside the server's window.
export async function nextCode(base, login) {
  const app = apps.get(`${base}|${login}`);
  if (!app) throw new Error(`${login} has no authenticator in this test`);
  for (;;) {
    const step = Math.max(app.last, nowStep() - 1) + 1;
    if (step <= nowStep() + 1) { app.last = step; return totp(app.secret, step); }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// On the set-up screen: read the key as a person types it into their app, give the first code.
export async function enrolOnPage(page, base, login) {
  const secret = base32Decode(await page.textContent('[data-testid=totp-secret]'));
  const step = nowStep();
  apps.set(`${base}|${login}`, { secret, last: step });
  await page.fill('#code', totp(secret, step));
  await Promise.all([page.waitForNavigation(), page.click('form[action="/mfa/setup"] button')]);
}

// Signs in as a person does: the password, then the second factor when it is asked for (a
// privileged ID sets up its app at first sign-in, then gives a code each time).
export async function signIn(page, base, login, password = DEMO_PASSWORD) {
  await page.goto(`${base}/login`);
  await page.fill('#login_id', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button')]);
  const path = new URL(page.url()).pathname;
  if (path === '/mfa/setup') {
    await enrolOnPage(page, base, login);
    // The recovery codes, shown once; "kept them, continue".
    await Promise.all([page.waitForNavigation(), page.click('[data-testid=recovery-codes] ~ .button-row a')]);
  } else if (path === '/mfa') {
    await page.fill('#code', await nextCode(base, login));
    await Promise.all([page.waitForNavigation(), page.click('form[action="/mfa"] button')]);
  }
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
