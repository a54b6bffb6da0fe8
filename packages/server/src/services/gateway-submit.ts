/**
 * Sending a claimed batch to the gateway and recording its synchronous answer. nopwd: T → accepted; F → rejected
 * (with the code's meaning and advice; nothing was processed, so its trades and the partner's queue are freed);
 * SYSTEM_ERROR / UNKNOWN_EXCEPTION / GENERIC_FAILURE / transport failure → needs_attention, never resubmitted
 * automatically. A batch the SDK refuses to sign is cancelled before anything is sent.
 */
import {
  buildRefundRequest,
  lookupCode,
  type NopwdResult,
  type SignedRequest,
  sendNopwdRequest,
} from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Selectable, Updateable } from 'kysely';
import type { BatchesTable, BatchState } from '../db.js';
import { addEvent, releaseBatch } from './batch-ledger.js';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';

/** How long a nopwd request may take before it counts as a transport failure. */
export const GATEWAY_TIMEOUT_MS = 15_000;

/** What became of a batch handed to {@link GatewaySubmit.submit}. */
export interface Submitted {
  kind: 'submitted';
  batchNo: string;
  result: NopwdResult['status'];
  code?: string;
}

export interface GatewaySubmit {
  /** The batch's signed request (pwd form or nopwd call), as stored. @throws RequestValidationError */
  requestFor(b: Selectable<BatchesTable>): SignedRequest;
  /** Sends a batch already moved to `submitted` (nopwd) and records the gateway's answer. */
  submit(batch: Selectable<BatchesTable>): Promise<Submitted>;
}

/** How an answer moves a `submitted` batch: the new state, its columns, and the timeline event. */
function answerStep(
  result: NopwdResult,
  now: string,
): {
  state: Extract<BatchState, 'accepted' | 'rejected' | 'needs_attention'>;
  set: Updateable<BatchesTable>;
  message: (moved: boolean) => string;
  data?: unknown;
} {
  if (result.status === 'accepted') {
    return {
      state: 'accepted',
      set: { accepted_at: now },
      message: (moved) =>
        `the gateway accepted the batch (is_success=${result.isSuccess}); the notification will say what was refunded${moved ? '' : ' (its notification had already been applied)'}`,
    };
  }
  if (result.status === 'rejected') {
    const info = result.info;
    return {
      state: 'rejected',
      set: {
        rejected_at: now,
        gateway_code: result.code,
        gateway_message: `${info.zh} / ${info.en}. ${info.advice.en}`,
      },
      message: () =>
        `the gateway rejected the batch: ${result.code} (${info.zh}; ${info.en}). Nothing was processed and no notification will come. ${info.advice.en}`,
      data: { code: result.code, action: info.action, advice: info.advice, body: result.body.slice(0, 2000) },
    };
  }
  return {
    state: 'needs_attention',
    set: { attention_at: now, gateway_code: result.code, gateway_message: result.message },
    message: () =>
      `outcome unknown (${result.code}, ${result.reason}): ${result.message}. The batch may have been accepted: it is paused and will not be resubmitted automatically; an operator must check it (notification, refund query) and resolve it.`,
    data: { code: result.code, reason: result.reason, advice: lookupCode(result.code).advice },
  };
}

export function createGatewaySubmit(deps: ServiceDeps): GatewaySubmit {
  const { database, clock, config, log } = deps;
  const partner = config.partner;

  function requestFor(b: Selectable<BatchesTable>): SignedRequest {
    return buildRefundRequest(config, {
      mode: b.mode,
      batchNo: b.batch_no,
      refundDate: b.refund_date,
      detail: b.detail_data,
      batchNum: Number(b.record_count),
      ...(b.notify_url !== null ? { notifyUrl: b.notify_url } : {}),
    });
  }

  /** Moves the batch from `submitted` as the answer says (only from there: a notification may have come first). */
  async function recordAnswer(batchNo: string, result: NopwdResult): Promise<void> {
    await withTransaction(database, async (trx) => {
      const now = nowIso(clock);
      const step = answerStep(result, now);
      const res = await trx
        .updateTable('srv_batches')
        .set({ ...step.set, state: step.state, updated_at: now })
        .where('batch_no', '=', batchNo)
        .where('state', '=', 'submitted')
        .executeTakeFirst();
      const moved = res.numUpdatedRows === 1n;
      if (moved && step.state === 'rejected') await releaseBatch(trx, partner, batchNo, now);
      await addEvent(trx, {
        batchNo,
        at: now,
        kind: step.state,
        state: moved ? step.state : null,
        message: step.message(moved),
        ...(step.data !== undefined ? { data: step.data } : {}),
        actor: 'system',
      });
    });
  }

  async function submit(batch: Selectable<BatchesTable>): Promise<Submitted> {
    let req: SignedRequest;
    try {
      req = requestFor(batch);
    } catch (err) {
      // Never left the process: close it locally and free everything.
      await withTransaction(database, async (trx) => {
        const now = nowIso(clock);
        await trx
          .updateTable('srv_batches')
          .set({ state: 'cancelled', cancelled_at: now, updated_at: now, gateway_code: 'LOCAL_VALIDATION' })
          .where('batch_no', '=', batch.batch_no)
          .execute();
        await releaseBatch(trx, partner, batch.batch_no, now);
        await addEvent(trx, {
          batchNo: batch.batch_no,
          at: now,
          kind: 'cancelled',
          state: 'cancelled',
          message: `not sent: the request would be refused (${(err as Error).message})`,
          data: { variant: 'not_sent' },
          actor: 'system',
        });
      });
      return { kind: 'submitted', batchNo: batch.batch_no, result: 'rejected', code: 'LOCAL_VALIDATION' };
    }
    const result = await sendNopwdRequest(req, { timeoutMs: GATEWAY_TIMEOUT_MS, fetch: deps.fetch });
    log.info(
      { batchNo: batch.batch_no, status: result.status, code: 'code' in result ? result.code : undefined },
      'nopwd batch submitted',
    );
    await recordAnswer(batch.batch_no, result);
    return {
      kind: 'submitted',
      batchNo: batch.batch_no,
      result: result.status,
      ...('code' in result ? { code: result.code } : {}),
    };
  }

  return { requestFor, submit };
}
