// The chat screen: talk list, messages, composer and the live connection.
// Every message is rendered with textContent (never innerHTML); links are built as elements
// with rel="noopener noreferrer", and the server never fetches a preview.

const root = document.getElementById('chat');
const me = root.dataset.me;
const org = root.dataset.org;
const T = JSON.parse(document.getElementById('i18n').content.textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;

const state = {
  talks: [],
  talk: root.dataset.talk || null,
  detail: null,
  names: new Map(),
  people: [],
  messages: new Map(), // seq -> message, for the open talk
  oldest: null,
  newest: 0,
  ws: null,
};

// The server's message of an error answer, in the page's language.
function errorText(data) {
  return data && data.error ? (T.lang === 'ja' ? data.error.message_ja : data.error.message_en) : null;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 401) { window.location.href = '/login'; throw new Error('signed out'); }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error(errorText(data) || res.statusText);
    err.status = res.status;
    err.code = data && data.error ? data.error.code : null;
    err.dlp = data ? data.dlp : null;
    throw err;
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    // data-, aria- and role are attributes, not properties: assigning them as properties is lost.
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role') node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c);
  return node;
}

// Text with line breaks kept (CSS pre-wrap), http(s) URLs as links, and mentions marked.
function renderBody(text, mentions = []) {
  const frag = document.createDocumentFragment();
  const names = mentions.map((id) => [id, state.names.get(id)]).filter(([, n]) => n);
  const parts = [];
  for (const m of text.matchAll(/https?:\/\/[^\s<>"'　、。）」]+/g)) parts.push([m.index, m[0].length, 'link', m[0]]);
  for (const [id, n] of names) {
    for (const mark of ['@', '＠']) {
      let at = text.indexOf(mark + n);
      while (at >= 0) { parts.push([at, n.length + 1, id === me ? 'me' : 'mention', text.substr(at, n.length + 1)]); at = text.indexOf(mark + n, at + 1); }
    }
  }
  parts.sort((a, b) => a[0] - b[0]);
  let last = 0;
  for (const [at, len, kind, value] of parts) {
    if (at < last) continue;
    frag.append(text.slice(last, at));
    if (kind === 'link') frag.append(el('a', { href: value, rel: 'noopener noreferrer', target: '_blank' }, value));
    else frag.append(el('span', { class: kind === 'me' ? 'mention me' : 'mention' }, value));
    last = at + len;
  }
  frag.append(text.slice(last));
  return frag;
}

function timeOf(us) {
  const d = new Date(us / 1000);
  return d.toLocaleTimeString(T.lang === 'ja' ? 'ja-JP' : 'en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Tokyo' });
}

// ---- classification (G1) ----
const label = (c) => (c ? (T.lang === 'ja' ? c.label_ja : c.label_en) : '');
const classOf = (rank) => state.detail && state.detail.scheme.confidentiality.find((c) => c.rank === rank);
const classTag = (rank, attrs = {}) => el('span', { class: `class-tag c${rank}`, ...attrs }, label(classOf(rank)) || String(rank));

function fillSelect(select, options, value) {
  select.replaceChildren(...options.map((o) => el('option', { value: String(o.rank), selected: o.rank === value }, label(o))));
}

// The header badge, the composer's class menu (up to the ceiling) and the settings panel.
function renderClass() {
  const d = state.detail;
  const badge = document.getElementById('talk-class');
  badge.hidden = false;
  badge.textContent = `${T.ceiling} ${label(d.ceiling)}`;
  badge.title = `${T.holds} ${label(d.max_class)}`;
  const allowed = d.scheme.confidentiality.filter((c) => c.rank <= d.ceiling.rank);
  fillSelect(document.getElementById('msg-class'), allowed, d.default_class.rank);
  const ceilings = d.scheme.confidentiality.filter((c) => c.rank >= d.max_class.rank
    && (d.can_allow_top || c.rank < d.scheme.confidentiality.length - 1 || c.rank <= d.ceiling.rank));
  fillSelect(document.getElementById('class-ceiling'), ceilings, d.ceiling.rank);
  fillSelect(document.getElementById('class-default'), allowed, d.default_class.rank);
  const none = { rank: -1, label_ja: T.none, label_en: T.none };
  fillSelect(document.getElementById('class-integrity'), [none, ...d.scheme.integrity], d.integrity ? d.integrity.rank : -1);
  fillSelect(document.getElementById('class-availability'), [none, ...d.scheme.availability], d.availability ? d.availability.rank : -1);
  for (const n of document.querySelectorAll('#class-panel .ia')) n.hidden = d.scheme.integrity.length === 0;
  document.getElementById('class-holds').textContent = `${T.holds} ${label(d.max_class)}`;
}

document.getElementById('talk-class').addEventListener('click', () => {
  const panel = document.getElementById('class-panel');
  panel.hidden = !panel.hidden;
  document.getElementById('class-error').hidden = true;
  if (!panel.hidden) document.getElementById('class-ceiling').focus();
});
document.getElementById('class-close').addEventListener('click', () => { document.getElementById('class-panel').hidden = true; document.getElementById('talk-class').focus(); });
document.getElementById('class-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const num = (id) => Number(document.getElementById(id).value);
  const body = { ceiling: num('class-ceiling'), default_class: num('class-default') };
  if (state.detail.scheme.integrity.length) { body.integrity = num('class-integrity'); body.availability = num('class-availability'); }
  const error = document.getElementById('class-error');
  try {
    await api('PUT', `/api/v1/talks/${state.talk}/class`, body);
    state.detail = await api('GET', `/api/v1/talks/${state.talk}`);
    renderClass();
    document.getElementById('class-panel').hidden = true;
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  }
});

// ---- forwarding: the copy keeps its class ----
let forwarding = null;
function startForward(m) {
  forwarding = m;
  const targets = state.talks.filter((t) => t.id !== state.talk);
  const select = document.getElementById('forward-talk');
  select.replaceChildren(...targets.map((t) => el('option', { value: t.id }, `${t.name}（${T.ceiling} ${label(t.ceiling)}）`)));
  document.getElementById('forward-text').textContent = snippet(m.body);
  const error = document.getElementById('forward-error');
  error.hidden = targets.length > 0;
  error.textContent = targets.length ? '' : T.no_other_talks;
  document.getElementById('forward-send').disabled = targets.length === 0;
  document.getElementById('forward').hidden = false;
  select.focus();
}
async function doForward(confirm) {
  const target = document.getElementById('forward-talk').value;
  const error = document.getElementById('forward-error');
  try {
    await api('POST', `/api/v1/messages/${forwarding.id}/forward`, { talk_id: target, confirm_dlp: confirm });
    document.getElementById('forward').hidden = true;
    loadTalks();
  } catch (err) {
    if (err.code === 'dlp_confirm_required' && window.confirm(T.forward_confirm)) { doForward(true); return; }
    error.textContent = err.message;
    error.hidden = false;
  }
}
document.getElementById('forward-send').addEventListener('click', () => doForward(false));
document.getElementById('forward-cancel').addEventListener('click', () => { document.getElementById('forward').hidden = true; });

// ---- talk list ----
async function loadTalks() {
  state.talks = await api('GET', '/api/v1/talks');
  renderTalks();
}

function renderTalks() {
  const list = document.getElementById('talks');
  const q = document.getElementById('talk-filter').value.trim();
  list.replaceChildren();
  const talks = state.talks
    .filter((t) => !q || t.name.includes(q))
    .sort((a, b) => (b.unread > 0) - (a.unread > 0) || (b.last_message_at || 0) - (a.last_message_at || 0));
  if (talks.length === 0) list.append(el('li', { class: 'muted empty' }, T.no_talks));
  for (const t of talks) {
    const a = el('a', { href: `/talks/${t.id}`, 'data-talk': t.id }, el('span', { class: 'talk-name' }, t.name));
    if (t.unread_mentions > 0) a.append(el('span', { class: 'mention-badge', 'data-testid': 'mention', title: T.mentioned }, '@'));
    if (t.unread > 0) a.append(el('span', { class: 'unread', 'data-testid': 'unread' }, String(t.unread)));
    if (t.id === state.talk) a.setAttribute('aria-current', 'page');
    a.addEventListener('click', (e) => { e.preventDefault(); openTalk(t.id, true); });
    list.append(el('li', {}, a));
  }
}

// ---- one talk ----
async function openTalk(id, push) {
  state.talk = id;
  if (push) history.pushState({ talk: id }, '', `/talks/${id}`);
  root.classList.add('has-talk');
  state.messages.clear();
  state.oldest = null;
  state.newest = 0;
  const box = document.getElementById('messages');
  box.replaceChildren();
  setDetail(await api('GET', `/api/v1/talks/${id}`));
  const title = state.detail.kind === 'direct'
    ? (state.detail.members.find((m) => m.user_id !== me) || { display_name: '' }).display_name
    : state.detail.name;
  document.getElementById('talk-title').textContent = title;
  document.getElementById('class-panel').hidden = true;
  document.getElementById('files-panel').hidden = true;
  document.getElementById('member-panel').hidden = true;
  document.getElementById('talk-files').hidden = false;
  document.getElementById('forward').hidden = true;
  renderPins();
  renderPending();
  const page = await api('GET', `/api/v1/talks/${id}/messages?before=${state.detail.last_seq + 1}&limit=50`);
  addMessages(page);
  if (page.length === 50) box.prepend(olderButton());
  if (page.length === 0) box.append(el('p', { class: 'muted empty', id: 'no-messages' }, T.no_messages));
  box.scrollTop = box.scrollHeight;
  renderTalks();
  markRead();
  resume();
  document.getElementById('body').focus();
}

// The open talk's details, on opening it and whenever it changes (members, class, its end):
// the names with their marks, the member list, the class, and the message box or, once a group
// has ended, the notice in its place.
function setDetail(d) {
  state.detail = d;
  for (const m of d.members) state.names.set(m.user_id, memberLabel(m));
  renderMembers();
  renderClass();
  document.getElementById('composer').hidden = d.closed;
  document.getElementById('talk-closed').hidden = !d.closed;
}

// A name as shown everywhere in a talk: a guest with ゲスト and where it comes from, a member
// of another body (an inter-body group) with that body's name.
function memberLabel(m) {
  if (m.guest_affiliation) return `${m.display_name}（${T.guest}・${m.guest_affiliation}）`;
  if (m.org_name) return `${m.display_name}（${m.org_name}）`;
  return m.display_name;
}

// The member count in the header opens the list of members, each with their body or ゲスト.
function renderMembers() {
  const d = state.detail;
  const button = document.getElementById('talk-members');
  button.hidden = false;
  button.textContent = `${d.members.length}${T.people}`;
  document.getElementById('talk-shared').hidden = !d.shared;
  const list = document.getElementById('member-list');
  list.replaceChildren(...d.members.map((m) => {
    const li = el('li', { 'data-user': m.user_id }, el('span', {}, m.display_name));
    if (m.guest_affiliation) li.append(el('span', { class: 'guest-badge' }, T.guest), el('span', { class: 'from' }, m.guest_affiliation));
    else if (m.org_name) li.append(el('span', { class: 'from' }, m.org_name));
    return li;
  }));
}

function showMembers(open) {
  document.getElementById('member-panel').hidden = !open;
  document.getElementById('talk-members').setAttribute('aria-expanded', String(open));
  if (open) document.getElementById('member-close').focus();
}
document.getElementById('talk-members').addEventListener('click', () => showMembers(document.getElementById('member-panel').hidden));
document.getElementById('member-close').addEventListener('click', () => { showMembers(false); document.getElementById('talk-members').focus(); });

// The way back through history. Scrolling near the top loads the previous page by itself
// (infinite scroll); the button stays for keyboards and screen readers.
function olderButton() {
  const b = el('button', { type: 'button', class: 'secondary older' }, T.load_older);
  const talk = state.talk;
  let loading = false;
  const load = async () => {
    if (loading || !b.isConnected) return;
    loading = true;
    const box = document.getElementById('messages');
    const page = await api('GET', `/api/v1/talks/${talk}/messages?before=${state.oldest}&limit=50`);
    if (state.talk !== talk || !b.isConnected) return;
    // Keep what the reader is looking at where it is: no jump as older messages go in above.
    const top = box.scrollTop;
    const height = box.scrollHeight;
    b.remove();
    addMessages(page);
    if (page.length === 50) box.prepend(olderButton());
    box.scrollTop = top + (box.scrollHeight - height);
  };
  b.addEventListener('click', load);
  if ('IntersectionObserver' in window) {
    const seen = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { seen.disconnect(); load(); }
    }, { root: document.getElementById('messages'), rootMargin: '400px 0px 0px 0px' });
    seen.observe(b);
  }
  return b;
}

function readCount(seq, sender) {
  if (!state.detail) return 0;
  return state.detail.members.filter((m) => m.user_id !== sender && m.last_read_seq >= seq).length;
}

const STAMPS = [['like', '👍'], ['ok', '🙆'], ['thanks', '🙏'], ['done', '✅'], ['looking', '👀'], ['celebrate', '🎉']];
const stampEmoji = (code) => (STAMPS.find(([c]) => c === code) || [code, code])[1];

function snippet(text) {
  const t = text.replace(/\s+/g, ' ');
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}

function messageNode(m) {
  const mine = m.sender_id === me;
  const node = el('article', { class: mine ? 'msg mine' : 'msg', id: `m${m.seq}`, 'data-seq': String(m.seq), tabIndex: -1 });
  if (!mine) node.append(el('div', { class: 'who' }, state.names.get(m.sender_id) || '—'));
  if (m.reply_to && !m.deleted) {
    const original = [...state.messages.values()].find((x) => x.id === m.reply_to);
    const quote = el('button', { type: 'button', class: 'quote', 'data-testid': 'quote' },
      el('span', { class: 'quote-who' }, original ? (state.names.get(original.sender_id) || '') : ''),
      original ? (original.deleted ? T.deleted : snippet(original.body)) : '…');
    quote.addEventListener('click', () => {
      if (!original) return;
      const target = document.getElementById(`m${original.seq}`);
      if (target) { target.scrollIntoView({ block: 'center' }); target.classList.add('flash'); target.focus(); setTimeout(() => target.classList.remove('flash'), 1500); }
    });
    node.append(quote);
  }
  const bubble = el('div', { class: m.deleted ? 'bubble deleted' : 'bubble' });
  if (m.deleted) bubble.append(T.deleted); else bubble.append(renderBody(m.body, m.mentions || []));
  // A message of files alone shows no empty bubble.
  if (m.deleted || m.body) node.append(bubble);
  if (!m.deleted && m.attachments && m.attachments.length) node.append(attachmentList(m.attachments));
  if (!m.deleted && m.reactions && m.reactions.length) {
    const row = el('div', { class: 'reactions' });
    for (const r of m.reactions) {
      const who = r.user_ids.map((u) => state.names.get(u) || '').join('、');
      const chip = el('button', { type: 'button', class: r.user_ids.includes(me) ? 'reaction mine' : 'reaction', title: who, 'data-stamp': r.stamp }, `${stampEmoji(r.stamp)} ${r.user_ids.length}`);
      chip.addEventListener('click', () => toggleStamp(m, r.stamp));
      row.append(chip);
    }
    node.append(row);
  }
  const meta = el('div', { class: 'meta' }, el('time', {}, timeOf(m.created_at)));
  if (m.forwarded && !m.deleted) meta.append(el('span', { class: 'forwarded' }, T.forwarded));
  if (m.class > 0 && !m.deleted) meta.append(classTag(m.class, { 'data-testid': 'class' }));
  if (m.edited && !m.deleted) meta.append(el('span', { class: 'edited' }, T.edited));
  if (mine && !m.deleted) {
    const read = readMark(m);
    if (read) meta.append(read);
  }
  node.append(meta);
  if (!m.deleted) node.append(actions(m, mine));
  return node;
}

// ---- files (C4) ----
function fileSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}
function fileIcon(type) {
  if (type.startsWith('image/')) return '🖼';
  if (type === 'application/pdf') return '📕';
  if (type.includes('spreadsheet') || type === 'text/csv') return '📊';
  if (type.includes('presentation')) return '📙';
  if (type.includes('word')) return '📘';
  return '📄';
}
// A file's size (and whatever else is given), then its class when it has one.
function fileInfo(f, ...more) {
  const info = el('span', { class: 'info' }, [fileSize(f.size), ...more].join(' ・ '));
  if (f.class > 0) info.append(' ・ ', classTag(f.class));
  return info;
}

// Each file is a download link: the server always sends it as an attachment, never inline.
function attachmentList(files) {
  const list = el('div', { class: 'attachments' });
  for (const f of files) {
    // Pictures show as pictures (checked PNG/JPEG/GIF only; never SVG); a click opens the viewer.
    if (f.content_type.startsWith('image/') && root.dataset.download !== 'no') {
      const thumb = el('button', { type: 'button', class: 'image-thumb', title: f.name, 'data-testid': 'image-thumb' },
        el('img', { src: `/api/v1/files/${f.id}/view`, alt: f.name, loading: 'lazy', decoding: 'async' }));
      thumb.addEventListener('click', () => openViewer(f));
      list.append(thumb);
      continue;
    }
    const info = fileInfo(f);
    const parts = [el('span', { class: 'icon', 'aria-hidden': 'true' }, fileIcon(f.content_type)), el('span', { class: 'name' }, f.name), info];
    // On a device whose rules forbid downloads the file is named but not offered.
    if (root.dataset.download === 'no') {
      info.append(' ・ ', T.no_download);
      list.append(el('span', { class: 'file-chip disabled', 'data-testid': 'attachment' }, ...parts));
    } else {
      list.append(el('a', { class: 'file-chip', href: `/api/v1/files/${f.id}`, download: f.name, title: `${T.download}: ${f.name}`, 'data-testid': 'attachment' }, ...parts));
    }
  }
  return list;
}

// The viewer: one picture at a time over the page, with its name and a download link. A native
// <dialog> keeps focus inside it and closes with Esc.
function openViewer(f) {
  let dialog = document.getElementById('viewer');
  if (!dialog) {
    dialog = el('dialog', { id: 'viewer', class: 'viewer', 'aria-labelledby': 'viewer-title' });
    document.body.append(dialog);
    dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  }
  const close = el('button', { type: 'button', class: 'viewer-close', 'aria-label': T.close }, '×');
  close.addEventListener('click', () => dialog.close());
  dialog.replaceChildren(
    el('div', { class: 'viewer-bar' }, el('strong', { id: 'viewer-title' }, f.name), fileInfo(f),
      el('a', { href: `/api/v1/files/${f.id}`, download: f.name, class: 'viewer-download' }, T.download), close),
    el('img', { src: `/api/v1/files/${f.id}/view`, alt: f.name }));
  dialog.showModal();
  close.focus();
}

// The talk's files, newest first: who sent each, when, and its class.
async function showFiles() {
  const panel = document.getElementById('files-panel');
  const list = document.getElementById('files-list');
  const files = await api('GET', `/api/v1/talks/${state.talk}/files`);
  list.replaceChildren();
  if (files.length === 0) list.append(el('li', { class: 'muted' }, T.no_files));
  for (const f of files) {
    const when = new Date(f.created_at / 1000).toLocaleString(T.lang === 'ja' ? 'ja-JP' : 'en-GB', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Asia/Tokyo' });
    const info = fileInfo(f, state.names.get(f.uploader_id) || '', when);
    const name = root.dataset.download === 'no'
      ? el('span', { class: 'name' }, f.name)
      : el('a', { class: 'name', href: `/api/v1/files/${f.id}`, download: f.name }, f.name);
    list.append(el('li', { 'data-testid': 'talk-file' }, el('span', { class: 'icon', 'aria-hidden': 'true' }, fileIcon(f.content_type)), name, info));
  }
  panel.hidden = false;
  document.getElementById('files-close').focus();
}
document.getElementById('talk-files').addEventListener('click', () => {
  const panel = document.getElementById('files-panel');
  if (panel.hidden) showFiles(); else panel.hidden = true;
});
document.getElementById('files-close').addEventListener('click', () => { document.getElementById('files-panel').hidden = true; document.getElementById('talk-files').focus(); });

// Files wait in the composer while they upload and are scanned, then go with the next send.
const pendingFiles = [];
function renderPending() {
  const list = document.getElementById('pending-files');
  const here = pendingFiles.filter((p) => p.talk === state.talk);
  list.replaceChildren();
  list.hidden = here.length === 0;
  for (const p of here) {
    const stateText = p.error ? p.error : p.id ? T.file_ready : p.progress < 1 ? `${T.uploading} ${Math.floor(p.progress * 100)}%` : `${T.scanning}…`;
    const look = p.confirmable ? ' warn' : p.error ? ' error' : p.id ? ' ready' : '';
    const item = el('li', { class: `pending-file${look}`, 'data-testid': 'pending-file' },
      el('span', { 'aria-hidden': 'true' }, fileIcon(p.type)), el('span', { class: 'name', title: p.name }, p.name));
    const remove = el('button', { type: 'button', class: 'remove', 'aria-label': `${T.remove_file}: ${p.name}`, title: T.remove_file }, '×');
    remove.addEventListener('click', () => { if (p.xhr && !p.id) p.xhr.abort(); pendingFiles.splice(pendingFiles.indexOf(p), 1); renderPending(); });
    item.append(remove);
    if (!p.id && !p.error) item.append(el('progress', { max: 1, value: p.progress }));
    item.append(el('span', { class: 'state', role: p.error ? 'alert' : 'status' }, `${fileSize(p.size)} ・ ${stateText}`));
    // Findings that only ask: the sender may confirm, and the file goes up again confirmed.
    if (p.confirmable) {
      const ok = el('button', { type: 'button', class: 'confirm-file', 'data-testid': 'confirm-file' }, T.confirm_attach);
      ok.addEventListener('click', () => { pendingFiles.splice(pendingFiles.indexOf(p), 1); uploadFile(p.file, true); });
      item.append(ok);
    }
    list.append(item);
  }
}
// XMLHttpRequest rather than fetch: it reports upload progress.
function uploadFile(file, confirmed = false) {
  if (!state.talk) return;
  const p = { talk: state.talk, file, name: file.name, size: file.size, type: file.type || '', progress: 0, id: null, error: null, xhr: null, confirmable: false };
  pendingFiles.push(p);
  const xhr = new XMLHttpRequest();
  p.xhr = xhr;
  xhr.open('POST', `/api/v1/talks/${p.talk}/files?name=${encodeURIComponent(file.name)}${confirmed ? '&confirm_dlp=true' : ''}`);
  xhr.setRequestHeader('x-csrf-token', csrf);
  xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) { p.progress = e.loaded / e.total; renderPending(); } });
  xhr.upload.addEventListener('load', () => { p.progress = 1; renderPending(); });
  xhr.addEventListener('load', () => {
    let data = null;
    try { data = JSON.parse(xhr.responseText); } catch (_) { /* not JSON: a proxy's page */ }
    if (xhr.status === 201 && data) { p.id = data.id; p.type = data.content_type; }
    else if (xhr.status === 401) { window.location.href = '/login'; return; }
    else {
      p.error = errorText(data) || T.upload_failed;
      p.confirmable = Boolean(data && data.error && data.error.code === 'file_dlp_confirm_required');
    }
    renderPending();
  });
  xhr.addEventListener('error', () => { p.error = T.upload_failed; renderPending(); });
  xhr.send(file);
  renderPending();
}
// Where the body does not let guests send files, the page has no 📎 and drops and pastes are
// ignored (the server refuses them anyway).
function addFiles(files) { if (root.dataset.upload === 'no') return; for (const f of files) uploadFile(f); }
document.getElementById('attach').addEventListener('click', () => document.getElementById('file-input').click());
document.getElementById('file-input').addEventListener('change', (e) => { addFiles([...e.target.files]); e.target.value = ''; });
{
  const view = document.querySelector('.talk-view');
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  view.addEventListener('dragover', (e) => { if (!hasFiles(e) || !state.talk) return; e.preventDefault(); view.classList.add('dropping'); });
  view.addEventListener('dragleave', (e) => { if (!view.contains(e.relatedTarget)) view.classList.remove('dropping'); });
  view.addEventListener('drop', (e) => { if (!hasFiles(e) || !state.talk) return; e.preventDefault(); view.classList.remove('dropping'); addFiles([...e.dataTransfer.files]); });
}

function actions(m, mine) {
  const bar = el('div', { class: 'actions-bar' });
  const reply = el('button', { type: 'button', class: 'act', 'data-act': 'reply' }, T.reply);
  reply.addEventListener('click', () => startReply(m));
  bar.append(reply);
  const pick = el('details', { class: 'stamp-picker' }, el('summary', { class: 'act', 'data-act': 'stamp' }, T.stamp));
  const grid = el('div', { class: 'stamps' });
  for (const [code, emoji] of STAMPS) {
    const b = el('button', { type: 'button', 'data-stamp': code, title: code }, emoji);
    b.addEventListener('click', () => { pick.open = false; toggleStamp(m, code); });
    grid.append(b);
  }
  pick.append(grid);
  bar.append(pick);
  const pin = el('button', { type: 'button', class: 'act', 'data-act': 'pin' }, m.pinned ? T.unpin : T.pin);
  pin.addEventListener('click', async () => {
    replaceMessage(await api(m.pinned ? 'DELETE' : 'POST', `/api/v1/messages/${m.id}/pin`));
  });
  bar.append(pin);
  const fwd = el('button', { type: 'button', class: 'act', 'data-act': 'forward' }, T.forward);
  fwd.addEventListener('click', () => startForward(m));
  bar.append(fwd);
  if (mine) {
    const edit = el('button', { type: 'button', class: 'act', 'data-act': 'edit' }, T.edit);
    edit.addEventListener('click', () => startEdit(m));
    const del = el('button', { type: 'button', class: 'act', 'data-act': 'delete' }, T.delete);
    del.addEventListener('click', async () => {
      if (!window.confirm(T.delete_confirm)) return;
      const updated = await api('DELETE', `/api/v1/messages/${m.id}`);
      replaceMessage(updated);
    });
    bar.append(edit, del);
  }
  return bar;
}

async function toggleStamp(m, code) {
  const current = state.messages.get(m.seq);
  const r = (current.reactions || []).find((x) => x.stamp === code);
  const on = !(r && r.user_ids.includes(me));
  if (on) await api('POST', `/api/v1/messages/${m.id}/reactions`, { stamp: code });
  else await api('DELETE', `/api/v1/messages/${m.id}/reactions/${code}`);
  applyReaction(m.seq, code, me, on);
}

function applyReaction(seq, code, user, on) {
  const m = state.messages.get(seq);
  if (!m) return;
  m.reactions = m.reactions || [];
  let r = m.reactions.find((x) => x.stamp === code);
  if (!r) { r = { stamp: code, user_ids: [] }; m.reactions.push(r); }
  r.user_ids = r.user_ids.filter((u) => u !== user);
  if (on) r.user_ids.push(user);
  m.reactions = m.reactions.filter((x) => x.user_ids.length > 0);
  replaceMessage(m);
}

// The pinned bar under the talk's title: each pin jumps to its message.
function renderPins() {
  const bar = document.getElementById('pins');
  const pins = (state.detail && state.detail.pinned) || [];
  bar.replaceChildren();
  bar.hidden = pins.length === 0;
  for (const p of pins) {
    const b = el('button', { type: 'button', class: 'pin', 'data-testid': 'pin' }, `📌 ${snippet(p.body)}`);
    b.addEventListener('click', () => {
      const target = document.getElementById(`m${p.seq}`);
      if (target) { target.scrollIntoView({ block: 'center' }); target.classList.add('flash'); setTimeout(() => target.classList.remove('flash'), 1500); }
    });
    bar.append(b);
  }
}

function trackPin(m) {
  if (!state.detail || m.talk_id !== state.talk) return;
  const others = (state.detail.pinned || []).filter((p) => p.id !== m.id);
  state.detail.pinned = m.pinned && !m.deleted ? [m, ...others] : others;
  renderPins();
}

function replaceMessage(updated) {
  trackPin(updated);
  const old = state.messages.get(updated.seq);
  if (!old) return;
  const merged = { ...old, ...updated, reactions: updated.reactions && updated.reactions.length ? updated.reactions : old.reactions };
  if (updated.deleted) merged.reactions = [];
  state.messages.set(updated.seq, merged);
  const node = document.getElementById(`m${updated.seq}`);
  if (node) node.replaceWith(messageNode(merged));
  // Replies quote this message: they must show the new text, or that it was deleted.
  for (const r of state.messages.values()) {
    if (r.reply_to === merged.id) {
      const quoting = document.getElementById(`m${r.seq}`);
      if (quoting) quoting.replaceWith(messageNode(r));
    }
  }
}

let replyTo = null;
function startReply(m) {
  replyTo = m;
  const bar = document.getElementById('replying');
  bar.replaceChildren(el('span', {}, `${T.replying_to} ${state.names.get(m.sender_id) || ''}「${snippet(m.body)}」`));
  const x = el('button', { type: 'button', class: 'link', 'aria-label': T.cancel_reply }, '×');
  x.addEventListener('click', () => { replyTo = null; bar.hidden = true; });
  bar.append(x);
  bar.hidden = false;
  document.getElementById('body').focus();
}

// An edit goes through the same detection panel as a new message; its buttons resend the edit.
async function saveEdit(m, text, confirm) {
  try {
    replaceMessage(await api('PATCH', `/api/v1/messages/${m.id}`, { body: text, confirm_dlp: confirm }));
  } catch (err) {
    if (!err.dlp) { window.alert(err.message); return; }
    replaceMessage(m);
    showDlp(err, text, { resend: (t, c) => saveEdit(m, t, c), restore: (t) => startEdit(m, t) });
  }
}

function startEdit(m, text = m.body) {
  const node = document.getElementById(`m${m.seq}`);
  const box = el('textarea', { class: 'edit-box', rows: 2, value: text, 'aria-label': T.edit });
  const save = el('button', { type: 'button', class: 'primary' }, T.save);
  const cancel = el('button', { type: 'button', class: 'link' }, T.cancel);
  const form = el('div', { class: 'edit-form' }, box, el('div', { class: 'actions' }, save, cancel));
  node.querySelector('.bubble').replaceWith(form);
  guardEnter(box, () => save.click());
  save.addEventListener('click', () => saveEdit(m, box.value, false));
  cancel.addEventListener('click', () => replaceMessage(m));
  box.focus();
}

// Who has read a message and who has not, from the members' read positions.
function showReaders(m, anchor) {
  document.querySelector('.readers')?.remove();
  const members = state.detail ? state.detail.members.filter((x) => x.user_id !== m.sender_id) : [];
  const read = members.filter((x) => x.last_read_seq >= m.seq);
  const unread = members.filter((x) => x.last_read_seq < m.seq);
  const list = (title, people, testid) => el('section', { 'data-testid': testid },
    el('h4', {}, `${title}（${people.length}）`),
    el('ul', {}, ...people.map((p) => el('li', {}, p.display_name))));
  const box = el('div', { class: 'readers', role: 'dialog', 'aria-label': T.read },
    list(T.read_by, read, 'readers-read'), list(T.not_read_by, unread, 'readers-unread'));
  const close = el('button', { type: 'button', class: 'link close' }, T.close);
  close.addEventListener('click', () => box.remove());
  box.append(close);
  anchor.closest('.msg').append(box);
  close.focus();
}

function addMessages(list) {
  const box = document.getElementById('messages');
  const empty = document.getElementById('no-messages');
  if (empty && list.length) empty.remove();
  for (const m of list) {
    if (m.talk_id !== state.talk || state.messages.has(m.seq)) continue; // nothing twice
    state.messages.set(m.seq, m);
    const node = messageNode(m);
    const after = [...box.querySelectorAll('article.msg')].find((a) => Number(a.dataset.seq) > m.seq);
    if (after) box.insertBefore(node, after); else box.append(node);
    state.oldest = state.oldest === null ? m.seq : Math.min(state.oldest, m.seq);
    state.newest = Math.max(state.newest, m.seq);
  }
}

// "既読 N" under one of my messages, or null while nobody has read it.
function readMark(m) {
  const others = state.detail ? state.detail.members.length - 1 : 0;
  const n = readCount(m.seq, m.sender_id);
  if (n === 0) return null;
  const read = el('button', { type: 'button', class: 'read', 'data-testid': 'read', 'aria-haspopup': 'dialog' }, others > 1 && n === others ? T.read_all : `${T.read} ${n}`);
  read.addEventListener('click', () => showReaders(m, read));
  return read;
}

// Only the read marks change: an edit box, an open stamp picker or a focused button under
// the same message stay as they are.
function refreshReadMarks() {
  for (const m of state.messages.values()) {
    if (m.sender_id !== me || m.deleted) continue;
    const meta = document.querySelector(`#m${m.seq} > .meta`);
    if (!meta) continue;
    const now = readMark(m);
    const old = meta.querySelector('.read');
    if (old && now && old.textContent === now.textContent) continue;
    if (old && now) old.replaceWith(now);
    else if (old) old.remove();
    else if (now) meta.append(now);
  }
}

async function markRead() {
  if (!state.talk || state.newest === 0 || document.hidden) return;
  const t = state.talks.find((x) => x.id === state.talk);
  if (t && t.last_read_seq >= state.newest) return;
  await api('POST', `/api/v1/talks/${state.talk}/read`, { seq: state.newest });
  if (t) { t.last_read_seq = state.newest; t.unread = 0; t.unread_mentions = 0; renderTalks(); }
}

// ---- composer: Enter sends, Shift+Enter breaks the line, IME Enter never sends ----
// Chromium and Firefox mark the confirming Enter as composing (isComposing, keyCode 229).
// Safari ends the composition first and then delivers that Enter as keyCode 229, so an Enter
// right after compositionend is treated as part of the IME too.
function guardEnter(area, action) {
  let composing = false;
  let compositionEndedAt = -Infinity;
  area.addEventListener('compositionstart', () => { composing = true; });
  area.addEventListener('compositionend', () => { composing = false; compositionEndedAt = performance.now(); });
  area.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    if (composing || e.isComposing || e.keyCode === 229 || performance.now() - compositionEndedAt < 50) return;
    e.preventDefault();
    action();
  });
}
const body = document.getElementById('body');
const mentioned = new Map(); // display name -> user id, for names picked from the list

// @ or ＠ opens a list of the talk's members, filtered by name or kana as you type. Reading the
// text on 'input' (not keydown) works the same with an IME.
const picker = el('ul', { class: 'mention-picker', id: 'mention-picker', role: 'listbox', hidden: true });
document.getElementById('composer').append(picker);
let pickerIndex = 0;
function mentionQuery() {
  const before = body.value.slice(0, body.selectionStart);
  const m = before.match(/[@＠]([^\s@＠]*)$/);
  return m ? { start: before.length - m[0].length, q: toKatakana(m[1]) } : null;
}
function candidates() {
  const q = mentionQuery();
  if (!q || !state.detail) return [];
  return state.detail.members.filter((p) => p.user_id !== me && (p.display_name.replace(/\s|　/g, '') + p.kana.replace(/\s|　/g, '')).includes(q.q.replace(/\s|　/g, ''))).slice(0, 8);
}
function renderPicker() {
  const list = candidates();
  picker.replaceChildren();
  picker.hidden = list.length === 0;
  pickerIndex = Math.min(pickerIndex, Math.max(0, list.length - 1));
  list.forEach((p, i) => {
    const li = el('li', { role: 'option', 'aria-selected': String(i === pickerIndex), 'data-user': p.user_id }, p.display_name, el('span', { class: 'kana' }, ` ${p.kana}`));
    li.addEventListener('mousedown', (e) => { e.preventDefault(); pick(p); });
    picker.append(li);
  });
}
function pick(p) {
  const q = mentionQuery();
  if (!q) return;
  const mark = body.value[q.start];
  const insert = `${mark}${p.display_name} `;
  body.value = body.value.slice(0, q.start) + insert + body.value.slice(body.selectionStart);
  const caret = q.start + insert.length;
  body.setSelectionRange(caret, caret);
  mentioned.set(p.display_name, p.user_id);
  picker.hidden = true;
  body.focus();
}
body.addEventListener('input', renderPicker);
body.addEventListener('keydown', (e) => {
  if (picker.hidden || e.isComposing || e.keyCode === 229) return;
  const list = candidates();
  if (e.key === 'ArrowDown') { e.preventDefault(); pickerIndex = (pickerIndex + 1) % list.length; renderPicker(); }
  else if (e.key === 'ArrowUp') { e.preventDefault(); pickerIndex = (pickerIndex - 1 + list.length) % list.length; renderPicker(); }
  else if ((e.key === 'Enter' || e.key === 'Tab') && list[pickerIndex]) { e.preventDefault(); e.stopImmediatePropagation(); pick(list[pickerIndex]); }
  else if (e.key === 'Escape') { picker.hidden = true; }
});
guardEnter(body, () => send());
// A pasted screenshot is attached; pasted text (even with a picture of it, as Excel gives) is text.
body.addEventListener('paste', (e) => {
  const data = e.clipboardData;
  if (!data || data.files.length === 0 || data.getData('text/plain')) return;
  e.preventDefault();
  addFiles([...data.files]);
});
document.getElementById('composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });

// Sends go out one after another in the order typed. The box is cleared at once, so a fast
// typist never has an Enter ignored; a failed send puts its text back. A message with personal
// data comes back with what was found, shown before anything is sent.
let queue = Promise.resolve();
function send(text = body.value) {
  if (!state.talk) return;
  const talk = state.talk;
  const here = pendingFiles.filter((p) => p.talk === talk);
  if (here.some((p) => !p.id && !p.error)) {
    const error = document.getElementById('send-error');
    error.textContent = T.files_pending;
    error.hidden = false;
    return;
  }
  const ready = here.filter((p) => p.id);
  if (!text.trim() && ready.length === 0) return;
  for (const p of ready) pendingFiles.splice(pendingFiles.indexOf(p), 1);
  renderPending();
  if (text === body.value) body.value = '';
  const chosen = Number(document.getElementById('msg-class').value);
  const payload = {
    body: text,
    reply_to: replyTo ? replyTo.id : undefined,
    mentions: [...mentioned].filter(([name]) => text.includes(`@${name}`) || text.includes(`＠${name}`)).map(([, id]) => id),
    class: state.detail && chosen !== state.detail.default_class.rank ? chosen : undefined,
    files: ready.length ? ready.map((p) => p.id) : undefined,
  };
  // Kept to put back in the composer if the send fails.
  Object.defineProperty(payload, 'pending', { value: ready, enumerable: false });
  mentioned.clear();
  replyTo = null;
  document.getElementById('replying').hidden = true;
  submit(talk, payload);
}

// One send, in order after the ones before it. After a detection the panel resends the same
// request (reply, mentions and class kept) with the masked text or the sender's confirmation.
function submit(talk, payload) {
  const error = document.getElementById('send-error');
  queue = queue.then(async () => {
    try {
      const m = await api('POST', `/api/v1/talks/${talk}/messages`, payload);
      error.hidden = true;
      addMessages([m]);
      const box = document.getElementById('messages');
      box.scrollTop = box.scrollHeight;
    } catch (err) {
      if (err.dlp && state.talk === talk) {
        showDlp(err, payload.body, {
          resend: (text, confirm) => submit(talk, { ...payload, body: text, confirm_dlp: confirm }),
          restore: (text) => { if (!body.value) body.value = text; body.focus(); },
        });
        return;
      }
      error.textContent = `${T.send_failed} ${err.message}`;
      error.hidden = false;
      if (!body.value && state.talk === talk) body.value = payload.body;
      if (payload.pending && payload.pending.length) { pendingFiles.push(...payload.pending.filter((p) => !pendingFiles.includes(p))); renderPending(); }
    }
  });
}

// Byte offsets from the server into the text, as JavaScript strings index UTF-16.
function byteSlice(text, a, b) {
  const bytes = new TextEncoder().encode(text);
  return new TextDecoder().decode(bytes.slice(a, b));
}

// What the detection panel does with the text: resend the request it came from (a new message
// or an edit), or give the text back to where it was typed.
let pendingDlp = null;
function showDlp(err, original, pending) {
  pendingDlp = pending;
  const panel = document.getElementById('dlp');
  const v = err.dlp;
  const checked = v.checked_text;
  const textNode = document.getElementById('dlp-text');
  textNode.replaceChildren();
  let at = 0;
  const total = new TextEncoder().encode(checked).length;
  for (const f of v.findings) {
    textNode.append(byteSlice(checked, at, f.start));
    textNode.append(el('mark', { title: T.lang === 'ja' ? f.label_ja : f.label_en }, byteSlice(checked, f.start, f.end)));
    at = f.end;
  }
  textNode.append(byteSlice(checked, at, total));
  const list = document.getElementById('dlp-list');
  list.replaceChildren();
  for (const f of v.findings) {
    const why = f.above_ceiling_ja ? `（${T.lang === 'ja' ? f.above_ceiling_ja : f.above_ceiling_en}: ${T.above_ceiling}）` : '';
    list.append(el('li', { 'data-kind': f.kind }, `${T.lang === 'ja' ? f.label_ja : f.label_en}: ${byteSlice(checked, f.start, f.end)}${why}`));
  }
  document.getElementById('dlp-message').textContent = err.message;
  document.getElementById('dlp-send').hidden = err.code !== 'dlp_confirm_required';
  // A blocked kind may not go even masked: the sender removes it.
  document.getElementById('dlp-mask').hidden = err.code === 'dlp_blocked';
  panel.hidden = false;
  panel.dataset.masked = v.masked_text;
  panel.dataset.original = original;
  document.getElementById(err.code === 'dlp_blocked' ? 'dlp-edit' : 'dlp-mask').focus();
}

function closeDlp() {
  document.getElementById('dlp').hidden = true;
}

document.getElementById('dlp-mask').addEventListener('click', () => {
  closeDlp();
  pendingDlp.resend(document.getElementById('dlp').dataset.masked, false);
});
document.getElementById('dlp-send').addEventListener('click', () => {
  closeDlp();
  pendingDlp.resend(document.getElementById('dlp').dataset.original, true);
});
document.getElementById('dlp-edit').addEventListener('click', () => {
  closeDlp();
  pendingDlp.restore(document.getElementById('dlp').dataset.original);
});

// ---- live connection ----
function resume() {
  if (state.ws && state.ws.readyState === WebSocket.OPEN && state.talk) {
    state.ws.send(JSON.stringify({ type: 'resume', talks: { [state.talk]: state.newest } }));
  }
}

function connect(delay = 500) {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`);
  state.ws = ws;
  ws.addEventListener('open', () => { delay = 500; resume(); });
  ws.addEventListener('message', (ev) => {
    const e = JSON.parse(ev.data);
    if (e.type === 'message') {
      const t = state.talks.find((x) => x.id === e.talk_id);
      if (e.talk_id === state.talk) {
        const box = document.getElementById('messages');
        const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
        addMessages([e.message]);
        if (atBottom) box.scrollTop = box.scrollHeight;
        markRead();
      } else if (t && e.message.sender_id !== me && e.message.seq > t.last_read_seq) {
        t.unread = e.message.seq - t.last_read_seq;
        if ((e.message.mentions || []).includes(me)) t.unread_mentions = (t.unread_mentions || 0) + 1;
      }
      if (t) { t.last_seq = Math.max(t.last_seq, e.message.seq); t.last_message_at = e.message.created_at; renderTalks(); }
      else loadTalks();
    } else if (e.type === 'activity') {
      // A message in a talk this page has not resumed: update the list, or resume if it is open.
      if (e.talk_id === state.talk) { resume(); return; }
      const t = state.talks.find((x) => x.id === e.talk_id);
      if (!t) { loadTalks(); return; }
      t.last_seq = Math.max(t.last_seq, e.seq);
      t.last_message_at = e.created_at;
      if (e.sender_id !== me) t.unread = Math.max(0, t.last_seq - t.last_read_seq);
      // The activity note carries no content; the list learns of mentions on its next load.
      renderTalks();
    } else if (e.type === 'message_updated' && e.talk_id === state.talk) {
      replaceMessage(e.message);
    } else if (e.type === 'reaction' && e.talk_id === state.talk) {
      if (e.user_id !== me) applyReaction(e.seq, e.stamp, e.user_id, e.on);
    } else if (e.type === 'read' && state.detail && e.talk_id === state.talk) {
      const m = state.detail.members.find((x) => x.user_id === e.user_id);
      if (m) { m.last_read_seq = Math.max(m.last_read_seq, e.seq); refreshReadMarks(); }
      if (e.user_id === me) { const t = state.talks.find((x) => x.id === e.talk_id); if (t) { t.unread = 0; t.last_read_seq = e.seq; renderTalks(); } }
    } else if (e.type === 'talk') {
      loadTalks();
      if (e.talk_id === state.talk) {
        api('GET', `/api/v1/talks/${state.talk}`).then(setDetail).catch(() => { state.talk = null; });
      }
    } else if (e.type === 'notification') {
      document.dispatchEvent(new CustomEvent('kairan:notification'));
    }
  });
  ws.addEventListener('close', () => {
    // A connection closed because the session ended (sign-out elsewhere, expiry, suspension)
    // must not keep reconnecting: ask whether we are still signed in first. api() takes a
    // signed-out page to the sign-in page; a server that is down is retried with back-off.
    setTimeout(() => {
      api('GET', '/api/v1/me')
        .then(() => connect(Math.min(delay * 2, 10000)))
        .catch((err) => { if (err.message !== 'signed out') connect(Math.min(delay * 2, 10000)); });
    }, delay);
  });
}

// ---- new talk ----
async function loadPeople() {
  state.people = await api('GET', `/api/v1/orgs/${org}/directory`);
  for (const p of state.people) state.names.set(p.id, p.display_name);
  renderPeople();
}

function toKatakana(s) {
  return s.replace(/[\u3041-\u3096]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x60));
}

function renderPeople() {
  const q = toKatakana(document.getElementById('people-filter').value.trim().replace(/\s|　/g, ''));
  const group = document.querySelector('input[name="kind"]:checked').value === 'group';
  const list = document.getElementById('people');
  const checked = new Set([...list.querySelectorAll('input:checked')].map((i) => i.value));
  list.replaceChildren();
  for (const p of state.people) {
    if (p.id === me) continue;
    const hay = (p.display_name + p.kana).replace(/\s|　/g, '');
    if (q && !hay.includes(q)) continue;
    const input = el('input', { type: group ? 'checkbox' : 'radio', name: 'person', value: p.id, checked: checked.has(p.id) });
    list.append(el('li', {}, el('label', {}, input, ` ${p.display_name} `, el('span', { class: 'kana' }, p.kana))));
  }
}

document.getElementById('talk-filter').addEventListener('input', renderTalks);
// A guest starts no talks (the page has no form for it): only staff get these.
if (document.getElementById('new-talk')) {
document.getElementById('people-filter').addEventListener('input', renderPeople);
for (const r of document.querySelectorAll('input[name="kind"]')) {
  r.addEventListener('change', () => {
    root.classList.toggle('group-mode', r.value === 'group' && r.checked);
    renderPeople();
  });
}
document.querySelector('.new-talk').addEventListener('toggle', (e) => { if (e.target.open && state.people.length === 0) loadPeople(); });
document.getElementById('new-talk').addEventListener('submit', async (e) => {
  e.preventDefault();
  const error = document.getElementById('new-talk-error');
  const kind = document.querySelector('input[name="kind"]:checked').value;
  const chosen = [...document.querySelectorAll('#people input:checked')].map((i) => i.value);
  try {
    if (chosen.length === 0 && kind === 'direct') throw new Error(T.choose_people);
    const body = kind === 'direct'
      ? { kind, user_id: chosen[0] }
      : { kind, name: document.getElementById('talk-name').value, members: chosen };
    const created = await api('POST', '/api/v1/talks', body);
    document.querySelector('.new-talk').open = false;
    error.hidden = true;
    await loadTalks();
    openTalk(created.id, true);
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  }
});
}

window.addEventListener('popstate', (e) => { if (e.state && e.state.talk) openTalk(e.state.talk, false); });
document.addEventListener('visibilitychange', markRead);

await loadTalks();
connect();
if (state.talk) openTalk(state.talk, false);
