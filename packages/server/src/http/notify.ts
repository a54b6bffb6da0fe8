/**
 * The gateway-facing endpoints: `POST /alipay/notify` (batch_refund_notify) and `POST /alipay/trade-notify`
 * (trade_status_sync). The answer is exactly `success` (after commit) or `fail`, as text/plain: no session,
 * no cookie, no redirect, no whitespace.
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

function answer(text: 'success' | 'fail', status = 200, reason?: string): Response {
  return new Response(text, {
    status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      ...(reason === undefined ? {} : { 'x-alirefund-reason': reason }),
    },
  });
}

/** The Node request under @hono/node-server; undefined in-process (`app.request`). */
function nodeRequest(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/**
 * Reads a Node request's whole body straight from the socket stream (no WHATWG Request and stream around it,
 * which cost more than the rest of a duplicate delivery). Null when it exceeds `max` (still drained, so that
 * the connection stays usable).
 */
function readNodeBody(incoming: IncomingMessage, max: number): Promise<Uint8Array | null> {
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
function nodeHeaders(incoming: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}

export function mountNotify(
  app: Hono,
  notifications: NotificationService,
  log: Logger,
  metrics?: ServerMetrics,
): void {
  const handler =
    (
      kind: NotificationKind,
      fn: (i: {
        body: Uint8Array;
        headers: Record<string, string>;
        remoteAddr: string | null;
      }) => Promise<NotifyOutcome>,
    ) =>
    async (c: Context) => {
      metrics?.notificationReceived(kind);
      const incoming = nodeRequest(c);
      const length = Number(
        (incoming ? incoming.headers['content-length'] : c.req.header('content-length')) ?? '0',
      );
      if (length > MAX_NOTIFY_BODY) {
        metrics?.notificationOutcome(kind, 'too_large');
        log.warn({ path: c.req.path, length, remoteAddr: remoteAddress(c) }, TOO_LARGE);
        return answer('fail', 413, TOO_LARGE);
      }
      let outcome: NotifyOutcome;
      try {
        let body: Uint8Array | null;
        let headers: Record<string, string>;
        if (incoming && !incoming.readableEnded && incoming.readableFlowing === null) {
          body = await readNodeBody(incoming, MAX_NOTIFY_BODY);
          headers = nodeHeaders(incoming);
        } else {
          body = new Uint8Array(await c.req.arrayBuffer());
          headers = headersOf(c);
        }
        if (body === null || body.byteLength > MAX_NOTIFY_BODY) {
          metrics?.notificationOutcome(kind, 'too_large');
          log.warn({ path: c.req.path, remoteAddr: remoteAddress(c) }, TOO_LARGE);
          return answer('fail', 413, TOO_LARGE);
        }
        outcome = await fn({ body, headers, remoteAddr: remoteAddress(c) });
      } catch (err) {
        metrics?.notificationOutcome(kind, 'error');
        // Not applied (the transaction rolled back, or never started): the gateway will send it again.
        log.error(
          { err: err instanceof Error ? err.message : String(err), path: c.req.path },
          'notification failed',
        );
        return answer('fail', 500);
      }
      metrics?.notificationOutcome(kind, outcome);
      if (outcome.rateLimited)
        return answer('fail', 429, 'too many rejected notifications from this address');
      return answer(outcome.answer);
    };
  app.post(
    '/alipay/notify',
    handler('batch', (i) => notifications.handleBatchNotify(i)),
  );
  app.post(
    '/alipay/trade-notify',
    handler('trade', (i) => notifications.handleTradeNotify(i)),
  );
}
