/**
 * Loading what the per-record rules of one batch need, in a few set-based queries (chunked `in (…)` lists):
 * the trades and what they have been refunded, their royalties, the balances and emails of every account the
 * records name, the sellers' freeze orders (`use_freeze_amount=Y`), and who signed the partner's protocol.
 */
import type { DetailRecord } from '@alirefund/protocol';
import { type SandboxTrx, chunks } from '../core.js';
import { frozenAccountId } from '../entities.js';
import type { TradeTable } from '../schema.js';
import { refundedSums } from './records.js';

/** A trade as the rules see it. */
export type Trade = Pick<
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

/** Everything loaded for one batch; the maps keyed `trade\0account` are per royalty party of a trade. */
export interface BatchState {
  trades: Map<string, Trade>;
  /** Refunded so far per trade (the rules add each successful record). */
  refunded: Map<string, { fen: number; count: number }>;
  /** Royalty distributed at payment, per `trade\0account`. */
  distributed: Map<string, number>;
  /** Royalty refunded so far, per `trade\0account` (the rules add each successful record). */
  royaltyRefunded: Map<string, number>;
  /** Balance per account id, frozen-fund accounts included. */
  balances: Map<string, number>;
  /** Account id per email (royalty parties named by email). */
  byEmail: Map<string, string>;
  /** Email per account id (the partner, the sellers, royalty parties named by id). */
  emailOf: Map<string, string | null>;
  /** use_freeze_amount=Y: each seller's freeze orders that still hold money, oldest first. */
  freezes: Map<string, Array<{ orderNo: string; account: string }>>;
  /** Accounts that signed the partner's protocol (sign_protocol_with_partner). */
  signed: Set<string>;
}

/** Loads the state the rules of `records` need, inside the processing transaction. */
export async function loadBatchState(
  trx: SandboxTrx,
  partner: string,
  batch: { seller_id: string | null; use_freeze: number },
  records: readonly DetailRecord[],
): Promise<BatchState> {
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
  return { trades, refunded, distributed, royaltyRefunded, balances, byEmail, emailOf, freezes, signed };
}
