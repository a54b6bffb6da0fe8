/**
 * Batches as the services show them: a summary row for lists, the detail (records with their results explained,
 * the timeline, the notifications received for it), and the paged, filtered list.
 */
import { lookupCode, type RoyaltyItem } from '@alirefund/protocol';
import type { Kysely, Selectable } from 'kysely';
import { type BatchesTable, OPEN_STATES, type ServerDB } from '../db.js';
import { clampLimit } from './audit.js';
import type { BatchDetail, BatchListQuery, BatchSummary } from './refund-types.js';
import type { Page } from './trades.js';
import { type DayRange, dayRange } from './day-range.js';

// The batch list's date range (issue 13 point 10) joins the query type of refund-types.ts from here, the
// module that reads it.
declare module './refund-types.js' {
  interface BatchListQuery extends DayRange {}
}

export function batchSummary(r: Selectable<BatchesTable>): BatchSummary {
  return {
    batchNo: r.batch_no,
    mode: r.mode,
    // A draft whose approval is pending is awaiting_approval (db.ts).
    state: r.state === 'draft' && r.approval_status === 'pending' ? 'awaiting_approval' : r.state,
    charset: r.charset,
    refundDate: r.refund_date,
    recordCount: Number(r.record_count),
    totalFen: Number(r.total_fen),
    successNum: r.success_num === null ? null : Number(r.success_num),
    successFen: r.success_fen === null ? null : Number(r.success_fen),
    gatewayCode: r.gateway_code,
    groupId: r.group_id,
    groupIndex: Number(r.group_index),
    groupSize: Number(r.group_size),
    createdBy: r.created_by,
    createdAt: r.created_at,
    submittedAt: r.submitted_at,
    finishedAt: r.finished_at,
    approval:
      r.approval_status === null || r.approval_status === undefined
        ? null
        : {
            status: r.approval_status,
            by: r.approval_by ?? null,
            at: r.approval_at ?? null,
            reason: r.approval_reason ?? null,
          },
  };
}

/** The batch with its records, timeline and notifications, or null when there is no such batch. */
export async function loadBatch(db: Kysely<ServerDB>, batchNo: string): Promise<BatchDetail | null> {
  const b = await db.selectFrom('srv_batches').selectAll().where('batch_no', '=', batchNo).executeTakeFirst();
  if (!b) return null;
  const [records, events, notes] = await Promise.all([
    db.selectFrom('srv_batch_records').selectAll().where('batch_no', '=', batchNo).orderBy('seq').execute(),
    db.selectFrom('srv_batch_events').selectAll().where('batch_no', '=', batchNo).orderBy('id').execute(),
    db
      .selectFrom('srv_notifications')
      .select([
        'id',
        'kind',
        'verdict',
        'reason_code',
        'reason',
        'notify_id',
        'received_at',
        'applied_at',
        'response',
      ])
      .where('batch_no', '=', batchNo)
      .orderBy('id')
      .execute(),
  ]);
  return {
    ...batchSummary(b),
    partner: b.partner,
    signType: b.sign_type,
    detailData: b.detail_data,
    notifyUrl: b.notify_url,
    gatewayMessage: b.gateway_message,
    gatewayExplanation: b.gateway_code === null ? null : lookupCode(b.gateway_code),
    times: {
      createdAt: b.created_at,
      queuedAt: b.queued_at,
      submittedAt: b.submitted_at,
      acceptedAt: b.accepted_at,
      finishedAt: b.finished_at,
      rejectedAt: b.rejected_at,
      attentionAt: b.attention_at,
      resolvedAt: b.resolved_at,
      cancelledAt: b.cancelled_at,
      appliedAt: b.applied_at,
    },
    appliedNotifyId: b.applied_notify_id,
    records: records.map((r) => ({
      seq: Number(r.seq),
      tradeNo: r.trade_no,
      amountFen: Number(r.amount_fen),
      reason: r.reason,
      royalties: r.royalty_json === null ? [] : (JSON.parse(r.royalty_json) as RoyaltyItem[]),
      resultCode: r.result_code,
      resultAmountFen: r.result_amount_fen === null ? null : Number(r.result_amount_fen),
      succeeded: r.succeeded === null ? null : Number(r.succeeded) === 1,
      resultText: r.result_text,
      resultParts: r.result_parts_json === null ? null : JSON.parse(r.result_parts_json),
      explanation: r.result_code === null ? null : lookupCode(r.result_code),
    })),
    events: events.map((e) => ({
      id: Number(e.id),
      at: e.at,
      kind: e.kind,
      state: e.state,
      message: e.message,
      data: e.data_json === null ? null : JSON.parse(e.data_json),
      actor: e.actor,
    })),
    notifications: notes.map((n) => ({
      id: Number(n.id),
      kind: n.kind,
      verdict: n.verdict,
      reasonCode: n.reason_code,
      reason: n.reason,
      notifyId: n.notify_id,
      receivedAt: n.received_at,
      appliedAt: n.applied_at,
      response: n.response,
    })),
  };
}

/**
 * Newest first (a split selection's parts last to first); `q` is a batch_no prefix, or a trade_no or an
 * out_trade_no (merchant order number) of a trade in the batch; `from` / `to` are Beijing days of creation.
 */
export async function queryBatches(db: Kysely<ServerDB>, query: BatchListQuery): Promise<Page<BatchSummary>> {
  const pageSize = clampLimit(query.pageSize, 50);
  const page = Math.max(1, Math.floor(query.page ?? 1));
  const { sinceIso, untilIso } = dayRange(query);
  let q = db.selectFrom('srv_batches');
  // Created from / to these Beijing days (both included).
  if (sinceIso !== undefined) q = q.where('created_at', '>=', sinceIso);
  if (untilIso !== undefined) q = q.where('created_at', '<', untilIso);
  if (query.state === 'open') q = q.where('state', 'in', [...OPEN_STATES]);
  else if (query.state === 'awaiting_approval')
    q = q.where('state', '=', 'draft').where('approval_status', '=', 'pending');
  else if (query.state === 'draft')
    q = q
      .where('state', '=', 'draft')
      .where((eb) => eb.or([eb('approval_status', 'is', null), eb('approval_status', '!=', 'pending')]));
  else if (query.state !== undefined) q = q.where('state', '=', query.state);
  if (query.mode !== undefined) q = q.where('mode', '=', query.mode);
  const text = query.q?.trim();
  if (text !== undefined && text !== '') {
    q = q.where((eb) =>
      eb.or([
        eb('batch_no', 'like', `${text.replace(/[\\%_]/g, '')}%`),
        eb(
          'batch_no',
          'in',
          eb.selectFrom('srv_batch_records').select('batch_no').where('trade_no', '=', text),
        ),
        // …or the merchant order number (商户订单号) of a trade in the batch.
        eb(
          'batch_no',
          'in',
          eb
            .selectFrom('srv_batch_records')
            .select('batch_no')
            .where(
              'trade_no',
              'in',
              eb.selectFrom('srv_trades').select('trade_no').where('out_trade_no', '=', text),
            ),
        ),
      ]),
    );
  }
  const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('group_index', 'desc')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();
  return { items: rows.map(batchSummary), total: Number(total.n), page, pageSize };
}
