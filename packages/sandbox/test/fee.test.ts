/**
 * Fee refunds: a trade may carry the service fee Alipay charged the seller at payment; each refund hands back
 * its pro-rata share (rounded half up, the last refund takes the remainder), reported as the `$` part of
 * result_details whether or not the request asked for it. Notifications verified with the SDK; ledger invariant
 * after each test.
 */
import type { DetailRecord } from '@alirefund/protocol';
import { dialectsUnderTest } from '@alirefund/store/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { EMAIL, type Harness, PARTNER, api, balanceOf, createTrade, refundSuite } from './helpers.js';

interface TradeView {
  status: string;
  fee: string | null;
  feeFen: number | null;
  feeRefundedFen: number | null;
}

describe.each(dialectsUnderTest())('fee refunds (%s)', (dialect) => {
  const suite = refundSuite(dialect);
  let h: Harness;
  beforeAll(() => {
    h = suite.h;
  });
  const refund = async (records: DetailRecord[]) => suite.notification(await suite.submit(records));

  it('pro rata, rounded half up; the last refund hands back the rest; reported without being asked', async () => {
    const t = await createTrade(h, { amount: '100.00', fee: '0.60' });
    expect((await api<TradeView>(h, `/trades/${t}`)).json).toMatchObject({ fee: '0.60', feeRefundedFen: 0 });
    const seller0 = await balanceOf(h, PARTNER);
    const fees0 = await balanceOf(h, 'SYS:FEES');

    // 0.01 of 100.00 → 0.006 → 0.00 (the real notifications show 0.00 for tiny refunds).
    const n0 = await refund([{ tradeNo: t, amountFen: 1, reason: 'tiny' }]);
    expect(n0.resultDetailsText).toBe(`${t}^0.01^SUCCESS$${EMAIL}^${PARTNER}^0.00^SUCCESS`);
    // 30.00 → refunded 30.01 of 100.00 → 0.18006 → 0.18.
    const n1 = await refund([{ tradeNo: t, amountFen: 3000, reason: 'part' }]);
    expect(n1.resultDetailsText).toBe(`${t}^30.00^SUCCESS$${EMAIL}^${PARTNER}^0.18^SUCCESS`);
    expect(n1.resultDetails[0]!.charge).toMatchObject({ amountFen: 18, code: 'SUCCESS' });
    // 33.32 → 63.33 of 100.00 → 0.37998 → 0.38: this one hands back 0.20.
    const n2 = await refund([{ tradeNo: t, amountFen: 3332, reason: 'more' }]);
    expect(n2.resultDetails[0]!.charge?.amountText).toBe('0.20');
    // The rest closes the trade and hands back exactly what is left of the fee: 0.60 − 0.38 = 0.22.
    const n3 = await refund([{ tradeNo: t, amountFen: 3667, reason: 'rest' }]);
    expect(n3.resultDetails[0]!.charge?.amountText).toBe('0.22');
    expect((await api<TradeView>(h, `/trades/${t}`)).json).toMatchObject({
      status: 'TRADE_CLOSED',
      feeRefundedFen: 60,
    });
    // The seller paid 100.00 back and got the 0.60 fee back; SYS:FEES gave it.
    expect(await balanceOf(h, PARTNER)).toBe(seller0 - 10000 + 60);
    expect(await balanceOf(h, 'SYS:FEES')).toBe(fees0 - 60);
  });

  it('a requested $ part names the charged party; failures carry their code and move no fee; no fee, no $ part', async () => {
    const t = await createTrade(h, { amount: '10.00', fee: '1.00' });
    const noFee = await createTrade(h, { amount: '10.00' });
    const closed = await createTrade(h, { amount: '10.00', fee: '1.00', status: 'TRADE_CLOSED' });
    const noFeeAsked = await createTrade(h, { amount: '10.00' });
    const fees0 = await balanceOf(h, 'SYS:FEES');
    const n = await refund([
      {
        tradeNo: t,
        amountFen: 250,
        reason: 'asked',
        charge: { account: 'billing@example.com', userId: '', amountFen: 99, reason: 'fee' },
      },
      { tradeNo: noFee, amountFen: 100, reason: 'no fee' },
      { tradeNo: closed, amountFen: 100, reason: 'closed' },
      {
        tradeNo: noFeeAsked,
        amountFen: 100,
        reason: 'x',
        charge: { account: '', userId: PARTNER, amountFen: 1, reason: 'x' },
      },
    ]);
    expect(n.resultDetailsText.split('#')).toEqual([
      // Alipay computes the amount (0.25 of the 1.00 fee); the request's account is echoed.
      `${t}^2.50^SUCCESS$billing@example.com^^0.25^SUCCESS`,
      `${noFee}^1.00^SUCCESS`,
      `${closed}^1.00^TRADE_HAS_CLOSED$${EMAIL}^${PARTNER}^0.00^TRADE_HAS_CLOSED`,
      // A trade without a fee: a requested $ part is answered 0.00.
      `${noFeeAsked}^1.00^SUCCESS$^${PARTNER}^0.00^SUCCESS`,
    ]);
    expect(await balanceOf(h, 'SYS:FEES')).toBe(fees0 - 25);
  });

  it('seed files: fee is optional, at most the trade amount, and collected into SYS:FEES', async () => {
    const { parseSeed, SeedError } = await import('../src/index.js');
    const trade = {
      tradeNo: '2026011521001004000000000777',
      partner: PARTNER,
      amount: '1.00',
      status: 'TRADE_SUCCESS',
    };
    let problems: string[] = [];
    try {
      parseSeed({ trades: [{ ...trade, fee: '1.01' }] });
    } catch (e) {
      if (e instanceof SeedError) problems = e.problems.map((p) => `${p.path}: ${p.message}`);
    }
    expect(problems).toEqual(['trades[0].fee: is more than the trade amount 1.00']);
    const fees0 = await balanceOf(h, 'SYS:FEES');
    await h.sandbox.seed({ trades: [{ ...trade, fee: '0.05' }] });
    expect(await balanceOf(h, 'SYS:FEES')).toBe(fees0 + 5);
    expect((await api<TradeView>(h, `/trades/${trade.tradeNo}`)).json.feeFen).toBe(5);
    // Seeding again does not collect the fee twice.
    await h.sandbox.seed({ trades: [{ ...trade, fee: '0.05' }] });
    expect(await balanceOf(h, 'SYS:FEES')).toBe(fees0 + 5);
  });
});
