// 申請 (applications): small enhancements only; every page works without this file.
// - the number of applications waiting for a decision, beside 申請 in the menu
//   (administrators; the menu loads this file for them on every page);
// - the invitation link as a full address, with a copy button;
// - an Enter that confirms an IME conversion never submits the application form;
// - the lists of colleagues to tick (a group's own members, a body's approval): a filter by
//   name and the number ticked;
// - the group form: typing whom a body is asked for ticks that body, and a ticked body needs
//   it filled in.

// ---- the count beside 申請 ----
const badge = document.getElementById('application-queue-count');

async function refreshQueue() {
  if (!badge) return;
  const org = badge.dataset.org || '';
  let res;
  try {
    res = await fetch(`/api/v1/orgs/${encodeURIComponent(org)}/applications?view=queue`, { credentials: 'same-origin' });
  } catch {
    return;
  }
  if (!res.ok) return;
  const list = await res.json().catch(() => []);
  const n = Array.isArray(list) ? list.length : 0;
  const label = (badge.dataset.label || '{n}').replace('{n}', String(n));
  const count = document.createElement('span');
  count.setAttribute('aria-hidden', 'true');
  count.textContent = String(n);
  const spoken = document.createElement('span');
  spoken.className = 'sr-only';
  spoken.textContent = label;
  badge.replaceChildren(count, spoken);
  badge.title = label;
  badge.hidden = n === 0;
}
refreshQueue();
// A new application waiting arrives as a live notification (see app.js).
document.addEventListener('kairan:notification', refreshQueue);

// ---- the invitation link: the full address, and a copy button ----
// The server shows the path only (it does not trust the request's Host header to build a
// link); the browser knows the address it is using, so the full link is made here.
for (const button of document.querySelectorAll('button[data-copy]')) {
  const target = document.getElementById(button.dataset.copy);
  if (!target) continue;
  const path = target.dataset.path;
  if (path && path.startsWith('/')) target.textContent = new URL(path, window.location.origin).href;
  const status = button.closest('dd')?.querySelector('[data-copy-status]');
  button.hidden = false;
  button.addEventListener('click', async () => {
    const text = target.textContent.trim();
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      if (status) status.textContent = button.dataset.copied || '';
    } catch {
      // Without the clipboard (a page served over plain HTTP), select the text for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(target);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      if (status) status.textContent = button.dataset.copyFailed || '';
    }
  });
}

// ---- IME: Enter that confirms a conversion is not a submit ----
// Chromium and Firefox mark the confirming Enter as composing (isComposing, keyCode 229).
// Safari ends the composition first and then delivers that Enter as keyCode 229, so an Enter
// right after compositionend is treated as part of the IME too. Listening in the capture
// phase sees the composition events of every field in the form.
for (const form of document.querySelectorAll('form[data-ime-guard]')) {
  let composing = false;
  let compositionEndedAt = -Infinity;
  form.addEventListener('compositionstart', () => { composing = true; }, true);
  form.addEventListener('compositionend', () => { composing = false; compositionEndedAt = performance.now(); }, true);
  form.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || !(e.target instanceof HTMLInputElement)) return;
    if (composing || e.isComposing || e.keyCode === 229 || performance.now() - compositionEndedAt < 50) {
      e.preventDefault();
    }
  }, true);
}

// ---- lists of colleagues to tick: filter by name, count the ticked ones ----
// Hiragana typed in the filter also finds katakana (and the other way round is not needed:
// names and readings are shown as stored).
function foldKana(text) {
  return text.replace(/[\u3041-\u3096]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x60));
}
function squash(text) {
  return foldKana(text.normalize('NFKC').toLowerCase()).replace(/\s/g, '');
}

for (const pick of document.querySelectorAll('[data-people-pick]')) {
  const tools = pick.querySelector('[data-people-tools]');
  const filter = pick.querySelector('[data-people-filter]');
  const count = pick.querySelector('[data-people-count]');
  const items = [...pick.querySelectorAll('li')];
  const boxes = [...pick.querySelectorAll('input[type="checkbox"]')];
  if (!tools || !filter) continue;
  tools.hidden = false;
  const showCount = () => {
    if (!count) return;
    const n = boxes.filter((b) => b.checked).length;
    count.textContent = (count.dataset.label || '{n}').replace('{n}', String(n));
  };
  filter.addEventListener('input', () => {
    const q = squash(filter.value);
    for (const li of items) li.hidden = q !== '' && !squash(li.textContent || '').includes(q);
  });
  // The filter is not a field of the form: Enter in it never submits.
  filter.addEventListener('keydown', (e) => { if (e.key === 'Enter') e.preventDefault(); });
  for (const b of boxes) b.addEventListener('change', showCount);
  showCount();
}

// ---- the group form: a body is asked for someone once it is ticked ----
for (const choice of document.querySelectorAll('[data-body-choice]')) {
  const box = choice.querySelector('[data-body-check]');
  const requested = choice.querySelector('[data-requested]');
  if (!box || !requested) continue;
  const sync = () => { requested.required = box.checked; };
  box.addEventListener('change', sync);
  requested.addEventListener('input', () => {
    if (requested.value.trim() !== '' && !box.checked) {
      box.checked = true;
      sync();
    }
  });
  sync();
}
