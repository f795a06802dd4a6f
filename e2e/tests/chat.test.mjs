// Chat as two colleagues use it: start a 1:1 talk, send with Enter, never send while a Japanese
// IME is composing (Chromium's and Safari's event orders), see messages arrive live, see 既読,
// and see hostile text shown as text. Screenshots go to e2e/screenshots.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, shot } from './harness.mjs';

let server;
let browser;

before(async () => {
  // Scripted setup posts faster than a person; the per-user limit has its own API tests.
  server = await startServer({ env: { KAIRAN_CHAT_MESSAGES_PER_SECOND: '1000', KAIRAN_CHAT_MESSAGE_BURST: '1000' } });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function messageCount(page) {
  return page.locator('#messages article.msg').count();
}

test('two colleagues talk live; IME Enter never sends; hostile text stays text', async () => {
  const hanako = await (await browser.newContext()).newPage();
  const shota = await (await browser.newContext()).newPage();
  await signIn(hanako, server.base, 'sato.hanako');
  await signIn(shota, server.base, 'suzuki.shota');

  // Hanako starts a 1:1 talk with 鈴木 翔太, found by kana typed in hiragana.
  await hanako.goto(`${server.base}/talks`);
  await hanako.click('text=新しいトーク');
  await hanako.fill('#people-filter', 'すずき');
  await hanako.check('#people input[type=radio]');
  await shot(hanako, 'chat-new-talk');
  await hanako.click('#new-talk button[type=submit]');
  await hanako.waitForSelector('#composer:not([hidden])');
  assert.equal(await hanako.textContent('#talk-title'), '鈴木 翔太');

  // Shota opens the talk list and the same talk.
  await shota.goto(`${server.base}/talks`);
  await shota.click('#talks a:has-text("佐藤 花子")');
  await shota.waitForSelector('#composer:not([hidden])');

  // Enter sends; Shift+Enter makes a new line.
  await hanako.fill('#body', '');
  await hanako.type('#body', 'おはようございます。');
  await hanako.keyboard.down('Shift');
  await hanako.keyboard.press('Enter');
  await hanako.keyboard.up('Shift');
  await hanako.type('#body', '本日の窓口当番の件です。');
  await hanako.keyboard.press('Enter');
  await hanako.waitForFunction(() => document.querySelectorAll('#messages article.msg').length === 1);
  assert.equal(await hanako.inputValue('#body'), '');
  // Shota receives it live, with the line break kept.
  await shota.waitForFunction(() => document.querySelectorAll('#messages article.msg').length === 1);
  assert.equal(await shota.textContent('#messages article.msg .bubble'), 'おはようございます。\n本日の窓口当番の件です。');

  // IME, Chromium order: Enter arrives while composing (isComposing, keyCode 229).
  await shota.fill('#body', 'かしこまりました');
  await shota.evaluate(() => {
    const t = document.getElementById('body');
    t.dispatchEvent(new CompositionEvent('compositionstart', { data: '' }));
    const e = new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', isComposing: true, bubbles: true, cancelable: true });
    Object.defineProperty(e, 'keyCode', { value: 229 });
    t.dispatchEvent(e);
    t.dispatchEvent(new CompositionEvent('compositionend', { data: 'かしこまりました' }));
  });
  // IME, Safari order: composition ends first, then the confirming Enter (keyCode 229).
  await shota.evaluate(() => {
    const t = document.getElementById('body');
    t.dispatchEvent(new CompositionEvent('compositionstart', { data: '' }));
    t.dispatchEvent(new CompositionEvent('compositionend', { data: 'かしこまりました' }));
    const e = new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', isComposing: false, bubbles: true, cancelable: true });
    Object.defineProperty(e, 'keyCode', { value: 229 });
    t.dispatchEvent(e);
  });
  await shota.waitForTimeout(300);
  assert.equal(await messageCount(shota), 1, 'no message was sent by an IME Enter');
  assert.equal(await shota.inputValue('#body'), 'かしこまりました');
  // A real Enter after the IME is done sends.
  await shota.waitForTimeout(100);
  await shota.focus('#body');
  await shota.keyboard.press('Enter');
  await hanako.waitForFunction(() => document.querySelectorAll('#messages article.msg').length === 2);

  // 既読: Shota has the talk open, so Hanako's message shows it was read.
  await hanako.waitForSelector('[data-testid=read]');
  assert.match(await hanako.textContent('[data-testid=read]'), /既読/);

  // Hostile input is shown as typed, never interpreted.
  const payloads = ['<script>window.__owned=1</script>', '<img src=x onerror="window.__owned=1">', '"><svg onload=alert(1)>'];
  for (const p of payloads) {
    await hanako.fill('#body', p);
    await hanako.keyboard.press('Enter');
  }
  await shota.waitForFunction(() => document.querySelectorAll('#messages article.msg').length === 5);
  const bubbles = await shota.locator('#messages .bubble').allTextContents();
  assert.deepEqual(bubbles.slice(2), payloads);
  assert.equal(await shota.evaluate(() => window.__owned), undefined);
  assert.equal(await shota.locator('#messages img, #messages svg, #messages script').count(), 0);

  // A URL becomes a safe link.
  await shota.fill('#body', '資料はこちら https://www.example.lg.jp/kairan/ です');
  await shota.keyboard.press('Enter');
  await hanako.waitForSelector('#messages a[href="https://www.example.lg.jp/kairan/"]');
  assert.equal(await hanako.getAttribute('#messages a', 'rel'), 'noopener noreferrer');
  await shot(hanako, 'chat-talk');
  await shot(shota, 'chat-talk-other');

  await hanako.context().close();
  await shota.context().close();
});

test('unread counts show in the talk list and clear when the talk is opened', async () => {
  const kato = await (await browser.newContext()).newPage();
  const tanaka = await (await browser.newContext()).newPage();
  await signIn(kato, server.base, 'kato.koji');
  await signIn(tanaka, server.base, 'tanaka.misaki');
  await kato.goto(`${server.base}/talks`);
  await kato.click('text=新しいトーク');
  await kato.check('input[name=kind][value=group]');
  await kato.fill('#talk-name', '広報誌 12月号 校正');
  await kato.fill('#people-filter', '田中');
  await kato.check('#people input[type=checkbox]');
  await kato.click('#new-talk button[type=submit]');
  await kato.waitForSelector('#composer:not([hidden])');
  await kato.fill('#body', '表紙の写真を差し替えました。');
  await kato.keyboard.press('Enter');
  // A mention: ＠ and a few kana in hiragana bring up the member; Enter picks, not sends.
  await kato.type('#body', '＠たな');
  await kato.waitForSelector('#mention-picker:not([hidden]) li');
  assert.match(await kato.textContent('#mention-picker'), /田中 美咲/);
  await shot(kato, 'chat-mention-picker');
  await kato.keyboard.press('Enter');
  assert.equal(await kato.inputValue('#body'), '＠田中 美咲 ');
  assert.equal(await messageCount(kato), 1, 'picking a name does not send');
  await kato.type('#body', '3ページの誤字を直しました。');
  await kato.keyboard.press('Enter');
  await kato.waitForFunction(() => document.querySelectorAll('#messages article.msg').length === 2);
  assert.equal(await kato.textContent('#m2 .mention'), '＠田中 美咲');
  await tanaka.goto(`${server.base}/talks`);
  await tanaka.waitForSelector('#talks [data-testid=unread]');
  assert.equal(await tanaka.textContent('#talks [data-testid=unread]'), '2');
  assert.equal(await tanaka.locator('#talks [data-testid=mention]').count(), 1, 'the mention shows in the list');
  await shot(tanaka, 'chat-list-unread');
  await tanaka.click('#talks a:has-text("広報誌 12月号 校正")');
  await tanaka.waitForFunction(() => !document.querySelector('#talks [data-testid=unread]'));
  assert.equal(await tanaka.locator('#talks [data-testid=mention]').count(), 0);
  assert.equal(await tanaka.textContent('#m2 .mention.me'), '＠田中 美咲');
  await kato.waitForSelector('[data-testid=read]');
  // The sender sees who has read and who has not.
  await kato.click('#m2 [data-testid=read]');
  assert.match(await kato.textContent('[data-testid=readers-read]'), /田中 美咲/);
  assert.match(await kato.textContent('[data-testid=readers-unread]'), /（0）/);
  await shot(kato, 'chat-readers');
  await kato.context().close();
  await tanaka.context().close();
});

test('the chat works on a smartphone-sized screen', async () => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  await signIn(page, server.base, 'tanaka.misaki');
  await page.goto(`${server.base}/talks`);
  await page.waitForSelector('#talks a');
  await shot(page, 'mobile-chat-list');
  await page.click('#talks a:has-text("広報誌")');
  await page.waitForSelector('#composer:not([hidden])');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling (width ${width})`);
  await shot(page, 'mobile-chat-talk');
  await ctx.close();
});

test('a My Number is stopped before sending, shown highlighted, and sent masked', async () => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, server.base, 'ito.makoto');
  await page.goto(`${server.base}/talks`);
  await page.click('text=新しいトーク');
  await page.fill('#people-filter', 'さとう');
  await page.check('#people input[type=radio]');
  await page.click('#new-talk button[type=submit]');
  await page.waitForSelector('#composer:not([hidden])');
  await page.fill('#body', '転入届の申請者、個人番号は1234-5678-9018です。');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dlp:not([hidden])');
  assert.equal(await page.textContent('#dlp-text mark'), '1234-5678-9018');
  assert.match(await page.textContent('#dlp-list'), /個人番号/);
  assert.equal(await page.isVisible('#dlp-send'), false, 'a block cannot be sent as is');
  assert.equal(await messageCount(page), 0);
  await shot(page, 'chat-dlp-blocked');
  await page.click('#dlp-mask');
  await page.waitForFunction(() => document.querySelectorAll('#messages article.msg').length === 1);
  assert.equal(await page.textContent('#messages .bubble'), '転入届の申請者、個人番号は****-****-9018です。');

  // A birth date is personal information (機密性 第1種): above this talk's ceiling it goes
  // only masked, and the panel says why.
  await page.fill('#body', '対象者の生年月日は昭和60年4月1日です。');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dlp:not([hidden])');
  assert.equal(await page.isVisible('#dlp-send'), false);
  assert.match(await page.textContent('#dlp-list'), /機密性 第1種/);
  assert.match(await page.textContent('#dlp-message'), /機密性 第2種/);
  await shot(page, 'chat-dlp-above-ceiling');
  await page.click('#dlp-edit');
  await page.fill('#body', '');

  // A confidentiality stamp only asks; the sender may confirm.
  await page.fill('#body', 'この資料は取扱注意です。');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dlp:not([hidden])');
  assert.equal(await page.isVisible('#dlp-send'), true);
  await shot(page, 'chat-dlp-confirm');
  await page.click('#dlp-send');
  await page.waitForFunction(() => document.querySelectorAll('#messages article.msg').length === 2);
  await page.context().close();
});

test('reply, stamp, edit and delete work live for both people', async () => {
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  a.on('dialog', (d) => d.accept());
  await signIn(a, server.base, 'kobayashi.sakura');
  await signIn(b, server.base, 'watanabe.takuya');
  await a.goto(`${server.base}/talks`);
  await a.click('text=新しいトーク');
  await a.fill('#people-filter', 'わたなべ');
  await a.check('#people input[type=radio]');
  await a.click('#new-talk button[type=submit]');
  await a.waitForSelector('#composer:not([hidden])');
  await b.goto(`${server.base}/talks`);
  await b.click('#talks a:has-text("小林 さくら")');
  await b.waitForSelector('#composer:not([hidden])');

  await a.fill('#body', '明日の打合せは13時からです。');
  await a.keyboard.press('Enter');
  await b.waitForSelector('#m1');
  // B replies to it and adds a stamp.
  await b.hover('#m1');
  await b.click('#m1 [data-act=reply]');
  assert.match(await b.textContent('#replying'), /明日の打合せ/);
  await b.fill('#body', '承知しました。');
  await b.keyboard.press('Enter');
  await a.waitForSelector('#m2 [data-testid=quote]');
  assert.match(await a.textContent('#m2 [data-testid=quote]'), /明日の打合せは13時から/);
  await b.hover('#m1');
  await b.click('#m1 [data-act=stamp]');
  await b.click('#m1 .stamps [data-stamp=ok]');
  await a.waitForSelector('#m1 .reaction[data-stamp=ok]');
  assert.equal(await a.textContent('#m1 .reaction[data-stamp=ok]'), '🙆 1');

  // B pins it; A sees it in the pinned bar.
  await b.hover('#m1');
  await b.click('#m1 [data-act=pin]');
  await a.waitForSelector('[data-testid=pin]');
  assert.match(await a.textContent('[data-testid=pin]'), /明日の打合せ/);

  // A edits the time; B sees the new text marked edited.
  await a.hover('#m1');
  await a.click('#m1 [data-act=edit]');
  await a.fill('#m1 .edit-box', '明日の打合せは14時からに変更です。');
  await a.click('#m1 .edit-form .primary');
  await b.waitForFunction(() => document.querySelector('#m1 .bubble')?.textContent === '明日の打合せは14時からに変更です。');
  assert.match(await b.textContent('#m1 .meta'), /編集済み/);
  await shot(b, 'chat-reply-stamp-edit');

  // A deletes it; B sees the placeholder, and the reply's quote says so.
  await a.hover('#m1');
  await a.click('#m1 [data-act=delete]');
  await b.waitForFunction(() => document.querySelector('#m1 .bubble')?.textContent === 'このメッセージは削除されました');
  assert.equal(await b.locator('#m1 .reaction').count(), 0);
  assert.equal(await b.locator('[data-testid=pin]').count(), 0, 'a deleted message leaves the pinned bar');
  assert.equal(await b.textContent('#m2 [data-testid=quote]'), '小林 さくらこのメッセージは削除されました', 'a quote never keeps deleted text');
  await shot(b, 'chat-deleted');
  await a.context().close();
  await b.context().close();
});

test('masking through the detection panel keeps the request: an edit stays an edit, a reply stays a reply', async () => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, server.base, 'kato.koji');
  await page.goto(`${server.base}/talks`);
  await page.click('text=新しいトーク');
  await page.fill('#people-filter', 'わたなべ');
  await page.check('#people input[type=radio]');
  await page.click('#new-talk button[type=submit]');
  await page.waitForSelector('#composer:not([hidden])');
  await page.fill('#body', '申請書を受け付けました。');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#m1');

  // Editing the message into a My Number: masking saves the edit of #m1, no new message.
  await page.hover('#m1');
  await page.click('#m1 [data-act=edit]');
  await page.fill('#m1 .edit-box', '申請者の個人番号は1234-5678-9018です。');
  await page.click('#m1 .edit-form .primary');
  await page.waitForSelector('#dlp:not([hidden])');
  await page.click('#dlp-mask');
  await page.waitForFunction(() => document.querySelector('#m1 .bubble')?.textContent === '申請者の個人番号は****-****-9018です。');
  assert.equal(await messageCount(page), 1, 'the edit did not become a new message');

  // A reply with a My Number, masked: it still quotes what it answers.
  await page.hover('#m1');
  await page.click('#m1 [data-act=reply]');
  await page.fill('#body', '個人番号 1234 5678 9018 を確認しました。');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#dlp:not([hidden])');
  await page.click('#dlp-mask');
  await page.waitForSelector('#m2 [data-testid=quote]');
  assert.match(await page.textContent('#m2 [data-testid=quote]'), /\*\*\*\*-\*\*\*\*-9018/);
  assert.match(await page.textContent('#m2 .bubble'), /\*\*\*\* \*\*\*\* 9018/);
  await page.context().close();
});

test('a chat page whose session is ended elsewhere goes to the sign-in page instead of reconnecting', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, server.base, 'suzuki.shota');
  await page.goto(`${server.base}/talks`);
  await page.waitForSelector('#talks a');
  // Sign out with the same session from outside the page (as another tab would).
  const csrf = await page.getAttribute('meta[name=csrf-token]', 'content');
  const r = await ctx.request.delete(`${server.base}/api/v1/session`, { headers: { 'x-csrf-token': csrf } });
  assert.equal(r.status(), 204);
  // The server closes the live connection at once; the page asks, finds itself signed out
  // and leaves for the sign-in page.
  await page.waitForURL(/\/login/, { timeout: 10000 });
  await ctx.close();
});

test('scrolling up loads older messages by itself, without moving what is on screen', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, server.base, 'sato.hanako');
  await page.goto(`${server.base}/talks`);
  // A group talk with 70 messages, posted through the API as another device would.
  const csrf = await page.getAttribute('meta[name=csrf-token]', 'content');
  const headers = { 'x-csrf-token': csrf };
  const me = await (await ctx.request.get(`${server.base}/api/v1/me`)).json();
  const people = await (await ctx.request.get(`${server.base}/api/v1/orgs/${me.org_id}/directory`)).json();
  const other = people.find((p) => p.id !== me.id);
  const talk = await (await ctx.request.post(`${server.base}/api/v1/talks`, {
    headers, data: { kind: 'group', name: '過去ログ確認', members: [other.id] },
  })).json();
  for (let i = 1; i <= 70; i++) {
    const r = await ctx.request.post(`${server.base}/api/v1/talks/${talk.id}/messages`, { headers, data: { body: `記録 ${i}` } });
    assert.equal(r.status(), 201);
  }
  await page.goto(`${server.base}/talks`);
  await page.click('#talks a:has-text("過去ログ確認")');
  await page.waitForFunction(() => document.querySelectorAll('#messages article.msg').length === 50);
  // The reader scrolls up with the wheel; nobody clicks "load older".
  // One fling to the top, then hands off: what the page does next is its own doing.
  await page.hover('#messages');
  await page.mouse.wheel(0, -20000);
  await page.waitForFunction(() => document.querySelectorAll('#messages article.msg').length === 70);
  assert.equal(await page.textContent('#messages article.msg .bubble'), '記録 1');
  // What was on screen stays on screen: the oldest message of the first page is still in view.
  const inView = await page.evaluate(() => {
    const box = document.getElementById('messages').getBoundingClientRect();
    const m = [...document.querySelectorAll('#messages article.msg')].find((a) => a.querySelector('.bubble').textContent === '記録 21');
    const r = m.getBoundingClientRect();
    return r.bottom > box.top && r.top < box.bottom;
  });
  assert.ok(inView, 'the reader was not thrown to the top of the older page');
  await shot(page, 'chat-scrollback');
  await ctx.close();
});

test('an edit in progress survives the other person reading the talk', async () => {
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  await signIn(a, server.base, 'takahashi.kenichi');
  await signIn(b, server.base, 'kobayashi.sakura');
  await a.goto(`${server.base}/talks`);
  await a.click('text=新しいトーク');
  await a.fill('#people-filter', 'こばやし');
  await a.check('#people input[type=radio]');
  await a.click('#new-talk button[type=submit]');
  await a.waitForSelector('#composer:not([hidden])');
  await a.fill('#body', '会議室は第3会議室です。');
  await a.keyboard.press('Enter');
  await a.waitForSelector('#m1');
  // A starts correcting the message and is half-way through typing.
  await a.hover('#m1');
  await a.click('#m1 [data-act=edit]');
  await a.fill('#m1 .edit-box', '会議室は第5会議');
  // B opens the talk: A's page learns that B has read #1.
  await b.goto(`${server.base}/talks`);
  await b.click('#talks a:has-text("高橋")');
  await a.waitForSelector('#m1 [data-testid=read]');
  // The half-typed correction is still there, where A left it.
  assert.equal(await a.inputValue('#m1 .edit-box'), '会議室は第5会議');
  await a.context().close();
  await b.context().close();
});
