/**
 * The refund workflow up to submission: validate a selection against the SDK and local state, split it into
 * batches, persist every batch with its batch_no before anything leaves the process; batch views, cancel and
 * operator resolution. The steps live next to it: refund-checks.ts (validate and split), batch-create.ts (sign
 * and persist), batch-views.ts (read), batch-ledger.ts (the writes every transition shares).
 */
import { decodeDetailData } from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { BatchState, RefundMode } from '../db.js';
import { type ItemIssue, ServiceError } from '../errors.js';
import type { AuditService } from './audit.js';
import { createBatchWriter } from './batch-create.js';
import { addEvent, explainState, releaseBatch, releaseTrades } from './batch-ledger.js';
import { loadBatch, queryBatches } from './batch-views.js';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import { planBatches, readTradeStates, type TradeRefundState } from './refund-checks.js';
import type {
  BatchDetail,
  BatchListQuery,
  BatchSummary,
  CreateBatchesOptions,
  CreateBatchesResult,
  PreviewResult,
  RefundItem,
  Resolution,
} from './refund-types.js';
import type { Page, TradeService } from './trades.js';

export { type RefundCheckItem, type TradeRefundState, tradeRefundIssues } from './refund-checks.js';
export type * from './refund-types.js';

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
  createBatches(
    items: readonly RefundItem[],
    opts: CreateBatchesOptions & {
      /**
       * The caller has just checked every item against the trades ({@link tradeStates} with
       * {@link tradeRefundIssues}: the CLI's whole-file check), so they are not read a second time. The atomic
       * reservation still takes a trade only if it is free, under the cap and has the balance when it commits;
       * a trade changed in between is reported as TRADE_IN_OPEN_BATCH and nothing is created.
       */
      tradesChecked?: boolean;
    },
  ): Promise<CreateBatchesResult>;
  /** The refund checks' view of trades (registered, partner, balance, open batch, refund count, royalty). */
  tradeStates(tradeNos: readonly string[]): Promise<Map<string, TradeRefundState>>;
  /**
   * The seeds' refund template page: `batch_num` and `detail_data` typed by hand, decoded and validated by the
   * SDK, then checked against local state like {@link createBatches} (as one batch).
   */
  createFromDetailData(
    input: { batchNum: string; detailData: string; mode: RefundMode },
    opts: { actor: string; queue?: boolean; owner?: string | null },
  ): Promise<{ batch: BatchDetail | null; issues: (ItemIssue & { record: number | null })[] }>;
  getBatch(batchNo: string): Promise<BatchDetail | null>;
  listBatches(query?: BatchListQuery): Promise<Page<BatchSummary>>;
  /** draft (awaiting approval too)/queued → cancelled (it never left the process); releases its trades. */
  cancel(batchNo: string, actor: string): Promise<BatchDetail>;
  /** Operator decision for needs_attention (or submitted/accepted batches that never got a notification). */
  resolve(batchNo: string, outcome: Resolution, actor: string, note?: string): Promise<BatchDetail>;
}

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
  const { persist } = createBatchWriter(deps, audit, () => hooks.batchesQueued());
  const plan = (items: readonly RefundItem[], mode: RefundMode, batchSize: number, tradesChecked = false) =>
    planBatches({ trades, database, charset: config.inputCharset }, items, mode, batchSize, tradesChecked);

  const service: RefundService = {
    async preview(items, opts) {
      return plan(items, opts.mode, opts.batchSize ?? settings.batchSize);
    },

    async createBatches(items, opts) {
      const planned = await plan(
        items,
        opts.mode,
        opts.batchSize ?? settings.batchSize,
        opts.tradesChecked === true,
      );
      if (planned.issues.length > 0) return { batches: [], issues: planned.issues };
      return persist(items, planned, opts.mode, opts.actor, opts.queue ?? true, opts.owner ?? null);
    },

    tradeStates: (tradeNos) => readTradeStates(database, tradeNos),

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
      const planned = await plan(items, input.mode, Math.max(1, items.length));
      if (planned.issues.length > 0) {
        return {
          batch: null,
          issues: planned.issues.map((i) => ({ ...i, record: i.index === null ? null : i.index + 1 })),
        };
      }
      const res = await persist(
        items,
        planned,
        input.mode,
        opts.actor,
        opts.queue ?? true,
        opts.owner ?? null,
      );
      return {
        batch: res.batches[0] ?? null,
        issues: res.issues.map((i) => ({ ...i, record: i.index === null ? null : i.index + 1 })),
      };
    },

    getBatch: (batchNo) => loadBatch(database.db, batchNo),

    listBatches: (query = {}) => queryBatches(database.db, query),

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
      return (await loadBatch(database.db, batchNo))!;
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
          await releaseBatch(trx, config.partner, batchNo, now);
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
          data: { outcome, ...(note ? { note } : {}) },
          actor,
        });
        await audit.record(
          { actor, action: `batch.resolve.${outcome}`, target: batchNo, details: { note } },
          trx,
        );
      });
      if (outcome !== 'accepted') hooks.batchesQueued();
      return (await loadBatch(database.db, batchNo))!;
    },
  };
  return service;
}
