/**
 * The notification outbox: rows in `sbx_notifications`, added in the transaction that decides them (a processed
 * batch, a settled 充退), each with a notify_id that stays the same for every send. `delivery.ts` sends them,
 * `dispatcher.ts` decides when. Rows survive restarts: a new sandbox on the same database carries on where the
 * old one stopped.
 */
import { randomBytes } from 'node:crypto';
import type { Charset } from '@alirefund/protocol';
import type { Core, SandboxTrx } from './core.js';
import type { NotificationTable } from './schema.js';

/** What an enqueue did with the notify faults (applied to the shared settings after commit). */
export interface NotifyFaultUse {
  reorder: number;
}

export interface Enqueued {
  notifyId: string;
  kind: NotificationTable['kind'];
  url: string;
}

/** A new notify_id: 32 lower-case hex characters, like the documented example. */
export function newNotifyId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Adds a notification to the outbox in the caller's transaction. Its first send is due after the first
 * schedule interval (normally 0) plus the `delay` fault; the `reorder` fault holds it.
 */
export async function enqueueNotification(
  core: Core,
  trx: SandboxTrx,
  use: NotifyFaultUse,
  n: {
    partner: string;
    batchNo: string | null;
    tradeNo: string | null;
    kind: NotificationTable['kind'];
    url: string;
    charset: Charset;
    signType: string;
    params: Record<string, string>;
  },
): Promise<Enqueued> {
  const now = core.now();
  const notifyId = newNotifyId();
  const holding = core.faults.notify.reorder - use.reorder > 0;
  if (holding) use.reorder++;
  await trx
    .insertInto('sbx_notifications')
    .values({
      partner: n.partner,
      batch_no: n.batchNo,
      trade_no: n.tradeNo,
      kind: n.kind,
      notify_id: notifyId,
      url: n.url,
      charset: n.charset,
      sign_type: n.signType,
      params_json: JSON.stringify(n.params),
      status: holding ? 'held' : 'pending',
      attempts: 0,
      max_attempts: core.schedule.length,
      next_attempt_at: now + (core.schedule[0] ?? 0) + core.faults.notify.delayMs,
      last_attempt_at: null,
      created_at: now,
      delivered_at: null,
    })
    .execute();
  if (holding && core.faults.notify.reorder - use.reorder === 0) {
    // The group is complete: release it, newest first.
    const held = await trx
      .selectFrom('sbx_notifications')
      .select('id')
      .where('status', '=', 'held')
      .orderBy('id', 'asc')
      .execute();
    for (const [i, h] of held.entries()) {
      await trx
        .updateTable('sbx_notifications')
        .set({ status: 'pending', next_attempt_at: now - (i + 1) })
        .where('id', '=', Number(h.id))
        .execute();
    }
  }
  return { notifyId, kind: n.kind, url: n.url };
}

/**
 * Whether `notifyId` was issued by this gateway to `partner` and is still live: not yet acknowledged with
 * `success`, retries not exhausted, and (when a TTL is configured) its latest send less than TTL ago.
 */
export async function isNotifyIdLive(core: Core, partner: string, notifyId: string): Promise<boolean> {
  const row = await core.db
    .selectFrom('sbx_notifications')
    .select(['partner', 'status', 'last_attempt_at', 'created_at'])
    .where('notify_id', '=', notifyId)
    .executeTakeFirst();
  if (!row || row.partner !== partner) return false;
  if (row.status !== 'pending' && row.status !== 'held') return false;
  if (core.notifyVerifyTtlMs !== undefined) {
    const since = Number(row.last_attempt_at ?? row.created_at);
    if (core.now() - since > core.notifyVerifyTtlMs) return false;
  }
  return true;
}
