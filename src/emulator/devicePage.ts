import type { EmulatedUser } from './directory.js';
import type { Reply } from './http.js';

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page a device code's `verification_uri` points at: pick a user, enter the code, done.
 * Stands in for the Microsoft sign-in page during dry runs and the demo.
 */
export function devicePage(
  method: string,
  raw: Buffer,
  users: readonly EmulatedUser[],
  approve: (code: string, userId: string) => 'approved' | 'unknown-code' | 'unknown-user' | 'expired',
): Reply {
  let notice = '';
  let status = 200;
  if (method === 'POST') {
    const form = new URLSearchParams(raw.toString('utf8'));
    const outcome = approve(form.get('user_code') ?? '', form.get('user') ?? '');
    notice =
      outcome === 'approved'
        ? 'Signed in. You can close this page and return to the application.'
        : outcome === 'expired'
          ? 'This code has expired. Start the sign-in again.'
          : outcome === 'unknown-user'
            ? 'Pick a user.'
            : 'That code was not recognised.';
    if (outcome !== 'approved') status = 400;
  } else if (method !== 'GET') {
    status = 405;
  }
  const options = users.map((u) => `<option value="${escape(u.id)}">${escape(u.displayName)} (${escape(u.userPrincipalName)})</option>`).join('');
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>Emulator sign-in</title></head><body>
<h1>presence-bridge emulator: device sign-in</h1>
${notice ? `<p role="status">${escape(notice)}</p>` : ''}
<form method="post" action="/devicelogin">
<label>Code <input name="user_code" autocomplete="off" required></label>
<label>User <select name="user">${options}</select></label>
<button type="submit">Sign in</button>
</form></body></html>`;
  return { status, body, contentType: 'text/html; charset=utf-8' };
}
