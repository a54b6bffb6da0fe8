/**
 * The refund workflow up to submission: validate a selection against the SDK and local state, split it into
 * batches, persist every batch with its batch_no before anything leaves the process; batch views, cancel and
 * operator resolution.
 */
import {
  type CodecIssue,
  type CodeInfo,
  type DetailRecord,
  decodeDetailData,
  encodeDetailData,
  lookupCode,
  MAX_BATCH_RECORDS,
  newBatchIdentity,
  RequestValidationError,
  type RoyaltyItem,
  TRADE_NO_RE,
  validateDetailRecords,
  buildRefundRequest,
  formatYuan,
} from '@alirefund/protocol';
import { type Dialect, withTransaction } from '@alirefund/store';
import type { Kysely, Selectable } from 'kysely';
import { randomUUID } from 'node:crypto';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import { type BatchState, OPEN_STATES, type RefundMode, type ServerDB } from '../db.js';
import { type ItemIssue, ServiceError } from '../errors.js';
import { type AuditService, clampLimit } from './audit.js';
import { MAX_REFUNDS_PER_TRADE, type Page, type TradeService, type TradeView } from './trades.js';
import { CHUNK, compiled, valuesText } from './sql-text.js';

/** One refund the operator (or API client) asks for. */
export interface RefundItem {
  tradeNo: string;
  /** Refund amount in fen; 0 only for a royalty-only refund (nopwd). */
  amountFen: number;
  reason: string;
  /** nopwd only: royalty (分润) parts to pull back with the refund. */
  royalties?: RoyaltyItem[];
}

export interface CreateBatchesOptions {
  mode: RefundMode;
  /** Records per batch (default: settings.batchSize). */
  batchSize?: number;
  /** Who asks (`operator:NAME`, `api:TOKEN`). */
  actor: string;
  /** nopwd: put the batches in the partner's queue right away (default true). pwd batches stay drafts. */
  queue?: boolean;
}

/** A planned batch (preview) or a created one. */
export interface BatchPlan {
  /** 0-based indexes of the request items in this batch. */
  itemIndexes: number[];
  records: DetailRecord[];
  detailData: string;
  recordCount: number;
  totalFen: number;
}

export interface PreviewResult {
  batches: BatchPlan[];
  issues: ItemIssue[];
}

/** A batch in lists. */
export interface BatchSummary {
  batchNo: string;
  mode: RefundMode;
  state: BatchState;
  charset: string;
  refundDate: string;
  recordCount: number;
  totalFen: number;
  successNum: number | null;
  successFen: number | null;
  gatewayCode: string | null;
  groupId: string | null;
  groupIndex: number;
  groupSize: number;
  createdBy: string;
  createdAt: string;
  submittedAt: string | null;
  finishedAt: string | null;
}

export interface BatchRecordView {
  seq: number;
  tradeNo: string;
  amountFen: number;
  reason: string;
  royalties: RoyaltyItem[];
  resultCode: string | null;
  resultAmountFen: number | null;
  succeeded: boolean | null;
  resultText: string | null;
  resultParts: unknown;
  /** The result code explained (meaning, what to do), when there is a result. */
  explanation: CodeInfo | null;
}

export interface BatchEvent {
  id: number;
  at: string;
  kind: string;
  state: string | null;
  message: string;
  data: unknown;
  actor: string;
}

export interface BatchNotificationRef {
  id: number;
  kind: string;
  verdict: string;
  reasonCode: string | null;
  reason: string | null;
  notifyId: string | null;
  receivedAt: string;
  appliedAt: string | null;
  response: string;
}

export interface BatchDetail extends BatchSummary {
  partner: string;
  signType: string;
  detailData: string;
  notifyUrl: string | null;
  gatewayMessage: string | null;
  /** The gateway code explained, when there is one. */
  gatewayExplanation: CodeInfo | null;
  times: {
    createdAt: string;
    queuedAt: string | null;
    submittedAt: string | null;
    acceptedAt: string | null;
    finishedAt: string | null;
    rejectedAt: string | null;
    attentionAt: string | null;
    resolvedAt: string | null;
    cancelledAt: string | null;
    appliedAt: string | null;
  };
  appliedNotifyId: string | null;
  records: BatchRecordView[];
  events: BatchEvent[];
  notifications: BatchNotificationRef[];
}

export interface CreateBatchesResult {
  /** Empty when there are issues: a selection is created entirely or not at all. */
  batches: BatchDetail[];
  issues: ItemIssue[];
}

export interface BatchListQuery {
  state?: BatchState | 'open';
  mode?: RefundMode;
  /** batch_no prefix or a trade_no in the batch. */
  q?: string;
  page?: number;
  pageSize?: number;
}

/** What an operator decides for a batch whose outcome is unknown (or that never got a notification). */
export type Resolution = 'accepted' | 'rejected' | 'resubmit_manually';

export interface RefundService {
  /** Validates and splits without writing anything (the console's batch preview). */
  preview(
    items: readonly RefundItem[],
    opts: { mode: RefundMode; batchSize?: number },
  ): Promise<PreviewResult>;
  /**
   * Validates a selection (SDK rules, refundable balance including amounts reserved by open batches, the
   * 99-refunds cap, no trade already in an open batch, no trade twice), splits it into batches of `batchSize`
   * and persists each batch with its batch_no, records and reservations in one transaction, before anything is
   * sent. All or nothing: with issues, nothing is created.
   */
  createBatches(items: readonly RefundItem[], opts: CreateBatchesOptions): Promise<CreateBatchesResult>;
  /**
   * The seeds' refund template page: `batch_num` and `detail_data` typed by hand, decoded and validated by the
   * SDK, then checked against local state like {@link createBatches} (as one batch).
   */
  createFromDetailData(
    input: { batchNum: string; detailData: string; mode: RefundMode },
    opts: { actor: string; queue?: boolean },
  ): Promise<{ batch: BatchDetail | null; issues: (ItemIssue & { record: number | null })[] }>;
  getBatch(batchNo: string): Promise<BatchDetail | null>;
  listBatches(query?: BatchListQuery): Promise<Page<BatchSummary>>;
  /** draft/queued → cancelled (it never left the process); releases its trades. */
  cancel(batchNo: string, actor: string): Promise<BatchDetail>;
  /** Operator decision for needs_attention (or submitted/accepted batches that never got a notification). */
  resolve(batchNo: string, outcome: Resolution, actor: string, note?: string): Promise<BatchDetail>;
}

/** Appends a batch timeline event. */
export async function addEvent(
  db: Kysely<ServerDB>,
  e: {
    batchNo: string;
    at: string;
    kind: string;
    state?: BatchState | null;
    message: string;
    data?: unknown;
    actor: string;
  },
): Promise<void> {
  await db
    .insertInto('srv_batch_events')
    .values({
      batch_no: e.batchNo,
      at: e.at,
      kind: e.kind,
      state: e.state ?? null,
      message: e.message,
      data_json: e.data === undefined ? null : JSON.stringify(e.data),
      actor: e.actor,
    })
    .execute();
}

/** Clears the reservations an (ending) batch holds on its trades. */
export async function releaseTrades(db: Kysely<ServerDB>, batchNo: string, at: string): Promise<void> {
  await db
    .updateTable('srv_trades')
    .set({ open_batch_no: null, updated_at: at })
    .where('open_batch_no', '=', batchNo)
    .execute();
}

/** Frees the partner's queue if `batchNo` holds it. */
export async function releasePartnerLock(
  db: Kysely<ServerDB>,
  partner: string,
  batchNo: string,
): Promise<void> {
  await db
    .updateTable('srv_partner_locks')
    .set({ batch_no: null, since: null })
    .where('partner', '=', partner)
    .where('batch_no', '=', batchNo)
    .execute();
}

type BatchRow = ServerDB['srv_batches'];

export function batchSummary(r: Selectable<BatchRow>): BatchSummary {
  return {
    batchNo: r.batch_no,
    mode: r.mode,
    state: r.state,
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
  };
}

/** Maps an SDK issue on record `record` (1-based within a batch) back to the request item. */
function fromCodec(issue: CodecIssue, itemIndexes: readonly number[]): ItemIssue {
  const index = issue.record === null ? null : (itemIndexes[issue.record - 1] ?? null);
  return { index, field: issue.field, code: issue.code, message: issue.message };
}

/**
 * The reservation: values (trade_no, amount), then batch_no, updated_at, the refunds cap. On SQLite two terms make
 * it look the trades up by primary key, and change no result: `trade_no in (select …)` (with the join alone it
 * scans srv_trades) and the unary `+` that keeps it off the open_batch_no index (else it walks every free trade).
 * PostgreSQL plans the plain join by primary key once the table has statistics (and has no `+ text`).
 */
const RESERVE_HEAD = 'with v(trade_no, fen) as (values ';
const RESERVE_ROW = '(cast(? as text), cast(? as bigint))';
const reserveTail = (dialect: Dialect) =>
  ') update srv_trades set open_batch_no = ?, updated_at = ? from v ' +
  'where srv_trades.trade_no = v.trade_no ' +
  (dialect === 'sqlite'
    ? 'and srv_trades.trade_no in (select trade_no from v) and +srv_trades.open_batch_no is null '
    : 'and srv_trades.open_batch_no is null ') +
  'and srv_trades.refund_count < ? and srv_trades.paid_fen - srv_trades.refunded_fen >= v.fen';
const INSERT_RECORDS =
  'insert into srv_batch_records (batch_no, seq, trade_no, amount_fen, reason, royalty_json) values ';
const RECORD_ROW = '(?, ?, ?, ?, ?, ?)';

/** Hooks the submission service plugs in (set by createServices). */
export interface RefundHooks {
  /** Called after commit when batches were put in the queue. */
  batchesQueued(): void;
}

export function createRefundService(
  deps: ServiceDeps,
  audit: AuditService,
  trades: TradeService,
  hooks: RefundHooks,
): RefundService {
  const { database, clock, config, settings } = deps;

  function checkItemShapes(items: readonly RefundItem[], mode: RefundMode): ItemIssue[] {
    const issues: ItemIssue[] = [];
    const seen = new Map<string, number>();
    // One `add` for every item (not a closure per item: a bulk selection has 10,000 of them).
    let index = 0;
    const add = (field: string, code: string, message: string) => {
      issues.push({ index, field, code, message });
    };
    for (; index < items.length; index++) {
      const it = items[index]!;
      if (typeof it.tradeNo !== 'string' || !TRADE_NO_RE.test(it.tradeNo)) {
        add('tradeNo', 'INVALID_TRADE_NO', 'tradeNo must be the Alipay trade number (6 to 64 digits)');
      } else if (seen.has(it.tradeNo)) {
        add(
          'tradeNo',
          'DUBL_TRADE_NO_IN_SAME_BATCH',
          `trade ${it.tradeNo} is selected twice (also item ${seen.get(it.tradeNo)}); one refund per trade per selection`,
        );
      } else seen.set(it.tradeNo, index);
      const royaltyOnly = it.amountFen === 0 && (it.royalties ?? []).length > 0 && mode === 'nopwd';
      if (!Number.isSafeInteger(it.amountFen) || it.amountFen < 0 || (it.amountFen === 0 && !royaltyOnly)) {
        add(
          'amount',
          'INVALID_AMOUNT',
          'the refund amount must be at least 0.01 yuan, with at most 2 decimals',
        );
      }
      if (typeof it.reason !== 'string')
        add('reason', 'INVALID_REASON', 'reason must be text (it may be empty)');
    }
    return issues;
  }

  function checkAgainstTrades(items: readonly RefundItem[], found: Map<string, TradeView>): ItemIssue[] {
    const issues: ItemIssue[] = [];
    items.forEach((it, index) => {
      for (const i of tradeRefundIssues(it, found.get(it.tradeNo))) issues.push({ index, ...i });
    });
    return issues;
  }

  function toRecord(it: RefundItem): DetailRecord {
    const r: DetailRecord = { tradeNo: it.tradeNo, amountFen: it.amountFen, reason: it.reason };
    if (it.royalties !== undefined && it.royalties.length > 0)
      r.royalties = it.royalties.map((x) => ({ ...x }));
    return r;
  }

  async function plan(
    items: readonly RefundItem[],
    mode: RefundMode,
    batchSize: number,
    db: Kysely<ServerDB>,
  ): Promise<PreviewResult> {
    if (mode !== 'pwd' && mode !== 'nopwd') {
      throw new ServiceError('VALIDATION_FAILED', 'mode must be pwd or nopwd', 'mode');
    }
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_RECORDS) {
      throw new ServiceError('VALIDATION_FAILED', `batchSize must be 1 to ${MAX_BATCH_RECORDS}`, 'batchSize');
    }
    if (items.length === 0) {
      return {
        batches: [],
        issues: [
          { index: null, field: 'items', code: 'NO_ITEMS', message: 'select at least one trade to refund' },
        ],
      };
    }
    const issues = checkItemShapes(items, mode);
    const found = await trades.getMany(
      [...new Set(items.map((i) => i.tradeNo).filter((t) => typeof t === 'string'))],
      db,
    );
    issues.push(...checkAgainstTrades(items, found).filter((i) => !issues.some((j) => j.index === i.index)));
    const batches: BatchPlan[] = [];
    for (let start = 0; start < items.length; start += batchSize) {
      const itemIndexes = items.slice(start, start + batchSize).map((_, k) => start + k);
      const records = itemIndexes.map((i) => toRecord(items[i]!));
      const codec = validateDetailRecords(records, {
        charset: config.inputCharset,
        mode,
        batchNum: records.length,
      });
      issues.push(...codec.map((c) => fromCodec(c, itemIndexes)));
      let detailData = '';
      try {
        detailData = encodeDetailData(records);
      } catch {
        // reported by validateDetailRecords
      }
      batches.push({
        itemIndexes,
        records,
        detailData,
        recordCount: records.length,
        totalFen: records.reduce((s, r) => s + r.amountFen, 0),
      });
    }
    issues.sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
    return { batches, issues };
  }

  async function loadBatch(batchNo: string, db: Kysely<ServerDB> = database.db): Promise<BatchDetail | null> {
    const b = await db
      .selectFrom('srv_batches')
      .selectAll()
      .where('batch_no', '=', batchNo)
      .executeTakeFirst();
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

  /** Thrown inside the transaction when a reservation is lost to a concurrent writer. */
  class ReservationLost extends Error {
    constructor(readonly issue: ItemIssue) {
      super(issue.message);
    }
  }

  const run = (db: Kysely<ServerDB>, text: string, parameters: unknown[]) =>
    db.executeQuery(compiled(database.dialect, text, parameters));
  const RESERVE_TAIL = reserveTail(database.dialect);

  /**
   * Reserves the trades of batch `b` for it, atomically: one conditional `UPDATE … FROM (VALUES …)` per
   * {@link CHUNK} records, which takes a trade only if it is free (no open batch), under the 99-refunds cap and
   * its paid − refunded amount covers the record's amount, checked against the row as it is now (on PostgreSQL
   * a row changed by a concurrent transaction is re-checked after that transaction commits). Every record's
   * trade must be taken: otherwise the first record whose trade was not is reported and the whole transaction
   * rolls back (nothing of the selection is created).
   */
  async function reserve(
    trx: Kysely<ServerDB>,
    b: { batchNo: string; records: readonly DetailRecord[]; itemIndexes: readonly number[] },
    now: string,
  ): Promise<void> {
    for (let start = 0; start < b.records.length; start += CHUNK) {
      const chunk = b.records.slice(start, start + CHUNK);
      const params: unknown[] = [];
      for (const r of chunk) params.push(r.tradeNo, r.amountFen);
      params.push(b.batchNo, now, MAX_REFUNDS_PER_TRADE);
      const res = await run(
        trx,
        `${RESERVE_HEAD}${valuesText(RESERVE_ROW, chunk.length)}${RESERVE_TAIL}`,
        params,
      );
      if (res.numAffectedRows === BigInt(chunk.length)) continue;
      // Some trade was taken, refunded or capped since the selection was checked: find the first one.
      const taken = new Set(
        (
          await run(
            trx,
            `select trade_no from srv_trades where open_batch_no = ? and trade_no in (${valuesText('?', chunk.length)})`,
            [b.batchNo, ...chunk.map((r) => r.tradeNo)],
          )
        ).rows.map((row) => (row as { trade_no: string }).trade_no),
      );
      const k = Math.max(
        0,
        chunk.findIndex((r) => !taken.has(r.tradeNo)),
      );
      throw new ReservationLost({
        index: b.itemIndexes[start + k] ?? null,
        field: 'tradeNo',
        code: 'TRADE_IN_OPEN_BATCH',
        message: `trade ${chunk[k]!.tradeNo} was just taken by another batch or refunded; reload and try again`,
      });
    }
  }

  async function persist(
    items: readonly RefundItem[],
    planned: PreviewResult,
    mode: RefundMode,
    actor: string,
    queue: boolean,
  ): Promise<CreateBatchesResult> {
    // Identities and signed requests first: a request the SDK would refuse is never persisted.
    const prepared = planned.batches.map((p) => {
      const identity = newBatchIdentity({ clock });
      try {
        buildRefundRequest(config, {
          mode,
          batchNo: identity.batchNo,
          refundDate: identity.refundDate,
          detail: p.detailData,
        });
      } catch (err) {
        if (err instanceof RequestValidationError) {
          throw new ServiceError(
            'VALIDATION_FAILED',
            err.message,
            'detail_data',
            err.issues.map((c) => fromCodec(c, p.itemIndexes)),
          );
        }
        throw err;
      }
      return {
        ...p,
        ...identity,
        royaltyJson: p.records.map((r) =>
          r.royalties && r.royalties.length > 0 ? JSON.stringify(r.royalties) : null,
        ),
      };
    });
    const groupId = prepared.length > 1 ? randomUUID() : null;
    const state: BatchState = queue && mode === 'nopwd' ? 'queued' : 'draft';
    const messageOf = (k: number) => {
      const b = prepared[k]!;
      return `batch created with ${b.recordCount} record(s), ${formatYuan(b.totalFen)} yuan, ${mode}${prepared.length > 1 ? ` (part ${k + 1} of ${prepared.length})` : ''}${state === 'queued' ? '; queued for submission' : ''}`;
    };
    try {
      const created = await withTransaction(database, async (trx) => {
        const now = nowIso(clock);
        const eventIds: number[] = [];
        for (const [k, b] of prepared.entries()) {
          await trx
            .insertInto('srv_batches')
            .values({
              batch_no: b.batchNo,
              partner: config.partner,
              mode,
              charset: config.inputCharset,
              sign_type: config.signType,
              state,
              refund_date: b.refundDate,
              detail_data: b.detailData,
              record_count: b.recordCount,
              total_fen: b.totalFen,
              notify_url: settings.notifyUrl,
              group_id: groupId,
              group_index: k + 1,
              group_size: prepared.length,
              created_by: actor,
              created_at: now,
              updated_at: now,
              queued_at: state === 'queued' ? now : null,
              submitted_at: null,
              accepted_at: null,
              finished_at: null,
              rejected_at: null,
              attention_at: null,
              resolved_at: null,
              cancelled_at: null,
              gateway_code: null,
              gateway_message: null,
              success_num: null,
              success_fen: null,
              applied_at: null,
              applied_notify_id: null,
              applied_notification_id: null,
            })
            .execute();
          // The atomic reservation first (the trade must be free, under the cap and have the balance, now)…
          await reserve(trx, b, now);
          // …then the records (their result columns stay NULL until the notification is applied).
          for (let start = 0; start < b.records.length; start += CHUNK) {
            const chunk = b.records.slice(start, start + CHUNK);
            const params: unknown[] = [];
            for (const [i, r] of chunk.entries()) {
              params.push(
                b.batchNo,
                start + i + 1,
                r.tradeNo,
                r.amountFen,
                r.reason,
                b.royaltyJson[start + i],
              );
            }
            await run(trx, `${INSERT_RECORDS}${valuesText(RECORD_ROW, chunk.length)}`, params);
          }
          const event = await trx
            .insertInto('srv_batch_events')
            .values({
              batch_no: b.batchNo,
              at: now,
              kind: 'created',
              state,
              message: messageOf(k),
              data_json: null,
              actor,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          eventIds.push(Number(event.id));
        }
        const batchNos = prepared.map((b) => b.batchNo);
        await audit.record(
          {
            actor,
            action: 'batches.create',
            target: batchNos.length === 1 ? batchNos[0]! : `${batchNos.length} batches`,
            details: { batchNos, mode, records: items.length, queued: state === 'queued' },
          },
          trx,
        );
        return { now, eventIds };
      });
      // What was just committed, as getBatch would read it back (no reload).
      const { now, eventIds } = created;
      const batches = prepared.map(
        (b, k): BatchDetail => ({
          batchNo: b.batchNo,
          mode,
          state,
          charset: config.inputCharset,
          refundDate: b.refundDate,
          recordCount: b.recordCount,
          totalFen: b.totalFen,
          successNum: null,
          successFen: null,
          gatewayCode: null,
          groupId,
          groupIndex: k + 1,
          groupSize: prepared.length,
          createdBy: actor,
          createdAt: now,
          submittedAt: null,
          finishedAt: null,
          partner: config.partner,
          signType: config.signType,
          detailData: b.detailData,
          notifyUrl: settings.notifyUrl,
          gatewayMessage: null,
          gatewayExplanation: null,
          times: {
            createdAt: now,
            queuedAt: state === 'queued' ? now : null,
            submittedAt: null,
            acceptedAt: null,
            finishedAt: null,
            rejectedAt: null,
            attentionAt: null,
            resolvedAt: null,
            cancelledAt: null,
            appliedAt: null,
          },
          appliedNotifyId: null,
          records: b.records.map((r, i) => {
            const royaltyJson = b.royaltyJson[i] ?? null;
            return {
              seq: i + 1,
              tradeNo: r.tradeNo,
              amountFen: r.amountFen,
              reason: r.reason,
              royalties: royaltyJson === null ? [] : (JSON.parse(royaltyJson) as RoyaltyItem[]),
              resultCode: null,
              resultAmountFen: null,
              succeeded: null,
              resultText: null,
              resultParts: null,
              explanation: null,
            };
          }),
          events: [
            {
              id: eventIds[k]!,
              at: now,
              kind: 'created',
              state,
              message: messageOf(k),
              data: null,
              actor,
            },
          ],
          notifications: [],
        }),
      );
      if (state === 'queued') hooks.batchesQueued();
      return { batches, issues: [] };
    } catch (err) {
      if (err instanceof ReservationLost) return { batches: [], issues: [err.issue] };
      throw err;
    }
  }

  const service: RefundService = {
    async preview(items, opts) {
      return plan(items, opts.mode, opts.batchSize ?? settings.batchSize, database.db);
    },

    async createBatches(items, opts) {
      const planned = await plan(items, opts.mode, opts.batchSize ?? settings.batchSize, database.db);
      if (planned.issues.length > 0) return { batches: [], issues: planned.issues };
      return persist(items, planned, opts.mode, opts.actor, opts.queue ?? true);
    },

    async createFromDetailData(input, opts) {
      const decoded = decodeDetailData(input.detailData.trim(), {
        charset: config.inputCharset,
        mode: input.mode,
        batchNum: input.batchNum.trim(),
      });
      if (!decoded.ok) {
        return {
          batch: null,
          issues: decoded.issues.map((c) => ({
            index: c.record === null ? null : c.record - 1,
            record: c.record,
            field: c.field,
            code: c.code,
            message: c.message,
          })),
        };
      }
      const unsupported = decoded.value.findIndex((r) => r.charge !== undefined || r.subTrade !== undefined);
      if (unsupported >= 0) {
        return {
          batch: null,
          issues: [
            {
              index: unsupported,
              record: unsupported + 1,
              field: 'detail_data',
              code: 'UNSUPPORTED_PART',
              message:
                'charge ($) and sub-trade ($$) parts are not tracked by this server; refund them separately',
            },
          ],
        };
      }
      const items: RefundItem[] = decoded.value.map((r) => ({
        tradeNo: r.tradeNo,
        amountFen: r.amountFen,
        reason: r.reason,
        ...(r.royalties ? { royalties: r.royalties } : {}),
      }));
      const planned = await plan(items, input.mode, Math.max(1, items.length), database.db);
      if (planned.issues.length > 0) {
        return {
          batch: null,
          issues: planned.issues.map((i) => ({ ...i, record: i.index === null ? null : i.index + 1 })),
        };
      }
      const res = await persist(items, planned, input.mode, opts.actor, opts.queue ?? true);
      return {
        batch: res.batches[0] ?? null,
        issues: res.issues.map((i) => ({ ...i, record: i.index === null ? null : i.index + 1 })),
      };
    },

    getBatch: (batchNo) => loadBatch(batchNo),

    async listBatches(query = {}) {
      const pageSize = clampLimit(query.pageSize, 50);
      const page = Math.max(1, Math.floor(query.page ?? 1));
      let q = database.db.selectFrom('srv_batches');
      if (query.state === 'open') q = q.where('state', 'in', [...OPEN_STATES]);
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
    },

    async cancel(batchNo, actor) {
      await withTransaction(database, async (trx) => {
        const now = nowIso(clock);
        const res = await trx
          .updateTable('srv_batches')
          .set({ state: 'cancelled', cancelled_at: now, updated_at: now })
          .where('batch_no', '=', batchNo)
          .where('state', 'in', ['draft', 'queued'])
          .executeTakeFirst();
        if (res.numUpdatedRows !== 1n) await explainState(trx, batchNo, 'cancel', ['draft', 'queued']);
        await releaseTrades(trx, batchNo, now);
        await addEvent(trx, {
          batchNo,
          at: now,
          kind: 'cancelled',
          state: 'cancelled',
          message: 'cancelled before submission; its trades are free again',
          actor,
        });
        await audit.record({ actor, action: 'batch.cancel', target: batchNo }, trx);
      });
      return (await loadBatch(batchNo))!;
    },

    async resolve(batchNo, outcome, actor, note) {
      const allowed: Record<Resolution, BatchState[]> = {
        accepted: ['needs_attention'],
        rejected: ['needs_attention'],
        resubmit_manually: ['needs_attention', 'submitted', 'accepted'],
      };
      if (!(outcome in allowed)) {
        throw new ServiceError(
          'VALIDATION_FAILED',
          'outcome must be accepted, rejected or resubmit_manually',
          'outcome',
        );
      }
      await withTransaction(database, async (trx) => {
        const now = nowIso(clock);
        const patch =
          outcome === 'accepted'
            ? { state: 'accepted' as const, accepted_at: now }
            : outcome === 'rejected'
              ? { state: 'rejected' as const, rejected_at: now }
              : { state: 'resubmit_manually' as const };
        const res = await trx
          .updateTable('srv_batches')
          .set({ ...patch, resolved_at: now, updated_at: now })
          .where('batch_no', '=', batchNo)
          .where('state', 'in', allowed[outcome])
          .where('applied_at', 'is', null)
          .executeTakeFirst();
        if (res.numUpdatedRows !== 1n) await explainState(trx, batchNo, `mark ${outcome}`, allowed[outcome]);
        if (outcome !== 'accepted') {
          await releaseTrades(trx, batchNo, now);
          await releasePartnerLock(trx, config.partner, batchNo);
        }
        const messages: Record<Resolution, string> = {
          accepted: 'an operator confirmed the gateway accepted the batch; waiting for its notification',
          rejected: 'an operator confirmed the gateway did not process the batch; its trades are free again',
          resubmit_manually:
            'an operator decided to resubmit the records by hand under a new batch_no; its trades are free again',
        };
        await addEvent(trx, {
          batchNo,
          at: now,
          kind: 'resolved',
          state: patch.state,
          message: note ? `${messages[outcome]} — ${note}` : messages[outcome],
          actor,
        });
        await audit.record(
          { actor, action: `batch.resolve.${outcome}`, target: batchNo, details: { note } },
          trx,
        );
      });
      if (outcome !== 'accepted') hooks.batchesQueued();
      return (await loadBatch(batchNo))!;
    },
  };
  return service;
}

/** Throws the right ServiceError when a conditional state change matched no row. */
export async function explainState(
  db: Kysely<ServerDB>,
  batchNo: string,
  action: string,
  allowed: readonly BatchState[],
): Promise<never> {
  const row = await db
    .selectFrom('srv_batches')
    .select(['state', 'applied_at'])
    .where('batch_no', '=', batchNo)
    .executeTakeFirst();
  if (!row) throw new ServiceError('BATCH_NOT_FOUND', `no batch ${batchNo}`, 'batchNo');
  throw new ServiceError(
    'INVALID_STATE',
    `cannot ${action} batch ${batchNo}: it is ${row.state}${row.applied_at ? ' (its notification was applied)' : ''}; allowed from ${allowed.join(', ')}`,
    'state',
  );
}

/** A refund item as far as the local checks need it. */
export interface RefundCheckItem {
  tradeNo: string;
  amountFen: number;
  royalties?: readonly unknown[] | undefined;
}

/**
 * What the merchant's own records say against refunding `item` (what createBatches would refuse): the trade is
 * registered, belongs to `partner` (when given), is not reserved by an open batch, has fewer than 99 refunds, its
 * refundable balance (paid − refunded − reserved) covers the amount, and royalty parts exist to pull back.
 * Shared by createBatches and the CLI's whole-file validation. Fields: `tradeNo`, `amount`, `royalties`.
 */
export function tradeRefundIssues(
  item: RefundCheckItem,
  t: TradeView | undefined,
  partner?: string,
): Array<{ field: 'tradeNo' | 'amount' | 'royalties'; code: string; message: string }> {
  const out: Array<{ field: 'tradeNo' | 'amount' | 'royalties'; code: string; message: string }> = [];
  if (!t) {
    out.push({
      field: 'tradeNo',
      code: 'TRADE_NOT_FOUND',
      message: `trade ${item.tradeNo} is not registered in the merchant database; register or import it first (POST /api/trades or the console's import)`,
    });
    return out;
  }
  if (partner !== undefined && t.partner !== partner) {
    out.push({
      field: 'tradeNo',
      code: 'NOT_THIS_PARTNERS_TRADE',
      message: `trade ${item.tradeNo} belongs to partner ${t.partner}, not ${partner}`,
    });
    return out;
  }
  if (t.openBatchNo !== null) {
    out.push({
      field: 'tradeNo',
      code: 'TRADE_IN_OPEN_BATCH',
      message: `trade ${item.tradeNo} is already in open batch ${t.openBatchNo}; wait for its result (or cancel it) first`,
    });
    return out;
  }
  if (t.refundCount >= MAX_REFUNDS_PER_TRADE) {
    out.push({
      field: 'tradeNo',
      code: 'REFUND_LIMIT_REACHED',
      message: `trade ${item.tradeNo} already has ${t.refundCount} refunds (at most 99)`,
    });
    return out;
  }
  const refundable = t.paidFen - t.refundedFen - t.reservedFen;
  if (item.amountFen > refundable) {
    out.push({
      field: 'amount',
      code: 'EXCEEDS_REFUNDABLE',
      message: `${formatYuan(item.amountFen)} yuan is more than the refundable ${formatYuan(Math.max(0, refundable))} yuan of trade ${item.tradeNo} (paid ${formatYuan(t.paidFen)}, refunded ${formatYuan(t.refundedFen)}${t.reservedFen > 0 ? `, reserved ${formatYuan(t.reservedFen)}` : ''})`,
    });
  }
  if ((item.royalties ?? []).length > 0 && !t.hasRoyalty) {
    out.push({
      field: 'royalties',
      code: 'NO_ROYALTY_ON_TRADE',
      message: `trade ${item.tradeNo} was paid without royalty parts to pull back`,
    });
  }
  return out;
}
