/**
 * The gateway-facing endpoints: `POST /alipay/notify` (batch_refund_notify) and `POST /alipay/trade-notify`
 * (trade_status_sync). The answer is exactly `success` (after commit) or `fail`, as text/plain: no session,
 * no cookie, no redirect, no whitespace.
 */
import type { Hono } from 'hono';
import type { Logger } from '../log.js';
import type { NotificationService, NotifyOutcome } from '../services/notifications.js';
import { headersOf, remoteAddress } from './util.js';

/** Largest notification body accepted (a 1000-record batch is well under 200 KB). */
export const MAX_NOTIFY_BODY = 2 * 1024 * 1024;

function answer(text: 'success' | 'fail', status = 200): Response {
  return new Response(text, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}

export function mountNotify(app: Hono, notifications: NotificationService, log: Logger): void {
  const handler =
    (
      fn: (i: {
        body: Uint8Array;
        headers: Record<string, string>;
        remoteAddr: string | null;
      }) => Promise<NotifyOutcome>,
    ) =>
    async (c: import('hono').Context) => {
      const length = Number(c.req.header('content-length') ?? '0');
      if (length > MAX_NOTIFY_BODY) return answer('fail', 413);
      let outcome: NotifyOutcome;
      try {
        const body = new Uint8Array(await c.req.arrayBuffer());
        if (body.byteLength > MAX_NOTIFY_BODY) return answer('fail', 413);
        outcome = await fn({ body, headers: headersOf(c), remoteAddr: remoteAddress(c) });
      } catch (err) {
        // Not applied (the transaction rolled back, or never started): the gateway will send it again.
        log.error(
          { err: err instanceof Error ? err.message : String(err), path: c.req.path },
          'notification failed',
        );
        return answer('fail', 500);
      }
      return answer(outcome.answer);
    };
  app.post(
    '/alipay/notify',
    handler((i) => notifications.handleBatchNotify(i)),
  );
  app.post(
    '/alipay/trade-notify',
    handler((i) => notifications.handleTradeNotify(i)),
  );
}
