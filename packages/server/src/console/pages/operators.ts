/**
 * Operators (admins only, auth/roles.ts): list, create (username, role, initial password), reset another
 * operator's password, change a role, disable / enable. Nobody can disable themselves; the last enabled admin can
 * be neither disabled nor demoted; one's own password changes on /account with the current one. Passwords go to
 * the operators service (scrypt) and nowhere else: never echoed into a page, never logged, never in the audit log.
 */
import type { Hono } from 'hono';
import { ServiceError } from '../../errors.js';
import { isRole, ROLES, type Role } from '../../auth/roles.js';
import type { Operator } from '../../services/operators.js';
import { actorOf, type CCtx, type ConsoleEnv, readForm, sessionOf } from '../env.js';
import { csrf, type Flash, h, type Html, render, when } from '../ui.js';

const USERNAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;
const MESSAGES = ['created', 'password', 'disabled', 'enabled', 'unchanged', 'role'] as const;
type Message = (typeof MESSAGES)[number];

function statusBadge(c: CCtx, op: Operator): Html {
  const t = c.get('t');
  return op.disabled
    ? h`<span class="badge badge-off" data-operator-status="disabled">${t.operators.disabled}</span>`
    : h`<span class="badge badge-ok" data-operator-status="enabled">${t.active}</span>`;
}

function roleOptions(c: CCtx, selected: Role): Html {
  const t = c.get('t');
  return h`${ROLES.map((r) => h`<option value="${r}"${r === selected ? ' selected' : ''}>${t.roles[r]}</option>`)}`;
}

async function operatorsPage(
  c: CCtx,
  opts: { flash?: Flash | null; username?: string; displayName?: string; role?: Role } = {},
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
<div class="field"><label for="op-role">${t.roleCol}</label>
<select id="op-role" name="role">${roleOptions(c, opts.role ?? 'operator')}</select></div>
<button type="submit" class="btn btn-primary" id="create-operator-submit">${t.operators.create}</button>
</form>
<p class="muted small">${t.operators.createHint}</p></div>
<div class="table-wrap"><table id="operators-table"><thead><tr>
<th>ID</th><th>${t.username}</th><th>${t.operators.displayName}</th><th>${t.roleCol}</th><th>${t.createdAt}</th><th>${t.operators.lastLogin}</th><th>${t.status}</th><th>${t.operators.resetPassword}</th><th>${t.actions}</th>
</tr></thead>
<tbody>${list.map((op) => {
    const self = op.id === me.id;
    return h`<tr data-operator="${op.username}">
<td>${op.id}</td>
<td class="mono">${op.username}${self ? h` <span class="tag">${t.operators.you}</span>` : ''}</td>
<td>${op.displayName ?? ''}</td>
<td><form method="post" action="/operators/${op.id}/role" class="inline set-role">${csrf(c)}
<select name="role" aria-label="${t.roleCol} ${op.username}" data-role="${op.role}">${roleOptions(c, op.role)}</select>
<button type="submit" class="btn btn-small">${t.operators.setRole}</button></form></td>
<td>${when(op.createdAt)}</td>
<td>${when(op.lastLoginAt)}</td>
<td>${statusBadge(c, op)}</td>
<td>${
      self
        ? h`<a class="small" href="/account">${t.operators.ownPassword}</a>`
        : h`<form method="post" action="/operators/${op.id}/password" class="inline reset-password" data-confirm="${t.operators.confirmReset(op.username)}" autocomplete="off">${csrf(c)}
<input type="password" name="password" minlength="8" required autocomplete="new-password" aria-label="${t.operators.newPassword} ${op.username}" placeholder="${t.operators.newPassword}">
<button type="submit" class="btn btn-small">${t.operators.setPassword}</button></form>`
    }</td>
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
    const asked = form.str('role');
    const role: Role = isRole(asked) ? asked : 'operator';
    try {
      await c
        .get('ctx')
        .services.operators.create(
          { username, password, role, ...(displayName !== '' ? { displayName } : {}) },
          actorOf(c),
        );
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      // The form comes back without the password.
      return operatorsPage(
        c,
        { flash: { kind: 'error', text: err.message }, username, displayName, role },
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
    return c.redirect(`/operators?msg=password&u=${encodeURIComponent(op.username)}`, 303);
  });

  con.post('/operators/:id{[0-9]{1,9}}/role', async (c) => {
    const op = await target(c);
    if (op instanceof Response) return op;
    const role = (await readForm(c)).str('role');
    if (!isRole(role)) return operatorsPage(c, { flash: { kind: 'error', text: 'unknown role' } }, 422);
    let changed: boolean;
    try {
      changed = await c.get('ctx').services.operators.setRole(op.username, role, actorOf(c));
    } catch (err) {
      return failed(c, err);
    }
    // One's own new role applies at once: a demoted admin no longer sees this page.
    if (changed && op.id === sessionOf(c).operator.id) return c.redirect('/account', 303);
    return c.redirect(
      `/operators?msg=${changed ? 'role' : 'unchanged'}&u=${encodeURIComponent(op.username)}`,
      303,
    );
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
