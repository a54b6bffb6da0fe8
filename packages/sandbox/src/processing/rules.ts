/**
 * The per-record business rules (README "Per-record rules"), each with its code, evaluated record by record:
 * a later record sees the effects of the earlier ones of its batch. A record that passes yields its ledger
 * entries (balanced pairs): royalties back first, frozen funds released, the refund to the buyer (or to
 * SYS:DBACK for a bank-card trade), the fee share back to the seller.
 */
import type { DetailRecord } from '@alirefund/protocol';
import type { Faults } from '../core.js';
import { BUYERS_ACCOUNT, DBACK_ACCOUNT, FEES_ACCOUNT } from '../entities.js';
import type { EntryKind } from '../schema.js';
import type { BatchState, Trade } from './load.js';
import { effectiveStatus, feeRefundedFor } from './records.js';

/** At most this many refunds per trade (nopwd rules §4). */
export const MAX_REFUNDS_PER_TRADE = 99;

export interface EntryDraft {
  account: string;
  fen: number;
  kind: EntryKind;
}

/** The verdict on one record. */
export interface Evaluated {
  code: string;
  entries: EntryDraft[];
  /** Frozen funds released for this record, per freeze order. */
  unfreezes?: Array<{ orderNo: string; fen: number }>;
  /** The fee handed back (trades with a fee). */
  feeFen?: number;
  /** The refund went back to the buyer's bank card (充退), in progress. */
  toBankCard?: boolean;
}

/** What the batch's successful records did, beyond their entries. */
export interface BatchEffects {
  /** Balance change per account. */
  deltas: Map<string, number>;
  /** Trades refunded (for trade_status_sync), and whether the refund closed them. */
  closedOrPartial: Array<{ trade: Trade; refundFen: number; closed: boolean }>;
}

export interface RuleContext {
  partner: string;
  batch: { locked: number; seller_id: string | null };
  /** The live fault settings (`forceCodes`). */
  faults: Faults;
  /** Index in `faults.forceCodes` → times used by this batch (committed after the transaction). */
  forced: Map<number, number>;
}

/** The rules over `state` (which they update as records succeed); `evaluate` one record after the other. */
export function recordRules(
  ctx: RuleContext,
  state: BatchState,
): { evaluate(rec: DetailRecord): Evaluated; effects: BatchEffects } {
  const { partner, batch, forced } = ctx;
  const { trades, refunded, distributed, royaltyRefunded, balances, byEmail, freezes, signed } = state;
  const resolve = (userId: string, email: string): string | undefined => {
    if (userId !== '') return balances.has(userId) ? userId : undefined;
    return byEmail.get(email);
  };
  const isSignedWith = (id: string) => id === partner || signed.has(id);
  const deltas = new Map<string, number>();
  const bal = (id: string) => (balances.get(id) ?? 0) + (deltas.get(id) ?? 0);
  const closedOrPartial: BatchEffects['closedOrPartial'] = [];

  const evaluate = (rec: DetailRecord): Evaluated => {
    const fail = (code: string): Evaluated => ({ code, entries: [] });
    const forcedIdx = ctx.faults.forceCodes.findIndex(
      (fc, i) => fc.tradeNo === rec.tradeNo && fc.times - (forced.get(i) ?? 0) > 0,
    );
    if (forcedIdx >= 0) {
      forced.set(forcedIdx, (forced.get(forcedIdx) ?? 0) + 1);
      return fail(ctx.faults.forceCodes[forcedIdx]!.code);
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
  return { evaluate, effects: { deltas, closedOrPartial } };
}
