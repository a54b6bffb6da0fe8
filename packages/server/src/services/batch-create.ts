/**
 * Creating batches from a checked selection: every batch is signed as a request first (a request the SDK would
 * refuse is never persisted), then persisted with its batch_no, records and trade reservations in one
 * transaction, before anything leaves the process. All or nothing.
 */
import {
  buildRefundRequest,
  type DetailRecord,
  formatYuan,
  newBatchIdentity,
  RequestValidationError,
  type RoyaltyItem,
} from '@alirefund/protocol';
import { type Dialect, withTransaction } from '@alirefund/store';
import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import type { BatchState, RefundMode, ServerDB } from '../db.js';
import { type ItemIssue, ServiceError } from '../errors.js';
import { approvalRequired } from './approval.js';
import type { AuditService } from './audit.js';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import { fromCodec } from './refund-checks.js';
import type { BatchDetail, CreateBatchesResult, PreviewResult, RefundItem } from './refund-types.js';
import { CHUNK, compiled, valuesText } from './sql-text.js';
import { MAX_REFUNDS_PER_TRADE } from './trades.js';

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

/** Thrown inside the transaction when a reservation is lost to a concurrent writer. */
class ReservationLost extends Error {
  constructor(readonly issue: ItemIssue) {
    super(issue.message);
  }
}

/** Persists planned batches (`persist`), calling `batchesQueued` after commit when they were queued. */
export function createBatchWriter(
  deps: ServiceDeps,
  audit: AuditService,
  batchesQueued: () => void,
): {
  persist(
    items: readonly RefundItem[],
    planned: PreviewResult,
    mode: RefundMode,
    actor: string,
    queue: boolean,
    owner?: string | null,
  ): Promise<CreateBatchesResult>;
} {
  const { database, clock, config, settings } = deps;
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
    owner: string | null = null,
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
    // The two-person rule: the selection's total counts, so that splitting it does not dodge the threshold.
    const pending = approvalRequired(
      settings,
      prepared.reduce((s, b) => s + b.totalFen, 0),
    );
    const state: BatchState = pending ? 'draft' : queue && mode === 'nopwd' ? 'queued' : 'draft';
    const shown: BatchState = pending ? 'awaiting_approval' : state;
    // the facts of the 'created' event: stored (data_json) and returned alike, rendered by the console's catalogue
    const createdFacts = (k: number) => {
      const b = prepared[k]!;
      return {
        recordCount: b.recordCount,
        totalFen: b.totalFen,
        mode,
        part: k + 1,
        of: prepared.length,
        queued: state === 'queued',
        pending,
      };
    };
    const messageOf = (k: number) => {
      const b = prepared[k]!;
      return `batch created with ${b.recordCount} record(s), ${formatYuan(b.totalFen)} yuan, ${mode}${prepared.length > 1 ? ` (part ${k + 1} of ${prepared.length})` : ''}${state === 'queued' ? '; queued for submission' : ''}${pending ? '; awaiting approval by a second person (an approver or admin other than its creator)' : ''}`;
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
              approval_status: pending ? 'pending' : null,
              created_owner: owner !== null && owner !== actor ? owner : null,
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
              state: shown,
              message: messageOf(k),
              data_json: JSON.stringify(createdFacts(k)),
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
            details: {
              batchNos,
              mode,
              records: items.length,
              queued: state === 'queued',
              ...(pending ? { approval: 'pending' } : {}),
            },
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
          state: shown,
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
          approval: pending ? { status: 'pending', by: null, at: null, reason: null } : null,
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
              state: shown,
              message: messageOf(k),
              data: createdFacts(k),
              actor,
            },
          ],
          notifications: [],
        }),
      );
      if (state === 'queued') batchesQueued();
      return { batches, issues: [] };
    } catch (err) {
      if (err instanceof ReservationLost) return { batches: [], issues: [err.issue] };
      throw err;
    }
  }
  return { persist };
}
