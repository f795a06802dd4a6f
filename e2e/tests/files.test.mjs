// Files in chat (C4, G9) as two colleagues use them: pick several files, watch them upload and
// get scanned, send them with a message, see them arrive live and download them; a file with
// malware is refused with a clear reason; a dropped or pasted file attaches like a picked one.
// The server runs with a private clamd that knows one signature (EICAR).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, shot } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ clamd: true });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
// A valid PNG of one blue pixel.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489'
  + '0000000d49444154789c63908ddfff1f000413023bf9e62e500000000049454e44ae426082', 'hex');

async function openTalkWith(page, kana) {
  await page.goto(`${server.base}/talks`);
  await page.click('text=新しいトーク');
  await page.fill('#people-filter', kana);
  await page.check('#people input[type=radio]');
  await page.click('#new-talk button[type=submit]');
  await page.waitForSelector('#composer:not([hidden])');
}

test('files are picked, uploaded with progress, sent with a message and downloaded by the other person', async () => {
  const hanako = await (await browser.newContext({ acceptDownloads: true })).newPage();
  const shota = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await signIn(hanako, server.base, 'sato.hanako');
  await signIn(shota, server.base, 'suzuki.shota');
  await openTalkWith(hanako, 'すずき');
  const talkUrl = hanako.url();
  await shota.goto(talkUrl);
  await shota.waitForSelector('#composer:not([hidden])');

  // Two files at once through the 📎 button (the file chooser is what a user sees).
  const [chooser] = await Promise.all([hanako.waitForEvent('filechooser'), hanako.click('#attach')]);
  await chooser.setFiles([
    { name: '窓口当番表.csv', mimeType: 'text/csv', buffer: Buffer.from('曜日,担当\n月,佐藤\n火,鈴木\n') },
    { name: '案内図.png', mimeType: 'image/png', buffer: PNG },
  ]);
  await hanako.waitForFunction(() => document.querySelectorAll('[data-testid=pending-file].ready').length === 2);
  assert.match(await hanako.textContent('#pending-files'), /送信できます/);
  await shot(hanako, 'files-pending');
  await hanako.fill('#body', '来週の当番表と案内図です。');
  await hanako.keyboard.press('Enter');
  await hanako.waitForSelector('#messages [data-testid=attachment]');
  assert.equal(await hanako.isVisible('#pending-files'), false, 'sent files leave the composer');

  // Shota sees them arrive live: the table as a file with its name and size, the picture as a
  // picture that opens in the viewer.
  await shota.waitForSelector('#messages [data-testid=attachment]');
  await shota.waitForFunction(() => {
    const img = document.querySelector('#messages [data-testid=image-thumb] img');
    return img && img.complete && img.naturalWidth === 1;
  });
  const chips = await shota.$$eval('#messages [data-testid=attachment]', (as) => as.map((a) => a.textContent));
  assert.equal(chips.length, 1);
  assert.match(chips[0], /窓口当番表\.csv/);
  assert.match(chips[0], /36 B/);
  await shota.click('#messages [data-testid=image-thumb]');
  await shota.waitForSelector('#viewer[open] img');
  assert.match(await shota.textContent('#viewer-title'), /案内図\.png/);
  await shot(shota, 'files-viewer');
  await shota.keyboard.press('Escape');
  await shota.waitForSelector('#viewer:not([open])', { state: 'attached' });
  // The talk's file list names both, with who sent them.
  await shota.click('#talk-files');
  await shota.waitForSelector('#files-panel:not([hidden]) [data-testid=talk-file]');
  const listed = await shota.$$eval('[data-testid=talk-file]', (li) => li.map((x) => x.textContent));
  assert.equal(listed.length, 2);
  assert.ok(listed.some((x) => x.includes('窓口当番表.csv')) && listed.some((x) => x.includes('案内図.png')), listed.join(' / '));
  assert.ok(listed.every((x) => x.includes('佐藤 花子')), listed.join(' / '));
  await shot(shota, 'files-list');
  await shota.click('#files-close');
  const [download] = await Promise.all([
    shota.waitForEvent('download'),
    shota.click('#messages [data-testid=attachment] >> nth=0'),
  ]);
  assert.equal(download.suggestedFilename(), '窓口当番表.csv');
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  assert.equal(Buffer.concat(chunks).toString(), '曜日,担当\n月,佐藤\n火,鈴木\n');
  await shot(shota, 'files-received');

  // Malware is refused with the reason, and nothing can be sent with it.
  const [again] = await Promise.all([hanako.waitForEvent('filechooser'), hanako.click('#attach')]);
  await again.setFiles([{ name: '手順書.txt', mimeType: 'text/plain', buffer: Buffer.from(`手順\n${EICAR}\n`) }]);
  await hanako.waitForSelector('[data-testid=pending-file].error');
  assert.match(await hanako.textContent('[data-testid=pending-file].error'), /マルウェア/);
  await shot(hanako, 'files-infected');
  await hanako.click('[data-testid=pending-file] .remove');
  assert.equal(await hanako.isVisible('#pending-files'), false);

  // A document marked 取扱注意 asks first; confirmed, it goes with the class it implies.
  const [fourth] = await Promise.all([hanako.waitForEvent('filechooser'), hanako.click('#attach')]);
  await fourth.setFiles([{ name: '人事案.txt', mimeType: 'text/plain', buffer: Buffer.from('取扱注意\n来年度の配置案\n') }]);
  await hanako.waitForSelector('[data-testid=confirm-file]');
  assert.match(await hanako.textContent('[data-testid=pending-file]'), /機密キーワード 1件/);
  await shot(hanako, 'files-confirm');
  await hanako.click('[data-testid=confirm-file]');
  await hanako.waitForSelector('[data-testid=pending-file].ready');
  await hanako.click('#composer button[type=submit]');
  await shota.waitForFunction(() => document.querySelectorAll('#messages [data-testid=attachment]').length === 2);
  assert.match(await shota.textContent('#messages [data-testid=attachment] >> nth=1'), /機密性 第2種/);

  // A type the server does not take: an executable named as a picture.
  const [third] = await Promise.all([hanako.waitForEvent('filechooser'), hanako.click('#attach')]);
  await third.setFiles([{ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('MZ\x90\x00\x03\x00\x00\x00') }]);
  await hanako.waitForSelector('[data-testid=pending-file].error');
  assert.match(await hanako.textContent('[data-testid=pending-file].error'), /この種類のファイルは送信できません/);
  await hanako.click('[data-testid=pending-file] .remove');
  await hanako.context().close();
  await shota.context().close();
});

test('a dropped file and a pasted screenshot attach like picked ones; pasted text stays text', async () => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, server.base, 'ito.makoto');
  await openTalkWith(page, 'さとう');
  // Drop: the browser hands the page a DataTransfer with the file.
  await page.evaluate(({ png }) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], '現場写真.png', { type: 'image/png' }));
    const view = document.querySelector('.talk-view');
    view.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    view.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { png: PNG.toString('base64') });
  await page.waitForSelector('[data-testid=pending-file].ready');
  // Paste of a screenshot (a file and no text).
  await page.evaluate(({ png }) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], 'image.png', { type: 'image/png' }));
    document.getElementById('body').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, { png: PNG.toString('base64') });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=pending-file].ready').length === 2);
  // Pasted text (Excel also puts a picture of the cells on the clipboard) is not a file.
  const attached = await page.evaluate(({ png }) => {
    const dt = new DataTransfer();
    dt.setData('text/plain', '佐藤\t月曜');
    dt.items.add(new File([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], 'image.png', { type: 'image/png' }));
    const ev = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
    document.getElementById('body').dispatchEvent(ev);
    return ev.defaultPrevented;
  }, { png: PNG.toString('base64') });
  assert.equal(attached, false);
  // Files alone can be sent, without words.
  await page.click('#composer button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#messages [data-testid=image-thumb]').length === 2);
  assert.equal(await page.locator('#messages article.msg .bubble').count(), 0, 'no empty bubble');
  await shot(page, 'files-dropped');
  // Phone width: the composer and the file chips fit.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(overflow, false);
  await shot(page, 'files-phone');
  await page.context().close();
});
