/**
 * Transitions the bulk refund command (`alirefund refund`) needs when it resumes after a crash: a nopwd batch
 * left `submitted` with no recorded answer is looked up with refund_fastpay_query, and the answer moves it.
 *
 * - `REFUND_NOT_EXIST` (the gateway never got it): back to `queued` under the same batch_no, so that the queue
 *   sends it (if the gateway did get it after all, it answers DUPLICATE_BATCH_NO and nothing is refunded twice);
 * - found: `accepted`, waiting for its notification (which applies the results, exactly once as always).
 */
import { withTransaction } from '@alirefund/store';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import { addEvent } from './batch-ledger.js';

export interface BulkService {
  /** submitted → queued after the gateway said REFUND_NOT_EXIST. False when the batch was not `submitted`. */
  requeueUnsent(batchNo: string, actor: string, note: string): Promise<boolean>;
  /** submitted → accepted after the gateway's query found the batch. False when the batch was not `submitted`. */
  markAccepted(batchNo: string, actor: string, note: string): Promise<boolean>;
}

export function createBulkService(deps: Pick<ServiceDeps, 'database' | 'clock'>): BulkService {
  const { database, clock } = deps;
  async function move(
    batchNo: string,
    to: 'queued' | 'accepted',
    actor: string,
    message: string,
  ): Promise<boolean> {
    return withTransaction(database, async (trx) => {
      const now = nowIso(clock);
      const res = await trx
        .updateTable('srv_batches')
        .set(
          to === 'queued'
            ? { state: 'queued', queued_at: now, updated_at: now }
            : { state: 'accepted', accepted_at: now, updated_at: now },
        )
        .where('batch_no', '=', batchNo)
        .where('state', '=', 'submitted')
        .where('mode', '=', 'nopwd')
        .where('applied_at', 'is', null)
        .executeTakeFirst();
      if (res.numUpdatedRows !== 1n) return false;
      await addEvent(trx, { batchNo, at: now, kind: to, state: to, message, actor });
      return true;
    });
  }
  return {
    requeueUnsent: (batchNo, actor, note) =>
      move(
        batchNo,
        'queued',
        actor,
        `refund_fastpay_query: the gateway has no batch ${batchNo} (REFUND_NOT_EXIST), so it never arrived; queued again under the same batch_no. ${note}`,
      ),
    markAccepted: (batchNo, actor, note) =>
      move(
        batchNo,
        'accepted',
        actor,
        `refund_fastpay_query found batch ${batchNo}: the gateway accepted it; waiting for its notification. ${note}`,
      ),
  };
}
