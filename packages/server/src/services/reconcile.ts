/**
 * Reconciliation with `refund_fastpay_query` (protocol.md §13): for batches that were submitted or accepted (or
 * whose outcome is unknown) but have no applied notification, ask the gateway what became of them.
 *
 * - Results found: applied exactly as a notification would be, through the notification service's apply
 *   transaction (the same `applied_at IS NULL` guard), so a notification arriving before or after changes nothing
 *   twice: it is recorded as a duplicate.
 * - `REFUND_NOT_EXIST` (the gateway has no processed batch of that number):
 *   - outcome unknown (`needs_attention`: SYSTEM_ERROR & co): left to the operator, as the seeds require;
 *   - no answer 24 hours after submission: marked `resubmit_manually` with the seeds' guidance (nopwd rules §4,
 *     接口异常: "退款通知超过 24 小时未发出，则可以人工进行重新提交请求");
 *   - never accepted here (a pwd form never confirmed, a nopwd request never answered): said so;
 *   - otherwise: still pending (an accepted batch is unknown to the query until it is processed).
 *
 * Every query is recorded in `srv_reconcile_attempts`. The server runs {@link ReconcileService.runScheduled} on
 * its background timer; the CLI (`alirefund reconcile`) and the console call {@link ReconcileService.reconcile}.
 */
import {
  type BatchRefundNotification,
  buildRefundQuery,
  encodeResultDetails,
  formatBeijing,
  normalizeCharset,
  type QueryResult,
  type ResultRecord,
  sendRefundQuery,
} from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Selectable } from 'kysely';
import type { BatchState, ServerDB } from '../db.js';
import { ServiceError } from '../errors.js';
import type { AuditService } from './audit.js';
import { addEvent, releaseBatch } from './batch-ledger.js';
import { nowMs } from './clock.js';
import type { ServiceDeps } from './deps.js';
import { GATEWAY_TIMEOUT_MS } from './gateway-submit.js';
import type { NotificationService } from './notifications.js';

/** The seeds' rule: without a notification 24 hours after submission, the batch may be resubmitted by hand. */
export const RESUBMIT_AFTER_MS = 24 * 3_600_000;

/** Default age of the batches `alirefund reconcile` looks at. */
export const DEFAULT_RECONCILE_OLDER_THAN_MS = 2 * 3_600_000;

/** The seeds' guidance for a batch without a notification after 24 hours (nopwd rules §4, 接口异常). */
export const RESUBMIT_GUIDANCE = {
  zh: '异步处理如果响应时间过长直接导致退款返回失败，或者退款通知超过 24 小时未发出，则可以人工进行重新提交请求。（即时到账批量退款无密接口接入与使用规则 §4 接口异常）',
  en: 'If asynchronous processing took too long and the refund failed, or no refund notification was sent within 24 hours, the request may be resubmitted manually (nopwd rules §4). Check the trades in the Alipay merchant portal first, then refund the records that were not refunded under a new batch_no.',
} as const;

/** States the reconciler queries: left the process, no applied notification. */
export const RECONCILE_STATES: readonly BatchState[] = ['submitted', 'accepted', 'needs_attention'];

export type ReconcileOutcome =
  /** The gateway's results were applied (the batch is finished). */
  | 'applied'
  /** A notification (or another run) applied the batch first: nothing changed. */
  | 'already_applied'
  /** The gateway does not know the batch yet and it is younger than 24 hours: wait. */
  | 'pending'
  /** No answer 24 hours after submission: marked resubmit_manually. */
  | 'resubmit_manually'
  /** The gateway does not know the batch and it was never accepted. */
  | 'not_at_gateway'
  /** Outcome unknown (SYSTEM_ERROR & co) and the gateway does not know the batch: an operator decides. */
  | 'outcome_unknown'
  /** The query was refused (e.g. ILLEGAL_SIGN, HAS_NO_PRIVILEGE). */
  | 'query_error'
  /** The gateway could not be reached or its reply could not be read: try again later. */
  | 'unavailable'
  /** The batch is not waiting for a result (finished, rejected, draft…): nothing to ask. */
  | 'not_open';

export interface ReconcileItem {
  batchNo: string;
  mode: 'pwd' | 'nopwd';
  stateBefore: BatchState;
  stateAfter: BatchState;
  submittedAt: string | null;
  /** Milliseconds since submission, at the time of the check. */
  ageMs: number | null;
  outcome: ReconcileOutcome;
  /** The gateway's error code (REFUND_NOT_EXIST, ILLEGAL_SIGN…), when there is one. */
  code: string | null;
  message: string;
  /** Someone has to act (resubmit by hand, decide an outcome-unknown batch, fix the configuration). */
  needsOperator: boolean;
  /** Records refunded according to the applied answer. */
  successNum: number | null;
  /** The row recorded in the notification log when applied. */
  notificationId: number | null;
  /** The srv_reconcile_attempts row; null for `not_open` (nothing was asked). */
  attemptId: number | null;
}

export interface ReconcileReport {
  at: string;
  olderThanMs: number;
  items: ReconcileItem[];
  /** How many items need an operator. */
  needsOperator: number;
}

export interface ReconcileOptions {
  /** Only batches submitted at least this long ago (ignored when `batchNo` is given). */
  olderThanMs: number;
  /** Only this batch, whatever its age. */
  batchNo?: string;
  /** Check `needs_attention` batches whatever their age (the CLI: an operator is waiting on them). */
  attentionAnyAge?: boolean;
  /** The time of the check, epoch ms (default: the service clock). */
  now?: number;
  /** Who asks: `system` (the timer), `cli`, `operator:NAME` (default `system`). */
  actor?: string;
  /** Skip batches queried less than this long ago (the timer uses it to pace itself). */
  skipCheckedWithinMs?: number;
  /** At most this many batches per run (default 500). */
  limit?: number;
}

export interface ReconcileAttempt {
  id: number;
  batchNo: string;
  at: string;
  actor: string;
  stateBefore: string;
  stateAfter: string;
  outcome: ReconcileOutcome;
  code: string | null;
  message: string;
  reply: string | null;
  notificationId: number | null;
}

export interface ReconcileService {
  /** Queries the gateway for each matching batch and applies or marks what it says. */
  reconcile(opts: ReconcileOptions): Promise<ReconcileReport>;
  /** The timer's run: batches without a notification for ALIREFUND_NEXT_BATCH_WAIT, paced; never overlaps. */
  runScheduled(): Promise<ReconcileReport | null>;
  /** A batch's recorded attempts, newest first. */
  attempts(batchNo: string, limit?: number): Promise<ReconcileAttempt[]>;
}

export interface ReconcileHooks {
  /** A batch was closed (resubmit_manually): the partner's queue may move on. */
  batchClosed(batchNo: string): void;
}

type BatchRow = Selectable<ServerDB['srv_batches']>;

function attemptView(r: Selectable<ServerDB['srv_reconcile_attempts']>): ReconcileAttempt {
  return {
    id: Number(r.id),
    batchNo: r.batch_no,
    at: r.at,
    actor: r.actor,
    stateBefore: r.state_before,
    stateAfter: r.state_after,
    outcome: r.outcome as ReconcileOutcome,
    code: r.gateway_code,
    message: r.message,
    reply: r.reply,
    notificationId: r.notification_id === null ? null : Number(r.notification_id),
  };
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 1 ? `${h.toFixed(1)} h` : `${Math.max(0, Math.round(ms / 60_000))} min`;
}

/** A result record without its `batch_no^` prefix: as a notification carries it. */
function withoutBatchNo(r: ResultRecord): ResultRecord {
  const copy: ResultRecord = {
    tradeNo: r.tradeNo,
    amountFen: r.amountFen,
    amountText: r.amountText,
    code: r.code,
    succeeded: r.succeeded,
  };
  if (r.toBankCard !== undefined) copy.toBankCard = r.toBankCard;
  if (r.bankCardStatus !== undefined) copy.bankCardStatus = r.bankCardStatus;
  if (r.charge !== undefined) copy.charge = r.charge;
  if (r.royalties !== undefined) copy.royalties = r.royalties;
  if (r.subTrade !== undefined) copy.subTrade = r.subTrade;
  return copy;
}

export function createReconcileService(
  deps: ServiceDeps,
  services: { notifications: NotificationService; audit: AuditService },
  hooks: ReconcileHooks,
): ReconcileService {
  const { database, clock, config, settings, log } = deps;
  const partner = config.partner;

  async function record(
    b: BatchRow,
    at: string,
    actor: string,
    item: Omit<ReconcileItem, 'attemptId' | 'batchNo' | 'mode' | 'stateBefore' | 'submittedAt' | 'ageMs'>,
    reply: string | null,
  ): Promise<number> {
    const row = await database.db
      .insertInto('srv_reconcile_attempts')
      .values({
        batch_no: b.batch_no,
        at,
        actor,
        state_before: b.state,
        state_after: item.stateAfter,
        outcome: item.outcome,
        gateway_code: item.code,
        message: item.message.slice(0, 2000),
        reply: reply === null ? null : reply.slice(0, 4000),
        notification_id: item.notificationId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** REFUND_NOT_EXIST for a batch that waited 24 hours: resubmit_manually, trades and queue freed. */
  async function markResubmit(b: BatchRow, actor: string, message: string): Promise<boolean> {
    const changed = await withTransaction(database, async (trx) => {
      const now = new Date(nowMs(clock)).toISOString();
      const res = await trx
        .updateTable('srv_batches')
        .set({
          state: 'resubmit_manually',
          resolved_at: now,
          updated_at: now,
          gateway_code: 'REFUND_NOT_EXIST',
          gateway_message: `${RESUBMIT_GUIDANCE.zh} / ${RESUBMIT_GUIDANCE.en}`,
        })
        .where('batch_no', '=', b.batch_no)
        .where('state', 'in', ['submitted', 'accepted'])
        .where('applied_at', 'is', null)
        .executeTakeFirst();
      if (res.numUpdatedRows !== 1n) return false;
      await releaseBatch(trx, partner, b.batch_no, now);
      await addEvent(trx, {
        batchNo: b.batch_no,
        at: now,
        kind: 'reconcile',
        state: 'resubmit_manually',
        message,
        data: { code: 'REFUND_NOT_EXIST', guidance: RESUBMIT_GUIDANCE },
        actor,
      });
      await services.audit.record(
        { actor, action: 'batch.reconcile.resubmit_manually', target: b.batch_no },
        trx,
      );
      return true;
    });
    if (changed) hooks.batchClosed(b.batch_no);
    return changed;
  }

  async function applyFound(
    b: BatchRow,
    result: Extract<QueryResult, { status: 'found' }>,
    nowText: string,
  ): Promise<{ id: number | null; successNum: number } | null> {
    const records = result.records.filter((r) => r.batchNo === undefined || r.batchNo === b.batch_no);
    if (records.length === 0) return null;
    const details = records.map(withoutBatchNo);
    const successNum = details.filter((r) => r.succeeded).length;
    const charset = normalizeCharset(b.charset) ?? config.inputCharset;
    const n: BatchRefundNotification = {
      notifyType: 'batch_refund_notify',
      // Not a notify_id: a later notification (with its real notify_id) is checked with notify_verify and then
      // recorded as a duplicate.
      notifyId: 'refund_fastpay_query',
      notifyTime: nowText,
      signType: result.signed ? config.signType : '',
      batchNo: b.batch_no,
      successNum,
      resultDetailsText: encodeResultDetails(details),
      resultDetails: details,
      params: {},
    };
    const id = await services.notifications.applyBatchResult(n, {
      kind: 'refund_fastpay_query',
      body: Buffer.from(result.body, 'utf8'),
      charset,
      reasonCode: 'RECONCILED_BY_QUERY',
      reason: `no notification was applied; the gateway's refund_fastpay_query answer (${result.signed ? 'signed' : 'unsigned'}) was applied instead`,
    });
    return { id, successNum };
  }

  async function check(b: BatchRow, now: number, actor: string): Promise<ReconcileItem> {
    const nowText = new Date(now).toISOString();
    const submitted = b.submitted_at ?? b.accepted_at;
    const ageMs = submitted ? now - Date.parse(submitted) : null;
    const base = {
      batchNo: b.batch_no,
      mode: b.mode,
      stateBefore: b.state,
      submittedAt: submitted,
      ageMs,
    };
    const done = async (
      item: Omit<ReconcileItem, 'attemptId' | 'batchNo' | 'mode' | 'stateBefore' | 'submittedAt' | 'ageMs'>,
      reply: string | null,
    ): Promise<ReconcileItem> => {
      const attemptId = await record(b, nowText, actor, item, reply);
      if (item.needsOperator || item.outcome === 'unavailable') {
        log.warn(
          { batchNo: b.batch_no, outcome: item.outcome, code: item.code },
          'reconcile: batch needs a look',
        );
      }
      return { ...base, ...item, attemptId };
    };
    const unchanged = { stateAfter: b.state, successNum: null, notificationId: null };

    let result: QueryResult;
    try {
      result = await sendRefundQuery(buildRefundQuery(config, { batchNo: b.batch_no }), config, {
        fetch: deps.fetch,
        timeoutMs: GATEWAY_TIMEOUT_MS,
      });
    } catch (err) {
      result = { status: 'unavailable', message: err instanceof Error ? err.message : String(err) };
    }

    if (result.status === 'unavailable') {
      return done(
        {
          ...unchanged,
          outcome: 'unavailable',
          code: null,
          message: `could not ask the gateway: ${result.message}; the next run tries again`,
          needsOperator: false,
        },
        result.body ?? null,
      );
    }
    if (result.status === 'error') {
      return done(
        {
          ...unchanged,
          outcome: 'query_error',
          code: result.code,
          message: `the gateway refused the query: ${result.code} (${result.info.zh}; ${result.info.en}). ${result.info.advice.en}`,
          needsOperator: true,
        },
        result.body,
      );
    }
    if (result.status === 'found') {
      const applied = await applyFound(b, result, formatBeijing(now));
      if (applied === null) {
        return done(
          {
            ...unchanged,
            outcome: 'pending',
            code: null,
            message: 'the gateway answered without a result for this batch; the next run asks again',
            needsOperator: false,
          },
          result.body,
        );
      }
      const after = await database.db
        .selectFrom('srv_batches')
        .select(['state'])
        .where('batch_no', '=', b.batch_no)
        .executeTakeFirst();
      if (applied.id === null) {
        return done(
          {
            stateAfter: after?.state ?? b.state,
            successNum: null,
            notificationId: null,
            outcome: 'already_applied',
            code: null,
            message:
              'a notification (or another reconcile run) applied this batch first; nothing changed (exactly once)',
            needsOperator: false,
          },
          result.body,
        );
      }
      return done(
        {
          stateAfter: after?.state ?? 'finished',
          successNum: applied.successNum,
          notificationId: applied.id,
          outcome: 'applied',
          code: null,
          message: `the gateway's result was applied as its notification would have been: ${applied.successNum} of ${Number(b.record_count)} record(s) refunded`,
          needsOperator: false,
        },
        result.body,
      );
    }

    // REFUND_NOT_EXIST: the gateway has no processed batch of this number.
    const code = result.code;
    const age = ageMs === null ? 'an unknown time' : hours(ageMs);
    if (b.state === 'needs_attention') {
      return done(
        {
          ...unchanged,
          outcome: 'outcome_unknown',
          code,
          message: `the gateway has no processed batch ${b.batch_no} (${code}), but its submission ended with an unknown outcome (${b.gateway_code ?? 'no answer'}): the seeds say to pause and ask Alipay's support before resubmitting. Resolve it on the batch page once you know.`,
          needsOperator: true,
        },
        result.body,
      );
    }
    const neverAccepted = b.state === 'submitted' && b.accepted_at === null;
    const notKnown = neverAccepted
      ? `the gateway does not know batch ${b.batch_no} (${code}) and it was never accepted: ${
          b.mode === 'pwd'
            ? 'the operator probably never confirmed it on the password page'
            : 'no answer to its submission was recorded'
        }`
      : `the gateway has no processed batch ${b.batch_no} (${code}) although it was accepted`;
    if (ageMs !== null && ageMs >= RESUBMIT_AFTER_MS) {
      const message = `${notKnown}; no notification ${age} after submission. Marked resubmit_manually. ${RESUBMIT_GUIDANCE.en} — ${RESUBMIT_GUIDANCE.zh}`;
      const changed = await markResubmit(b, actor, message);
      const now2 = await database.db
        .selectFrom('srv_batches')
        .select(['state'])
        .where('batch_no', '=', b.batch_no)
        .executeTakeFirst();
      return done(
        {
          ...unchanged,
          stateAfter: now2?.state ?? b.state,
          outcome: changed ? 'resubmit_manually' : 'already_applied',
          code,
          message: changed ? message : 'the batch changed while it was being checked; nothing was marked',
          needsOperator: changed,
        },
        result.body,
      );
    }
    return done(
      {
        ...unchanged,
        outcome: neverAccepted ? 'not_at_gateway' : 'pending',
        code,
        message: neverAccepted
          ? `${notKnown}. Submitted ${age} ago; after 24 hours without a notification it will be marked resubmit_manually.`
          : `${notKnown} yet (an accepted batch is unknown to the query until it is processed). Submitted ${age} ago; after 24 hours without a notification it will be marked resubmit_manually.`,
        needsOperator: neverAccepted,
      },
      result.body,
    );
  }

  async function reconcile(opts: ReconcileOptions): Promise<ReconcileReport> {
    const now = opts.now ?? nowMs(clock);
    const actor = opts.actor ?? 'system';
    let rows: BatchRow[];
    if (opts.batchNo !== undefined) {
      const b = await database.db
        .selectFrom('srv_batches')
        .selectAll()
        .where('batch_no', '=', opts.batchNo)
        .executeTakeFirst();
      if (!b) throw new ServiceError('BATCH_NOT_FOUND', `no batch ${opts.batchNo}`, 'batchNo');
      if (b.partner !== partner || !RECONCILE_STATES.includes(b.state) || b.applied_at !== null) {
        const item: ReconcileItem = {
          batchNo: b.batch_no,
          mode: b.mode,
          stateBefore: b.state,
          stateAfter: b.state,
          submittedAt: b.submitted_at,
          ageMs: b.submitted_at ? now - Date.parse(b.submitted_at) : null,
          outcome: 'not_open',
          code: null,
          message:
            b.partner !== partner
              ? `batch ${b.batch_no} belongs to partner ${b.partner}, not ${partner}`
              : b.applied_at !== null
                ? `its result was applied at ${b.applied_at}; nothing to ask`
                : `it is ${b.state}: only submitted, accepted or needs_attention batches wait for a result`,
          needsOperator: false,
          successNum: null,
          notificationId: null,
          attemptId: null,
        };
        return {
          at: new Date(now).toISOString(),
          olderThanMs: opts.olderThanMs,
          items: [item],
          needsOperator: 0,
        };
      }
      rows = [b];
    } else {
      const cutoff = new Date(now - Math.max(0, opts.olderThanMs)).toISOString();
      let q = database.db
        .selectFrom('srv_batches')
        .selectAll()
        .where('partner', '=', partner)
        .where('state', 'in', [...RECONCILE_STATES])
        .where('applied_at', 'is', null)
        .where('submitted_at', 'is not', null)
        .where((eb) =>
          opts.attentionAnyAge
            ? eb.or([eb('submitted_at', '<=', cutoff), eb('state', '=', 'needs_attention')])
            : eb('submitted_at', '<=', cutoff),
        );
      if (opts.skipCheckedWithinMs !== undefined && opts.skipCheckedWithinMs > 0) {
        const since = new Date(now - opts.skipCheckedWithinMs).toISOString();
        q = q.where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('srv_reconcile_attempts')
                .select('srv_reconcile_attempts.id')
                .whereRef('srv_reconcile_attempts.batch_no', '=', 'srv_batches.batch_no')
                .where('srv_reconcile_attempts.at', '>=', since),
            ),
          ),
        );
      }
      rows = await q
        .orderBy('submitted_at')
        .limit(opts.limit ?? 500)
        .execute();
    }
    const items: ReconcileItem[] = [];
    for (const b of rows) items.push(await check(b, now, actor));
    return {
      at: new Date(now).toISOString(),
      olderThanMs: opts.olderThanMs,
      items,
      needsOperator: items.filter((i) => i.needsOperator).length,
    };
  }

  let scheduled: Promise<ReconcileReport> | null = null;

  return {
    reconcile,

    async runScheduled() {
      if (scheduled) return null;
      scheduled = reconcile({
        olderThanMs: settings.nextBatchWaitMs,
        skipCheckedWithinMs: settings.nextBatchWaitMs,
        actor: 'system',
      });
      try {
        const report = await scheduled;
        if (report.items.length > 0) {
          log.info(
            {
              checked: report.items.length,
              applied: report.items.filter((i) => i.outcome === 'applied').length,
              needsOperator: report.needsOperator,
            },
            'reconcile: batches without notification checked',
          );
        }
        return report;
      } finally {
        scheduled = null;
      }
    },

    async attempts(batchNo, limit = 20) {
      const rows = await database.db
        .selectFrom('srv_reconcile_attempts')
        .selectAll()
        .where('batch_no', '=', batchNo)
        .orderBy('id', 'desc')
        .limit(Math.max(1, Math.min(limit, 200)))
        .execute();
      return rows.map(attemptView);
    },
  };
}
