/**
 * The admin API's and the state page's protection when a browser, or another machine, can reach them:
 *
 * - a **Host allow-list** (loopback names by default, plus the host the sandbox is bound to and any given), so a
 *   page elsewhere cannot rebind its own name to the sandbox's address (DNS rebinding) and read or drive it;
 * - **`application/json` on every admin request that changes something** (POST, PUT, PATCH, DELETE), even
 *   body-less ones such as `/notifications/:id/redeliver` and `/dispatch`: a cross-site page can only send
 *   simple requests (form or text content types) without a CORS preflight, which is never granted — 415;
 * - an **admin token** (`Authorization: Bearer …`) when one is configured: the CLI makes one, and prints it,
 *   whenever the sandbox binds beyond loopback.
 */
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

/** Host names that always reach a sandbox on loopback. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

export interface AdminGuardOptions {
  /**
   * Host names (no port) accepted in the `Host` header of admin and state-page requests; `*` accepts any.
   * Default {@link LOOPBACK_HOSTS}.
   */
  allowedHosts?: readonly string[] | undefined;
  /** When set, every admin and state-page request needs `Authorization: Bearer <adminToken>`. */
  adminToken?: string | undefined;
}

/** The host name of a `Host` header value (`[::1]:8650` → `::1`, `Example.COM:80` → `example.com`). */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(1, end);
  }
  const colon = h.indexOf(':');
  // a bare IPv6 address has several colons and no port
  if (colon !== -1 && h.indexOf(':', colon + 1) === -1) return h.slice(0, colon);
  return h.replace(/\.$/, '');
}

/** Whether a bind address stays on this machine (`127.x`, `::1`, `localhost`). */
export function isLoopbackHost(host: string): boolean {
  const h = hostName(host);
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The middleware for `/sandbox` and `/sandbox/api/*`. */
export function adminGuard(opts: AdminGuardOptions = {}): MiddlewareHandler {
  const allowed = new Set((opts.allowedHosts ?? LOOPBACK_HOSTS).map((h) => hostName(h)));
  const any = allowed.has('*');
  const token = opts.adminToken;
  return async (c, next) => {
    const api = c.req.path.startsWith('/sandbox/api');
    const refuse = (status: 401 | 403 | 415, error: string, message: string) => {
      const res = api ? c.json({ error, message }, status) : c.text(message, status);
      if (status === 401) res.headers.set('www-authenticate', 'Bearer realm="alirefund-sandbox"');
      return res;
    };
    const host = hostName(c.req.header('host') ?? new URL(c.req.url).host);
    if (!any && !allowed.has(host)) {
      return refuse(
        403,
        'host_not_allowed',
        `Host "${host.slice(0, 100)}" is not allowed for the admin API and the state page (DNS rebinding protection); reach the sandbox as ${[...allowed].join(', ')}, or start it with --allowed-hosts ${host.slice(0, 100)}`,
      );
    }
    if (token !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
      if (!m || !sameSecret(m[1]!, token)) {
        return refuse(
          401,
          'unauthorized',
          'this sandbox is reachable beyond loopback: send the admin token printed at its start as Authorization: Bearer <token>',
        );
      }
    }
    if (api && CHANGES.has(c.req.method)) {
      const type = c.req.header('content-type') ?? '';
      if (!/^application\/json\s*(?:;|$)/i.test(type)) {
        return refuse(
          415,
          'unsupported_media_type',
          `${c.req.method} ${c.req.path} needs content-type: application/json (send {} when there is nothing to say); got ${type === '' ? 'none' : `"${type.slice(0, 100)}"`}`,
        );
      }
    }
    await next();
  };
}
