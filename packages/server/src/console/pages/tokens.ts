/**
 * API tokens for the JSON API: list (with last use and expiry), create (optionally expiring; the clear token is
 * shown once, on the response to the POST, never again), revoke.
 */
import type { Hono } from 'hono';
import { ServiceError } from '../../errors.js';
import type { ApiToken } from '../../services/tokens.js';
import { actorOf, type CCtx, type ConsoleEnv, readForm } from '../env.js';
import { csrf, type Flash, h, type Html, render, when } from '../ui.js';

/** The lifetimes offered at creation, in days ('' = never expires). */
const LIFETIMES = ['', '7', '30', '90', '365'] as const;

/** This page's words beyond the shared catalogue. */
function words(c: CCtx) {
  const en = c.get('lang') === 'en';
  return {
    expires: en ? 'Expires' : '过期时间',
    never: en ? 'never' : '永不过期',
    expired: en ? 'expired' : '已过期',
    lifetime: en ? 'Lifetime' : '有效期',
    days: (n: string) => (en ? `${n} days` : `${n} 天`),
  };
}

async function tokensPage(
  c: CCtx,
  opts: { fresh?: ApiToken & { token: string }; flash?: Flash } = {},
  status = 200,
) {
  const t = c.get('t');
  const { services } = c.get('ctx');
  const tokens = await services.tokens.list();
  const w = words(c);
  const freshBox: Html | '' = opts.fresh
    ? h`<div class="card" id="new-token"><h2>${t.newToken}: ${opts.fresh.name}</h2>
<p class="flash flash-warn">${t.newTokenOnce}</p>
<div class="secret"><code id="new-token-value">${opts.fresh.token}</code></div>
<p class="muted small">${t.tokenUsage}</p><pre>curl -H "Authorization: Bearer ${opts.fresh.token}" ${c.get('ctx').settings.publicUrl}/api/batches</pre></div>`
    : '';
  const body = h`${freshBox}
<div class="card"><h2>${t.createToken}</h2>
<form method="post" action="/tokens" class="toolbar">${csrf(c)}
<div class="field grow"><label for="name">${t.tokenName}</label><input type="text" id="name" name="name" maxlength="100" required placeholder="${t.tokenNamePlaceholder}"></div>
<div class="field"><label for="expires">${w.lifetime}</label><select id="expires" name="expires">${LIFETIMES.map(
    (d) => h`<option value="${d}">${d === '' ? w.never : w.days(d)}</option>`,
  )}</select></div>
<button type="submit" class="btn btn-primary" id="create-token">${t.createToken}</button></form></div>
<div class="table-wrap"><table id="tokens-table"><thead><tr><th>ID</th><th>${t.tokenName}</th><th>${t.prefix}</th><th>${t.createdAt}</th><th>${t.createdBy}</th><th>${t.lastUsed}</th><th>${w.expires}</th><th>${t.status}</th><th></th></tr></thead>
<tbody>${
    tokens.length === 0
      ? h`<tr><td colspan="9" class="empty">${t.noTokens}</td></tr>`
      : tokens.map(
          (
            k,
          ) => h`<tr data-token="${k.id}"><td>${k.id}</td><td>${k.name}</td><td class="mono">${k.prefix}…</td><td>${when(k.createdAt)}</td><td class="small">${k.createdBy}</td><td class="last-used">${when(k.lastUsedAt)}</td><td class="expires">${k.expiresAt === null ? w.never : when(k.expiresAt)}</td>
<td>${
            k.revoked
              ? h`<span class="badge badge-off">${t.revoked}</span>`
              : k.expired
                ? h`<span class="badge badge-off">${w.expired}</span>`
                : h`<span class="badge badge-ok">${t.active}</span>`
          }</td>
<td>${k.revoked ? '' : h`<form method="post" action="/tokens/${k.id}/revoke" class="inline" data-confirm="${t.confirmRevoke}">${csrf(c)}<button class="btn btn-danger btn-small" type="submit">${t.revoke}</button></form>`}</td></tr>`,
        )
  }</tbody></table></div>`;
  const res = render(c, { title: t.nav.tokens, active: 'tokens', body, flash: opts.flash ?? null }, status);
  res.headers.set('cache-control', 'no-store');
  return res;
}

export function registerTokens(con: Hono<ConsoleEnv>): void {
  con.get('/tokens', (c) =>
    tokensPage(
      c,
      c.req.query('msg') === 'revoked' ? { flash: { kind: 'ok', text: c.get('t').tokenRevoked } } : {},
    ),
  );

  con.post('/tokens', async (c) => {
    const form = await readForm(c);
    try {
      const days = form.str('expires');
      if (days !== '' && !/^\d{1,4}$/.test(days)) {
        throw new ServiceError(
          'VALIDATION_FAILED',
          'the lifetime must be a number of days, or never',
          'expires',
        );
      }
      const fresh = await c
        .get('ctx')
        .services.tokens.create(
          form.str('name'),
          actorOf(c),
          days === '' ? {} : { expiresInDays: Number(days) },
        );
      return tokensPage(c, { fresh }, 201);
    } catch (err) {
      if (err instanceof ServiceError)
        return tokensPage(c, { flash: { kind: 'error', text: err.message } }, 422);
      throw err;
    }
  });

  con.post('/tokens/:id{[0-9]{1,9}}/revoke', async (c) => {
    try {
      await c.get('ctx').services.tokens.revoke(Number(c.req.param('id')), actorOf(c));
    } catch (err) {
      if (err instanceof ServiceError)
        return tokensPage(c, { flash: { kind: 'error', text: err.message } }, 404);
      throw err;
    }
    return c.redirect('/tokens?msg=revoked', 303);
  });
}
