import type { Context } from 'hono';
import type { ServiceError } from '../errors.js';

/** The peer address of a request served by @hono/node-server; null in-process (app.request). */
export function remoteAddress(c: Context): string | null {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}

/** Request headers as a plain object (lower-case names). */
export function headersOf(c: Context): Record<string, string> {
  const out: Record<string, string> = {};
  c.req.raw.headers.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/** A JSON error response `{code, message, field?, issues?}` with the error's status. */
export function errorResponse(err: ServiceError): Response {
  return new Response(JSON.stringify(err.toJSON()), {
    status: err.status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      ...(err.status === 401 ? { 'www-authenticate': 'Bearer realm="alirefund"' } : {}),
    },
  });
}
