// Classification and personal-data protection as people use them: a section head clears a
// talk for the top class, a message carries its class and keeps it when forwarded, and the
// security officer is told of a stopped My Number and reads the detections page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, shot } from './harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('a section head clears a talk for the top class; a forward keeps its class', async () => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, server.base, 'ito.makoto');
  await page.goto(`${server.base}/talks`);
  // The demo's cleared talk shows its ceiling; the liaison group shows the default one.
  await page.click('#talks a:has-text("個人情報の照会")');
  await page.waitForSelector('#composer:not([hidden])');
  assert.equal(await page.textContent('[data-testid="talk-class"]'), '上限 機密性 第1種');
  // The messages arrive after the talk's header: wait for them as a reader would.
  await page.waitForSelector('#messages article.msg');
  assert.ok(await page.locator('[data-testid="class"]:has-text("機密性 第1種")').count() >= 1, 'the birth date message is marked');
  await shot(page, 'protection-cleared-talk');

  // A new group starts at 第2種; its creator, a section head, raises it in the panel.
  await page.click('text=新しいトーク');
  await page.check('input[value="group"]');
  await page.fill('#talk-name', '相談記録の確認');
  await page.fill('#people-filter', 'すずき');
  await page.check('#people input[type=checkbox]');
  await page.click('#new-talk button[type=submit]');
  await page.waitForFunction(() => document.getElementById('talk-title').textContent === '相談記録の確認');
  assert.equal(await page.textContent('[data-testid="talk-class"]'), '上限 機密性 第2種');
  await page.click('[data-testid="talk-class"]');
  await page.waitForSelector('#class-panel:not([hidden])');
  await shot(page, 'protection-class-panel');
  await page.selectOption('#class-ceiling', '2');
  await page.click('#class-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('[data-testid="talk-class"]').textContent === '上限 機密性 第1種');

  // The composer offers classes up to the ceiling; a 第2種 message is marked.
  await page.selectOption('#msg-class', '1');
  await page.fill('#body', '来年度の体制案（公表前）を共有します。');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#messages article.msg [data-testid="class"]:has-text("機密性 第2種")');

  // Forward it into the liaison group (ceiling 第2種): it keeps its class there.
  const msg = page.locator('#messages article.msg').last();
  await msg.hover();
  await msg.locator('[data-act="forward"]').click();
  await page.waitForSelector('#forward:not([hidden])');
  const liaison = await page.locator('#forward-talk option', { hasText: '住民課・福祉課 連絡' }).getAttribute('value');
  await page.selectOption('#forward-talk', liaison);
  await shot(page, 'protection-forward');
  await page.click('#forward-send');
  await page.waitForSelector('#forward', { state: 'hidden' });
  await page.click('#talks a:has-text("住民課・福祉課 連絡")');
  await page.waitForSelector('#messages article.msg .forwarded');
  const last = page.locator('#messages article.msg').last();
  assert.match(await last.textContent(), /来年度の体制案/);
  assert.match(await last.locator('[data-testid="class"]').textContent(), /機密性 第2種/);

  // A staff member cannot raise a talk to the top class: the menu does not offer it.
  const staff = await (await browser.newContext()).newPage();
  await signIn(staff, server.base, 'suzuki.shota');
  await staff.goto(`${server.base}/talks`);
  await staff.click('#talks a:has-text("住民課・福祉課 連絡")');
  await staff.waitForSelector('#composer:not([hidden])');
  await staff.click('[data-testid="talk-class"]');
  const options = await staff.locator('#class-ceiling option').allTextContents();
  assert.deepEqual(options, ['機密性 第2種']);
  await page.context().close();
  await staff.context().close();
});

test('the security officer is told of a stopped My Number and sees no value anywhere', async () => {
  const officer = await (await browser.newContext()).newPage();
  await signIn(officer, server.base, 'sasaki.yumi');
  // Officers work on the chat screen like everyone; its live connection carries the alert.
  await officer.goto(`${server.base}/talks`);
  // The demo's stopped attempt is already waiting.
  await officer.waitForSelector('[data-testid="notifications"]:not([hidden])');
  const before = Number(await officer.textContent('[data-testid="notifications"]'));
  assert.ok(before >= 1);

  const staff = await (await browser.newContext()).newPage();
  await signIn(staff, server.base, 'tanaka.misaki');
  await staff.goto(`${server.base}/talks`);
  await staff.click('text=新しいトーク');
  await staff.fill('#people-filter', 'かとう');
  await staff.check('#people input[type=radio]');
  await staff.click('#new-talk button[type=submit]');
  await staff.waitForSelector('#composer:not([hidden])');
  await staff.fill('#body', '申請者の個人番号は4321 8765 0000 です');
  await staff.keyboard.press('Enter');
  await staff.waitForSelector('#dlp:not([hidden])');

  // The officer's count rises live, without reloading.
  await shot(staff, 'protection-staff-stopped');
  await officer.waitForFunction((n) => Number(document.querySelector('[data-testid="notifications"]').textContent) > n, before);
  await officer.click('nav a[href="/protection"]');
  await officer.waitForSelector('table.dlp-events');
  const rows = await officer.locator('table.dlp-events tbody tr').allTextContents();
  assert.ok(rows.some((r) => r.includes('田中 美咲') && r.includes('個人番号') && r.includes('送信を止めました')), rows.join('\n'));
  assert.ok(!(await officer.content()).includes('8765 0000'), 'no detected value on the page');
  await shot(officer, 'protection-events');
  assert.equal(await officer.isVisible('[data-testid="notifications"]'), false, 'reading the page clears the count');

  // The settings page lists every kind with its action.
  await officer.click('nav a[href="/protection/settings"]');
  await officer.waitForSelector('table.rules');
  assert.equal(await officer.inputValue('select[name="action.my_number"]'), 'mask');
  await officer.selectOption('select[name="action.passport_number"]', 'block');
  await officer.click('form[action="/protection/settings"] button[type=submit]');
  await officer.waitForSelector('.alert-ok');
  assert.equal(await officer.inputValue('select[name="action.passport_number"]'), 'block');
  await shot(officer, 'protection-settings');
  await officer.context().close();
  await staff.context().close();
});
