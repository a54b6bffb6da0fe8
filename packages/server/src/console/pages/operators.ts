/**
 * Operators: list, create (username + initial password), reset a password, disable / enable. Every operator
 * may do this (docs/decisions.md); nobody can disable themselves. Passwords go to the operators service
 * (scrypt) and nowhere else: never echoed into a page, never logged, never in the audit log.
 */
import type { Hono } from 'hono';
import { ServiceError } from '../../errors.js';
import type { Operator } from '../../services/operators.js';
import { actorOf, type CCtx, type ConsoleEnv, readForm, sessionOf } from '../env.js';
import { csrf, type Flash, h, type Html, render, when } from '../ui.js';

const USERNAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;
const MESSAGES = ['created', 'password', 'disabled', 'enabled', 'unchanged'] as const;
type Message = (typeof MESSAGES)[number];

function statusBadge(c: CCtx, op: Operator): Html {
  const t = c.get('t');
  return op.disabled
    ? h`<span class="badge badge-off" data-operator-status="disabled">${t.operators.disabled}</span>`
    : h`<span class="badge badge-ok" data-operator-status="enabled">${t.active}</span>`;
}

async function operatorsPage(
  c: CCtx,
  opts: { flash?: Flash | null; username?: string; displayName?: string } = {},
  status = 200,
): Promise<Response> {
  const t = c.get('t');
  const { services } = c.get('ctx');
  const me = sessionOf(c).operator;
  const list = await services.operators.list();
  const body = h`<div class="card"><h2>${t.operators.create}</h2>
<form method="post" action="/operators" class="toolbar" id="create-operator" autocomplete="off">${csrf(c)}
<div class="field"><label for="op-username">${t.username}</label>
<input type="text" id="op-username" name="username" value="${opts.username ?? ''}" maxlength="64" required autocomplete="off"></div>
<div class="field"><label for="op-display">${t.operators.displayName}</label>
<input type="text" id="op-display" name="display_name" value="${opts.displayName ?? ''}" maxlength="100"></div>
<div class="field"><label for="op-password">${t.operators.initialPassword}</label>
<input type="password" id="op-password" name="password" minlength="8" required autocomplete="new-password"></div>
<button type="submit" class="btn btn-primary" id="create-operator-submit">${t.operators.create}</button>
</form>
<p class="muted small">${t.operators.createHint}</p></div>
<div class="table-wrap"><table id="operators-table"><thead><tr>
<th>ID</th><th>${t.username}</th><th>${t.operators.displayName}</th><th>${t.createdAt}</th><th>${t.operators.lastLogin}</th><th>${t.status}</th><th>${t.operators.resetPassword}</th><th>${t.actions}</th>
</tr></thead>
<tbody>${list.map((op) => {
    const self = op.id === me.id;
    return h`<tr data-operator="${op.username}">
<td>${op.id}</td>
<td class="mono">${op.username}${self ? h` <span class="tag">${t.operators.you}</span>` : ''}</td>
<td>${op.displayName ?? ''}</td>
<td>${when(op.createdAt)}</td>
<td>${when(op.lastLoginAt)}</td>
<td>${statusBadge(c, op)}</td>
<td><form method="post" action="/operators/${op.id}/password" class="inline reset-password" data-confirm="${self ? t.operators.confirmResetSelf : t.operators.confirmReset(op.username)}" autocomplete="off">${csrf(c)}
<input type="password" name="password" minlength="8" required autocomplete="new-password" aria-label="${t.operators.newPassword} ${op.username}" placeholder="${t.operators.newPassword}">
<button type="submit" class="btn btn-small">${t.operators.setPassword}</button></form></td>
<td>${
      self
        ? h`<span class="muted small">${t.operators.cannotDisableSelf}</span>`
        : op.disabled
          ? h`<form method="post" action="/operators/${op.id}/enable" class="inline">${csrf(c)}<button type="submit" class="btn btn-small">${t.operators.enable}</button></form>`
          : h`<form method="post" action="/operators/${op.id}/disable" class="inline" data-confirm="${t.operators.confirmDisable(op.username)}">${csrf(c)}<button type="submit" class="btn btn-danger btn-small">${t.operators.disable}</button></form>`
    }</td></tr>`;
  })}</tbody></table></div>
<p class="muted small">${t.operators.help}</p>`;
  return render(c, { title: t.nav.operators, active: 'operators', body, flash: opts.flash ?? null }, status);
}

function messageFlash(c: CCtx): Flash | null {
  const t = c.get('t');
  const msg = c.req.query('msg');
  if (msg === undefined || !(MESSAGES as readonly string[]).includes(msg)) return null;
  const who = c.req.query('u') ?? '';
  const name = USERNAME_RE.test(who) ? who : '';
  const text = t.operators.done[msg as Message](name);
  return { kind: msg === 'unchanged' ? 'info' : 'ok', text };
}

/** The operator of `:id`, or a 404 page. */
async function target(c: CCtx): Promise<Operator | Response> {
  const op = await c.get('ctx').services.operators.get(Number(c.req.param('id')));
  if (op) return op;
  return operatorsPage(c, { flash: { kind: 'error', text: c.get('t').operators.noSuchOperator } }, 404);
}

function failed(c: CCtx, err: unknown): Promise<Response> {
  if (!(err instanceof ServiceError)) throw err;
  const status = err.status === 403 ? 403 : err.status === 404 ? 404 : 422;
  return operatorsPage(c, { flash: { kind: 'error', text: err.message } }, status);
}

export function registerOperators(con: Hono<ConsoleEnv>): void {
  con.get('/operators', (c) => operatorsPage(c, { flash: messageFlash(c) }));

  con.post('/operators', async (c) => {
    const form = await readForm(c);
    const username = form.str('username');
    const displayName = form.str('display_name').slice(0, 100);
    const password = form.str('password', { raw: true });
    try {
      await c
        .get('ctx')
        .services.operators.create(
          { username, password, ...(displayName !== '' ? { displayName } : {}) },
          actorOf(c),
        );
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      // The form comes back without the password.
      return operatorsPage(
        c,
        { flash: { kind: 'error', text: err.message }, username, displayName },
        err.status === 409 ? 409 : 422,
      );
    }
    return c.redirect(`/operators?msg=created&u=${encodeURIComponent(username)}`, 303);
  });

  con.post('/operators/:id{[0-9]{1,9}}/password', async (c) => {
    const op = await target(c);
    if (op instanceof Response) return op;
    const form = await readForm(c);
    try {
      await c
        .get('ctx')
        .services.operators.setPassword(op.username, form.str('password', { raw: true }), actorOf(c));
    } catch (err) {
      return failed(c, err);
    }
    // A new password ends every session of that operator, this one too when it is one's own.
    if (op.id === sessionOf(c).operator.id) return c.redirect('/login', 303);
    return c.redirect(`/operators?msg=password&u=${encodeURIComponent(op.username)}`, 303);
  });

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    con.post(`/operators/:id{[0-9]{1,9}}/${action}`, async (c) => {
      const op = await target(c);
      if (op instanceof Response) return op;
      if (disabled && op.id === sessionOf(c).operator.id) {
        return operatorsPage(
          c,
          { flash: { kind: 'error', text: c.get('t').operators.cannotDisableSelf } },
          403,
        );
      }
      let changed: boolean;
      try {
        changed = await c.get('ctx').services.operators.setDisabled(op.username, disabled, actorOf(c));
      } catch (err) {
        return failed(c, err);
      }
      const msg: Message = changed ? (disabled ? 'disabled' : 'enabled') : 'unchanged';
      return c.redirect(`/operators?msg=${msg}&u=${encodeURIComponent(op.username)}`, 303);
    });
  }
}
