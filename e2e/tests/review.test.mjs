// An auditor reads a talk of the body for an audit (G7): the reason comes first, the reading is
// recorded and listed, and the text is shown as text. Screenshots go to e2e/screenshots.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, shot } from './harness.mjs';

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

test('an auditor states a reason, reads a talk, and finds the reading on record', async () => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, server.base, 'nakamura.keiko');
  await page.click('nav >> text=トークの閲覧（監査）');
  await page.waitForSelector('#reason');
  const liaison = await page.$eval('#talk', (sel) => [...sel.options].find((o) => o.textContent.startsWith('住民課・福祉課 連絡')).value);
  await page.selectOption('#talk', liaison);
  // Too short a reason is refused on the page, keeping the choice.
  await page.fill('#reason', '確認のため');
  // Bypass the browser's own minlength check to see the server's answer.
  await page.$eval('form.review-form', (f) => { f.noValidate = true; });
  await page.click('form.review-form button[type=submit]');
  await page.waitForSelector('#reason-error');
  assert.match(await page.textContent('#reason-error'), /10文字以上/);
  assert.equal(await page.inputValue('#talk'), liaison);
  await page.fill('#reason', '窓口応援の依頼に関する定期監査（監査計画 2026-3）');
  await page.click('form.review-form button[type=submit]');
  await page.waitForSelector('.review-result');
  assert.match(await page.textContent('.review-result [role=status]'), /記録されました/);
  // The demo's liaison talk: five messages (the attempt with a My Number was never stored).
  assert.equal(await page.locator('.review-msg').count(), 5);
  assert.match(await page.textContent('.review-result'), /窓口応援/);
  // The corrected message shows its earlier version.
  await page.click('.review-result details summary');
  assert.match(await page.textContent('.review-result details'), /9時〜12時でよろしいですか/);
  // The reading is listed with its reason.
  assert.match(await page.textContent('table.audit'), /定期監査（監査計画 2026-3）/);
  await shot(page, 'review-talk');
  // Phone width: nothing runs off the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(overflow, false);
  await shot(page, 'review-talk-phone');
});
