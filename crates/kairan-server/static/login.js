// The device key (I5): a P-256 key pair made once per browser as non-extractable, kept in
// IndexedDB, and used at each sign-in to sign the page's fresh challenge with the ID being
// signed in. The server binds the first key to the registered device, so the device cookie
// copied elsewhere is not the device. Without WebCrypto or IndexedDB the form is sent as it is
// (a cookie-only device); nothing here can stop a sign-in on its own.

const DB = 'kairan-device';
const STORE = 'keys';
const NAME = 'device-key-v1';

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function inStore(db, mode, act) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = act(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
  });
}

async function deviceKey() {
  const db = await openDb();
  try {
    const found = await inStore(db, 'readonly', (s) => s.get(NAME));
    if (found && found.privateKey && found.publicKey) return found;
    // extractable = false: the private key never leaves the browser's key store.
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    await inStore(db, 'readwrite', (s) => s.put(pair, NAME));
    return pair;
  } finally {
    db.close();
  }
}

function b64url(buffer) {
  let text = '';
  for (const b of new Uint8Array(buffer)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function prove(challenge, loginId) {
  const pair = await deviceKey();
  const message = new TextEncoder().encode(`kairan-device-v1\n${challenge}\n${loginId}`);
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, message);
  const publicKey = await crypto.subtle.exportKey('raw', pair.publicKey);
  return { publicKey: b64url(publicKey), signature: b64url(signature) };
}

function hidden(form, name, value) {
  let input = form.querySelector(`input[name="${name}"]`);
  if (!input) {
    input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    form.append(input);
  }
  input.value = value;
}

const form = document.querySelector('form[action="/login"][data-device-challenge]');
if (form && window.crypto?.subtle && window.indexedDB) {
  let sending = false;
  form.addEventListener('submit', async (event) => {
    if (sending) return;
    event.preventDefault();
    sending = true;
    const challenge = form.dataset.deviceChallenge;
    const loginId = form.querySelector('#login_id').value.trim();
    try {
      // A key store that does not answer must not hold the sign-in: give up after 3 s.
      const proof = await Promise.race([
        prove(challenge, loginId),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000)),
      ]);
      hidden(form, 'device_public_key', proof.publicKey);
      hidden(form, 'device_challenge', challenge);
      hidden(form, 'device_signature', proof.signature);
    } catch {
      // Sent without a proof: the server decides whether this device may sign in so.
    }
    form.submit();
  });
}
