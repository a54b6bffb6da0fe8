/**
 * Transitions the bulk refund command (`alirefund refund`) needs when it resumes after a crash: a nopwd batch
 * left `submitted` with no recorded answer is looked up with refund_fastpay_query, and the answer moves it.
 *
 * - `REFUND_NOT_EXIST` (the gateway never got it): back to `queued` under the same batch_no, so that the queue
 *   sends it (if the gateway did get it after all, it answers DUPLICATE_BATCH_NO and nothing is refunded twice);
 * - found: `accepted`, waiting for its notification (which applies the results, exactly once as always).
 *
 * And the one step a run takes 100 times: a nopwd draft queued ({@link BulkService.queueDraft}), as
 * SubmissionService.enqueue does it but without reading the whole batch back afterwards.
 */
import { withTransaction } from '@alirefund/store';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import type { AuditService } from './audit.js';
import { addEvent, queueDraftIn } from './batch-ledger.js';

export interface BulkService {
  /** submitted → queued after the gateway said REFUND_NOT_EXIST. False when the batch was not `submitted`. */
  requeueUnsent(batchNo: string, actor: string, note: string): Promise<boolean>;
  /** submitted → accepted after the gateway's query found the batch. False when the batch was not `submitted`. */
  markAccepted(batchNo: string, actor: string, note: string): Promise<boolean>;
  /**
   * draft → queued for a nopwd batch not awaiting approval, with the same event and audit entry as
   * SubmissionService.enqueue; nothing is read back. False when the batch was not such a draft (enqueue says why).
   */
  queueDraft(batchNo: string, actor: string): Promise<boolean>;
}

export function createBulkService(
  deps: Pick<ServiceDeps, 'database' | 'clock'> & { audit: Pick<AuditService, 'record'> },
): BulkService {
  const { database, clock, audit } = deps;
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
    queueDraft: (batchNo, actor) =>
      withTransaction(database, async (trx) => {
        if (!(await queueDraftIn(trx, batchNo, actor, nowIso(clock)))) return false;
        await audit.record({ actor, action: 'batch.queue', target: batchNo }, trx);
        return true;
      }),
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
