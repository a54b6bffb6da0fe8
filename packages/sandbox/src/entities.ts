/**
 * Creating partners, accounts and paid trades (from a seed file or the admin API), with their opening
 * balances posted to the ledger.
 */
import { randomUUID } from 'node:crypto';
import { parseYuan } from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Core, SandboxTrx } from './core.js';
import type { EntryKind } from './schema.js';
import {
  type AccountSeed,
  type FreezeSeed,
  type PartnerSeed,
  type SandboxSeed,
  SeedError,
  type SeedProblem,
  type SeedSummary,
  type TradeSeed,
} from './seed.js';

/** System account that funds opening balances (its balance is minus everything handed out). */
export const OPENING_ACCOUNT = 'SYS:OPENING';
/** System account standing for every buyer: refunds go there. */
export const BUYERS_ACCOUNT = 'SYS:BUYERS';
/** System account holding the service fees Alipay collected on trades; fee refunds come out of it. */
export const FEES_ACCOUNT = 'SYS:FEES';
/** System account holding 充退 (refunds to bank cards) in progress, until they are settled (S or F). */
export const DBACK_ACCOUNT = 'SYS:DBACK';

/** The ledger account of a freeze order: its balance is what is still frozen. */
export function frozenAccountId(freezeOrderNo: string): string {
  return `FRZ:${freezeOrderNo}`;
}

export function fen(text: string): number {
  const v = parseYuan(text);
  if (v === null) throw new TypeError(`not a yuan amount: ${text}`);
  return v;
}

export async function ensureSystemAccounts(core: Core): Promise<void> {
  for (const id of [OPENING_ACCOUNT, BUYERS_ACCOUNT, FEES_ACCOUNT, DBACK_ACCOUNT]) {
    await core.db
      .insertInto('sbx_accounts')
      .values({ account_id: id, email: null, kind: 'system', balance_fen: 0, created_at: core.now() })
      .onConflict((oc) => oc.column('account_id').doNothing())
      .execute();
  }
}

/** Posts one balanced movement: `from` −amount, `to` +amount, and updates both cached balances. */
export async function postTransfer(
  trx: SandboxTrx,
  t: {
    from: string;
    to: string;
    amountFen: number;
    kind: EntryKind;
    partner?: string | null;
    batchNo?: string | null;
    tradeNo?: string | null;
    at: number;
  },
): Promise<void> {
  if (t.amountFen === 0) return;
  const txn = randomUUID();
  const base = {
    txn_id: txn,
    kind: t.kind,
    partner: t.partner ?? null,
    batch_no: t.batchNo ?? null,
    trade_no: t.tradeNo ?? null,
    created_at: t.at,
  };
  await trx
    .insertInto('sbx_entries')
    .values([
      { ...base, account_id: t.from, amount_fen: -t.amountFen },
      { ...base, account_id: t.to, amount_fen: t.amountFen },
    ])
    .execute();
  await trx
    .updateTable('sbx_accounts')
    .set((eb) => ({ balance_fen: eb('balance_fen', '-', t.amountFen) }))
    .where('account_id', '=', t.from)
    .execute();
  await trx
    .updateTable('sbx_accounts')
    .set((eb) => ({ balance_fen: eb('balance_fen', '+', t.amountFen) }))
    .where('account_id', '=', t.to)
    .execute();
}

/** Freeze order numbers among `orderNos` that already exist. */
export async function existingFreezes(trx: SandboxTrx, orderNos: readonly string[]): Promise<string[]> {
  if (orderNos.length === 0) return [];
  return (
    await trx
      .selectFrom('sbx_freezes')
      .select('freeze_order_no')
      .where('freeze_order_no', 'in', [...orderNos])
      .execute()
  ).map((r) => r.freeze_order_no);
}

/**
 * Creates a freeze order of `owner` and its ledger account, funded from `source`: `opening` (seeds: like every
 * seeded balance, the frozen funds come on top of `balance`) or `balance` (admin API: part of the owner's
 * available balance is frozen). The caller checks that the order number is new and the balance suffices.
 */
export async function insertFreeze(
  trx: SandboxTrx,
  owner: string,
  f: FreezeSeed,
  source: 'opening' | 'balance',
  at: number,
): Promise<void> {
  const account = frozenAccountId(f.freezeOrderNo);
  const amountFen = fen(f.amount);
  await trx
    .insertInto('sbx_freezes')
    .values({ freeze_order_no: f.freezeOrderNo, account_id: owner, amount_fen: amountFen, created_at: at })
    .execute();
  await trx
    .insertInto('sbx_accounts')
    .values({ account_id: account, email: null, kind: 'frozen', balance_fen: 0, created_at: at })
    .execute();
  await postTransfer(trx, {
    from: source === 'opening' ? OPENING_ACCOUNT : owner,
    to: account,
    amountFen,
    kind: source === 'opening' ? 'opening' : 'freeze',
    partner: owner,
    at,
  });
}

/** Inserts a partner (and its account) unless it exists. Returns whether it was created. */
export async function insertPartner(trx: SandboxTrx, p: PartnerSeed, at: number): Promise<boolean> {
  const existing = await trx
    .selectFrom('sbx_partners')
    .select('partner')
    .where('partner', '=', p.partner)
    .executeTakeFirst();
  if (existing) return false;
  await trx
    .insertInto('sbx_partners')
    .values({
      partner: p.partner,
      md5_key: p.key,
      email: p.email,
      payment_password: p.paymentPassword,
      rsa_public_key: p.rsaPublicKey ?? null,
      services: [...new Set(p.services)].join(','),
      created_at: at,
    })
    .execute();
  await trx
    .insertInto('sbx_accounts')
    .values({ account_id: p.partner, email: p.email, kind: 'partner', balance_fen: 0, created_at: at })
    .execute();
  await postTransfer(trx, {
    from: OPENING_ACCOUNT,
    to: p.partner,
    amountFen: fen(p.balance),
    kind: 'opening',
    partner: p.partner,
    at,
  });
  for (const f of p.frozen ?? []) await insertFreeze(trx, p.partner, f, 'opening', at);
  return true;
}

/** Inserts an account unless it exists; records its protocols with `signedWith`. */
export async function insertAccount(
  trx: SandboxTrx,
  a: AccountSeed,
  signedWith: readonly string[],
  at: number,
): Promise<boolean> {
  const existing = await trx
    .selectFrom('sbx_accounts')
    .select('account_id')
    .where('account_id', '=', a.userId)
    .executeTakeFirst();
  if (existing) return false;
  await trx
    .insertInto('sbx_accounts')
    .values({ account_id: a.userId, email: a.email, kind: 'user', balance_fen: 0, created_at: at })
    .execute();
  await postTransfer(trx, {
    from: OPENING_ACCOUNT,
    to: a.userId,
    amountFen: fen(a.balance),
    kind: 'opening',
    at,
  });
  for (const partner of new Set(signedWith)) {
    await trx
      .insertInto('sbx_protocols')
      .values({ partner, user_id: a.userId })
      .onConflict((oc) => oc.columns(['partner', 'user_id']).doNothing())
      .execute();
  }
  return true;
}

/** Resolves an account by user id (wins) or email. */
export async function findAccountId(
  trx: SandboxTrx,
  ref: { userId?: string | undefined; email?: string | undefined },
): Promise<string | undefined> {
  if (ref.userId !== undefined) {
    const r = await trx
      .selectFrom('sbx_accounts')
      .select('account_id')
      .where('account_id', '=', ref.userId)
      .executeTakeFirst();
    return r?.account_id;
  }
  if (ref.email !== undefined) {
    const r = await trx
      .selectFrom('sbx_accounts')
      .select('account_id')
      .where('email', '=', ref.email)
      .executeTakeFirst();
    return r?.account_id;
  }
  return undefined;
}

/**
 * The fee Alipay collected when the trade was paid, funded from the opening account (seeded trades move no
 * money: the seller's balance given is after the fee), so that fee refunds have somewhere to come from.
 */
/** The sbx_trades row of a paid trade (one insert or many). */
function tradeRow(t: TradeSeed, sellerId: string, at: number) {
  return {
    trade_no: t.tradeNo,
    partner: t.partner,
    seller_id: sellerId,
    out_trade_no: t.outTradeNo ?? null,
    buyer_email: t.buyerEmail ?? null,
    amount_fen: fen(t.amount),
    status: t.status,
    notify_url: t.notifyUrl ?? null,
    created_at: at,
    paid_with: t.paidWith ?? 'balance',
    fee_fen: t.fee === undefined ? null : fen(t.fee),
  };
}

async function postFee(trx: SandboxTrx, t: TradeSeed, at: number): Promise<void> {
  if (t.fee === undefined) return;
  await postTransfer(trx, {
    from: OPENING_ACCOUNT,
    to: FEES_ACCOUNT,
    amountFen: fen(t.fee),
    kind: 'opening',
    partner: t.partner,
    tradeNo: t.tradeNo,
    at,
  });
}

/**
 * Inserts a paid trade unless it exists. Cross-references (partner, seller, royalty accounts) must exist;
 * problems are reported with `path` as the JSON path prefix. Trades carry no money movement: the balances
 * given for partners and accounts are the balances after all seeded trades were paid.
 */
export async function insertTrade(
  trx: SandboxTrx,
  t: TradeSeed,
  path: string,
  at: number,
  problems: SeedProblem[],
): Promise<boolean> {
  const existing = await trx
    .selectFrom('sbx_trades')
    .select('trade_no')
    .where('trade_no', '=', t.tradeNo)
    .executeTakeFirst();
  if (existing) return false;
  const partner = await trx
    .selectFrom('sbx_partners')
    .select('partner')
    .where('partner', '=', t.partner)
    .executeTakeFirst();
  if (!partner)
    problems.push({
      path: `${path}.partner`,
      message: `partner ${t.partner} does not exist (add it to partners[])`,
    });
  const sellerId = t.sellerId ?? t.partner;
  if (t.sellerId !== undefined && (await findAccountId(trx, { userId: t.sellerId })) === undefined) {
    problems.push({ path: `${path}.sellerId`, message: `account ${t.sellerId} does not exist` });
  }
  const royalties: Array<{ account: string; fen: number }> = [];
  for (const [i, r] of (t.royalties ?? []).entries()) {
    const id = await findAccountId(trx, r);
    if (id === undefined) {
      problems.push({
        path: `${path}.royalties[${i}].${r.userId !== undefined ? 'userId' : 'email'}`,
        message: `account ${r.userId ?? r.email} does not exist (add it to accounts[])`,
      });
    } else if (royalties.some((x) => x.account === id)) {
      problems.push({
        path: `${path}.royalties[${i}]`,
        message: `account ${id} appears twice in this trade's royalties`,
      });
    } else royalties.push({ account: id, fen: fen(r.amount) });
  }
  if (problems.length > 0) return false;
  await trx
    .insertInto('sbx_trades')
    .values(tradeRow(t, sellerId, at))
    .execute();
  await postFee(trx, t, at);
  for (const r of royalties) {
    await trx
      .insertInto('sbx_trade_royalties')
      .values({ trade_no: t.tradeNo, account_id: r.account, amount_fen: r.fen })
      .execute();
  }
  return true;
}

/**
 * Applies a validated seed in one transaction. Idempotent: existing partners, accounts and trades are left
 * unchanged (and their balances are not funded again).
 * @throws SeedError when a trade refers to a partner or account that does not exist.
 */
export async function applySeed(core: Core, seed: SandboxSeed): Promise<SeedSummary> {
  return withTransaction(core.database, async (trx) => {
    const at = core.now();
    const summary: SeedSummary = {
      partners: [],
      accounts: { created: 0, existing: 0 },
      trades: { created: 0, existing: 0 },
    };
    const problems: SeedProblem[] = [];
    for (const [i, p] of seed.partners.entries()) {
      const partnerExists = await trx
        .selectFrom('sbx_partners')
        .select('partner')
        .where('partner', '=', p.partner)
        .executeTakeFirst();
      if (!partnerExists) {
        const taken = new Set(
          await existingFreezes(
            trx,
            (p.frozen ?? []).map((f) => f.freezeOrderNo),
          ),
        );
        for (const [j, f] of (p.frozen ?? []).entries()) {
          if (taken.has(f.freezeOrderNo))
            problems.push({
              path: `partners[${i}].frozen[${j}].freezeOrderNo`,
              message: `freeze order ${f.freezeOrderNo} already exists`,
            });
        }
        if (taken.size > 0) continue;
      }
      const created = await insertPartner(trx, p, at);
      const row = await trx
        .selectFrom('sbx_partners')
        .select(['email', 'services'])
        .where('partner', '=', p.partner)
        .executeTakeFirstOrThrow();
      summary.partners.push({
        partner: p.partner,
        email: row.email,
        services: row.services.split(',').filter(Boolean),
        created,
      });
    }
    const defaultSigned =
      seed.partners.length > 0
        ? seed.partners.map((p) => p.partner)
        : (await trx.selectFrom('sbx_partners').select('partner').execute()).map((r) => r.partner);
    for (const [i, a] of seed.accounts.entries()) {
      const clash = await trx
        .selectFrom('sbx_accounts')
        .select('account_id')
        .where('email', '=', a.email)
        .executeTakeFirst();
      if (clash && clash.account_id !== a.userId) {
        problems.push({
          path: `accounts[${i}].email`,
          message: `email ${a.email} already belongs to ${clash.account_id}`,
        });
        continue;
      }
      for (const [j, p] of (a.signedWith ?? []).entries()) {
        const exists = await trx
          .selectFrom('sbx_partners')
          .select('partner')
          .where('partner', '=', p)
          .executeTakeFirst();
        if (!exists)
          problems.push({ path: `accounts[${i}].signedWith[${j}]`, message: `partner ${p} does not exist` });
      }
      if ((await insertAccount(trx, a, a.signedWith ?? defaultSigned, at)) === true)
        summary.accounts.created++;
      else summary.accounts.existing++;
    }
    // Trades: existing ones are skipped in one query per chunk; plain trades (no seller/royalty references to
    // check) are inserted in bulk, the others one by one with their references checked.
    const partnersKnown = new Set(
      (await trx.selectFrom('sbx_partners').select('partner').execute()).map((r) => r.partner),
    );
    for (let start = 0; start < seed.trades.length; start += 400) {
      const chunk = seed.trades.slice(start, start + 400);
      const existing = new Set(
        (
          await trx
            .selectFrom('sbx_trades')
            .select('trade_no')
            .where(
              'trade_no',
              'in',
              chunk.map((t) => t.tradeNo),
            )
            .execute()
        ).map((r) => r.trade_no),
      );
      const bulk: TradeSeed[] = [];
      for (const [j, t] of chunk.entries()) {
        const i = start + j;
        if (existing.has(t.tradeNo)) {
          summary.trades.existing++;
          continue;
        }
        if (t.sellerId === undefined && (t.royalties ?? []).length === 0) {
          if (!partnersKnown.has(t.partner)) {
            problems.push({
              path: `trades[${i}].partner`,
              message: `partner ${t.partner} does not exist (add it to partners[])`,
            });
          } else bulk.push(t);
          continue;
        }
        if (await insertTrade(trx, t, `trades[${i}]`, at, problems)) summary.trades.created++;
      }
      if (bulk.length > 0 && problems.length === 0) {
        await trx
          .insertInto('sbx_trades')
          .values(bulk.map((t) => tradeRow(t, t.partner, at)))
          .execute();
        for (const t of bulk) await postFee(trx, t, at);
        summary.trades.created += bulk.length;
      }
    }
    if (problems.length > 0) throw new SeedError(problems);
    return summary;
  });
}
