// Starts a real Kairan server with a fresh demo and a Chromium browser for each test file.
// The server binary is the one `cargo build` produced; Chromium is Debian's (/usr/bin/chromium).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';

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

export async function signIn(page, base, login, password = DEMO_PASSWORD) {
  await page.goto(`${base}/login`);
  await page.fill('#login_id', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button')]);
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
