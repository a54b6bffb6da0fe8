/**
 * `refund_fastpay_by_platform_nopwd`: the batch is accepted (the batch lock decided) in one transaction and
 * answered `<is_success>T</is_success>`; it is processed once the reply is on the wire.
 */
import type { Charset } from '@alirefund/protocol';
import { isUniqueViolation, withTransaction } from '@alirefund/store';
import type { Core } from '../core.js';
import { processBatch, rememberDecoded } from '../processing/process.js';
import {
  type CheckedRefund,
  duplicateBatchNo,
  lockPartner,
  partnerBusy,
  takeSystemErrorFault,
} from './accept.js';
import { type Fail, logRequest, xmlReply } from './replies.js';
import type { GatewayRequest } from './request.js';

/** Work to run once the reply has been written (see `gatewayRoutes`). */
export type Defer = (fn: () => void) => void;

/** Processes a just-accepted batch right after the reply is sent (unless processing is paused). */
function processSoon(core: Core, defer: Defer, partner: string, batchNo: string): void {
  defer(() => {
    if (core.faults.pauseProcessing) return;
    processBatch(core, partner, batchNo).catch((e: unknown) =>
      core.log({ event: 'process_error', partner, batchNo, error: (e as Error).message }),
    );
  });
}

/** Accepts a checked nopwd request and answers T (or SYSTEM_ERROR under the fault); processing follows. */
export async function acceptNopwd(
  core: Core,
  r: GatewayRequest,
  charset: Charset,
  checked: CheckedRefund,
  defer: Defer,
  fail: Fail,
): Promise<Response> {
  const { base, batchNo } = checked;
  const now = base.created_at;
  // nopwd: accept (the batch lock is decided here), reply, process right after.
  let accepted: boolean;
  try {
    accepted = await withTransaction(core.database, async (trx) => {
      await lockPartner(core, trx, base.partner);
      const dup = await trx
        .selectFrom('sbx_batches')
        .select('batch_no')
        .where('partner', '=', base.partner)
        .where('batch_no', '=', batchNo)
        .executeTakeFirst();
      if (dup) return false;
      const busy = await partnerBusy(trx, base.partner);
      await trx
        .insertInto('sbx_batches')
        .values({
          ...base,
          status: 'queued',
          locked: busy ? 1 : 0,
          confirm_token_hash: null,
          accepted_at: now,
        })
        .execute();
      return true;
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    accepted = false;
  }
  if (!accepted) return fail(duplicateBatchNo(batchNo, base.partner));
  rememberDecoded(base.partner, batchNo, checked.records);
  processSoon(core, defer, base.partner, batchNo);
  if (await takeSystemErrorFault(core)) {
    await logRequest(
      core,
      r,
      'SYSTEM_ERROR',
      'fault: SYSTEM_ERROR after accepting (the batch was accepted and is processed)',
    );
    return xmlReply(charset, 'SYSTEM_ERROR', 'fault injection: the batch WAS accepted and will be processed');
  }
  await logRequest(core, r, 'T', null);
  return xmlReply(charset, null);
}
