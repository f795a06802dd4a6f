// Two-factor authentication (I3) as people meet it: an administrator's first sign-in sets up
// an authenticator app from the QR screen, keeps the recovery codes, and gives a code at the
// next sign-in; a recovery code stands in for a lost phone; an administrator resets someone's
// second factor with a reason and that person is told; the body's sign-in settings.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, shot, enrolOnPage, nextCode, DEMO_PASSWORD } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function passwordStep(page, login) {
  await page.goto(`${server.base}/login`);
  await page.fill('#login_id', login);
  await page.fill('#password', DEMO_PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button')]);
}

test('an administrator sets up an authenticator app at first sign-in and gives a code the next time', async () => {
  const page = await (await browser.newContext()).newPage();
  await passwordStep(page, 'takahashi.kenichi');
  assert.equal(new URL(page.url()).pathname, '/mfa/setup');
  assert.match(await page.textContent('[role=status]'), /2要素認証/);
  // The QR code is a drawing in the page (no script, no image fetched elsewhere).
  assert.equal(await page.locator('.qr svg').count(), 1);
  assert.match(await page.textContent('[data-testid=totp-secret]'), /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
  // Nothing else opens before the set-up is finished.
  await page.goto(`${server.base}/talks`);
  assert.equal(new URL(page.url()).pathname, '/mfa/setup');
  await shot(page, 'mfa-setup');

  // A mistyped code keeps the same key on screen, with the reason.
  const key = await page.textContent('[data-testid=totp-secret]');
  await page.fill('#code', '000000');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/mfa/setup"] button')]);
  assert.match(await page.textContent('[role=alert]'), /確認コードが正しくない/);
  assert.equal(await page.textContent('[data-testid=totp-secret]'), key);

  await enrolOnPage(page, server.base, 'takahashi.kenichi');
  const codes = (await page.locator('[data-testid=recovery-codes] code').allTextContents());
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  await shot(page, 'mfa-recovery-codes');
  await Promise.all([page.waitForNavigation(), page.click('text=保管しました。続ける')]);
  assert.match(await page.textContent('h1'), /高橋 健一/);

  // 2要素認証 in the menu: set up, ten codes, and no way to turn it off for a privileged ID.
  await page.click('nav >> text=2要素認証');
  assert.match(await page.textContent('[data-testid=mfa-status]'), /登録済み/);
  assert.equal((await page.textContent('[data-testid=codes-left]')).trim(), '10');
  assert.equal(await page.locator('text=2要素認証を解除する').count(), 0);
  await shot(page, 'mfa-settings');

  // Next sign-in: the password, then the code.
  await page.click('button:has-text("サインアウト")');
  await passwordStep(page, 'takahashi.kenichi');
  assert.equal(new URL(page.url()).pathname, '/mfa');
  await page.fill('#code', '123456');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/mfa"] button')]);
  assert.match(await page.textContent('[role=alert]'), /確認コードが正しくない/);
  await shot(page, 'mfa-verify-error');
  // Digits typed full-width (an IME left on) are read as digits.
  const code = await nextCode(server.base, 'takahashi.kenichi');
  const fullWidth = [...code].map((d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0)).join('');
  await page.fill('#code', fullWidth);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/mfa"] button')]);
  assert.match(await page.textContent('h1'), /高橋 健一/);

  // A recovery code stands in for the phone, once.
  await page.click('button:has-text("サインアウト")');
  await passwordStep(page, 'takahashi.kenichi');
  await page.fill('#code', codes[0].toLowerCase());
  await Promise.all([page.waitForNavigation(), page.click('form[action="/mfa"] button')]);
  assert.match(await page.textContent('h1'), /高橋 健一/);
  await page.click('nav >> text=2要素認証');
  assert.equal((await page.textContent('[data-testid=codes-left]')).trim(), '9');
  await page.context().close();
});

test('an administrator resets a lost second factor with a reason and the person is told', async () => {
  const officer = await (await browser.newContext()).newPage();
  await signIn(officer, server.base, 'sasaki.yumi');
  assert.match(await officer.textContent('h1'), /佐々木 由美/);

  const admin = await (await browser.newContext()).newPage();
  admin.on('dialog', (d) => d.accept());
  await signIn(admin, server.base, 'takahashi.kenichi');
  await admin.click('nav >> text=職員');
  await admin.click('text=佐々木 由美');
  assert.match(await admin.textContent('[data-testid=user-mfa]'), /登録済み/);
  // Too short a reason is stopped in the form (the server refuses it too: see the API suite).
  await admin.fill('#reason', '紛失');
  assert.equal(await admin.$eval('#reason', (el) => el.checkValidity()), false);
  await admin.fill('#reason', 'スマートフォン紛失の届出（総務課）を受けたため');
  await shot(admin, 'mfa-admin-reset');
  await Promise.all([admin.waitForNavigation(), admin.click('button:has-text("2要素認証をリセットする")')]);
  assert.match(await admin.textContent('[role=status]'), /リセットしました/);
  assert.match(await admin.textContent('[data-testid=user-mfa]'), /未登録/);

  // The officer's open page is signed out; the next sign-in sets up a new app and tells why.
  await officer.reload();
  assert.equal(new URL(officer.url()).pathname, '/login');
  await passwordStep(officer, 'sasaki.yumi');
  assert.equal(new URL(officer.url()).pathname, '/mfa/setup');
  await enrolOnPage(officer, server.base, 'sasaki.yumi');
  await Promise.all([officer.waitForNavigation(), officer.click('text=保管しました。続ける')]);
  const notice = await officer.textContent('[data-testid=mfa-reset-notice]');
  assert.match(notice, /管理者があなたの2要素認証をリセットしました/);
  assert.match(notice, /スマートフォン紛失の届出/);
  await shot(officer, 'mfa-reset-notice');
  await officer.context().close();
  await admin.context().close();
});

test('the administrator chooses who must use a second factor', async () => {
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, server.base, 'takahashi.kenichi');
  await admin.click('nav >> text=サインインの設定');
  // Privileged roles are always required and cannot be unticked.
  assert.equal(await admin.isChecked('input[name=role][value=admin]'), true);
  assert.equal(await admin.isDisabled('input[name=role][value=admin]'), true);
  assert.equal(await admin.isChecked('input[name=device][value=internet_device]'), true);
  await admin.check('input[name=role][value=section_head]');
  await shot(admin, 'mfa-sign-in-settings');
  await Promise.all([admin.waitForNavigation(), admin.click('form[action="/admin/sign-in"] button')]);
  assert.match(await admin.textContent('[role=status]'), /保存しました/);
  assert.equal(await admin.isChecked('input[name=role][value=section_head]'), true);

  // A section head is now taken to the set-up at sign-in; staff are not.
  const head = await (await browser.newContext()).newPage();
  await passwordStep(head, 'ito.makoto');
  assert.equal(new URL(head.url()).pathname, '/mfa/setup');
  const staff = await (await browser.newContext({ viewport: { width: 375, height: 740 } })).newPage();
  await passwordStep(staff, 'sato.hanako');
  assert.equal(new URL(staff.url()).pathname, '/');
  // The set-up screen on a phone-sized screen.
  await head.setViewportSize({ width: 375, height: 740 });
  await shot(head, 'mfa-setup-phone');
  for (const p of [admin, head, staff]) await p.context().close();
});

test('a CSIRT member registers a passkey at first sign-in and confirms with it the next time', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Chromium's virtual authenticator (DevTools protocol, WebAuthn domain): a platform
  // authenticator that verifies the user, as Windows Hello or Touch ID would.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });

  await passwordStep(page, 'yamaguchi.daisuke');
  assert.equal(new URL(page.url()).pathname, '/mfa/setup');
  await page.fill('#passkey_name', '執務室のパソコン');
  await shot(page, 'passkey-setup');
  await page.click('button:has-text("パスキーを登録する")');
  await page.waitForSelector('[data-codes-panel]:not([hidden])');
  const codes = await page.locator('[data-codes-panel] code').allTextContents();
  assert.equal(codes.length, 10);
  assert.equal(await page.isVisible('[data-testid=totp-secret]'), false);
  await shot(page, 'passkey-recovery-codes');
  await Promise.all([page.waitForNavigation(), page.click('[data-codes-panel] a')]);
  assert.match(await page.textContent('h1'), /山口 大輔/);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].rpId, 'localhost');

  // Next sign-in: one button, the authenticator answers, and the person is in.
  await page.click('button:has-text("サインアウト")');
  await passwordStep(page, 'yamaguchi.daisuke');
  assert.equal(new URL(page.url()).pathname, '/mfa');
  await shot(page, 'passkey-verify');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("パスキーで確認する")')]);
  assert.match(await page.textContent('h1'), /山口 大輔/);
  const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(after.credentials[0].signCount, 2);

  // The key is listed by its name; the code remains a way in (a recovery code here).
  await page.click('nav >> text=2要素認証');
  assert.match(await page.textContent('[data-testid=passkeys]'), /執務室のパソコン/);
  await shot(page, 'passkey-settings');

  // On a PC without the key, a recovery code still opens the way.
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
  await page.click('button:has-text("サインアウト")');
  await passwordStep(page, 'yamaguchi.daisuke');
  await page.fill('#code', codes[0]);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/mfa"] button')]);
  assert.match(await page.textContent('h1'), /山口 大輔/);
  await context.close();
});

test("the administrator sets the body's sign-in message and idle limit, and staff see the message", async () => {
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, server.base, 'takahashi.kenichi');
  await admin.click('nav >> text=サインインの設定');
  const form = admin.locator('[data-testid=screen-form]');
  // The server's default idle limit is shown as the empty field's placeholder.
  assert.equal(await admin.inputValue('#idle_minutes'), '');
  assert.equal(await admin.getAttribute('#idle_minutes', 'placeholder'), '30');
  await admin.fill('#message_ja', '東山町職員専用の業務用チャットです。\n業務以外の目的で利用しないでください。');
  // A word where a number belongs: refused with the field's name, and nothing typed is lost.
  await admin.fill('#idle_minutes', '一時間');
  await Promise.all([admin.waitForNavigation(), form.locator('button').click()]);
  assert.match(await admin.textContent('[data-testid=screen-error]'), /自動サインアウトまでの時間/);
  assert.match(await admin.inputValue('#message_ja'), /東山町職員専用/);
  assert.equal(await admin.inputValue('#idle_minutes'), '一時間');
  // Full-width digits typed with the IME on are read as digits.
  await admin.fill('#idle_minutes', '６０');
  await Promise.all([admin.waitForNavigation(), form.locator('button').click()]);
  assert.match(await admin.textContent('[role=status]'), /保存しました/);
  assert.equal(await admin.inputValue('#idle_minutes'), '60');
  await shot(admin, 'sign-in-screen-settings');

  // The body's sign-in page (the address the page gives) shows the message, line by line.
  const hint = await admin.textContent('#message-help code');
  assert.equal(hint, '/login?org=higashiyama-town');
  const visitor = await (await browser.newContext({ viewport: { width: 375, height: 740 } })).newPage();
  await visitor.goto(`${server.base}${hint}`);
  assert.match(await visitor.textContent('[data-testid=banner]'), /東山町職員専用の業務用チャットです。/);
  assert.match(await visitor.textContent('.login-head'), /東山町/);
  await shot(visitor, 'sign-in-body-message-phone');
  // Another body's page keeps the server's warning.
  await visitor.goto(`${server.base}/login?org=kitahama-city`);
  assert.doesNotMatch(await visitor.textContent('[data-testid=banner]'), /東山町職員専用/);
  for (const p of [admin, visitor]) await p.context().close();
});

test('the administrator sets up directory sign-in (LDAP / Active Directory) on the sign-in settings page', async () => {
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, server.base, 'takahashi.kenichi');
  await admin.click('nav >> text=サインインの設定');
  const card = admin.locator('[data-testid=directory-card]');
  assert.match(await card.locator('h2').textContent(), /ディレクトリ連携（LDAP \/ Active Directory）/);
  assert.match(await admin.textContent('[data-testid=directory-status]'), /未設定/);
  await admin.fill('#directory_url', 'ldap://ad.higashiyama.lg.jp:389');
  await admin.fill('#directory_bind_dn', '{login}@higashiyama.local');
  await admin.fill('#directory_user_base', 'ou=職員,dc=higashiyama,dc=local');
  await admin.fill('#directory_user_filter', '(&(sAMAccountName={login})(!(userAccountControl:1.2.840.113556.1.4.803:=2)))');
  await admin.fill('#directory_group_base', 'ou=groups,dc=higashiyama,dc=local');
  await admin.fill('#directory_role_groups', 'cn=kacho,ou=groups,dc=higashiyama,dc=local => section_head');
  await admin.fill('#directory_department_groups',
    'cn=soumu,ou=groups,dc=higashiyama,dc=local => 総務課\ncn=joho,ou=groups,dc=higashiyama,dc=local => 情報政策課');
  // Plain LDAP would carry the password unencrypted: refused, and nothing typed is lost.
  const save = card.locator('[data-testid=directory-form] button[type=submit]');
  await Promise.all([admin.waitForNavigation(), save.click()]);
  assert.match(await admin.textContent('[data-testid=directory-error]'), /StartTLS/);
  assert.equal(await admin.inputValue('#directory_url'), 'ldap://ad.higashiyama.lg.jp:389');
  assert.match(await admin.inputValue('#directory_department_groups'), /情報政策課/);
  // With StartTLS it is saved.
  await admin.check('[data-testid=directory-form] input[name=starttls]');
  await Promise.all([admin.waitForNavigation(), save.click()]);
  assert.match(await admin.textContent('[role=status]'), /保存しました/);
  assert.match(await admin.textContent('[data-testid=directory-status]'), /設定済み/);
  assert.equal(await admin.inputValue('#directory_url'), 'ldap://ad.higashiyama.lg.jp:389');
  assert.equal(await admin.inputValue('#directory_timeout'), '5');
  assert.equal(await admin.locator('[data-testid=directory-remove] button').count(), 1);
  await shot(admin, 'sign-in-directory');
  await admin.context().close();
});
