/**
 * The operator console: server-rendered pages over the services (zh-CN by default, English via `?lang=en` or
 * the `lang` cookie).
 *
 * Security: every page except the login page needs a session (HttpOnly, SameSite=Lax cookie, Secure over
 * https); every POST carries the session's CSRF token (the login form a double-submit token); every value is
 * escaped by `hono/html`; responses carry a CSP without inline scripts (the pwd auto-submit page allows its one
 * script by nonce), X-Frame-Options DENY and a Referrer-Policy. Secrets (keys, session and API tokens) are
 * never rendered, except a new API token once, on the response that created it.
 *
 * Routes: `/login`, `/logout`, `/dashboard`, `/trades`, `/trades/:tradeNo`, `/refunds/preview`, `/refunds`,
 * `/batches`, `/batches/:batchNo` (+ `/submit`, `/queue`, `/cancel`, `/resolve`), `/template`,
 * `/notifications`, `/notifications/:id`, `/import`, `/import/template.csv`, `/tokens`, `/operators` (+ `/:id/password`,
 * `/:id/disable`, `/:id/enable`), `/audit`, `/assets/*`; the trades list's picks go through `/trades/pick`.
 */
import type { Hono } from 'hono';
import { Hono as HonoApp } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import type { ConsoleContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { ConsoleEnv } from './env.js';
import { readForm } from './env.js';
import { dictionary, isLang, type Lang } from './i18n.js';
import { endpointKey } from '../auth/endpoint.js';
import { allows } from '../auth/roles.js';
import { registerAccount } from './pages/account.js';
import { registerAudit } from './pages/audit.js';
import { registerAuth } from './pages/auth.js';
import { registerBatches } from './pages/batches.js';
import { registerDashboard } from './pages/dashboard.js';
import { registerExport } from './export.js';
import { registerLive } from './live.js';
import { registerFailed } from './pages/failed.js';
import { registerImport } from './pages/import.js';
import { registerNotifications } from './pages/notifications.js';
import { registerOperators } from './pages/operators.js';
import { registerTemplate } from './pages/template.js';
import { registerTokens } from './pages/tokens.js';
import { registerTrades } from './pages/trades.js';
import {
  CONSOLE_CSP,
  CSRF_FIELD,
  isHttps,
  LANG_COOKIE,
  SECURITY_HEADERS,
  SESSION_COOKIE,
  sameToken,
} from './security.js';
import { CONSOLE_CSS, CONSOLE_JS, FAVICON_SVG } from './style.js';
import { h, render } from './ui.js';

/** Paths the console leaves alone (the gateway-facing endpoints, the JSON API, the health check). */
const FOREIGN = /^\/(?:api(?:\/|$)|alipay\/|healthz$|readyz$|metrics$)/;
/** Paths that need no session. */
const PUBLIC = /^\/(?:login$|assets\/)/;
/** Largest console request body (the CSV upload). */
const MAX_BODY = 6 * 1024 * 1024;

export function mountConsole(app: Hono, ctx: ConsoleContext): void {
  const con = new HonoApp<ConsoleEnv>();

  // Static assets: one stylesheet, one small script, the favicon.
  const asset = (type: string, body: string) => () =>
    new Response(body, {
      headers: {
        'content-type': type,
        'cache-control': 'public, max-age=86400',
        'x-content-type-options': 'nosniff',
      },
    });
  con.get('/assets/console.css', asset('text/css; charset=utf-8', CONSOLE_CSS));
  con.get('/assets/console.js', asset('text/javascript; charset=utf-8', CONSOLE_JS));
  con.get('/assets/favicon.svg', asset('image/svg+xml', FAVICON_SVG));
  con.get('/favicon.ico', (c) => c.redirect('/assets/favicon.svg', 301));
  // Any other asset: a plain 404 (no page, no session lookup, nothing logged).
  con.all(
    '/assets/*',
    () =>
      new Response('not found', {
        status: 404,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
      }),
  );

  con.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY,
      onError: (c) => c.text('request body too large', 413),
    }),
  );

  con.use('*', async (c, next) => {
    if (FOREIGN.test(c.req.path) || c.req.path.startsWith('/assets/')) return next();
    c.set('ctx', ctx);
    c.set('form', null);

    // Language: ?lang= (remembered in a cookie and the session), else the cookie, else the session's, else zh-CN.
    const asked = c.req.query('lang');
    const cookieLang = getCookie(c, LANG_COOKIE);
    const token = getCookie(c, SESSION_COOKIE) ?? null;
    const session = token ? await ctx.services.sessions.get(token) : null;
    let lang: Lang = 'zh-CN';
    if (asked !== undefined && isLang(asked)) {
      lang = asked;
      setCookie(c, LANG_COOKIE, asked, {
        path: '/',
        sameSite: 'Lax',
        httpOnly: true,
        secure: isHttps(c),
        maxAge: 365 * 86400,
      });
      if (session && token) await ctx.services.sessions.setLang(token, asked);
    } else if (cookieLang !== undefined && isLang(cookieLang)) lang = cookieLang;
    else if (session?.lang && isLang(session.lang)) lang = session.lang;
    c.set('lang', lang);
    c.set('t', dictionary(lang));
    c.set('session', session);
    c.set('sessionToken', session ? token : null);

    const t = c.get('t');
    if (!session && !PUBLIC.test(c.req.path)) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        const next = `${c.req.path}${new URL(c.req.url).search}`;
        return c.redirect(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`, 303);
      }
      const res = render(
        c,
        {
          title: t.sessionRequired,
          active: 'none',
          mainClass: 'narrow',
          body: h`<p>${t.sessionRequiredText}</p><p><a class="btn btn-primary" href="/login">${t.loginButton}</a></p>`,
        },
        403,
      );
      applyHeaders(res.headers);
      return res;
    }

    // CSRF: every POST of a signed-in operator carries the session's token (the login form has its own).
    if (c.req.method === 'POST' && c.req.path !== '/login') {
      const form = await readForm(c);
      const sent = form.str(CSRF_FIELD) || c.req.header('x-csrf-token') || '';
      if (!session || !sameToken(sent, session.csrfToken)) {
        ctx.log.warn({ path: c.req.path }, 'console: CSRF token missing or wrong');
        const res = render(
          c,
          {
            title: t.csrfTitle,
            active: 'none',
            body: h`<p>${t.csrfText}</p><p><a class="btn" href="/dashboard">${t.nav.dashboard}</a></p>`,
          },
          403,
        );
        applyHeaders(res.headers);
        return res;
      }
    }

    // Roles: the route against the one table of who may call what (auth/roles.ts).
    if (session) {
      const key = endpointKey(c);
      if (key !== null && !allows(key, session.operator.role)) {
        const res = render(
          c,
          {
            title: t.forbiddenTitle,
            active: 'none',
            body: h`<p id="forbidden">${t.forbiddenText(t.roles[session.operator.role])}</p><p><a class="btn" href="/dashboard">${t.nav.dashboard}</a></p>`,
          },
          403,
        );
        applyHeaders(res.headers);
        return res;
      }
    }

    await next();
    applyHeaders(c.res.headers);
    if (session && !c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
  });

  registerAuth(con);
  registerDashboard(con);
  registerTrades(con);
  registerBatches(con);
  registerTemplate(con);
  registerNotifications(con);
  registerImport(con);
  registerTokens(con);
  registerOperators(con);
  registerAccount(con);
  registerAudit(con);
  registerExport(con);
  registerFailed(con);
  registerLive(con);

  // Anything else under the console: a 404 page (the JSON API and the notify endpoints answer for themselves).
  con.all('*', (c) => {
    if (FOREIGN.test(c.req.path)) return c.text('not found', 404);
    const t = c.get('t');
    return render(
      c,
      {
        title: t.notFound,
        active: 'none',
        body: h`<p>${t.notFoundText}</p><p><a href="/dashboard">${t.nav.dashboard}</a></p>`,
      },
      404,
    );
  });

  con.onError((err, c) => {
    const t = c.get('t') ?? dictionary('zh-CN');
    if (!c.get('ctx')) c.set('ctx', ctx);
    if (err instanceof ServiceError) {
      const status = Math.min(err.status, 500);
      const res = render(
        c,
        {
          title: err.status === 404 ? t.notFound : t.errorTitle,
          active: 'none',
          flash: { kind: 'error', text: err.message },
          body: h`<p><a class="btn" href="/dashboard">${t.nav.dashboard}</a></p>`,
        },
        status,
      );
      applyHeaders(res.headers);
      return res;
    }
    ctx.log.error(
      { err: err instanceof Error ? (err.stack ?? err.message) : String(err), path: c.req.path },
      'console error',
    );
    const res = render(
      c,
      {
        title: t.errorTitle,
        active: 'none',
        flash: { kind: 'error', text: t.internalError },
        body: h`<p><a class="btn" href="/dashboard">${t.nav.dashboard}</a></p>`,
      },
      500,
    );
    applyHeaders(res.headers);
    return res;
  });

  app.route('/', con);
}

function applyHeaders(headers: Headers): void {
  if (!headers.has('content-security-policy')) headers.set('content-security-policy', CONSOLE_CSP);
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!headers.has(k)) headers.set(k, v);
}
