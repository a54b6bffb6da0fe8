/**
 * POST /alipay/trade-notify: a trade_status_sync, verified (sign, in either charset; notify_id once; notify_verify)
 * and recorded, then compared with the local trade: an unknown paid trade is registered, a known one gets the
 * gateway's status and a note where the two disagree. It never applies a refund: refunded amounts change only
 * with batch notifications.
 */
import {
  type Charset,
  checkNotificationSignature,
  formatYuan,
  NotificationError,
  parseYuan,
} from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import type { IncomingNotification, NotifyOutcome } from './notification-types.js';
import { describeError } from './notify-intake.js';
import { type NotificationRecorder, rowFor } from './notify-record.js';

const TRADE_NOTIFY_TYPE = 'trade_status_sync';

export function createTradeNotifyHandler(
  deps: Pick<ServiceDeps, 'database' | 'clock' | 'config'>,
  steps: { recorder: NotificationRecorder; verifyRemote: (notifyId: string) => Promise<void> },
): (incoming: IncomingNotification) => Promise<NotifyOutcome> {
  const { database, clock, config } = deps;
  const { recorder, verifyRemote } = steps;

  return async (incoming) => {
    const receivedAt = nowIso(clock);
    const reject = recorder.rejecter(incoming, receivedAt, TRADE_NOTIFY_TYPE);
    let params: Record<string, string>;
    let charset: Charset = config.inputCharset;
    const explain = recorder.limiter.allows(incoming.remoteAddr);
    try {
      try {
        params = checkNotificationSignature(incoming.body, charset, config.verifyingKey, { explain });
      } catch (err) {
        // Trades may have been paid with the other charset: the SDK tells us when that one verifies.
        if (!(err instanceof NotificationError && err.code === 'CHARSET_MISMATCH')) throw err;
        charset = charset === 'utf-8' ? 'gbk' : 'utf-8';
        params = checkNotificationSignature(incoming.body, charset, config.verifyingKey, { explain });
      }
    } catch (err) {
      const d = describeError(err);
      if (d.code === 'INTERNAL') throw err;
      return reject(d.code, d.message);
    }
    const tradeNo = params['trade_no'] ?? null;
    const notifyId = params['notify_id'] ?? '';
    const common = { tradeNo, notifyId, notifyTime: params['notify_time'] ?? null, charset };
    if (params['notify_type'] !== TRADE_NOTIFY_TYPE) {
      return reject(
        'WRONG_NOTIFY_TYPE',
        `notify_type is ${JSON.stringify(params['notify_type'] ?? null)}; batch refund notifications belong on /alipay/notify`,
        common,
      );
    }
    if (notifyId === '' || tradeNo === null || tradeNo === '') {
      return reject('MALFORMED_CONTENT', 'notify_id and trade_no are required', common);
    }
    const seen = await database.db
      .selectFrom('srv_notifications')
      .select('id')
      .where('kind', '=', TRADE_NOTIFY_TYPE)
      .where('notify_id', '=', notifyId)
      .where('verdict', '=', 'accepted')
      .executeTakeFirst();
    if (seen) {
      return recorder.recordOnly(incoming, receivedAt, {
        kind: TRADE_NOTIFY_TYPE,
        verdict: 'duplicate',
        reasonCode: 'ALREADY_RECORDED',
        reason: `notification ${notifyId} was already recorded (#${seen.id}); nothing changed`,
        batchNo: null,
        ...common,
      });
    }
    try {
      await verifyRemote(notifyId);
    } catch (err) {
      const d = describeError(err);
      if (d.code === 'INTERNAL') throw err;
      return reject(d.code, d.message, common);
    }
    const tradeStatus = params['trade_status'] ?? '';
    const refundStatus = params['refund_status'] ?? '';
    const totalFen = parseYuan(params['total_fee'] ?? '');
    const { reasonCode, reason, id } = await withTransaction(database, async (trx) => {
      const now = nowIso(clock);
      const trade = await trx
        .selectFrom('srv_trades')
        .selectAll()
        .where('trade_no', '=', tradeNo)
        .executeTakeFirst();
      let code: string;
      let text: string;
      if (!trade) {
        if (
          (tradeStatus === 'TRADE_SUCCESS' || tradeStatus === 'TRADE_FINISHED') &&
          refundStatus === '' &&
          totalFen
        ) {
          await trx
            .insertInto('srv_trades')
            .values({
              trade_no: tradeNo,
              out_trade_no: params['out_trade_no'] ?? null,
              partner: config.partner,
              paid_fen: totalFen,
              status: 'paid',
              royalty_json: null,
              subject: params['subject'] ?? null,
              buyer: params['buyer_email'] ?? params['buyer_id'] ?? null,
              paid_at: params['gmt_payment'] ?? null,
              open_batch_no: null,
              gateway_status: tradeStatus,
              reconcile_note: null,
              created_at: now,
              updated_at: now,
            })
            .execute();
          code = 'REGISTERED';
          text = `paid trade ${tradeNo} (${formatYuan(totalFen)} yuan) registered from the gateway's notification`;
        } else {
          code = 'UNKNOWN_TRADE';
          text = `trade ${tradeNo} is not registered here (${tradeStatus}${refundStatus ? `, ${refundStatus}` : ''}); recorded only`;
        }
      } else {
        const paid = Number(trade.paid_fen);
        const refunded = Number(trade.refunded_fen);
        const problems: string[] = [];
        if (totalFen !== null && totalFen !== paid) {
          problems.push(`the gateway says ${formatYuan(totalFen)} yuan was paid, here ${formatYuan(paid)}`);
        }
        const pending = refundStatus === 'REFUND_SUCCESS' && trade.open_batch_no !== null;
        if (
          !pending &&
          refundStatus === 'REFUND_SUCCESS' &&
          tradeStatus === 'TRADE_CLOSED' &&
          refunded < paid
        ) {
          problems.push(
            `the gateway reports the trade fully refunded and closed, here ${formatYuan(refunded)} of ${formatYuan(paid)} yuan is refunded${trade.open_batch_no ? ` (batch ${trade.open_batch_no} is still open: its notification will apply the refund)` : ''}`,
          );
        }
        if (refundStatus === 'REFUND_SUCCESS' && refunded === 0 && !trade.open_batch_no) {
          problems.push('the gateway reports a refund that no batch of this server has applied');
        }
        code = problems.length > 0 ? 'DISCREPANCY' : pending ? 'AWAITING_BATCH_NOTIFICATION' : 'CONSISTENT';
        text =
          problems.length > 0
            ? `${problems.join('; ')}. Refunded amounts change only with batch notifications; check the trade.`
            : pending
              ? `the gateway reports a refund (${tradeStatus}, ${refundStatus}) of open batch ${trade.open_batch_no}, whose notification has not been applied yet; it will apply the amount (refunded here so far: ${formatYuan(refunded)} of ${formatYuan(paid)} yuan)`
              : `consistent with local state (${tradeStatus}${refundStatus ? `, ${refundStatus}` : ''}; refunded ${formatYuan(refunded)} of ${formatYuan(paid)} yuan)`;
        await trx
          .updateTable('srv_trades')
          .set({
            gateway_status: tradeStatus || trade.gateway_status,
            reconcile_note: problems.length > 0 ? text : null,
            updated_at: now,
          })
          .where('trade_no', '=', tradeNo)
          .execute();
      }
      const row = await trx
        .insertInto('srv_notifications')
        .values(
          rowFor(incoming, receivedAt, {
            kind: TRADE_NOTIFY_TYPE,
            verdict: 'accepted',
            reasonCode: code,
            reason: text,
            batchNo: null,
            appliedAt: now,
            ...common,
          }),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      return { reasonCode: code, reason: text, id: Number(row.id) };
    });
    return {
      answer: 'success',
      verdict: 'accepted',
      reasonCode,
      reason,
      batchNo: null,
      notificationId: id,
    };
  };
}
