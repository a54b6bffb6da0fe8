/**
 * Paid trades: registration (API, CSV import, trade notifications), listing with the refundable amount, detail.
 */
import { formatYuan, MAX_FEN, parseYuan, TRADE_NO_RE } from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import { type ExpressionBuilder, type Kysely, type Selectable, sql } from 'kysely';
import type { ServerDB, TradesTable, TradeStatus } from '../db.js';
import { type ItemIssue, ServiceError } from '../errors.js';
import { type AuditService, clampLimit } from './audit.js';
import { nowIso } from './clock.js';
import { dayRange } from './day-range.js';
import { splitCsv } from './csv.js';
import type { ServiceDeps } from './deps.js';

/** Most refunds Alipay allows on one trade. */
export const MAX_REFUNDS_PER_TRADE = 99;

/** A royalty (分润) part of a payment: who received how much. */
export interface TradeRoyalty {
  account?: string;
  userId?: string;
  amountFen: number;
}

/** What registering a paid trade takes. */
export interface TradeInput {
  tradeNo: string;
  outTradeNo?: string;
  amountFen: number;
  subject?: string;
  buyer?: string;
  /** ISO-8601 time of payment. */
  paidAt?: string;
  royalties?: TradeRoyalty[];
}

/** A trade as the services show it. */
export interface TradeView {
  tradeNo: string;
  outTradeNo: string | null;
  partner: string;
  paidFen: number;
  refundedFen: number;
  /** Amount held by the open batch that reserves this trade. */
  reservedFen: number;
  /** paid − refunded − reserved; 0 when the refund cap is reached. */
  refundableFen: number;
  refundCount: number;
  status: TradeStatus;
  hasRoyalty: boolean;
  royalties: TradeRoyalty[];
  subject: string | null;
  buyer: string | null;
  paidAt: string | null;
  openBatchNo: string | null;
  gatewayStatus: string | null;
  reconcileNote: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A refund of a trade, from the batch records. */
export interface TradeRefund {
  batchNo: string;
  batchState: string;
  mode: string;
  amountFen: number;
  reason: string;
  resultCode: string | null;
  succeeded: boolean | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface TradeListQuery {
  /** Matches trade_no, out_trade_no, subject or buyer (substring). */
  q?: string;
  status?: TradeStatus | 'refundable';
  hasRoyalty?: boolean;
  /** Only trades reserved by an open batch (true) or free ones (false). */
  inOpenBatch?: boolean;
  /** Registered from / to these Beijing days (`yyyy-MM-dd`, both included; day-range.ts). */
  from?: string;
  to?: string;
  page?: number;
  pageSize?: number;
  sort?: 'created_desc' | 'created_asc' | 'amount_desc' | 'amount_asc';
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export interface RegisterResult {
  /** Trades that were created. */
  created: TradeView[];
  /** Trades that existed with the same amount (registration is idempotent). */
  unchanged: TradeView[];
  /** When non-empty nothing was written. */
  issues: ItemIssue[];
  /**
   * What went wrong after the trades were written, for the operator to see (they stay registered): set by a
   * wrapper of `register`, such as the demo's copy of imported trades into the sandbox (`SANDBOX_MIRROR_FAILED`).
   */
  notices?: RegisterNotice[];
}

/** A problem beside a successful registration. */
export interface RegisterNotice {
  /** `SANDBOX_MIRROR_FAILED`: the demo could not create these trades in the sandbox (refunds will fail there). */
  code: 'SANDBOX_MIRROR_FAILED';
  /** The trades concerned. */
  tradeNos: string[];
  /** The underlying error, as is (English). */
  message: string;
}

export interface TradeService {
  /** Registers paid trades, all or none. Re-registering a trade with the same amount is a no-op. */
  register(inputs: readonly TradeInput[], actor: string): Promise<RegisterResult>;
  /**
   * Imports paid trades from CSV with a header row: `trade_no,amount` required (amount in yuan, e.g. `12.50`),
   * optional `out_trade_no,subject,buyer,paid_at,royalty` (royalty: `account_or_userid:yuan;…`).
   */
  importCsv(text: string, actor: string): Promise<RegisterResult>;
  list(query?: TradeListQuery): Promise<Page<TradeView>>;
  get(tradeNo: string): Promise<TradeView | null>;
  /** The trade with its refunds; @throws ServiceError TRADE_NOT_FOUND */
  detail(tradeNo: string): Promise<{ trade: TradeView; refunds: TradeRefund[] }>;
  /** Several trades by number (missing ones are left out). Pass `db` inside a transaction. */
  getMany(tradeNos: readonly string[], db?: Kysely<ServerDB>): Promise<Map<string, TradeView>>;
  /** The trade numbers registered under each merchant order number (out_trade_no); unknown orders left out. */
  findByOutTradeNo(outTradeNos: readonly string[], db?: Kysely<ServerDB>): Promise<Map<string, string[]>>;
  /**
   * What operators type (a trade number or a merchant order number) to trade numbers: a registered trade_no is
   * itself, else the one trade of that out_trade_no. Unresolved: `{ code: 'ORDER_NOT_FOUND' | 'ORDER_AMBIGUOUS' }`
   * (a reference shaped like a trade number and found nowhere is left to the refund checks: TRADE_NOT_FOUND).
   */
  resolveRefs(refs: readonly string[]): Promise<Map<string, TradeRef>>;
}

/** A reference resolved by {@link TradeService.resolveRefs}. */
export type TradeRef =
  | { tradeNo: string; outTradeNo: string | null }
  | { code: 'ORDER_NOT_FOUND' | 'ORDER_AMBIGUOUS'; tradeNos: string[] };

export function tradeView(r: Selectable<TradesTable> & { reserved_fen: number | null }): TradeView {
  const paid = Number(r.paid_fen);
  const refunded = Number(r.refunded_fen);
  const reserved = Number(r.reserved_fen ?? 0);
  const count = Number(r.refund_count);
  return {
    tradeNo: r.trade_no,
    outTradeNo: r.out_trade_no,
    partner: r.partner,
    paidFen: paid,
    refundedFen: refunded,
    reservedFen: reserved,
    refundableFen: count >= MAX_REFUNDS_PER_TRADE ? 0 : Math.max(0, paid - refunded - reserved),
    refundCount: count,
    status: r.status,
    hasRoyalty: Number(r.has_royalty) === 1,
    royalties: r.royalty_json === null ? [] : (JSON.parse(r.royalty_json) as TradeRoyalty[]),
    subject: r.subject,
    buyer: r.buyer,
    paidAt: r.paid_at,
    openBatchNo: r.open_batch_no,
    gatewayStatus: r.gateway_status,
    reconcileNote: r.reconcile_note,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The trades table joined with the amount its open batch reserves. */
export function tradesWithReserved(db: Kysely<ServerDB>) {
  return db
    .selectFrom('srv_trades as t')
    .leftJoin('srv_batch_records as r', (join) =>
      join.onRef('r.batch_no', '=', 't.open_batch_no').onRef('r.trade_no', '=', 't.trade_no'),
    )
    .selectAll('t')
    .select('r.amount_fen as reserved_fen');
}

/** Validates trade inputs without touching the database. */
export function validateTradeInputs(inputs: readonly TradeInput[]): ItemIssue[] {
  const issues: ItemIssue[] = [];
  const seen = new Map<string, number>();
  inputs.forEach((t, index) => {
    const add = (field: string, code: string, message: string) =>
      issues.push({ index, field, code, message });
    if (typeof t.tradeNo !== 'string' || !TRADE_NO_RE.test(t.tradeNo)) {
      add('tradeNo', 'INVALID_TRADE_NO', 'tradeNo must be the Alipay trade number (6 to 64 digits)');
    } else if (seen.has(t.tradeNo)) {
      add(
        'tradeNo',
        'DUPLICATE_TRADE',
        `trade ${t.tradeNo} is listed twice (also at item ${seen.get(t.tradeNo)})`,
      );
    } else seen.set(t.tradeNo, index);
    if (!Number.isSafeInteger(t.amountFen) || t.amountFen <= 0 || t.amountFen > MAX_FEN) {
      add(
        'amount',
        'INVALID_AMOUNT',
        'the paid amount must be a positive amount with at most 2 decimals (yuan)',
      );
    }
    if (t.outTradeNo !== undefined && (t.outTradeNo.length === 0 || t.outTradeNo.length > 64)) {
      add(
        'outTradeNo',
        'INVALID_OUT_TRADE_NO',
        'outTradeNo (the merchant order id) must be 1 to 64 characters',
      );
    }
    if (t.paidAt !== undefined && Number.isNaN(Date.parse(t.paidAt))) {
      add('paidAt', 'INVALID_TIME', 'paidAt must be an ISO-8601 time such as 2024-05-01T10:00:00Z');
    }
    let royaltySum = 0;
    (t.royalties ?? []).forEach((r, i) => {
      if ((r.account ?? '') === '' && (r.userId ?? '') === '') {
        add(
          `royalties[${i}]`,
          'INVALID_ROYALTY',
          'a royalty part needs the receiving account (email) or user id',
        );
      }
      if (!Number.isSafeInteger(r.amountFen) || r.amountFen <= 0) {
        add(`royalties[${i}].amount`, 'INVALID_AMOUNT', 'a royalty amount must be positive');
      } else royaltySum += r.amountFen;
    });
    if (Number.isSafeInteger(t.amountFen) && royaltySum > t.amountFen) {
      add('royalties', 'INVALID_ROYALTY', 'the royalty parts add up to more than the paid amount');
    }
  });
  return issues;
}

/** CSV rows of `text` (a leading BOM dropped), rows whose fields are all empty skipped. */
export function parseCsv(text: string): string[][] {
  return splitCsv(text.replace(/^\ufeff/, ''))
    .map((r) => r.fields)
    .filter((fields) => fields.some((f) => f !== ''));
}

export function createTradeService(deps: ServiceDeps, audit: AuditService): TradeService {
  const { database, clock, config } = deps;

  async function getMany(tradeNos: readonly string[], db: Kysely<ServerDB> = database.db) {
    const out = new Map<string, TradeView>();
    for (let i = 0; i < tradeNos.length; i += 500) {
      const chunk = tradeNos.slice(i, i + 500);
      if (chunk.length === 0) continue;
      const rows = await tradesWithReserved(db).where('t.trade_no', 'in', chunk).execute();
      for (const r of rows) out.set(r.trade_no, tradeView(r));
    }
    return out;
  }

  async function findByOutTradeNo(outTradeNos: readonly string[], db: Kysely<ServerDB> = database.db) {
    const out = new Map<string, string[]>();
    for (let i = 0; i < outTradeNos.length; i += 500) {
      const chunk = outTradeNos.slice(i, i + 500);
      if (chunk.length === 0) continue;
      const rows = await db
        .selectFrom('srv_trades')
        .select(['trade_no', 'out_trade_no'])
        .where('out_trade_no', 'in', chunk)
        .orderBy('trade_no')
        .execute();
      for (const r of rows) {
        const key = r.out_trade_no ?? '';
        const list = out.get(key);
        if (list) list.push(r.trade_no);
        else out.set(key, [r.trade_no]);
      }
    }
    return out;
  }

  const service: TradeService = {
    async register(inputs, actor) {
      const issues = validateTradeInputs(inputs);
      if (issues.length > 0) return { created: [], unchanged: [], issues };
      const now = nowIso(clock);
      return withTransaction(database, async (trx) => {
        const existing = await getMany(
          inputs.map((t) => t.tradeNo),
          trx,
        );
        const conflicts: ItemIssue[] = [];
        const unchanged: TradeView[] = [];
        const fresh: TradeInput[] = [];
        inputs.forEach((t, index) => {
          const e = existing.get(t.tradeNo);
          if (!e) fresh.push(t);
          else if (
            e.paidFen === t.amountFen &&
            (t.outTradeNo === undefined || t.outTradeNo === e.outTradeNo)
          ) {
            unchanged.push(e);
          } else {
            conflicts.push({
              index,
              field: 'tradeNo',
              code: 'TRADE_EXISTS',
              message: `trade ${t.tradeNo} is already registered with ${formatYuan(e.paidFen)} yuan${e.outTradeNo ? ` (order ${e.outTradeNo})` : ''}`,
            });
          }
        });
        if (conflicts.length > 0) return { created: [], unchanged: [], issues: conflicts };
        for (let i = 0; i < fresh.length; i += 200) {
          const chunk = fresh.slice(i, i + 200);
          await trx
            .insertInto('srv_trades')
            .values(
              chunk.map((t) => ({
                trade_no: t.tradeNo,
                out_trade_no: t.outTradeNo ?? null,
                partner: config.partner,
                paid_fen: t.amountFen,
                status: 'paid' as const,
                has_royalty: (t.royalties ?? []).length > 0 ? 1 : 0,
                royalty_json: (t.royalties ?? []).length > 0 ? JSON.stringify(t.royalties) : null,
                subject: t.subject ?? null,
                buyer: t.buyer ?? null,
                paid_at: t.paidAt ?? null,
                open_batch_no: null,
                gateway_status: null,
                reconcile_note: null,
                created_at: now,
                updated_at: now,
              })),
            )
            .execute();
        }
        if (fresh.length > 0) {
          await audit.record(
            {
              actor,
              action: 'trades.register',
              target: fresh.length === 1 ? fresh[0]!.tradeNo : `${fresh.length} trades`,
              details: { count: fresh.length, tradeNos: fresh.slice(0, 20).map((t) => t.tradeNo) },
            },
            trx,
          );
        }
        const created = await getMany(
          fresh.map((t) => t.tradeNo),
          trx,
        );
        return { created: [...created.values()], unchanged, issues: [] };
      });
    },

    async importCsv(text, actor) {
      const rows = parseCsv(text);
      const header = (rows.shift() ?? []).map((h) => h.trim().toLowerCase());
      const col = (name: string) => header.indexOf(name);
      const need = ['trade_no', 'amount'].filter((n) => col(n) < 0);
      if (need.length > 0) {
        return {
          created: [],
          unchanged: [],
          issues: [
            {
              index: null,
              field: 'header',
              code: 'INVALID_CSV',
              message: `the first row must name the columns; missing: ${need.join(', ')} (optional: out_trade_no, subject, buyer, paid_at, royalty)`,
            },
          ],
        };
      }
      const issues: ItemIssue[] = [];
      const inputs: TradeInput[] = rows.map((cells, index) => {
        const cell = (name: string) => {
          const i = col(name);
          const v = i < 0 ? undefined : cells[i]?.trim();
          return v === '' ? undefined : v;
        };
        const amountText = cell('amount') ?? '';
        const amountFen = parseYuan(amountText.replace(/^¥/, ''));
        if (amountFen === null) {
          issues.push({
            index,
            field: 'amount',
            code: 'INVALID_AMOUNT',
            message: `row ${index + 2}: amount "${amountText}" is not a yuan amount such as 12.50`,
          });
        }
        const royalties: TradeRoyalty[] = [];
        for (const part of (cell('royalty') ?? '').split(';').filter((p) => p.trim() !== '')) {
          const [who = '', yuan = ''] = part.split(':').map((s) => s.trim());
          const fen = parseYuan(yuan);
          if (fen === null || who === '') {
            issues.push({
              index,
              field: 'royalty',
              code: 'INVALID_ROYALTY',
              message: `row ${index + 2}: royalty "${part}" must be account_or_userid:yuan`,
            });
            continue;
          }
          royalties.push(
            /^2088\d{12}$/.test(who) ? { userId: who, amountFen: fen } : { account: who, amountFen: fen },
          );
        }
        const t: TradeInput = { tradeNo: cell('trade_no') ?? '', amountFen: amountFen ?? 0 };
        const out = cell('out_trade_no');
        if (out !== undefined) t.outTradeNo = out;
        const subject = cell('subject');
        if (subject !== undefined) t.subject = subject;
        const buyer = cell('buyer');
        if (buyer !== undefined) t.buyer = buyer;
        const paidAt = cell('paid_at');
        if (paidAt !== undefined) t.paidAt = paidAt;
        if (royalties.length > 0) t.royalties = royalties;
        return t;
      });
      if (inputs.length === 0) {
        return {
          created: [],
          unchanged: [],
          issues: [{ index: null, field: 'csv', code: 'INVALID_CSV', message: 'the file has no data rows' }],
        };
      }
      const more = validateTradeInputs(inputs).filter(
        (i) =>
          !(i.code === 'INVALID_AMOUNT' && issues.some((j) => j.index === i.index && j.field === 'amount')),
      );
      if (issues.length + more.length > 0) {
        return {
          created: [],
          unchanged: [],
          issues: [...issues, ...more].sort((a, b) => (a.index ?? -1) - (b.index ?? -1)),
        };
      }
      return service.register(inputs, actor);
    },

    async list(query = {}) {
      const pageSize = clampLimit(query.pageSize, 50);
      const page = Math.max(1, Math.floor(query.page ?? 1));
      const { sinceIso, untilIso } = dayRange(query);
      let q = tradesWithReserved(database.db);
      const filter = (eb: ExpressionBuilder<ServerDB & { t: ServerDB['srv_trades'] }, 't'>) => {
        const conds = [];
        if (query.q !== undefined && query.q.trim() !== '') {
          const like = `%${query.q.trim().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
          conds.push(
            eb.or([
              sql<boolean>`t.trade_no like ${like} escape '\\'`,
              sql<boolean>`t.out_trade_no like ${like} escape '\\'`,
              sql<boolean>`t.subject like ${like} escape '\\'`,
              sql<boolean>`t.buyer like ${like} escape '\\'`,
            ]),
          );
        }
        if (query.status === 'refundable') {
          conds.push(eb('t.status', '!=', 'fully_refunded'));
          conds.push(eb('t.open_batch_no', 'is', null));
          conds.push(eb('t.refund_count', '<', MAX_REFUNDS_PER_TRADE));
        } else if (query.status !== undefined) conds.push(eb('t.status', '=', query.status));
        if (query.hasRoyalty !== undefined) conds.push(eb('t.has_royalty', '=', query.hasRoyalty ? 1 : 0));
        if (query.inOpenBatch !== undefined) {
          conds.push(eb('t.open_batch_no', query.inOpenBatch ? 'is not' : 'is', null));
        }
        if (sinceIso !== undefined) conds.push(eb('t.created_at', '>=', sinceIso));
        if (untilIso !== undefined) conds.push(eb('t.created_at', '<', untilIso));
        return eb.and(conds);
      };
      q = q.where(filter);
      const totalRow = await database.db
        .selectFrom('srv_trades as t')
        .where(filter)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const sort = query.sort ?? 'created_desc';
      const [column, dir] =
        sort === 'created_asc'
          ? (['t.created_at', 'asc'] as const)
          : sort === 'amount_desc'
            ? (['t.paid_fen', 'desc'] as const)
            : sort === 'amount_asc'
              ? (['t.paid_fen', 'asc'] as const)
              : (['t.created_at', 'desc'] as const);
      const rows = await q
        .orderBy(column, dir)
        .orderBy('t.trade_no', dir)
        .limit(pageSize)
        .offset((page - 1) * pageSize)
        .execute();
      return { items: rows.map(tradeView), total: Number(totalRow.n), page, pageSize };
    },

    async get(tradeNo) {
      const row = await tradesWithReserved(database.db).where('t.trade_no', '=', tradeNo).executeTakeFirst();
      return row ? tradeView(row) : null;
    },

    async detail(tradeNo) {
      const trade = await service.get(tradeNo);
      if (!trade) throw new ServiceError('TRADE_NOT_FOUND', `no trade ${tradeNo} is registered`, 'tradeNo');
      const rows = await database.db
        .selectFrom('srv_batch_records as r')
        .innerJoin('srv_batches as b', 'b.batch_no', 'r.batch_no')
        .select([
          'r.batch_no',
          'b.state',
          'b.mode',
          'r.amount_fen',
          'r.reason',
          'r.result_code',
          'r.succeeded',
          'b.created_at',
          'b.finished_at',
        ])
        .where('r.trade_no', '=', tradeNo)
        .orderBy('b.created_at', 'desc')
        .execute();
      return {
        trade,
        refunds: rows.map((r) => ({
          batchNo: r.batch_no,
          batchState: r.state,
          mode: r.mode,
          amountFen: Number(r.amount_fen),
          reason: r.reason,
          resultCode: r.result_code,
          succeeded: r.succeeded === null ? null : Number(r.succeeded) === 1,
          createdAt: r.created_at,
          finishedAt: r.finished_at,
        })),
      };
    },

    getMany,
    findByOutTradeNo,

    async resolveRefs(refs) {
      const out = new Map<string, TradeRef>();
      const unique = [...new Set(refs.map((r) => r.trim()).filter((r) => r !== ''))];
      const asTrades = await getMany(unique.filter((r) => TRADE_NO_RE.test(r)));
      for (const [no, t] of asTrades) out.set(no, { tradeNo: no, outTradeNo: t.outTradeNo });
      const rest = unique.filter((r) => !out.has(r));
      const byOrder = await findByOutTradeNo(rest);
      for (const r of rest) {
        const nos = byOrder.get(r) ?? [];
        if (nos.length === 1) out.set(r, { tradeNo: nos[0]!, outTradeNo: r });
        else if (nos.length > 1) out.set(r, { code: 'ORDER_AMBIGUOUS', tradeNos: nos });
        else if (!TRADE_NO_RE.test(r)) out.set(r, { code: 'ORDER_NOT_FOUND', tradeNos: [] });
      }
      return out;
    },
  };
  return service;
}
