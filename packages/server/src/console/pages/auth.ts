/**
 * Login and logout. Passwords are checked by the operators service (scrypt); the session token lives only in
 * an HttpOnly, SameSite=Lax cookie (Secure over https). The login form has its own double-submit CSRF token,
 * since there is no session yet. Attempts are throttled in the database per username and per client address
 * (services/login-throttle.ts): growing waits, never a lasting lock.
 */
import type { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { clientAddress } from '../../http/client.js';
import { SESSION_TTL_MS } from '../../services/sessions.js';
import { type ConsoleEnv, type CCtx, readForm } from '../env.js';
import {
  CSRF_FIELD,
  isHttps,
  LOGIN_CSRF_COOKIE,
  randomToken,
  SESSION_COOKIE,
  safeNext,
  sameToken,
} from '../security.js';
import { type Flash, h, render } from '../ui.js';

/** "Try again in N s" in the page's language (the wait comes from the throttle). */
function waitText(c: CCtx, seconds: number, key: 'user' | 'address'): string {
  const wait = seconds >= 120 ? `${Math.ceil(seconds / 60)} min` : `${seconds} s`;
  if (c.get('lang') === 'en') {
    return `Too many failed sign-ins ${key === 'user' ? 'for this user' : 'from your address'}; try again in ${wait}.`;
  }
  return `${key === 'user' ? '该用户' : '您所在地址'}登录失败次数过多，请在 ${wait} 后再试。`;
}

function loginPage(
  c: CCtx,
  opts: { next: string; username?: string; flash?: Flash },
  status = 200,
): Response {
  const t = c.get('t');
  let token = getCookie(c, LOGIN_CSRF_COOKIE);
  if (token === undefined || !/^[A-Za-z0-9_-]{43}$/.test(token)) {
    token = randomToken();
    setCookie(c, LOGIN_CSRF_COOKIE, token, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: isHttps(c),
      path: '/login',
      maxAge: 3600,
    });
  }
  return render(
    c,
    {
      title: t.loginTitle,
      active: 'none',
      mainClass: 'narrow',
      flash: opts.flash ?? null,
      body: h`<div class="login-card"><div class="card">
<p class="muted">${t.loginIntro}</p>
<form method="post" action="/login" autocomplete="on">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<input type="hidden" name="next" value="${opts.next}">
<div class="form-row"><label for="username">${t.username}</label>
<input type="text" id="username" name="username" value="${opts.username ?? ''}" autocomplete="username" required autofocus></div>
<div class="form-row"><label for="password">${t.password}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required></div>
<button type="submit" class="btn btn-primary" id="login-submit">${t.loginButton}</button>
</form></div></div>`,
    },
    status,
  );
}

export function registerAuth(con: Hono<ConsoleEnv>): void {
  con.get('/login', (c) => {
    if (c.get('session')) return c.redirect(safeNext(c.req.query('next')), 303);
    return loginPage(c, { next: safeNext(c.req.query('next')) });
  });

  con.post('/login', async (c) => {
    const t = c.get('t');
    const { services, log, settings } = c.get('ctx');
    const form = await readForm(c);
    const cookieToken = getCookie(c, LOGIN_CSRF_COOKIE) ?? '';
    const next = safeNext(form.str('next'));
    if (!sameToken(cookieToken, form.str(CSRF_FIELD))) {
      return loginPage(c, { next, flash: { kind: 'error', text: t.csrfLoginExpired } }, 403);
    }
    const username = form.str('username');
    const password = form.str('password', { raw: true });
    const ip = clientAddress(c, settings);
    // Counted before the password is checked (a burst of guesses cannot slip through); a waiting key is refused
    // without looking at the password, and the refusal does not lengthen the wait.
    const attempt = await services.sessions.loginThrottle.attempt(username, ip);
    if (!attempt.allowed) {
      log.warn(
        { username, ip, retryAfterSeconds: attempt.retryAfterSeconds, key: attempt.key },
        'console login throttled',
      );
      const res = loginPage(
        c,
        {
          next,
          username,
          flash: { kind: 'error', text: waitText(c, attempt.retryAfterSeconds, attempt.key) },
        },
        429,
      );
      res.headers.set('retry-after', String(attempt.retryAfterSeconds));
      return res;
    }
    const operator =
      username === '' || password === '' ? null : await services.operators.authenticate(username, password);
    if (!operator) {
      await services.audit.record({
        actor: 'anonymous',
        action: 'console.login_failed',
        target: username,
        ip,
      });
      log.warn({ username, ip }, 'console login failed');
      return loginPage(c, { next, username, flash: { kind: 'error', text: t.loginFailed } }, 401);
    }
    await services.sessions.loginThrottle.succeeded(username, ip);
    const session = await services.sessions.create(operator.id, { lang: c.get('lang') });
    setCookie(c, SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: isHttps(c),
      path: '/',
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
    });
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: '/login', secure: isHttps(c) });
    await services.audit.record({
      actor: `operator:${operator.username}`,
      action: 'console.login',
      target: operator.username,
      ip,
    });
    return c.redirect(next, 303);
  });

  con.post('/logout', async (c) => {
    const { services } = c.get('ctx');
    const token = c.get('sessionToken');
    const session = c.get('session');
    if (token) await services.sessions.destroy(token);
    if (session) {
      await services.audit.record({
        actor: `operator:${session.operator.username}`,
        action: 'console.logout',
        target: session.operator.username,
        ip: clientAddress(c, c.get('ctx').settings),
      });
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c) });
    return c.redirect('/login', 303);
  });
}
