/**
 * Processing an accepted batch against the ledger: every per-record business rule, each with its code
 * (README "Per-record rules"), records independent of each other, every money movement a balanced pair of
 * ledger entries. One batch at a time (a process-wide lock) in one database transaction.
 */
import { randomInt, randomUUID } from 'node:crypto';
import {
  type Charset,
  type DetailRecord,
  type ResultRecord,
  SERVICE_PWD,
  type UnfreezeRecord,
  beijingDate,
  decodeDetailData,
  encodeResultDetails,
  encodeUnfreezedDetails,
  formatBeijing,
  formatYuan,
} from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Insertable, Kysely } from 'kysely';
import type { Core, SandboxTrx } from './core.js';
import { BUYERS_ACCOUNT, DBACK_ACCOUNT, FEES_ACCOUNT, frozenAccountId } from './entities.js';
import { type Enqueued, type NotifyFaultUse, enqueueNotification } from './outbox.js';
import type {
  BatchRecordTable,
  EntryKind,
  EntryTable,
  SandboxDB,
  TradeTable,
  UnfreezeTable,
} from './schema.js';

/** At most this many refunds per trade (nopwd rules §4). */
export const MAX_REFUNDS_PER_TRADE = 99;

/** The outcome of processing one batch. */
export interface ProcessOutcome {
  partner: string;
  batchNo: string;
  recordCount: number;
  successNum: number;
  resultDetails: string;
  notifications: Enqueued[];
  /** Where the time went (load = reads, rules = evaluation, write = inserts/updates), ms. */
  timingsMs: { load: number; rules: number; write: number };
}

const CHUNK = 1000;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * What each trade has been refunded so far: the sum and the number of its succeeded batch records. The
 * cumulative-refund and 99-refunds rules read it; so does the admin API's trade view.
 */
export async function refundedSums(
  db: Kysely<SandboxDB>,
  tradeNos: readonly string[],
): Promise<Map<string, { fen: number; count: number }>> {
  const out = new Map<string, { fen: number; count: number }>();
  for (const part of chunks(tradeNos)) {
    const rows = await db
      .selectFrom('sbx_batch_records')
      .select((eb) => [
        'trade_no',
        eb.fn.sum<number>('amount_fen').as('fen'),
        eb.fn.countAll<number>().as('count'),
      ])
      .where('trade_no', 'in', part)
      .where('succeeded', '=', 1)
      .groupBy('trade_no')
      .execute();
    for (const r of rows) out.set(r.trade_no, { fen: Number(r.fen), count: Number(r.count) });
  }
  return out;
}

/**
 * The status a trade has now: a TRADE_SUCCESS trade whose refunds reach its amount is TRADE_CLOSED.
 */
export function effectiveStatus(baseStatus: string, amountFen: number, refundedFen: number): string {
  return baseStatus === 'TRADE_SUCCESS' && amountFen > 0 && refundedFen >= amountFen
    ? 'TRADE_CLOSED'
    : baseStatus;
}

interface EntryDraft {
  account: string;
  fen: number;
  kind: EntryKind;
}

/**
 * The part of a trade's fee handed back once `refundedFen` of its `amountFen` has been refunded: pro rata,
 * rounded half up, so that a full refund hands back exactly the whole fee (protocol.md §9.15 says "pro-rata";
 * the rounding is ours [INF]). A record's fee refund is the difference before and after it.
 */
export function feeRefundedFor(feeFen: number, amountFen: number, refundedFen: number): number {
  if (feeFen <= 0 || amountFen <= 0) return 0;
  const r = Math.min(refundedFen, amountFen);
  return Math.floor((2 * feeFen * r + amountFen) / (2 * amountFen));
}

/** Status and code of an `unfreezed_details` record for a release that happened [INF: values not documented]. */
export const UNFREEZE_STATUS = 'S';
export const UNFREEZE_CODE = 'SUCCESS';

/**
 * Unfreeze order numbers of one batch: the Beijing date, 12 random digits drawn once per batch and a 4-digit
 * sequence (24 digits), so they sort in the order the funds were released.
 */
function unfreezeOrderNos(now: number): () => string {
  const prefix = `${beijingDate(now)}${String(randomInt(0, 1e6)).padStart(6, '0')}${String(randomInt(0, 1e6)).padStart(6, '0')}`;
  let seq = 0;
  return () => `${prefix}${String(++seq).padStart(4, '0')}`;
}

type Trade = Pick<
  TradeTable,
  | 'trade_no'
  | 'partner'
  | 'seller_id'
  | 'amount_fen'
  | 'status'
  | 'notify_url'
  | 'out_trade_no'
  | 'buyer_email'
> & { paid_with: 'balance' | 'bank_card'; fee_fen: number | null };

/** The non-trade parts of a result, as stored in `sbx_batch_records.parts_json`. */
function partsJson(r: ResultRecord): string | null {
  if (!r.charge && !r.royalties && !r.subTrade) return null;
  return JSON.stringify({ charge: r.charge, royalties: r.royalties, subTrade: r.subTrade });
}

/** Rebuilds a record's ResultRecord from its `sbx_batch_records` row. */
export function resultFromRow(row: {
  trade_no: string;
  amount_fen: number;
  amount_text: string;
  code: string;
  parts_json: string | null;
  dback_status?: 'P' | 'S' | 'F' | null;
}): ResultRecord {
  const r: ResultRecord = {
    tradeNo: row.trade_no,
    amountFen: Number(row.amount_fen),
    amountText: row.amount_text,
    code: row.code,
    succeeded: row.code === 'SUCCESS',
  };
  // A refund of a bank-card trade has the 5-field form with the current 充退 status.
  if (row.dback_status) {
    r.toBankCard = true;
    r.bankCardStatus = row.dback_status;
  }
  if (row.parts_json !== null) {
    const parts = JSON.parse(row.parts_json) as Pick<ResultRecord, 'charge' | 'royalties' | 'subTrade'>;
    if (parts.charge) r.charge = parts.charge;
    if (parts.royalties) r.royalties = parts.royalties;
    if (parts.subTrade) r.subTrade = parts.subTrade;
  }
  return r;
}

/** An `sbx_unfreezes` row as an `unfreezed_details` record (for the SDK's encoder). */
export function unfreezeRecordOf(u: {
  unfreeze_order_no: string;
  freeze_order_no: string;
  amount_fen: number;
  trade_no: string;
  processed_at: number;
  status: string;
  code: string;
}): UnfreezeRecord {
  const fen = Number(u.amount_fen);
  return {
    unfreezeOrderNo: u.unfreeze_order_no,
    freezeOrderNo: u.freeze_order_no,
    amountFen: fen,
    amountText: formatYuan(fen),
    tradeNo: u.trade_no,
    processedAt: formatBeijing(Number(u.processed_at)),
    status: u.status,
    code: u.code,
  };
}

/** Records decoded at acceptance, handed to the processing that follows (saves decoding them twice). */
const decodedCache = new Map<string, DetailRecord[]>();

/** Keeps the decoded records of a just-accepted batch for its processing (a small bounded cache). */
export function rememberDecoded(partner: string, batchNo: string, records: DetailRecord[]): void {
  if (decodedCache.size >= 64) decodedCache.delete(decodedCache.keys().next().value as string);
  decodedCache.set(`${partner}\u0000${batchNo}`, records);
}

/** Runs the batch if it is queued; returns null if it is not (already processed, unknown, awaiting confirmation). */
export async function processBatch(
  core: Core,
  partner: string,
  batchNo: string,
): Promise<ProcessOutcome | null> {
  const outcome = await core.processing.run(async () => {
    const use: FaultUse = { forced: new Map(), notify: { reorder: 0 } };
    const result = await withTransaction(core.database, (trx) => {
      use.forced.clear();
      use.notify.reorder = 0;
      return processInTransaction(core, trx, partner, batchNo, use);
    });
    if (result) {
      decodedCache.delete(`${partner}\u0000${batchNo}`);
      await commitFaultUse(core, use);
    }
    return result;
  });
  if (outcome) {
    core.log({
      event: 'batch_processed',
      partner,
      batchNo,
      records: outcome.recordCount,
      successNum: outcome.successNum,
      notifications: outcome.notifications.length,
      timingsMs: outcome.timingsMs,
    });
    core.kick();
  }
  return outcome;
}

interface FaultUse {
  /** index in faults.forceCodes → times used */
  forced: Map<number, number>;
  notify: NotifyFaultUse;
}

async function commitFaultUse(core: Core, use: FaultUse): Promise<void> {
  if (use.forced.size === 0 && use.notify.reorder === 0) return;
  const f = core.faults;
  for (const [i, n] of use.forced) {
    const fc = f.forceCodes[i];
    if (fc) fc.times -= n;
  }
  f.forceCodes = f.forceCodes.filter((fc) => fc.times > 0);
  f.notify.reorder = Math.max(0, f.notify.reorder - use.notify.reorder);
  await core.saveSettings();
}

async function processInTransaction(
  core: Core,
  trx: SandboxTrx,
  partner: string,
  batchNo: string,
  use: FaultUse,
): Promise<ProcessOutcome | null> {
  const batch = await trx
    .selectFrom('sbx_batches')
    .selectAll()
    .where('partner', '=', partner)
    .where('batch_no', '=', batchNo)
    .executeTakeFirst();
  if (batch?.status !== 'queued') return null;
  const now = core.now();
  const tStart = performance.now();
  const charset = batch.charset as Charset;
  const decoded = decodeDetailData(batch.detail_data, {
    charset,
    mode: batch.service === SERVICE_PWD ? 'pwd' : 'nopwd',
  });
  if (!decoded.ok)
    throw new Error(
      `batch ${partner}/${batchNo}: stored detail_data no longer decodes: ${decoded.issues[0]?.message}`,
    );
  const records = decoded.value;

  // ---- load everything the rules need, in a few set-based queries
  const tradeNos = [...new Set(records.map((r) => r.tradeNo))];
  const trades = new Map<string, Trade>();
  const refunded = new Map<string, { fen: number; count: number }>();
  for (const part of chunks(tradeNos)) {
    const rows = await trx
      .selectFrom('sbx_trades')
      .select([
        'trade_no',
        'partner',
        'seller_id',
        'amount_fen',
        'status',
        'notify_url',
        'out_trade_no',
        'buyer_email',
        'paid_with',
        'fee_fen',
      ])
      .where('trade_no', 'in', part)
      .execute();
    for (const t of rows)
      trades.set(t.trade_no, {
        ...t,
        amount_fen: Number(t.amount_fen),
        fee_fen: t.fee_fen === null ? null : Number(t.fee_fen),
      });
    for (const [no, sum] of await refundedSums(trx, part)) refunded.set(no, sum);
  }
  const royaltyTrades = [
    ...new Set(records.filter((r) => (r.royalties?.length ?? 0) > 0).map((r) => r.tradeNo)),
  ];
  const distributed = new Map<string, number>();
  const royaltyRefunded = new Map<string, number>();
  for (const part of chunks(royaltyTrades)) {
    const rows = await trx
      .selectFrom('sbx_trade_royalties')
      .selectAll()
      .where('trade_no', 'in', part)
      .execute();
    for (const r of rows) distributed.set(`${r.trade_no}\u0000${r.account_id}`, Number(r.amount_fen));
    const back = await trx
      .selectFrom('sbx_entries')
      .select((eb) => ['trade_no', 'account_id', eb.fn.sum<number>('amount_fen').as('fen')])
      .where('kind', '=', 'royalty_refund')
      .where('amount_fen', '<', 0)
      .where('trade_no', 'in', part)
      .groupBy(['trade_no', 'account_id'])
      .execute();
    for (const b of back) royaltyRefunded.set(`${b.trade_no}\u0000${b.account_id}`, -Number(b.fen));
  }
  const ids = new Set<string>([partner]);
  const emails = new Set<string>();
  if (batch.seller_id) ids.add(batch.seller_id);
  for (const t of trades.values()) ids.add(t.seller_id);
  for (const r of records) {
    for (const y of r.royalties ?? []) {
      if (y.outUserId) ids.add(y.outUserId);
      else emails.add(y.outAccount);
      if (y.inUserId) ids.add(y.inUserId);
      else emails.add(y.inAccount);
    }
  }
  const balances = new Map<string, number>();
  const byEmail = new Map<string, string>();
  const emailOf = new Map<string, string | null>();
  for (const part of chunks([...ids])) {
    for (const a of await trx
      .selectFrom('sbx_accounts')
      .select(['account_id', 'email', 'balance_fen'])
      .where('account_id', 'in', part)
      .execute()) {
      balances.set(a.account_id, Number(a.balance_fen));
      emailOf.set(a.account_id, a.email);
    }
  }
  // use_freeze_amount=Y: the sellers' freeze orders that still hold money, oldest first, used before the
  // available balance [INF]. Their ledger accounts join the balances like any other account.
  const freezes = new Map<string, Array<{ orderNo: string; account: string }>>();
  if (Number(batch.use_freeze) === 1) {
    const sellers = [...new Set([...trades.values()].map((t) => t.seller_id))];
    for (const part of chunks(sellers)) {
      const rows = await trx
        .selectFrom('sbx_freezes')
        .select(['freeze_order_no', 'account_id as owner'])
        .where('account_id', 'in', part)
        .orderBy('created_at')
        .orderBy('freeze_order_no')
        .execute();
      const left = new Map<string, number>();
      for (const ids of chunks(rows.map((f) => frozenAccountId(f.freeze_order_no)))) {
        for (const a of await trx
          .selectFrom('sbx_accounts')
          .select(['account_id', 'balance_fen'])
          .where('account_id', 'in', ids)
          .where('balance_fen', '>', 0)
          .execute())
          left.set(a.account_id, Number(a.balance_fen));
      }
      for (const f of rows) {
        const account = frozenAccountId(f.freeze_order_no);
        const fen = left.get(account);
        if (fen === undefined) continue;
        balances.set(account, fen);
        const list = freezes.get(f.owner);
        const item = { orderNo: f.freeze_order_no, account };
        if (list) list.push(item);
        else freezes.set(f.owner, [item]);
      }
    }
  }
  for (const part of chunks([...emails])) {
    for (const a of await trx
      .selectFrom('sbx_accounts')
      .select(['account_id', 'email', 'balance_fen'])
      .where('email', 'in', part)
      .execute()) {
      balances.set(a.account_id, Number(a.balance_fen));
      if (a.email) byEmail.set(a.email, a.account_id);
    }
  }
  const signed = new Set(
    (await trx.selectFrom('sbx_protocols').select('user_id').where('partner', '=', partner).execute()).map(
      (r) => r.user_id,
    ),
  );

  const tLoaded = performance.now();
  // ---- the rules, record by record (later records see earlier ones' effects)
  const resolve = (userId: string, email: string): string | undefined => {
    if (userId !== '') return balances.has(userId) ? userId : undefined;
    return byEmail.get(email);
  };
  const isSignedWith = (id: string) => id === partner || signed.has(id);
  const deltas = new Map<string, number>();
  const bal = (id: string) => (balances.get(id) ?? 0) + (deltas.get(id) ?? 0);
  const recordRows: Insertable<BatchRecordTable>[] = [];
  const entryRows: Insertable<EntryTable>[] = [];
  const unfreezeRows: Insertable<UnfreezeTable>[] = [];
  const nextUnfreezeNo = unfreezeOrderNos(now);
  const closedOrPartial: Array<{ trade: Trade; refundFen: number; closed: boolean }> = [];
  let successNum = 0;
  const results: ResultRecord[] = [];

  interface Evaluated {
    code: string;
    entries: EntryDraft[];
    /** Frozen funds released for this record, per freeze order. */
    unfreezes?: Array<{ orderNo: string; fen: number }>;
    /** The fee handed back (trades with a fee). */
    feeFen?: number;
    /** The refund went back to the buyer's bank card (充退), in progress. */
    toBankCard?: boolean;
  }
  const evaluate = (rec: DetailRecord): Evaluated => {
    const fail = (code: string): Evaluated => ({ code, entries: [] });
    const forcedIdx = core.faults.forceCodes.findIndex(
      (fc, i) => fc.tradeNo === rec.tradeNo && fc.times - (use.forced.get(i) ?? 0) > 0,
    );
    if (forcedIdx >= 0) {
      use.forced.set(forcedIdx, (use.forced.get(forcedIdx) ?? 0) + 1);
      return fail(core.faults.forceCodes[forcedIdx]!.code);
    }
    if (batch.locked === 1) return fail('BATCH_REFUND_LOCK_ERROR');
    const trade = trades.get(rec.tradeNo);
    if (!trade) return fail('TRADE_NOT_EXISTS');
    if (trade.partner !== partner) return fail('NOT_THIS_PARTNERS_TRADE');
    if (batch.seller_id && batch.seller_id !== trade.seller_id) return fail('NOT_THIS_SELLER_TRADE');
    if (!isSignedWith(trade.seller_id)) return fail('PARTNER_NOT_SIGN_PROTOCOL');
    const done = refunded.get(trade.trade_no) ?? { fen: 0, count: 0 };
    const status = effectiveStatus(trade.status, trade.amount_fen, done.fen);
    if (status === 'TRADE_CLOSED') return fail('TRADE_HAS_CLOSED');
    if (status === 'TRADE_FINISHED') return fail('TRADE_HAS_FINISHED');
    if (status !== 'TRADE_SUCCESS') return fail('TRADE_STATUS_ERROR');
    if (done.count >= MAX_REFUNDS_PER_TRADE) return fail('WHOLE_DETAIL_FORBID_REFUND');
    if (rec.amountFen > trade.amount_fen) return fail('RESULT_AMOUNT_NOT_VALID');
    if (done.fen + rec.amountFen > trade.amount_fen) return fail('REFUND_TRADE_FEE_ERROR');
    if (rec.subTrade) return fail('REFUND_SUBTRADE_FEE_ERROR');
    const entries: EntryDraft[] = [];
    const local = new Map<string, number>();
    const lbal = (id: string) => bal(id) + (local.get(id) ?? 0);
    const move = (id: string, fen: number) => local.set(id, (local.get(id) ?? 0) + fen);
    const pulled = new Map<string, number>();
    // 入大于出，先入后出: royalties come back first, then the trade refund leaves the seller.
    for (const y of rec.royalties ?? []) {
      const out = resolve(y.outUserId, y.outAccount);
      const into = resolve(y.inUserId, y.inAccount);
      if (out === undefined || into === undefined) return fail('ACCOUNT_NOT_EXISTS');
      if (out === into) return fail('REFUND_ROYALTY_FEE_ERROR');
      if (!isSignedWith(out)) return fail('PARTNER_NOT_SIGN_PROTOCOL');
      if (into !== trade.seller_id && !isSignedWith(into)) return fail('ROYALTYER_NOT_SIGN_PROTOCOL');
      const key = `${trade.trade_no}\u0000${out}`;
      const left = (distributed.get(key) ?? 0) - (royaltyRefunded.get(key) ?? 0) - (pulled.get(key) ?? 0);
      if (y.amountFen > left) return fail('REFUND_ROYALTY_FEE_ERROR');
      if (lbal(out) < y.amountFen) return fail('TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH');
      pulled.set(key, (pulled.get(key) ?? 0) + y.amountFen);
      move(out, -y.amountFen);
      move(into, y.amountFen);
      entries.push(
        { account: out, fen: -y.amountFen, kind: 'royalty_refund' },
        { account: into, fen: y.amountFen, kind: 'royalty_refund' },
      );
    }
    // use_freeze_amount=Y: the seller's frozen funds count too, and are released first [INF].
    const orders = freezes.get(trade.seller_id) ?? [];
    const frozenFen = orders.reduce((sum, o) => sum + Math.max(0, lbal(o.account)), 0);
    if (lbal(trade.seller_id) + frozenFen < rec.amountFen) return fail('SELLER_BALANCE_NOT_ENOUGH');
    const unfreezes: Array<{ orderNo: string; fen: number }> = [];
    let need = rec.amountFen;
    for (const o of orders) {
      if (need === 0) break;
      const take = Math.min(need, Math.max(0, lbal(o.account)));
      if (take === 0) continue;
      need -= take;
      unfreezes.push({ orderNo: o.orderNo, fen: take });
      move(o.account, -take);
      move(trade.seller_id, take);
      entries.push(
        { account: o.account, fen: -take, kind: 'unfreeze' },
        { account: trade.seller_id, fen: take, kind: 'unfreeze' },
      );
    }
    const toBankCard = trade.paid_with === 'bank_card' && rec.amountFen > 0;
    if (rec.amountFen > 0) {
      // A bank-card trade's refund waits in SYS:DBACK until the 充退 is settled (admin API).
      const to = toBankCard ? DBACK_ACCOUNT : BUYERS_ACCOUNT;
      move(trade.seller_id, -rec.amountFen);
      move(to, rec.amountFen);
      entries.push(
        { account: trade.seller_id, fen: -rec.amountFen, kind: 'trade_refund' },
        { account: to, fen: rec.amountFen, kind: 'trade_refund' },
      );
    }
    let feeFen: number | undefined;
    if (trade.fee_fen !== null) {
      feeFen =
        feeRefundedFor(trade.fee_fen, trade.amount_fen, done.fen + rec.amountFen) -
        feeRefundedFor(trade.fee_fen, trade.amount_fen, done.fen);
      if (feeFen > 0) {
        move(FEES_ACCOUNT, -feeFen);
        move(trade.seller_id, feeFen);
        entries.push(
          { account: FEES_ACCOUNT, fen: -feeFen, kind: 'fee_refund' },
          { account: trade.seller_id, fen: feeFen, kind: 'fee_refund' },
        );
      }
    }
    // Commit the record's effects to the batch state.
    for (const [id, d] of local) deltas.set(id, (deltas.get(id) ?? 0) + d);
    for (const [k, v] of pulled) royaltyRefunded.set(k, (royaltyRefunded.get(k) ?? 0) + v);
    refunded.set(trade.trade_no, { fen: done.fen + rec.amountFen, count: done.count + 1 });
    if (rec.amountFen > 0) {
      closedOrPartial.push({
        trade,
        refundFen: rec.amountFen,
        closed: done.fen + rec.amountFen >= trade.amount_fen,
      });
    }
    const out: Evaluated = { code: 'SUCCESS', entries };
    if (unfreezes.length > 0) out.unfreezes = unfreezes;
    if (feeFen !== undefined) out.feeFen = feeFen;
    if (toBankCard) out.toBankCard = true;
    return out;
  };

  for (const [i, rec] of records.entries()) {
    const evaluated = evaluate(rec);
    const { code, entries } = evaluated;
    const ok = code === 'SUCCESS';
    if (ok) successNum++;
    const result: ResultRecord = {
      tradeNo: rec.tradeNo,
      amountFen: rec.amountFen,
      amountText: rec.amountText ?? formatYuan(rec.amountFen),
      code,
      succeeded: ok,
    };
    if (evaluated.toBankCard) {
      result.toBankCard = true;
      result.bankCardStatus = 'P';
    }
    // The fee refund is computed here (Alipay computes it [C2]) and reported for every trade that carries a fee,
    // asked for or not, to the charged party: the request's `$` part if any, else the seller. Trades without a
    // fee report a requested `$` part as 0.00.
    const trade = trades.get(rec.tradeNo);
    const feeTrade = trade !== undefined && trade.partner === partner && trade.fee_fen !== null;
    if (feeTrade || rec.charge) {
      const feeFen = ok ? (evaluated.feeFen ?? 0) : 0;
      result.charge = {
        account: rec.charge ? rec.charge.account : (emailOf.get(trade!.seller_id) ?? ''),
        userId: rec.charge ? rec.charge.userId : trade!.seller_id,
        amountFen: feeFen,
        amountText: formatYuan(feeFen),
        code,
      };
    }
    if (rec.royalties) {
      result.royalties = rec.royalties.map((y) => ({
        outAccount: y.outAccount,
        outUserId: y.outUserId,
        inAccount: y.inAccount,
        inUserId: y.inUserId,
        amountFen: y.amountFen,
        amountText: y.amountText ?? formatYuan(y.amountFen),
        code,
      }));
    }
    if (rec.subTrade) {
      result.subTrade = {
        refundFen: rec.subTrade.amountFen,
        refundText: rec.subTrade.amountText ?? formatYuan(rec.subTrade.amountFen),
        refundableFen: 0,
        refundableText: '0.00',
        code,
      };
    }
    results.push(result);
    recordRows.push({
      partner,
      batch_no: batchNo,
      record_no: i + 1,
      trade_no: rec.tradeNo,
      amount_fen: rec.amountFen,
      code,
      succeeded: ok ? 1 : 0,
      amount_text: result.amountText,
      parts_json: partsJson(result),
      processed_at: now,
      dback_status: evaluated.toBankCard ? 'P' : null,
    });
    for (const u of evaluated.unfreezes ?? []) {
      unfreezeRows.push({
        unfreeze_order_no: nextUnfreezeNo(),
        freeze_order_no: u.orderNo,
        partner,
        batch_no: batchNo,
        record_no: i + 1,
        trade_no: rec.tradeNo,
        amount_fen: u.fen,
        processed_at: now,
        status: UNFREEZE_STATUS,
        code: UNFREEZE_CODE,
      });
    }
    if (entries.length > 0) {
      const txn = randomUUID();
      for (const e of entries) {
        entryRows.push({
          txn_id: txn,
          account_id: e.account,
          amount_fen: e.fen,
          kind: e.kind,
          partner,
          batch_no: batchNo,
          trade_no: rec.tradeNo,
          created_at: now,
        });
      }
    }
  }

  const tRules = performance.now();
  // ---- write
  for (const part of chunks(recordRows, 1000))
    await trx.insertInto('sbx_batch_records').values(part).execute();
  for (const part of chunks(entryRows, 2000)) await trx.insertInto('sbx_entries').values(part).execute();
  for (const part of chunks(unfreezeRows, 1000)) await trx.insertInto('sbx_unfreezes').values(part).execute();
  for (const [id, d] of deltas) {
    if (d === 0) continue;
    await trx
      .updateTable('sbx_accounts')
      .set((eb) => ({ balance_fen: eb('balance_fen', '+', d) }))
      .where('account_id', '=', id)
      .execute();
  }
  const resultDetails = encodeResultDetails(results);
  const unfreezedDetails =
    unfreezeRows.length > 0 ? encodeUnfreezedDetails(unfreezeRows.map(unfreezeRecordOf)) : null;
  await trx
    .updateTable('sbx_batches')
    .set({
      status: 'done',
      processed_at: now,
      success_num: successNum,
      result_details: resultDetails,
      unfreezed_details: unfreezedDetails,
    })
    .where('partner', '=', partner)
    .where('batch_no', '=', batchNo)
    .execute();

  const notifications: Enqueued[] = [];
  if (batch.notify_url) {
    const params: Record<string, string> = {
      notify_type: 'batch_refund_notify',
      batch_no: batchNo,
      success_num: String(successNum),
      result_details: resultDetails,
    };
    // use_freeze_amount=Y and frozen funds were released: unfreezed_details, signed like the rest.
    if (unfreezedDetails !== null) params['unfreezed_details'] = unfreezedDetails;
    notifications.push(
      await enqueueNotification(core, trx, use.notify, {
        partner,
        batchNo,
        tradeNo: null,
        kind: 'batch_refund_notify',
        url: batch.notify_url,
        charset,
        signType: batch.sign_type,
        params,
      }),
    );
  }
  if (closedOrPartial.length > 0) {
    const sellerEmails = new Map<string, string | null>();
    for (const part of chunks([...new Set(closedOrPartial.map((c) => c.trade.seller_id))])) {
      for (const a of await trx
        .selectFrom('sbx_accounts')
        .select(['account_id', 'email'])
        .where('account_id', 'in', part)
        .execute()) {
        sellerEmails.set(a.account_id, a.email);
      }
    }
    for (const c of closedOrPartial) {
      if (!c.trade.notify_url) continue;
      const params: Record<string, string> = {
        notify_type: 'trade_status_sync',
        trade_no: c.trade.trade_no,
        trade_status: c.closed ? 'TRADE_CLOSED' : 'TRADE_SUCCESS',
        refund_status: 'REFUND_SUCCESS',
        gmt_refund: formatBeijing(now),
        total_fee: formatYuan(c.trade.amount_fen),
        seller_id: c.trade.seller_id,
      };
      if (c.trade.out_trade_no) params['out_trade_no'] = c.trade.out_trade_no;
      const se = sellerEmails.get(c.trade.seller_id);
      if (se) params['seller_email'] = se;
      if (c.trade.buyer_email) params['buyer_email'] = c.trade.buyer_email;
      notifications.push(
        await enqueueNotification(core, trx, use.notify, {
          partner,
          batchNo,
          tradeNo: c.trade.trade_no,
          kind: 'trade_status_sync',
          url: c.trade.notify_url,
          charset,
          signType: batch.sign_type,
          params,
        }),
      );
    }
  }
  const tEnd = performance.now();
  return {
    partner,
    batchNo,
    recordCount: records.length,
    successNum,
    resultDetails,
    notifications,
    timingsMs: {
      load: Math.round(tLoaded - tStart),
      rules: Math.round(tRules - tLoaded),
      write: Math.round(tEnd - tRules),
    },
  };
}
