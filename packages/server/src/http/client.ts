/**
 * Who is asking, and over what: the client address and scheme of a request, believing `X-Forwarded-For` /
 * `X-Forwarded-Proto` only when the socket's peer is one of `ALIREFUND_TRUSTED_PROXIES`; and the headers every
 * answer of the server carries (`nosniff`, HSTS over https).
 */
import { BlockList, isIP } from 'node:net';
import type { Context, Hono } from 'hono';
import type { ServerSettings } from '../config.js';
import { remoteAddress } from './util.js';

/** Strips the IPv4-mapped prefix (`::ffff:1.2.3.4` → `1.2.3.4`) and a zone id. */
function plainAddress(address: string): string {
  return address
    .trim()
    .replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')
    .replace(/%.*$/, '');
}

const matchers = new WeakMap<readonly string[], BlockList>();

/** Whether `address` is one of `proxies` (IPs or CIDRs, validated by the config). */
export function isTrustedProxy(address: string | null, proxies: readonly string[]): boolean {
  if (address === null || proxies.length === 0) return false;
  const ip = plainAddress(address);
  const family = isIP(ip);
  if (family === 0) return false;
  let list = matchers.get(proxies);
  if (list === undefined) {
    list = new BlockList();
    for (const entry of proxies) {
      const [base = '', prefix] = entry.split('/');
      const type = isIP(base) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(base, type);
      else list.addSubnet(base, Number(prefix), type);
    }
    matchers.set(proxies, list);
  }
  return list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address: the socket's peer, or — when that peer is a trusted proxy — the nearest address in
 * `X-Forwarded-For` that is not a trusted proxy (walking from the right, since only the right-hand entries were
 * written by our proxies). Null in-process (`app.request`) without a peer.
 */
export function clientAddress(c: Context, settings: Pick<ServerSettings, 'trustedProxies'>): string | null {
  const peer = remoteAddress(c);
  const plainPeer = peer === null ? null : plainAddress(peer);
  if (!isTrustedProxy(plainPeer, settings.trustedProxies)) return plainPeer;
  const forwarded = c.req.header('x-forwarded-for');
  if (forwarded === undefined) return plainPeer;
  let client = plainPeer;
  const hops = forwarded.split(',').map(plainAddress).reverse();
  for (const hop of hops) {
    if (isIP(hop) === 0) break; // garbage: stop at the last hop we could read
    client = hop;
    if (!isTrustedProxy(hop, settings.trustedProxies)) break;
  }
  return client;
}

/**
 * Whether the browser reached us over https: the request URL itself, `ALIREFUND_PUBLIC_URL` being https, or
 * `X-Forwarded-Proto: https` from a trusted proxy.
 */
export function isHttpsRequest(
  c: Context,
  settings: Pick<ServerSettings, 'trustedProxies' | 'publicUrl'>,
): boolean {
  return isHttps(
    new URL(c.req.url).protocol === 'https:',
    remoteAddress(c),
    c.req.header('x-forwarded-proto'),
    settings,
  );
}

/** {@link isHttpsRequest} from the parts: the connection's own scheme, the socket's peer, X-Forwarded-Proto. */
export function isHttps(
  secure: boolean,
  peer: string | null,
  forwardedProto: string | undefined,
  settings: Pick<ServerSettings, 'trustedProxies' | 'publicUrl'>,
): boolean {
  if (secure) return true;
  if (settings.publicUrl.startsWith('https:')) return true;
  if (!isTrustedProxy(peer, settings.trustedProxies)) return false;
  return forwardedProto?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/** One year; no includeSubDomains (other hosts of the domain are not ours to decide). */
export const HSTS_VALUE = 'max-age=31536000';

/**
 * Registers, first on `app`, the headers of every answer: `X-Content-Type-Options: nosniff` and, over https,
 * `Strict-Transport-Security`. Handlers' own values are kept.
 */
export function mountResponseHeaders(app: Hono, settings: ServerSettings): void {
  app.use('*', async (c, next) => {
    await next();
    const add: [string, string][] = [];
    if (!c.res.headers.has('x-content-type-options')) add.push(['x-content-type-options', 'nosniff']);
    if (!c.res.headers.has('strict-transport-security') && isHttpsRequest(c, settings)) {
      add.push(['strict-transport-security', HSTS_VALUE]);
    }
    if (add.length === 0) return;
    try {
      for (const [k, v] of add) c.res.headers.set(k, v);
    } catch {
      // immutable headers (Response.redirect, a fetched response): copy the response once
      const res = new Response(c.res.body, c.res);
      for (const [k, v] of add) res.headers.set(k, v);
      c.res = res;
    }
  });
}
