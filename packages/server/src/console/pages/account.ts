/**
 * One's own account: who one is, one's role, and changing one's own password, which needs the current one
 * (every role may; managing other operators is for admins, pages/operators.ts). A new password ends every
 * session of the operator, this one too.
 */
import type { Hono } from 'hono';
import { ServiceError } from '../../errors.js';
import { type CCtx, type ConsoleEnv, readForm, sessionOf } from '../env.js';
import { csrf, type Flash, h, render, when } from '../ui.js';

function accountPage(c: CCtx, flash: Flash | null = null, status = 200): Response {
  const t = c.get('t');
  const me = sessionOf(c).operator;
  const body = h`<div class="card"><dl class="fields">
<div><dt>${t.username}</dt><dd class="mono" id="account-username">${me.username}</dd></div>
<div><dt>${t.operators.displayName}</dt><dd>${me.displayName ?? '—'}</dd></div>
<div><dt>${t.roleCol}</dt><dd id="account-role" data-role="${me.role}">${t.roles[me.role]}</dd></div>
<div><dt>${t.operators.lastLogin}</dt><dd>${when(me.lastLoginAt)}</dd></div>
</dl></div>
<div class="card"><h2>${t.account.change}</h2>
<form method="post" action="/account/password" id="change-password" autocomplete="off">${csrf(c)}
<div class="form-row"><label for="current">${t.account.currentPassword}</label>
<input type="password" id="current" name="current" required autocomplete="current-password"></div>
<div class="form-row"><label for="new-password">${t.account.newPassword}</label>
<input type="password" id="new-password" name="password" minlength="8" required autocomplete="new-password"></div>
<button type="submit" class="btn btn-primary" id="change-password-submit">${t.account.change}</button>
</form>
<p class="muted small">${t.account.help}</p></div>`;
  return render(c, { title: t.account.title, active: 'none', body, flash }, status);
}

export function registerAccount(con: Hono<ConsoleEnv>): void {
  con.get('/account', (c) => accountPage(c));

  con.post('/account/password', async (c) => {
    const form = await readForm(c);
    const me = sessionOf(c).operator;
    try {
      await c
        .get('ctx')
        .services.operators.changeOwnPassword(
          me.id,
          form.str('current', { raw: true }),
          form.str('password', { raw: true }),
        );
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      const text = err.field === 'current' ? c.get('t').account.wrongCurrent : err.message;
      return accountPage(c, { kind: 'error', text }, 422);
    }
    // Every session of this operator ended with the old password: sign in again.
    return c.redirect('/login', 303);
  });
}
