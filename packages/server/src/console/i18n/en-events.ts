/** The English of zh-events.ts: batch timeline events, notification reason codes, audit action names. */
import { displayYuan, groupYuan } from '../yuan.js';
import type { EventsDict } from './zh-events.js';

export const enEvents: EventsDict = {
  eventKinds: {
    created: 'created',
    queued: 'queued',
    submitted: 'submitted',
    accepted: 'accepted',
    rejected: 'rejected',
    needs_attention: 'needs attention',
    finished: 'finished',
    notification: 'notification',
    anomaly: 'anomaly',
    cancelled: 'cancelled',
    resolved: 'resolved',
    superseded: 'superseded',
    reconcile: 'reconcile',
    approved: 'approved',
    approval_rejected: 'approval rejected',
  },
  events: {
    created: (d) =>
      `batch created${d.recordCount !== undefined ? ` with ${d.recordCount} record(s)${d.totalFen !== undefined ? `, ${displayYuan(d.totalFen)} yuan` : ''}${d.mode ? `, ${d.mode}` : ''}` : ''}${d.replaces ? ` (re-created from ${d.replaces}, whose batch_no date had passed before it was sent)` : ''}${d.of !== undefined && d.of > 1 ? ` (part ${d.part} of ${d.of})` : ''}${d.queued ? '; queued for submission' : ''}${d.pending ? '; awaiting approval by a second person (an approver or admin other than its creator)' : ''}`,
    queued: () => 'queued for submission',
    submitted: (d) =>
      d.variant === 'pwd'
        ? 'password form handed to the operator’s browser (pwd); the result comes by notification'
        : d.variant === 'pwd_again'
          ? 'password form rendered again for the operator’s browser'
          : d.variant === 'nopwd'
            ? 'sending to the gateway (nopwd)'
            : 'submitted',
    accepted: () => 'the gateway accepted the batch; the notification will say what was refunded',
    rejected: (d) =>
      `the gateway refused the batch${d.code ? ` (${d.code})` : ''}; its trades are free again`,
    needs_attention: (d) =>
      `outcome unknown${d.code ? ` (${d.code})` : ''}: the batch may have been accepted; it is paused and will not be resubmitted automatically; an operator must check it (notification, refund query)`,
    notification: (d) =>
      `${d.via ? 'query answer' : `notification${d.notifyId ? ` ${d.notifyId}` : ''}`} applied${d.successNum !== undefined ? `: ${d.successNum} record(s) refunded${d.successFen !== undefined ? ` (${groupYuan(d.successFen)} yuan)` : ''}${d.failed !== undefined ? `, ${d.failed} failed` : ''}` : ''}`,
    anomaly: (d) =>
      `the notification's results disagree with the batch${d.anomalies ? ` (${d.anomalies.length})` : ''}; check them`,
    cancelled: (d) =>
      d.variant === 'not_sent'
        ? 'not sent: the request would be refused; its trades are free again'
        : 'cancelled before submission; its trades are free again',
    resolved: (d, state) =>
      `${
        state === 'accepted' || d.outcome === 'accepted'
          ? 'an operator confirmed the gateway accepted the batch'
          : state === 'rejected' || d.outcome === 'rejected'
            ? 'an operator confirmed the gateway did not process the batch; its trades are free again'
            : state === 'resubmit_manually' || d.outcome === 'resubmit_manually'
              ? 'an operator decided to resubmit the records by hand under a new batch_no; its trades are free again'
              : 'resolved by an operator'
      }${d.note ? ` — ${d.note}` : ''}`,
    superseded: (d) =>
      `its batch_no date passed before it was sent (batch_no must carry today's date)${d.replacedBy ? `; replaced by ${d.replacedBy}` : ''}`,
    reconcile: () =>
      'refund query: Alipay has no such batch (REFUND_NOT_EXIST); resubmit under a new batch_no',
    approved: (d) =>
      `approved by ${d.decidedBy ?? ''}${d.preparedBy ? ` (prepared by ${d.preparedBy})` : ''}; it can be submitted now`,
    approval_rejected: (d) =>
      `rejected by ${d.decidedBy ?? ''}${d.preparedBy ? ` (prepared by ${d.preparedBy})` : ''}${d.reason ? `: ${d.reason}` : ''}; its trades are free again`,
  },
  notifyCodes: {
    MALFORMED_BODY: 'The body cannot be parsed',
    CHARSET_MISMATCH: 'The bytes do not match the declared charset',
    MISSING_SIGN: 'No sign',
    UNSUPPORTED_SIGN_TYPE: 'Unsupported sign_type',
    SIGN_MISMATCH:
      'The sign does not match: check the key (or Alipay public key) is this partner’s, with no spaces, partner and key not swapped; otherwise the body was altered or forged',
    UNEXPECTED_PARAMETER: 'An unexpected parameter',
    NOTIFY_VERIFY_FALSE: 'Alipay says this notify_id is not valid (not sent by Alipay, or expired)',
    NOTIFY_VERIFY_UNREACHABLE: 'Alipay could not be reached to verify the notify_id; it will be sent again',
    NOTIFY_VERIFY_BAD_RESPONSE: 'Alipay’s answer to the notify_id check was not understood',
    WRONG_NOTIFY_TYPE: 'Wrong notify_type',
    MALFORMED_CONTENT: 'Required content missing or malformed',
    MISSING_BATCH_NO: 'No (single, well-formed) batch_no',
    UNKNOWN_BATCH: 'The batch was not created here; the notification is not trusted',
    FOREIGN_PARTNER: 'The batch belongs to another partner',
    ALREADY_APPLIED: 'The batch’s results were already applied; nothing changed',
    CONTENT_DIFFERS: 'The batch’s results were already applied, and this content differs: check it',
    ALREADY_RECORDED: 'This notification was already recorded',
    RECONCILED_BY_QUERY: 'The result was settled by a refund query',
    REGISTERED: 'Trade registered',
    UNKNOWN_TRADE: 'Trade not registered',
    DISCREPANCY: 'Differs from the registered trade: check it',
    AWAITING_BATCH_NOTIFICATION: 'Awaiting the batch refund notification',
    CONSISTENT: 'Consistent with the registered trade',
  },
  auditActions: {
    'api_token.create': 'API token created',
    'api_token.revoke': 'API token revoked',
    'api_token.scope': 'API token scope changed',
    'batch.cancel': 'Batch cancelled',
    'batch.queue': 'Batch queued',
    'batch.reconcile': 'Batch reconciled',
    'batch.reconcile.resubmit_manually': 'Reconcile: resubmit under a new batch_no',
    'batch.submit_pwd': 'pwd batch submitted',
    'batch.resolve.accepted': 'Resolved: accepted',
    'batch.resolve.rejected': 'Resolved: not processed',
    'batch.resolve.resubmit_manually': 'Resolved: resubmit by hand',
    'batch.approve': 'Batch approved',
    'batch.reject': 'Batch rejected',
    'batches.create': 'Batches created',
    'console.login': 'Logged in',
    'console.login_failed': 'Login failed',
    'console.logout': 'Logged out',
    export: 'Export',
    'operator.change_own_password': 'Own password changed',
    'operator.create': 'Operator created',
    'operator.set_password': 'Operator password set',
    'operator.set_role': 'Operator role changed',
    'trades.register': 'Trades registered',
  },
  nTrades: (n: number) => `${n} trades`,
  actors: { system: 'system', gateway: 'gateway' },
};
