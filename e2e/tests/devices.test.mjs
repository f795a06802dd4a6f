// Registered internet devices (I5) as people meet them: a phone's first sign-in waits for the
// administrator's approval, the administrator approves it at 管理 › 端末, and when the phone is
// lost its owner reports it from the office PC and the phone is signed out at once.
// The server trusts 127.0.0.1 as its proxy, so each browser context says where it is.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, shot, DEMO_PASSWORD } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({
    env: { KAIRAN_ZONES_LGWAN: '10.0.0.0/8', KAIRAN_ZONES_TRUSTED_PROXIES: '127.0.0.1,::1' },
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const office = () => browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': '10.1.2.3' } });
const phone = () => browser.newContext({
  extraHTTPHeaders: { 'x-forwarded-for': '203.0.113.7' },
  viewport: { width: 390, height: 780 },
  userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1',
});

test('a phone waits for approval, is approved, and is cut off when reported lost', async () => {
  const mobile = await (await phone()).newPage();
  await mobile.goto(`${server.base}/login`);
  await mobile.fill('#login_id', 'sato.hanako');
  await mobile.fill('#password', DEMO_PASSWORD);
  await Promise.all([mobile.waitForNavigation(), mobile.click('form[action="/login"] button')]);
  assert.match(await mobile.textContent('[role=alert]'), /管理者の承認を待っています/);
  await shot(mobile, 'device-pending');

  const admin = await (await office()).newPage();
  admin.on('dialog', (d) => d.accept());
  await signIn(admin, server.base, 'takahashi.kenichi');
  await admin.click('nav a[href="/admin/devices"]');
  const row = admin.locator('[data-testid=devices] tbody tr').first();
  assert.match(await row.textContent(), /佐藤 花子/);
  assert.match(await row.textContent(), /承認待ち/);
  assert.match(await row.textContent(), /iPhone/);
  await shot(admin, 'devices-admin');
  await Promise.all([admin.waitForNavigation(), row.locator('button:has-text("承認する")').click()]);
  assert.match(await admin.locator('[data-testid=devices] tbody tr').first().textContent(), /利用中/);

  // Approved: the phone signs in (and, on the internet side, sets up its second factor).
  await signIn(mobile, server.base, 'sato.hanako');
  assert.match(await mobile.textContent('h1'), /佐藤 花子/);

  // Lost: reported from the office PC; the phone's page goes back to sign-in.
  const desk = await (await office()).newPage();
  desk.on('dialog', (d) => d.accept());
  await signIn(desk, server.base, 'sato.hanako');
  // The office PC's home page tells of the sign-in from the new phone, once.
  assert.match(await desk.textContent('[data-testid=new-device-notice]'), /新しい端末.*iPhone/);
  await shot(desk, 'device-new-notice');
  await desk.reload();
  assert.equal(await desk.locator('[data-testid=new-device-notice]').count(), 0);
  await desk.click('nav >> text=サインイン中の端末');
  const mine = desk.locator('[data-testid=my-devices] li').first();
  assert.match(await mine.textContent(), /利用中/);
  await shot(desk, 'devices-own');
  await Promise.all([desk.waitForNavigation(), mine.locator('button:has-text("紛失した")').click()]);
  assert.match(await desk.textContent('[role=status]'), /紛失として届け出ました/);
  await mobile.reload();
  assert.equal(new URL(mobile.url()).pathname, '/login');
  await mobile.fill('#login_id', 'sato.hanako');
  await mobile.fill('#password', DEMO_PASSWORD);
  await Promise.all([mobile.waitForNavigation(), mobile.click('form[action="/login"] button')]);
  assert.match(await mobile.textContent('[role=alert]'), /紛失の届出/);
  await shot(mobile, 'device-lost');
  for (const p of [mobile, admin, desk]) await p.context().close();
});

test("a phone's key stays in the phone: its copied cookie signs in nowhere else", async () => {
  const mobile = await (await phone()).newPage();
  await mobile.goto(`${server.base}/login`);
  await mobile.fill('#login_id', 'suzuki.shota');
  await mobile.fill('#password', DEMO_PASSWORD);
  await Promise.all([mobile.waitForNavigation(), mobile.click('form[action="/login"] button')]);
  assert.match(await mobile.textContent('[role=alert]'), /管理者の承認を待っています/);
  // The key was made in the phone's browser and cannot be read out, even by the page.
  const stored = await mobile.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('kairan-device', 1);
    req.onsuccess = () => {
      const get = req.result.transaction('keys').objectStore('keys').get('device-key-v1');
      get.onsuccess = () => resolve({
        extractable: get.result.privateKey.extractable,
        curve: get.result.privateKey.algorithm.namedCurve,
      });
      get.onerror = () => reject(get.error);
    };
    req.onerror = () => reject(req.error);
  }));
  assert.deepEqual(stored, { extractable: false, curve: 'P-256' });

  const admin = await (await office()).newPage();
  await signIn(admin, server.base, 'takahashi.kenichi');
  await admin.goto(`${server.base}/admin/devices`);
  const row = admin.locator('[data-testid=devices] tbody tr', { hasText: '鈴木' }).first();
  await Promise.all([admin.waitForNavigation(), row.locator('button:has-text("承認する")').click()]);
  await signIn(mobile, server.base, 'suzuki.shota');
  assert.match(await mobile.textContent('h1'), /鈴木/);

  // Someone copies the phone's device cookie into another browser: the password is right, the
  // cookie names the approved device, but the key is not there.
  const cookies = await mobile.context().cookies();
  const device = cookies.find((c) => c.name === 'kairan_device');
  assert.ok(device, 'the phone holds a device cookie');
  const copy = await phone();
  await copy.addCookies([device]);
  const other = await copy.newPage();
  await other.goto(`${server.base}/login`);
  await other.fill('#login_id', 'suzuki.shota');
  await other.fill('#password', DEMO_PASSWORD);
  await Promise.all([other.waitForNavigation(), other.click('form[action="/login"] button')]);
  assert.match(await other.textContent('[role=alert]'), /この端末の鍵を確認できませんでした/);
  await shot(other, 'device-key-refused');
  // The phone itself still signs in.
  await mobile.click('button:has-text("サインアウト")');
  await signIn(mobile, server.base, 'suzuki.shota');
  assert.match(await mobile.textContent('h1'), /鈴木/);
  for (const p of [mobile, admin, other]) await p.context().close();
});
