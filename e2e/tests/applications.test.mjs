// Guest applications (issue 10) as people meet them: a section head fills in the guest form
// in Japanese (an IME Enter never submits it; a period past 31 March is refused with the last
// allowed day, everything typed kept), submits it; the administrator sees the count beside
// 申請, approves from the queue; the section head finds the invitation to pass on; the guest
// opens it in another browser, sets a password, signs in and sees an empty talk list.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, shot as fullShot } from './harness.mjs';

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

// Dates as the server sees them: the calendar in Japan (UTC+9, no daylight saving).
const jstToday = () => new Date(Date.now() + 9 * 3600e3).toISOString().slice(0, 10);
const fiscalYearEnd = (iso) => {
  const [y, m] = iso.split('-').map(Number);
  return `${m >= 4 ? y + 1 : y}-03-31`;
};
const nextDay = (iso) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
};

// Full-page screenshots from the top, so the sticky header stays where people see it.
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await fullShot(page, name);
}

const noHorizontalScroll = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);

test('a section head applies for a guest, an administrator approves, the guest accepts and signs in', async () => {
  const today = jstToday();
  const last = fiscalYearEnd(today);

  // ---- 伊藤 誠 (section head) fills in the form ----
  const ito = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' })).newPage();
  await signIn(ito, server.base, 'ito.makoto');
  await Promise.all([ito.waitForNavigation(), ito.click('nav >> text=申請')]);
  assert.equal(new URL(ito.url()).pathname, '/applications');
  assert.match(await ito.textContent('[data-testid=mine-empty]'), /申請はまだありません/);
  await Promise.all([ito.waitForNavigation(), ito.click('text=ゲストの利用を申請する')]);
  assert.equal(new URL(ito.url()).pathname, '/applications/new');
  // The last allowed day is named in the Japanese calendar.
  assert.match(await ito.textContent('[data-testid=end-hint]'), /令和\d+年3月31日まで/);

  await ito.fill('#purpose', '令和8年度総合防災訓練の合同準備');
  await ito.fill('#need', '訓練資料の確認と日程の調整を、毎日短いやり取りで進めるため');
  await ito.fill('#guest_name', '山田 花子');
  await ito.fill('#guest_affiliation', '株式会社東山防災');
  await ito.fill('#guest_email', 'hanako.yamada@example.co.jp');
  await ito.fill('#start_date', today);
  await ito.fill('#end_date', nextDay(last));
  await ito.check('#environment_confirmed');

  // IME, Chromium order: Enter arrives while composing (isComposing, keyCode 229).
  await ito.evaluate(() => {
    const t = document.getElementById('guest_name');
    t.dispatchEvent(new CompositionEvent('compositionstart', { data: '' }));
    const e = new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', isComposing: true, bubbles: true, cancelable: true });
    Object.defineProperty(e, 'keyCode', { value: 229 });
    t.dispatchEvent(e);
    window.__imeEnterPrevented = e.defaultPrevented;
    t.dispatchEvent(new CompositionEvent('compositionend', { data: '山田 花子' }));
  });
  assert.equal(await ito.evaluate(() => window.__imeEnterPrevented), true, 'the composing Enter is held back');
  // A real Enter key pressed while a composition is open (Safari's order ends it afterwards).
  await ito.focus('#guest_affiliation');
  await ito.evaluate(() => document.getElementById('guest_affiliation').dispatchEvent(new CompositionEvent('compositionstart', { data: '' })));
  await ito.keyboard.press('Enter');
  await ito.evaluate(() => document.getElementById('guest_affiliation').dispatchEvent(new CompositionEvent('compositionend', { data: '株式会社東山防災' })));
  await ito.waitForTimeout(400);
  assert.equal(new URL(ito.url()).pathname, '/applications/new', 'an IME Enter did not submit the form');
  assert.equal(await ito.inputValue('#guest_affiliation'), '株式会社東山防災');
  await shot(ito, 'applications-form');

  // Past 31 March: refused, the end date marked, what was typed kept.
  await Promise.all([ito.waitForNavigation(), ito.click('[data-testid=submit-application]')]);
  assert.match(await ito.textContent('[data-testid=form-error]'), /年度末（令和\d+年3月31日）までの日付を指定してください/);
  assert.equal(await ito.getAttribute('#end_date', 'aria-invalid'), 'true');
  assert.equal(await ito.evaluate(() => document.activeElement?.id), 'end_date', 'focus is on the field to mend');
  assert.equal(await ito.inputValue('#purpose'), '令和8年度総合防災訓練の合同準備');
  assert.equal(await ito.inputValue('#guest_name'), '山田 花子');
  assert.equal(await ito.inputValue('#end_date'), nextDay(last));
  assert.equal(await ito.isChecked('#environment_confirmed'), true);
  await shot(ito, 'applications-form-error');
  // The same form on a phone.
  await ito.setViewportSize({ width: 375, height: 812 });
  assert.ok(await noHorizontalScroll(ito), 'the form fits a phone');
  await shot(ito, 'applications-form-375');
  await ito.setViewportSize({ width: 1280, height: 900 });

  await ito.fill('#end_date', last);
  await Promise.all([ito.waitForNavigation(), ito.click('[data-testid=submit-application]')]);
  assert.match(await ito.textContent('[data-testid=app-state]'), /申請中/);
  assert.match(await ito.textContent('[data-testid=done]'), /申請しました/);
  const detail = ito.url().split('?')[0];
  await Promise.all([ito.waitForNavigation(), ito.click('text=申請の一覧に戻る')]);
  assert.match(await ito.textContent('[data-testid=row-state]'), /申請中/);
  assert.match(await ito.textContent('[data-testid=mine-list]'), /令和\d+年\d+月\d+日～令和\d+年3月31日/);
  await shot(ito, 'applications-list');
  await ito.setViewportSize({ width: 375, height: 812 });
  assert.ok(await noHorizontalScroll(ito), 'the list fits a phone');
  await shot(ito, 'applications-list-375');
  await ito.setViewportSize({ width: 1280, height: 900 });
  // The same screens in English.
  await ito.goto(`${server.base}/lang/en?next=/applications`);
  assert.match(await ito.textContent('[data-testid=new-application]'), /Apply for a guest/);
  assert.match(await ito.textContent('[data-testid=mine-list]'), /Submitted/);
  await ito.goto(detail);
  assert.match(await ito.textContent('h1'), /Guest access application/);
  assert.match(await ito.textContent('[data-testid=app-period]'), /\d+ \w+ \d{4} – 31 March \d{4}/);
  await shot(ito, 'applications-detail-en');
  await ito.goto(`${server.base}/lang/ja?next=/applications`);

  // ---- 高橋 健一 (administrator) approves from the queue ----
  const taka = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' })).newPage();
  await signIn(taka, server.base, 'takahashi.kenichi');
  await taka.waitForSelector('[data-testid=application-queue-count]:not([hidden])');
  assert.match(await taka.textContent('[data-testid=application-queue-count]'), /^1/);
  await Promise.all([taka.waitForNavigation(), taka.click('nav >> text=申請')]);
  assert.match(await taka.textContent('[data-testid=queue-list]'), /山田 花子/);
  assert.match(await taka.textContent('[data-testid=queue-list]'), /伊藤 誠/);
  await shot(taka, 'applications-queue');
  await Promise.all([taka.waitForNavigation(), taka.click('[data-testid=queue-list] a:has-text("山田 花子")')]);
  assert.equal(await taka.locator('[data-testid=approve]').count(), 1);
  assert.equal(await taka.locator('[data-testid=withdraw]').count(), 0);
  await shot(taka, 'applications-detail-approver');
  await Promise.all([taka.waitForNavigation(), taka.click('[data-testid=approve]')]);
  assert.match(await taka.textContent('[data-testid=done]'), /承認しました/);
  assert.match(await taka.textContent('[data-testid=guest-login-id]'), /^guest-[0-9a-f]{8}$/);
  assert.match(await taka.textContent('[data-testid=guest-status]'), /利用中/);
  assert.equal(await taka.locator('[data-testid=invitation-path]').count(), 0, 'the administrator never sees the link');
  await shot(taka, 'applications-detail-approved-admin');

  // ---- 伊藤 誠 finds the invitation to pass on ----
  await ito.goto(detail);
  await ito.waitForSelector('[data-testid=invitation-card]');
  const path = await ito.getAttribute('[data-testid=invitation-path]', 'data-path');
  assert.match(path, /^\/invite\/[0-9a-f]{64}$/);
  assert.equal((await ito.textContent('[data-testid=invitation-path]')).trim(), `${server.base}${path}`);
  const loginId = (await ito.textContent('[data-testid=guest-login-id]')).trim();
  assert.match(await ito.textContent('[data-testid=invitation-card]'), /1回だけ使えます/);
  await ito.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  await ito.click('[data-testid=invitation-card] button[data-copy]');
  await ito.waitForFunction(() => document.querySelector('[data-copy-status]')?.textContent !== '');
  assert.match(await ito.textContent('[data-copy-status]'), /コピーしました/);
  assert.equal(await ito.evaluate(() => navigator.clipboard.readText()), `${server.base}${path}`);
  await shot(ito, 'applications-invitation');
  await ito.setViewportSize({ width: 375, height: 812 });
  assert.ok(await noHorizontalScroll(ito), 'the invitation fits a phone');
  await shot(ito, 'applications-invitation-375');
  await ito.setViewportSize({ width: 1280, height: 900 });

  // ---- the guest, in a browser of their own ----
  const guest = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
  await guest.goto(`${server.base}${path}`);
  assert.match(await guest.textContent('[data-testid=invite]'), /山田 花子/);
  const password = 'joint drill preparation passphrase 2026';
  await guest.fill('#new_password', password);
  await guest.fill('#confirm_password', password);
  await Promise.all([guest.waitForNavigation(), guest.click('form[action^="/invite/"] button')]);
  assert.equal((await guest.textContent('[data-testid=invite-done] [data-testid=invite-login-id]')).trim(), loginId);
  await signIn(guest, server.base, loginId, password);
  await guest.goto(`${server.base}/talks`);
  await guest.waitForSelector('#talks li.empty');
  assert.equal(await guest.locator('#talks li a').count(), 0, 'a guest sees no talk until invited into one');
  assert.equal(await guest.locator('nav >> text=申請').count(), 0);
  await shot(guest, 'applications-guest-talks');

  // The link worked once: the applicant's card now says it was used.
  await ito.reload();
  assert.equal(await ito.locator('[data-testid=invitation-path]').count(), 0);
  assert.match(await ito.textContent('[data-testid=invitation-used]'), /パスワードを設定しました/);
  const again = await (await browser.newContext()).newPage();
  await again.goto(`${server.base}${path}`);
  assert.match(await again.textContent('[data-testid=invite-gone]'), /使用済み/);
});
