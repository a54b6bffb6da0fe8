/**
 * Cookies, CSRF tokens, nonces and the security headers of every console response.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import type { ServerSettings } from '../config.js';
import { isHttpsRequest } from '../http/client.js';

export const SESSION_COOKIE = 'alirefund_session';
/** Double-submit token of the login form (there is no session yet). */
export const LOGIN_CSRF_COOKIE = 'alirefund_login_csrf';
export const LANG_COOKIE = 'lang';
/** Name of the hidden CSRF field of every form. */
export const CSRF_FIELD = '_csrf';

/** A fresh random token (base64url). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time string comparison (false when the lengths differ). */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * Whether the browser reached us over https: directly, because `ALIREFUND_PUBLIC_URL` is https, or through a
 * trusted proxy (`ALIREFUND_TRUSTED_PROXIES`) that says so. An untrusted `X-Forwarded-Proto` is ignored.
 */
export function isHttps(c: Context): boolean {
  const settings = (c.var as { ctx?: { settings?: ServerSettings } }).ctx?.settings;
  if (settings) return isHttpsRequest(c, settings);
  return new URL(c.req.url).protocol === 'https:';
}

/** The CSP of console pages: no script but our own file, our own stylesheet, forms to ourselves only. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * The CSP of the pwd auto-submit page: its one inline script is allowed by nonce, and the form may go to the
 * gateway's origin.
 */
export function gatewayFormCsp(nonce: string, gateway: string): string {
  let origin = "'none'";
  try {
    origin = new URL(gateway).origin;
  } catch {
    // a bad gateway URL: the form cannot leave, which is what we want
  }
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'self'",
    `form-action 'self' ${origin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Headers every console response carries (unless the handler set its own CSP). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

/** A safe local redirect target: an absolute path on this site, or the fallback. */
export function safeNext(next: string | undefined, fallback = '/dashboard'): string {
  if (next === undefined || !/^\/(?![/\\])[\x21-\x7e]*$/.test(next)) return fallback;
  if (next.startsWith('/login') || next.startsWith('/logout')) return fallback;
  return next;
}
