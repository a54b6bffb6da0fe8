/**
 * The gateway-facing endpoints: `POST /alipay/notify` (batch_refund_notify) and `POST /alipay/trade-notify`
 * (trade_status_sync). The answer is exactly `success` (after commit) or `fail`, as text/plain: no session,
 * no cookie, no redirect, no whitespace.
 *
 * What a delivery goes through is {@link createNotifyEndpoint}, shared by two doors: the Hono routes mounted here
 * (in-process `app.request`, and any server that hands every request to `app.fetch`) and the node:http route of
 * `notify-node.ts`, which answers these two paths without building WHATWG Request/Response objects.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';
import type { Logger } from '../log.js';
import type { NotificationKind, ServerMetrics } from '../metrics.js';
import type { NotificationService, NotifyOutcome } from '../services/notifications.js';
import { headersOf, remoteAddress } from './util.js';

/**
 * Largest notification body accepted: 256 KB. A 1000-record batch_refund_notify is ≈ 50 KB (≈ 110 KB with every
 * record's royalty and charge parts); anything larger is refused with 413 before it is read or stored.
 */
export const MAX_NOTIFY_BODY = 256 * 1024;

const TOO_LARGE = `notification body larger than ${MAX_NOTIFY_BODY} bytes`;

/** The two paths, and which kind of notification each takes. */
export const NOTIFY_PATHS: Readonly<Record<string, NotificationKind>> = {
  '/alipay/notify': 'batch',
  '/alipay/trade-notify': 'trade',
};

/** What to answer: `success`/`fail` as text/plain, with the status and (for a refusal) a reason header. */
export interface NotifyAnswer {
  status: number;
  text: 'success' | 'fail';
  reason?: string;
}

/** A delivery as either door sees it. */
export interface NotifyDelivery {
  path: string;
  /** The Content-Length header, if any. */
  contentLength: string | undefined;
  remoteAddr: string | null;
  /** The whole body, or null when it exceeds `max` (the rest is drained). */
  readBody(max: number): Promise<Uint8Array | null>;
  headers(): Record<string, string>;
}

export type NotifyEndpoint = (kind: NotificationKind, d: NotifyDelivery) => Promise<NotifyAnswer>;

/** The headers of every notification answer (`x-alirefund-reason` added for a refusal). */
export function answerHeaders(a: NotifyAnswer): Record<string, string> {
  return {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...(a.reason === undefined ? {} : { 'x-alirefund-reason': a.reason }),
  };
}

/** Receives one delivery: size limit, body, the service's verdict, metrics and logs; never throws. */
export function createNotifyEndpoint(
  notifications: NotificationService,
  log: Logger,
  metrics?: ServerMetrics,
): NotifyEndpoint {
  const handlers = {
    batch: (i: Parameters<NotificationService['handleBatchNotify']>[0]) => notifications.handleBatchNotify(i),
    trade: (i: Parameters<NotificationService['handleTradeNotify']>[0]) => notifications.handleTradeNotify(i),
  };
  return async (kind, d) => {
    metrics?.notificationReceived(kind);
    const length = Number(d.contentLength ?? '0');
    if (length > MAX_NOTIFY_BODY) {
      metrics?.notificationOutcome(kind, 'too_large');
      log.warn({ path: d.path, length, remoteAddr: d.remoteAddr }, TOO_LARGE);
      return { status: 413, text: 'fail', reason: TOO_LARGE };
    }
    let outcome: NotifyOutcome;
    try {
      const body = await d.readBody(MAX_NOTIFY_BODY);
      if (body === null || body.byteLength > MAX_NOTIFY_BODY) {
        metrics?.notificationOutcome(kind, 'too_large');
        log.warn({ path: d.path, remoteAddr: d.remoteAddr }, TOO_LARGE);
        return { status: 413, text: 'fail', reason: TOO_LARGE };
      }
      outcome = await handlers[kind]({ body, headers: d.headers(), remoteAddr: d.remoteAddr });
    } catch (err) {
      metrics?.notificationOutcome(kind, 'error');
      // Not applied (the transaction rolled back, or never started): the gateway will send it again.
      log.error(
        { err: err instanceof Error ? err.message : String(err), path: d.path },
        'notification failed',
      );
      return { status: 500, text: 'fail' };
    }
    metrics?.notificationOutcome(kind, outcome);
    if (outcome.rateLimited)
      return { status: 429, text: 'fail', reason: 'too many rejected notifications from this address' };
    return { status: 200, text: outcome.answer };
  };
}

/**
 * Reads a Node request's whole body straight from the socket stream (no WHATWG Request and stream around it,
 * which cost more than the rest of a duplicate delivery). Null when it exceeds `max` (still drained, so that
 * the connection stays usable).
 */
export function readNodeBody(incoming: IncomingMessage, max: number): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    incoming.once('end', () => {
      if (size > max) resolve(null);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    incoming.once('error', reject);
    incoming.once('aborted', () => reject(new Error('request aborted')));
  });
}

/** Node's raw headers as lower-case names, repeated headers joined with ", " (as the Fetch API's Headers do). */
export function nodeHeaders(incoming: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}

/** The Node request under @hono/node-server; undefined in-process (`app.request`). */
function nodeRequest(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/** The Hono door: both paths as routes of `app`. */
export function mountNotify(app: Hono, endpoint: NotifyEndpoint): void {
  for (const [path, kind] of Object.entries(NOTIFY_PATHS)) {
    app.post(path, async (c) => {
      const incoming = nodeRequest(c);
      // Under @hono/node-server the body is read from the Node stream itself when Hono has not touched it.
      const direct = incoming && !incoming.readableEnded && incoming.readableFlowing === null;
      const a = await endpoint(kind, {
        path,
        contentLength: incoming ? incoming.headers['content-length'] : c.req.header('content-length'),
        remoteAddr: remoteAddress(c),
        readBody: async (max) =>
          direct ? readNodeBody(incoming, max) : new Uint8Array(await c.req.arrayBuffer()),
        headers: () => (direct ? nodeHeaders(incoming) : headersOf(c)),
      });
      return new Response(a.text, { status: a.status, headers: answerHeaders(a) });
    });
  }
}
