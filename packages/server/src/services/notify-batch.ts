/**
 * POST /alipay/notify: a batch_refund_notify, decoded → verified → applied → recorded.
 *
 * batch_no is read from the raw body first (the batch's charset decides how the rest decodes); the batch must
 * have been created here, for this partner. A byte-identical redelivery of the applied notification is a
 * duplicate at once. Otherwise the sign is checked in the batch's charset, then notify_verify asks the gateway,
 * then the result is applied exactly once (notify-apply.ts). Every delivery is recorded with its verdict
 * (notify-record.ts); `success` is answered only for what is recorded as applied or duplicate, after commit.
 */
import {
  type BatchRefundNotification,
  checkNotificationSignature,
  NotificationError,
  normalizeCharset,
  parseBatchRefundNotification,
} from '@alirefund/protocol';
import { createHash } from 'node:crypto';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import type { IncomingNotification, NotifyOutcome } from './notification-types.js';
import type { ApplyBatch } from './notify-apply.js';
import { describeError, peekParam } from './notify-intake.js';
import type { NotificationRecorder } from './notify-record.js';
import { compiled } from './sql-text.js';

/** The batch, and the delivery that applied it (to recognise byte-identical redeliveries). */
const SELECT_BATCH =
  'select b.batch_no, b.partner, b.charset, b.applied_at, b.applied_notify_id, b.success_num, ' +
  'n.kind as applied_kind, n.raw_body as applied_raw_body, n.notify_time as applied_notify_time, ' +
  'n.charset as applied_charset from srv_batches b ' +
  'left join srv_notifications n on n.id = b.applied_notification_id where b.batch_no = ?';

/** Batches whose applied notification this process knows (by the SHA-256 of its body), most recent kept. */
const APPLIED_CACHE_SIZE = 4096;

interface AppliedDelivery {
  bodySha256: string;
  notifyId: string | null;
  notifyTime: string | null;
  charset: string | null;
}

export function createBatchNotifyHandler(
  deps: Pick<ServiceDeps, 'database' | 'clock' | 'config' | 'log'>,
  steps: {
    recorder: NotificationRecorder;
    verifyRemote: (notifyId: string) => Promise<void>;
    applyBatch: ApplyBatch;
    /** A batch's notification was applied. */
    batchFinished: (batchNo: string) => void;
  },
): (incoming: IncomingNotification) => Promise<NotifyOutcome> {
  const { database, clock, config, log } = deps;
  const { recorder, verifyRemote, applyBatch } = steps;

  /**
   * Applied is final: once a batch's notification is applied, a byte-identical redelivery (same SHA-256) is a
   * duplicate whatever happens later, so it is answered from memory, without reading the batch and the applied
   * body back (one query and a body-sized string per redelivery). Any other body takes the full path below.
   */
  const applied = new Map<string, AppliedDelivery>();
  const remember = (batchNo: string, d: AppliedDelivery) => {
    if (applied.size >= APPLIED_CACHE_SIZE) applied.delete(applied.keys().next().value as string);
    applied.set(batchNo, d);
  };
  const duplicateOfApplied = (
    incoming: IncomingNotification,
    receivedAt: string,
    batchNo: string,
    d: AppliedDelivery,
  ) =>
    // Byte for byte the delivery that was verified (sign and notify_verify) and applied: the gateway's
    // retry. Same verdict and reason as the full path below gives it, without decoding it again; its row keeps
    // the body's digest and first 4 KB (the applied row has the whole body).
    recorder.recordOnly(incoming, receivedAt, {
      sameAsApplied: d.bodySha256,
      kind: 'batch_refund_notify',
      verdict: 'duplicate',
      reasonCode: 'ALREADY_APPLIED',
      reason: `batch ${batchNo} was already applied; nothing changed`,
      batchNo,
      notifyId: d.notifyId,
      notifyTime: d.notifyTime,
      charset: d.charset,
    });

  return async (incoming) => {
    const receivedAt = nowIso(clock);
    const reject = recorder.rejecter(incoming, receivedAt, 'batch_refund_notify');

    const batchNo = peekParam(incoming.body, 'batch_no');
    if (batchNo === null) {
      return reject('MISSING_BATCH_NO', 'the body carries no (single, well-formed) batch_no');
    }
    const bodySha256 = createHash('sha256').update(incoming.body).digest('hex');
    const known = applied.get(batchNo);
    if (known !== undefined && known.bodySha256 === bodySha256) {
      return duplicateOfApplied(incoming, receivedAt, batchNo, known);
    }
    const batch = (
      await database.db.executeQuery<{
        batch_no: string;
        partner: string;
        charset: string;
        applied_at: string | null;
        applied_notify_id: string | null;
        success_num: number | null;
        applied_kind: string | null;
        applied_raw_body: string | null;
        applied_notify_time: string | null;
        applied_charset: string | null;
      }>(compiled(database.dialect, SELECT_BATCH, [batchNo]))
    ).rows[0];
    if (!batch) {
      return reject(
        'UNKNOWN_BATCH',
        `no batch ${batchNo} was created here; a notification for it is not trusted`,
        {
          batchNo,
        },
      );
    }
    if (batch.partner !== config.partner) {
      return reject(
        'FOREIGN_PARTNER',
        `batch ${batchNo} belongs to partner ${batch.partner}, not ${config.partner}`,
        {
          batchNo,
        },
      );
    }
    const charset = normalizeCharset(batch.charset) ?? config.inputCharset;
    if (
      batch.applied_at !== null &&
      batch.applied_kind === 'batch_refund_notify' &&
      batch.applied_raw_body === Buffer.from(incoming.body).toString('latin1')
    ) {
      const d = {
        bodySha256,
        notifyId: batch.applied_notify_id,
        notifyTime: batch.applied_notify_time,
        charset: batch.applied_charset,
      };
      remember(batchNo, d);
      return duplicateOfApplied(incoming, receivedAt, batchNo, d);
    }
    let n: BatchRefundNotification;
    try {
      // An address already over its budget of stored rejections gets the check without the diagnosis.
      const params = checkNotificationSignature(incoming.body, charset, config.verifyingKey, {
        explain: recorder.limiter.allows(incoming.remoteAddr),
      });
      n = parseBatchRefundNotification(params);
    } catch (err) {
      const d = describeError(err);
      if (d.code === 'INTERNAL') throw err;
      const hint = err instanceof NotificationError ? ` — ${err.hint}` : '';
      return reject(d.code, `${d.message}${hint}`, { batchNo, charset });
    }
    if (n.batchNo !== batchNo) {
      return reject('MALFORMED_BODY', 'batch_no read from the raw body differs from the decoded one', {
        batchNo,
        charset,
      });
    }
    const common = { batchNo, notifyId: n.notifyId, notifyTime: n.notifyTime, charset };

    const duplicate = async (extraNote?: string) => {
      const differs = batch.success_num !== null && Number(batch.success_num) !== n.successNum;
      return recorder.recordOnly(incoming, receivedAt, {
        kind: 'batch_refund_notify',
        verdict: 'duplicate',
        reasonCode: differs ? 'CONTENT_DIFFERS' : 'ALREADY_APPLIED',
        reason: `batch ${batchNo} was already applied; nothing changed${extraNote ? ` (${extraNote})` : ''}${differs ? `; note: success_num ${n.successNum} differs from the applied ${batch.success_num}` : ''}`,
        ...common,
      });
    };

    if (batch.applied_at !== null) {
      // Already applied. The same notify_id was verified when it was applied; a different one must prove itself.
      if (batch.applied_notify_id !== n.notifyId) {
        try {
          await verifyRemote(n.notifyId);
        } catch (err) {
          const d = describeError(err);
          return reject(d.code, d.message, common);
        }
        return duplicate(`a different notify_id (${n.notifyId}) than the applied ${batch.applied_notify_id}`);
      }
      return duplicate();
    }

    try {
      await verifyRemote(n.notifyId);
    } catch (err) {
      const d = describeError(err);
      if (d.code === 'INTERNAL') throw err;
      return reject(d.code, d.message, common);
    }

    const id = await applyBatch(incoming, receivedAt, n, charset);
    if (id === null) {
      // Another delivery (or another server instance) applied it between our read and our transaction.
      const again = await database.db
        .selectFrom('srv_batches')
        .select(['success_num'])
        .where('batch_no', '=', batchNo)
        .executeTakeFirst();
      batch.success_num = again?.success_num ?? null;
      return duplicate('applied by a concurrent delivery');
    }
    remember(batchNo, { bodySha256, notifyId: n.notifyId, notifyTime: n.notifyTime, charset });
    steps.batchFinished(batchNo);
    log.info({ batchNo, notifyId: n.notifyId, successNum: n.successNum }, 'batch notification applied');
    return {
      answer: 'success',
      verdict: 'accepted',
      reasonCode: null,
      reason: null,
      batchNo,
      notificationId: id,
    };
  };
}
