// The foundation as a person uses it: the Japanese sign-in page with its banner, an
// administrator issuing a staff ID, the new person's forced password change and last-sign-in
// notice, the language switch, and an auditor reading the log. Screenshots go to e2e/screenshots.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, shot, DEMO_PASSWORD } from './harness.mjs';

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

test('the sign-in page is Japanese, shows the warning banner and switches to English', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.base}/login`);
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  assert.match(await page.textContent('[data-testid=banner]'), /許可された職員/);
  assert.equal(await page.textContent('button[type=submit]'), 'サインイン');
  await shot(page, 'login-ja');
  await page.click('text=English');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('button[type=submit]'), 'Sign in');
  assert.match(await page.textContent('[data-testid=banner]'), /authorized staff/);
  await shot(page, 'login-en');
  await page.click('text=日本語');
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  await page.close();
});

test('a wrong password gets one calm message that does not say whether the ID exists', async () => {
  const page = await browser.newPage();
  await signIn(page, server.base, 'takahashi.kenichi', 'not the password at all');
  const known = await page.textContent('[role=alert]');
  await signIn(page, server.base, 'no.such.person', 'not the password at all');
  const unknown = await page.textContent('[role=alert]');
  assert.equal(known, unknown);
  assert.match(known, /ログインIDまたはパスワードが正しくありません/);
  // The typed ID stays in the field; the password does not.
  assert.equal(await page.inputValue('#login_id'), 'no.such.person');
  assert.equal(await page.inputValue('#password'), '');
  await page.close();
});

test('an administrator issues a staff ID and the person changes the temporary password at first sign-in', async () => {
  const admin = await (await browser.newContext()).newPage();
  admin.on('dialog', (d) => d.accept());
  await signIn(admin, server.base, 'takahashi.kenichi');
  assert.match(await admin.textContent('h1'), /高橋 健一/);
  await admin.click('nav >> text=職員');
  await admin.click('text=職員IDの作成');
  await admin.fill('#login_id', 'aoki.haruka');
  await admin.fill('#display_name', '青木 遥');
  // Hiragana is accepted and stored as katakana.
  await admin.fill('#kana', 'あおき はるか');
  await admin.selectOption('#department_id', { label: '住民課' });
  await admin.fill('#title', '主事');
  await shot(admin, 'admin-new-user');
  await Promise.all([admin.waitForNavigation(), admin.click('button:has-text("作成する")')]);
  const temporary = (await admin.textContent('[data-testid=temporary-password]')).trim();
  assert.match(temporary, /^[A-Za-z0-9]{5}(-[A-Za-z0-9]{5}){3}$/);
  await shot(admin, 'admin-issued');
  await admin.click('nav >> text=職員');
  assert.match(await admin.textContent('table'), /青木 遥[\s\S]*アオキ　ハルカ/);
  assert.match(await admin.textContent('table'), /初回変更待ち/);
  await shot(admin, 'admin-users');

  const person = await (await browser.newContext()).newPage();
  await signIn(person, server.base, 'aoki.haruka', temporary);
  assert.ok(person.url().endsWith('/password'), person.url());
  assert.match(await person.textContent('.alert-info'), /パスワードを変更してください/);
  // Anything else sends the person back to the change form.
  await person.goto(`${server.base}/sessions`);
  assert.ok(person.url().endsWith('/password'));
  await person.fill('#current_password', temporary);
  await person.fill('#new_password', 'short');
  await person.fill('#confirm_password', 'short');
  await Promise.all([person.waitForNavigation(), person.click('form[action="/password"] button')]);
  assert.match(await person.textContent('[role=alert]'), /15文字以上/);
  await shot(person, 'password-too-short');
  const chosen = 'sunflowers along the river every august';
  await person.fill('#current_password', temporary);
  await person.fill('#new_password', chosen);
  await person.fill('#confirm_password', chosen);
  await Promise.all([person.waitForNavigation(), person.click('form[action="/password"] button')]);
  assert.match(await person.textContent('.alert-ok'), /パスワードを変更しました/);
  await person.click('nav >> text=ホーム');
  assert.match(await person.textContent('[data-testid=last-sign-in]'), /今回が初めてのサインインです/);
  await shot(person, 'home-first-sign-in');

  // One failed attempt, then a real sign-in: the notice shows the last sign-in and the failure.
  await person.click('button:has-text("サインアウト")');
  await signIn(person, server.base, 'aoki.haruka', 'a wrong guess by someone');
  await signIn(person, server.base, 'aoki.haruka', chosen);
  assert.match(await person.textContent('[data-testid=previous-sign-in]'), /^\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}$/);
  assert.equal(await person.textContent('[data-testid=failed-since]'), '1');
  // And when the previous session ended (the sign-out just before).
  assert.match(await person.textContent('[data-testid=previous-sign-out]'), /^\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}$/);
  await shot(person, 'home-last-sign-in');

  await person.click('text=English');
  assert.match(await person.textContent('[data-testid=last-sign-in]'), /Last sign-in/);
  await shot(person, 'home-en');
  await person.context().close();
  await admin.context().close();
});

test('an administrator suspends a user and a user signs out another device', async () => {
  const ctx = await browser.newContext();
  const admin = await ctx.newPage();
  admin.on('dialog', (d) => d.accept());
  await signIn(admin, server.base, 'takahashi.kenichi');
  const staffCtx = await browser.newContext();
  const staff = await staffCtx.newPage();
  await signIn(staff, server.base, 'watanabe.takuya');
  const other = await (await browser.newContext()).newPage();
  await signIn(other, server.base, 'watanabe.takuya');

  await staff.click('nav >> text=サインイン中の端末');
  assert.equal(await staff.locator('tbody tr').count(), 2);
  await shot(staff, 'sessions');
  await Promise.all([staff.waitForNavigation(), staff.locator('tbody tr:not(:has(.badge)) button').click()]);
  assert.equal(await staff.locator('tbody tr').count(), 1);
  await other.goto(`${other.url()}`);
  assert.ok(other.url().endsWith('/login'), 'the other device was signed out');

  await admin.goto(`${server.base}/admin/users`);
  await admin.click('text=渡辺 拓也');
  await Promise.all([admin.waitForNavigation(), admin.click('button:has-text("利用停止にする")')]);
  assert.match(await admin.textContent('.facts'), /利用停止/);
  assert.match(await admin.textContent('[role=status]'), /セッションはすべて終了/);
  await shot(admin, 'admin-user-suspended');
  await staff.reload();
  assert.ok(staff.url().endsWith('/login'), 'the suspended user is signed out at once');
  await Promise.all([admin.waitForNavigation(), admin.click('button:has-text("利用を再開する")')]);
  await ctx.close();
  await staffCtx.close();
  await other.context().close();
});

test('an auditor reads the audit log; staff do not see it', async () => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, server.base, 'nakamura.keiko');
  await page.click('nav >> text=監査ログ');
  assert.match(await page.textContent('table'), /サインイン/);
  assert.match(await page.textContent('table'), /職員ID作成/);
  await shot(page, 'audit-log');
  await page.selectOption('#action', 'auth.sign_in_failed');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("絞り込む")')]);
  const codes = await page.locator('tbody tr[data-code]').evaluateAll((rows) => rows.map((r) => r.dataset.code));
  assert.ok(codes.length > 0 && codes.every((c) => c === 'auth.sign_in_failed'), codes.join());
  await page.context().close();

  const staff = await (await browser.newContext()).newPage();
  await signIn(staff, server.base, 'sato.hanako');
  assert.equal(await staff.locator('nav >> text=監査ログ').count(), 0);
  const resp = await staff.goto(`${server.base}/audit`);
  assert.equal(resp.status(), 403);
  await staff.context().close();
});

test('the home page works on a smartphone-sized screen', async () => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
  const page = await ctx.newPage();
  await signIn(page, server.base, 'tanaka.misaki', DEMO_PASSWORD);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling (width ${width})`);
  await shot(page, 'mobile-home');
  await page.click('nav >> text=サインイン中の端末');
  await shot(page, 'mobile-sessions');
  await ctx.close();
});
