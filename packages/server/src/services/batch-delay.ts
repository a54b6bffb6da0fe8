/**
 * A finished batch's notification delay, as the console shows it (issue 13 point 10). A nopwd batch's clock starts
 * when the server submitted it. A pwd batch was "submitted" when the auto-submit form was made, and then waited for
 * the operator on Alipay's password page, a time the merchant never sees: its clock starts at the `notify_time` of
 * the notification that was applied (when Alipay sent it, in Alipay's clock, to the second), so the figure is the
 * notification's transit and processing, never the operator's time. A pwd batch finished without a notification
 * (by a query) has no delay.
 */
import { parseBeijing } from '@alirefund/protocol';
import type { Kysely } from 'kysely';
import type { RefundMode, ServerDB } from '../db.js';

export interface BatchDelay {
  ms: number;
  /** Where the clock started: the server's submission (nopwd) or Alipay's notify_time (pwd). */
  from: 'submitted' | 'notify_time';
}

export interface DelayFacts {
  mode: RefundMode;
  submittedAt: string | null;
  /** When the result was applied (else when the batch finished). */
  appliedAt: string | null;
  /** notify_time of the applied notification (`yyyy-MM-dd HH:mm:ss`, Beijing), if one was applied. */
  notifyTime: string | null;
}

/** The delay of one batch, or null when it has none (not finished, or a pwd batch without a notification). */
export function batchDelay(f: DelayFacts): BatchDelay | null {
  const end = f.appliedAt === null ? Number.NaN : Date.parse(f.appliedAt);
  if (Number.isNaN(end)) return null;
  if (f.mode === 'pwd') {
    const sent = f.notifyTime === null ? null : parseBeijing(f.notifyTime);
    // notify_time is to the second and in Alipay's clock: a few hundred ms "before" it is 0, not negative.
    return sent === null ? null : { ms: Math.max(0, end - sent), from: 'notify_time' };
  }
  const start = f.submittedAt === null ? Number.NaN : Date.parse(f.submittedAt);
  return Number.isNaN(start) ? null : { ms: Math.max(0, end - start), from: 'submitted' };
}

/** The facts of the batches `where` selects, with their applied notification's notify_time, one row per batch. */
export async function delayFacts(
  db: Kysely<ServerDB>,
  where: { batchNo?: string; partner?: string; finishedSince?: string },
): Promise<(DelayFacts & { batchNo: string; finishedAt: string | null })[]> {
  let q = db
    .selectFrom('srv_batches as b')
    .leftJoin('srv_notifications as n', (j) =>
      j
        .onRef('n.batch_no', '=', 'b.batch_no')
        .onRef('n.notify_id', '=', 'b.applied_notify_id')
        .on('n.verdict', '=', 'accepted'),
    )
    .select(['b.batch_no', 'b.mode', 'b.submitted_at', 'b.applied_at', 'b.finished_at', 'n.notify_time']);
  if (where.batchNo !== undefined) q = q.where('b.batch_no', '=', where.batchNo);
  if (where.partner !== undefined) q = q.where('b.partner', '=', where.partner);
  if (where.finishedSince !== undefined) {
    q = q.where('b.state', '=', 'finished').where('b.finished_at', '>=', where.finishedSince);
  }
  const byBatch = new Map<string, DelayFacts & { batchNo: string; finishedAt: string | null }>();
  for (const r of await q.execute()) {
    if (byBatch.has(r.batch_no)) continue;
    byBatch.set(r.batch_no, {
      batchNo: r.batch_no,
      mode: r.mode,
      submittedAt: r.submitted_at,
      appliedAt: r.applied_at ?? r.finished_at,
      notifyTime: r.notify_time ?? null,
      finishedAt: r.finished_at,
    });
  }
  return [...byBatch.values()];
}
