// Passkeys and security keys (WebAuthn): registering one, and using one at the second step of
// a sign-in. The server checks everything; this file only carries bytes between the browser's
// WebAuthn API and the JSON API (binary fields travel as base64url).

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

function toB64url(buf) {
  let s = '';
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromB64url(text) {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
    body: JSON.stringify(body ?? {}),
  });
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) {
    const lang = document.documentElement.lang;
    const err = data.error ?? {};
    throw new Error((lang === 'en' ? err.message_en : err.message_ja) || res.statusText);
  }
  return data;
}

function show(form, message) {
  const box = form.querySelector('[data-passkey-error]');
  if (!box) return;
  box.textContent = message;
  box.hidden = !message;
}

// The browser's own refusal (the person cancelled, or no key matched) is not an error to
// dwell on: say so calmly and let them try again.
function browserMessage(e, form) {
  if (e && e.name === 'NotAllowedError') return form.dataset.cancelled || e.message;
  return e.message;
}

// Runs a passkey ceremony on submit: one at a time, its error shown in the form.
function onSubmit(selector, ceremony) {
  for (const form of document.querySelectorAll(selector)) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      show(form, '');
      const button = form.querySelector('button');
      button.disabled = true;
      try {
        await ceremony(form);
      } catch (e) {
        show(form, browserMessage(e, form));
        button.disabled = false;
      }
    });
  }
}

onSubmit('form[data-passkey-register]', async (form) => {
  const password = form.querySelector('[name=password]')?.value;
  const options = await post('/api/v1/me/passkeys/options', password ? { password } : {});
  options.challenge = fromB64url(options.challenge);
  options.user.id = fromB64url(options.user.id);
  options.excludeCredentials = options.excludeCredentials.map((c) => ({ ...c, id: fromB64url(c.id) }));
  const cred = await navigator.credentials.create({ publicKey: options });
  const done = await post('/api/v1/me/passkeys', {
    name: form.querySelector('[name=name]').value,
    client_data_json: toB64url(cred.response.clientDataJSON),
    attestation_object: toB64url(cred.response.attestationObject),
  });
  const panel = document.querySelector('[data-codes-panel]');
  if (done.recovery_codes && done.recovery_codes.length && panel) {
    // The first second factor: the recovery codes the server issued, shown this once.
    showCodes(panel, done.recovery_codes);
  } else {
    window.location.assign(form.dataset.next || '/account/security?done=passkey');
  }
});

onSubmit('form[data-passkey-sign-in]', async (form) => {
  const options = await post('/api/v1/session/passkey/options');
  options.challenge = fromB64url(options.challenge);
  options.allowCredentials = options.allowCredentials.map((c) => ({ ...c, id: fromB64url(c.id) }));
  const cred = await navigator.credentials.get({ publicKey: options });
  await post('/api/v1/session/passkey', {
    id: cred.id,
    client_data_json: toB64url(cred.response.clientDataJSON),
    authenticator_data: toB64url(cred.response.authenticatorData),
    signature: toB64url(cred.response.signature),
  });
  window.location.assign(form.dataset.next || '/');
});

function showCodes(panel, codes) {
  const list = panel.querySelector('ol');
  for (const c of codes) {
    const li = document.createElement('li');
    const code = document.createElement('code');
    code.textContent = c;
    li.append(code);
    list.append(li);
  }
  for (const el of document.querySelectorAll('[data-setup-main]')) el.hidden = true;
  panel.hidden = false;
  panel.querySelector('a')?.focus();
}
