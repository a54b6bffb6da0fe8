/**
 * createBatches with `tradesChecked` (the CLI's bulk runs: the whole-file check has just read every trade through
 * `tradeStates`, so createBatches does not read them again): the atomic reservation alone still refuses a trade
 * taken, refunded or capped since the check, with nothing created; and `tradeStates` reads what the checks need.
 */
import { dialectsUnderTest } from '@alirefund/store/testing';
import { describe, expect, it } from 'vitest';
import type { RefundItem } from '../src/services/refunds.js';
import { tradeNo, useStubGateway, useTestServer } from './helpers.js';

const stub = useStubGateway();

describe.each(dialectsUnderTest())('createBatches with tradesChecked on %s', (dialect) => {
  const t = useTestServer(dialect, stub, { batchSize: 50 });

  async function register(n: number): Promise<string[]> {
    const nos = Array.from({ length: n }, () => tradeNo());
    const res = await t.server.services.trades.register(
      nos.map((no) => ({ tradeNo: no, amountFen: 1000 })),
      'test',
    );
    expect(res.issues).toEqual([]);
    return nos;
  }
  const itemsOf = (nos: readonly string[], amountFen = 300): RefundItem[] =>
    nos.map((no) => ({ tradeNo: no, amountFen, reason: '协商退款' }));

  it('tradeStates: registered trades with their balance, open batch and the amount it reserves', async () => {
    const nos = await register(3);
    const other = await t.server.services.refunds.createBatches(itemsOf([nos[1]!], 250), {
      mode: 'nopwd',
      actor: 'other',
      queue: false,
    });
    expect(other.issues).toEqual([]);
    const states = await t.server.services.refunds.tradeStates([...nos, '20240101999999999999']);
    expect(states.size).toBe(3);
    expect(states.get(nos[0]!)).toEqual({
      tradeNo: nos[0],
      partner: t.server.settings.alipay.partner,
      paidFen: 1000,
      refundedFen: 0,
      reservedFen: 0,
      refundCount: 0,
      openBatchNo: null,
      hasRoyalty: false,
    });
    expect(states.get(nos[1]!)).toMatchObject({ openBatchNo: other.batches[0]!.batchNo, reservedFen: 250 });
  });

  it('creates the batches without reading the trades, and the reservation refuses a trade taken since the check', async () => {
    const nos = await register(120);
    // Taken by another batch after the (caller's) check: only the reservation stands in the way.
    const other = await t.server.services.refunds.createBatches(itemsOf([nos[70]!], 100), {
      mode: 'nopwd',
      actor: 'other',
      queue: false,
    });
    expect(other.issues).toEqual([]);
    const refused = await t.server.services.refunds.createBatches(itemsOf(nos), {
      mode: 'nopwd',
      actor: 'bulk',
      queue: false,
      batchSize: 50,
      tradesChecked: true,
    });
    expect(refused.batches).toEqual([]);
    expect(refused.issues.map((i) => [i.index, i.code])).toEqual([[70, 'TRADE_IN_OPEN_BATCH']]);
    const created = await t.server.services.refunds.createBatches(itemsOf(nos.filter((_, i) => i !== 70)), {
      mode: 'nopwd',
      actor: 'bulk',
      queue: false,
      batchSize: 50,
      tradesChecked: true,
    });
    expect(created.issues).toEqual([]);
    expect(created.batches.map((b) => b.recordCount)).toEqual([50, 50, 19]);
  });
});
