/**
 * Admin API: the outbox (`/notifications`, one with its delivery attempts), redelivery (`POST
 * /notifications/:id/redeliver`), delivery attempts (`/deliveries`) and a dispatcher run now (`POST /dispatch`).
 */
import type { Hono } from 'hono';
import type { Selectable } from 'kysely';
import type { Core } from '../core.js';
import type { Dispatcher } from '../dispatcher.js';
import type { DeliveryTable, NotificationTable } from '../schema.js';
import { isoOrNull, limitOf } from './http.js';

/** A notification as the API shows it (its parameters as queued, without notify_time and the sign). */
export function notificationView(n: Selectable<NotificationTable>) {
  return {
    id: Number(n.id),
    partner: n.partner,
    batchNo: n.batch_no,
    tradeNo: n.trade_no,
    kind: n.kind,
    notifyId: n.notify_id,
    url: n.url,
    charset: n.charset,
    signType: n.sign_type,
    status: n.status,
    attempts: Number(n.attempts),
    maxAttempts: Number(n.max_attempts),
    nextAttemptAt: n.status === 'pending' || n.status === 'held' ? isoOrNull(n.next_attempt_at) : null,
    lastAttemptAt: isoOrNull(n.last_attempt_at),
    createdAt: isoOrNull(n.created_at),
    deliveredAt: isoOrNull(n.delivered_at),
    params: JSON.parse(n.params_json) as Record<string, string>,
  };
}

function deliveryView(d: Selectable<DeliveryTable>) {
  return {
    id: Number(d.id),
    notificationId: Number(d.notification_id),
    attempt: Number(d.attempt),
    at: new Date(Number(d.started_at)).toISOString(),
    outcome: d.outcome,
    httpStatus: d.http_status === null ? null : Number(d.http_status),
    latencyMs: d.latency_ms === null ? null : Number(d.latency_ms),
    requestBody: d.request_body,
    responseBody: d.response_body,
    error: d.error,
  };
}

export function notificationRoutes(app: Hono, core: Core, dispatcher: Pick<Dispatcher, 'runDue'>): void {
  const db = core.db;
  app.get('/notifications', async (c) => {
    let q = db.selectFrom('sbx_notifications').selectAll().orderBy('id', 'desc').limit(limitOf(c));
    const partner = c.req.query('partner');
    if (partner) q = q.where('partner', '=', partner);
    const batchNo = c.req.query('batchNo');
    if (batchNo) q = q.where('batch_no', '=', batchNo);
    const kind = c.req.query('kind');
    if (kind === 'batch_refund_notify' || kind === 'trade_status_sync' || kind === 'dback_notify')
      q = q.where('kind', '=', kind);
    const status = c.req.query('status');
    if (status === 'pending' || status === 'held' || status === 'delivered' || status === 'failed')
      q = q.where('status', '=', status);
    return c.json({ notifications: (await q.execute()).map(notificationView) });
  });
  app.get('/notifications/:id', async (c) => {
    const id = Number(c.req.param('id'));
    const n = Number.isSafeInteger(id)
      ? await db.selectFrom('sbx_notifications').selectAll().where('id', '=', id).executeTakeFirst()
      : undefined;
    if (!n) return c.json({ error: 'not_found', message: `no notification ${c.req.param('id')}` }, 404);
    const deliveries = await db
      .selectFrom('sbx_deliveries')
      .selectAll()
      .where('notification_id', '=', id)
      .orderBy('id')
      .execute();
    return c.json({ ...notificationView(n), deliveries: deliveries.map(deliveryView) });
  });
  app.post('/notifications/:id/redeliver', async (c) => {
    const id = Number(c.req.param('id'));
    const n = Number.isSafeInteger(id)
      ? await db.selectFrom('sbx_notifications').selectAll().where('id', '=', id).executeTakeFirst()
      : undefined;
    if (!n) return c.json({ error: 'not_found', message: `no notification ${c.req.param('id')}` }, 404);
    await db
      .updateTable('sbx_notifications')
      .set({
        status: 'pending',
        next_attempt_at: core.now(),
        max_attempts: Math.max(Number(n.max_attempts), Number(n.attempts) + 1),
      })
      .where('id', '=', id)
      .execute();
    const sent = c.req.query('wait') === 'false' ? null : await dispatcher.runDue();
    const after = await db
      .selectFrom('sbx_notifications')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return c.json({ ...notificationView(after), handled: sent });
  });
  app.get('/deliveries', async (c) => {
    let q = db.selectFrom('sbx_deliveries').selectAll().orderBy('id', 'desc').limit(limitOf(c));
    const nid = c.req.query('notificationId');
    if (nid !== undefined && Number.isSafeInteger(Number(nid)))
      q = q.where('notification_id', '=', Number(nid));
    return c.json({ deliveries: (await q.execute()).map(deliveryView) });
  });
  app.post('/dispatch', async (c) => c.json({ handled: await dispatcher.runDue() }));
}
