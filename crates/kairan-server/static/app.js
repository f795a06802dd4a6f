// Kairan pages: small progressive enhancements only. Every page works without this file.
// Loaded as a module from 'self', so the Content-Security-Policy needs no inline script.

// Ask before destructive actions (suspend, reset, revoke): buttons carry data-confirm.
document.addEventListener('submit', (event) => {
  const button = event.submitter;
  const question = button && button.dataset ? button.dataset.confirm : null;
  if (question && !window.confirm(question + '?')) {
    event.preventDefault();
  }
});

// Disable a form's buttons while it is being submitted, so a double click never sends twice.
document.addEventListener('submit', (event) => {
  if (event.defaultPrevented) return;
  const form = event.target;
  setTimeout(() => {
    for (const b of form.querySelectorAll('button[type="submit"]')) b.disabled = true;
  }, 0);
});

// The unread notification count beside 情報保護 (security officers' personal-data alerts).
const badge = document.getElementById('notification-count');
async function refreshNotifications() {
  if (!badge) return;
  const res = await fetch('/api/v1/me/notifications', { credentials: 'same-origin' });
  if (!res.ok) return;
  const data = await res.json();
  badge.textContent = String(data.unread);
  badge.hidden = data.unread === 0;
}
refreshNotifications();
document.addEventListener('kairan:notification', refreshNotifications);

// Recovery codes: a print button (the page's print style shows only the codes).
for (const b of document.querySelectorAll('[data-print]')) {
  b.addEventListener('click', () => window.print());
}
