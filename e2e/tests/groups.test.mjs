// Inter-body groups (団体間グループ) as people meet them: a section head of 東山町 applies for a
// group with 北浜市, naming one colleague and asking 北浜市 in words; 東山町's administrator
// approves for 東山町 with the colleague already ticked; 北浜市's administrator finds it in
// their queue, is offered only 北浜市 staff, ticks one and approves; the talk is made at once.
// The 北浜市 member opens it from their talk list (団体間グループ badge) and writes; the section
// head sees the message as 「名前（北浜市）」 and 北浜市 beside that member in the member list.

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

// Full-page screenshots from the top, so the sticky header stays where people see it.
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await fullShot(page, name);
}

const noHorizontalScroll = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
const desk = () => browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
const bodyRow = (page, name) => page.locator(`section[data-testid=bodies] tr[data-testid=body-row]:has-text("${name}")`);
const TALK = '合同防災訓練 窓口連携';

test('a section head applies for a group with 北浜市, both bodies approve with their own staff, and the members talk across bodies', async () => {
  const today = jstToday();
  const last = fiscalYearEnd(today);

  // ---- 伊藤 誠 (住民課長, 東山町) fills in the group form ----
  const ito = await (await desk()).newPage();
  await signIn(ito, server.base, 'ito.makoto');
  await Promise.all([ito.waitForNavigation(), ito.click('nav >> text=申請')]);
  await Promise.all([ito.waitForNavigation(), ito.click('[data-testid=new-group-application]')]);
  assert.equal(new URL(ito.url()).pathname, '/applications/new/group');
  assert.match(await ito.textContent('[data-testid=end-hint]'), /令和\d+年3月31日まで/);
  // Only 東山町 staff to choose from, never the applicant, and 北浜市 as the other body.
  const ownList = await ito.textContent('[data-testid=own-members]');
  assert.match(ownList, /佐藤 花子/);
  assert.doesNotMatch(ownList, /伊藤 誠/, 'the applicant is in anyway and is not offered');
  assert.doesNotMatch(ownList, /松本 優花|森 隆/, 'no other body\'s staff');
  assert.match(await ito.textContent('ul[data-testid=bodies]'), /北浜市/);
  assert.doesNotMatch(await ito.textContent('ul[data-testid=bodies]'), /東山町/, 'never the own body');

  await ito.fill('#purpose', '令和8年度 東山町・北浜市合同防災訓練の住民窓口の連携');
  await ito.fill('#need', '両団体の住民課が訓練当日の避難者受付の手順を同じ場で確認し、変更をすぐに共有するため');
  await ito.fill('#talk_name', TALK);
  await ito.check('[data-testid=own-members] li:has-text("佐藤 花子") input[type=checkbox]');
  const kitahama = ito.locator('ul[data-testid=bodies] li:has-text("北浜市")');
  await kitahama.locator('input[data-body-check]').check();
  await kitahama.locator('input[data-requested]').fill('住民課の担当者1名');
  await ito.fill('#start_date', today);
  await ito.fill('#end_date', last);
  await shot(ito, 'groups-form');
  // The same form on a phone.
  await ito.setViewportSize({ width: 390, height: 844 });
  assert.ok(await noHorizontalScroll(ito), 'the group form fits a phone');
  await shot(ito, 'groups-form-390');
  await ito.setViewportSize({ width: 1280, height: 900 });

  await Promise.all([ito.waitForNavigation(), ito.click('[data-testid=submit-application]')]);
  assert.match(new URL(ito.url()).pathname, /^\/applications\/[^/]+$/);
  const detail = ito.url().split('?')[0];
  assert.match(await ito.textContent('[data-testid=app-state]'), /申請中/);
  assert.equal(await ito.textContent('[data-testid=talk-name]'), TALK);
  assert.equal(await bodyRow(ito, '東山町').count(), 1);
  assert.equal(await bodyRow(ito, '北浜市').count(), 1);
  assert.match(await bodyRow(ito, '東山町').textContent(), /佐藤 花子/, 'the colleague the applicant named');
  assert.match(await bodyRow(ito, '北浜市').textContent(), /住民課の担当者1名/);
  for (const name of ['東山町', '北浜市']) {
    assert.match(await bodyRow(ito, name).locator('[data-testid=body-approval]').textContent(), /承認待ち/);
  }
  assert.equal(await ito.locator('[data-testid=open-talk]').count(), 0);
  await shot(ito, 'groups-detail-submitted');

  // ---- 高橋 健一 (東山町's administrator) approves for 東山町 ----
  const taka = await (await desk()).newPage();
  await signIn(taka, server.base, 'takahashi.kenichi');
  await taka.goto(detail);
  assert.equal(await taka.isChecked('[data-testid=members] li:has-text("佐藤 花子") input'), true, 'the named colleague comes ticked');
  assert.doesNotMatch(await taka.textContent('[data-testid=members]'), /伊藤 誠|松本 優花/);
  assert.match(await taka.textContent('[data-testid=approve]'), /自団体として承認する/);
  await shot(taka, 'groups-detail-approver-town');
  await Promise.all([taka.waitForNavigation(), taka.click('[data-testid=approve]')]);
  assert.match(await taka.textContent('[data-testid=done]'), /他の団体の承認を待っています/);
  assert.match(await bodyRow(taka, '東山町').locator('[data-testid=body-approval]').textContent(), /承認済み/);
  assert.match(await bodyRow(taka, '東山町').locator('[data-testid=body-members]').textContent(), /佐藤 花子/);
  assert.match(await bodyRow(taka, '北浜市').locator('[data-testid=body-approval]').textContent(), /承認待ち/);
  assert.match(await taka.textContent('[data-testid=app-state]'), /申請中/);
  assert.equal(await taka.locator('[data-testid=approve]').count(), 0, 'a body approves once');

  // ---- 森 隆 (北浜市's administrator), in a browser of their own ----
  const mori = await (await desk()).newPage();
  await signIn(mori, server.base, 'mori.takashi');
  await mori.waitForSelector('[data-testid=application-queue-count]:not([hidden])');
  assert.match(await mori.textContent('[data-testid=application-queue-count]'), /^1/);
  await Promise.all([mori.waitForNavigation(), mori.click('nav >> text=申請')]);
  assert.match(await mori.textContent('main'), /承認待ち/);
  const queue = await mori.textContent('[data-testid=queue-list]');
  assert.match(queue, new RegExp(TALK));
  assert.match(queue, /団体間グループ/);
  assert.match(queue, /伊藤 誠/);
  await shot(mori, 'groups-queue-city');
  await Promise.all([mori.waitForNavigation(), mori.click(`[data-testid=queue-list] a:has-text("${TALK}")`)]);
  assert.equal(mori.url().split('?')[0], detail);
  // Only 北浜市 staff to choose from: nobody of 東山町, nothing ticked for them beforehand.
  const offered = await mori.locator('[data-testid=members] .person-name').allTextContents();
  assert.ok(offered.includes('松本 優花') && offered.includes('森 隆'), offered.join(','));
  for (const name of ['伊藤 誠', '佐藤 花子', '高橋 健一', '鈴木 翔太']) {
    assert.ok(!offered.includes(name), `${name} of 東山町 is not offered to 北浜市`);
  }
  assert.equal(await mori.locator('[data-testid=members] input:checked').count(), 0);
  assert.match(await bodyRow(mori, '北浜市').textContent(), /住民課の担当者1名/);
  await mori.check('[data-testid=members] li:has-text("松本 優花") input');
  await shot(mori, 'groups-detail-approver-city');
  await Promise.all([mori.waitForNavigation(), mori.click('[data-testid=approve]')]);
  assert.match(await mori.textContent('[data-testid=done]'), /承認しました/);
  assert.match(await mori.textContent('[data-testid=app-state]'), /有効/);
  assert.match(await bodyRow(mori, '北浜市').locator('[data-testid=body-members]').textContent(), /松本 優花/);
  // The administrator is not a member: the link to the talk is for its members.
  assert.equal(await mori.locator('[data-testid=open-talk]').count(), 0);
  await mori.waitForSelector('[data-testid=application-queue-count][hidden]', { state: 'attached' });

  // ---- the applicant's page now opens the talk ----
  await ito.goto(detail);
  assert.match(await ito.textContent('[data-testid=app-state]'), /有効/);
  for (const name of ['東山町', '北浜市']) {
    assert.match(await bodyRow(ito, name).locator('[data-testid=body-approval]').textContent(), /承認済み/);
  }
  assert.match(await bodyRow(ito, '北浜市').locator('[data-testid=body-members]').textContent(), /松本 優花/);
  assert.match(await ito.textContent('[data-testid=open-talk]'), /グループのトークを開く/);
  await shot(ito, 'groups-detail-active');
  await Promise.all([ito.waitForNavigation(), ito.click('[data-testid=open-talk]')]);
  await ito.waitForSelector('#composer:not([hidden])');
  assert.equal(await ito.textContent('#talk-title'), TALK);

  // ---- 松本 優花 (北浜市) opens it from her talk list and writes ----
  const yuka = await (await desk()).newPage();
  await signIn(yuka, server.base, 'matsumoto.yuka');
  await yuka.goto(`${server.base}/talks`);
  await yuka.click(`#talks a:has-text("${TALK}")`);
  await yuka.waitForSelector('#composer:not([hidden])');
  assert.equal(await yuka.textContent('#talk-title'), TALK);
  assert.equal(await yuka.isVisible('#talk-shared'), true);
  assert.equal((await yuka.textContent('#talk-shared')).trim(), '団体間グループ');
  assert.equal((await yuka.textContent('#talk-members')).trim(), '3人');
  await yuka.fill('#body', '北浜市住民課の松本です。受付手順の案を確認しました。');
  await yuka.keyboard.press('Enter');
  await yuka.waitForSelector('#m1');

  // ---- the section head sees it live, with her body's name ----
  await ito.waitForSelector('#m1');
  assert.equal(await ito.textContent('#m1 .who'), '松本 優花（北浜市）');
  assert.equal(await ito.textContent('#m1 .bubble'), '北浜市住民課の松本です。受付手順の案を確認しました。');
  assert.equal(await ito.isVisible('#talk-shared'), true);
  await ito.fill('#body', 'ありがとうございます。当日は9時に集合でお願いします。');
  await ito.keyboard.press('Enter');
  // And the other way round: 北浜市 sees 東山町's body beside the name.
  await yuka.waitForSelector('#m2');
  assert.equal(await yuka.textContent('#m2 .who'), '伊藤 誠（東山町）');
  await ito.waitForSelector('#m2.mine');
  await shot(ito, 'groups-talk-town');
  await ito.click('#talk-members');
  await ito.waitForSelector('#member-panel:not([hidden])');
  assert.equal(await ito.getAttribute('#talk-members', 'aria-expanded'), 'true');
  const members = ito.locator('#member-list li');
  assert.equal(await members.count(), 3);
  assert.equal((await ito.locator('#member-list li:has-text("松本 優花") .from').textContent()).trim(), '北浜市');
  // Members of one's own body need no body's name.
  assert.equal(await ito.locator('#member-list li:has-text("佐藤 花子") .from').count(), 0);
  await shot(ito, 'groups-talk-members');
  await shot(yuka, 'groups-talk-city');
  // The talk on a phone, with the member list closed and open.
  await ito.click('#talk-members');
  await ito.waitForSelector('#member-panel', { state: 'hidden' });
  await ito.setViewportSize({ width: 390, height: 844 });
  assert.ok(await noHorizontalScroll(ito), 'the shared talk fits a phone');
  await shot(ito, 'groups-talk-390');
  await ito.click('#talk-members');
  await ito.waitForSelector('#member-panel:not([hidden])');
  await shot(ito, 'groups-talk-members-390');
});
