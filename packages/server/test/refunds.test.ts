/**
 * Creating batches: SDK validation plus local state (refundable balance, reservations, the 99-refunds cap, open
 * batches), splitting, persistence before sending, cancel and operator resolution.
 */
import { dialectsUnderTest } from '@alirefund/store/testing';
import { describe, expect, it } from 'vitest';
import { tradeNo, useStubGateway, useTestServer } from './helpers.js';

const stub = useStubGateway();

describe.each(dialectsUnderTest())('refund batches on %s', (dialect) => {
  const t = useTestServer(dialect, stub, { batchSize: 50 });

  async function trades(n: number, amountFen = 1000, royalty = false) {
    const nos = Array.from({ length: n }, () => tradeNo());
    const res = await t.server.services.trades.register(
      nos.map((no) => ({
        tradeNo: no,
        amountFen,
        ...(royalty ? { royalties: [{ userId: '2088101122136242', amountFen: 100 }] } : {}),
      })),
      'test',
    );
    expect(res.issues).toEqual([]);
    return nos;
  }

  it('splits a selection into batches of batchSize and persists them (with batch_no) before sending', async () => {
    const nos = await trades(120);
    const res = await t.server.services.refunds.createBatches(
      nos.map((no) => ({ tradeNo: no, amountFen: 100, reason: '退款' })),
      { mode: 'nopwd', actor: 'test', queue: false },
    );
    expect(res.issues).toEqual([]);
    expect(res.batches.map((b) => b.recordCount)).toEqual([50, 50, 20]);
    expect(res.batches.map((b) => [b.groupIndex, b.groupSize])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(new Set(res.batches.map((b) => b.groupId)).size).toBe(1);
    expect(stub.nopwdBatches.filter((b) => res.batches.some((x) => x.batchNo === b))).toEqual([]);
    for (const b of res.batches) {
      expect(b.batchNo).toMatch(/^\d{8}\d{24}$/);
      expect(b.state).toBe('draft');
      expect(b.detailData.split('#')).toHaveLength(b.recordCount);
      expect(b.refundDate.slice(0, 10).replace(/-/g, '')).toBe(b.batchNo.slice(0, 8));
      const stored = await t.server.services.refunds.getBatch(b.batchNo);
      expect(stored!.records).toHaveLength(b.recordCount);
    }
    const t0 = await t.server.services.trades.get(nos[0]!);
    expect(t0).toMatchObject({ openBatchNo: res.batches[0]!.batchNo, reservedFen: 100, refundableFen: 900 });
  });

  it('reports every problem per item and creates nothing', async () => {
    const [a, b, c, d] = await trades(4, 500);
    const busy = await t.server.services.refunds.createBatches(
      [{ tradeNo: d!, amountFen: 100, reason: 'x' }],
      {
        mode: 'nopwd',
        actor: 'test',
        queue: false,
      },
    );
    expect(busy.issues).toEqual([]);
    const res = await t.server.services.refunds.createBatches(
      [
        { tradeNo: a!, amountFen: 600, reason: 'too much' },
        { tradeNo: b!, amountFen: 100, reason: 'bad ^ reason' },
        { tradeNo: '2099000000000001', amountFen: 100, reason: 'unknown' },
        { tradeNo: d!, amountFen: 100, reason: 'already in an open batch' },
        { tradeNo: c!, amountFen: 0, reason: 'zero' },
        { tradeNo: b!, amountFen: 100, reason: 'twice' },
        { tradeNo: 'abc', amountFen: 100, reason: 'malformed' },
      ],
      { mode: 'nopwd', actor: 'test' },
    );
    expect(res.batches).toEqual([]);
    const codes = res.issues.map((i) => [i.index, i.code]);
    expect(codes).toEqual(
      expect.arrayContaining([
        [0, 'EXCEEDS_REFUNDABLE'],
        [1, 'DETAIL_DATA_FORMAT_ERROR'],
        [2, 'TRADE_NOT_FOUND'],
        [3, 'TRADE_IN_OPEN_BATCH'],
        [4, 'INVALID_AMOUNT'],
        [5, 'DUBL_TRADE_NO_IN_SAME_BATCH'],
        [6, 'INVALID_TRADE_NO'],
      ]),
    );
    for (const no of [a, b, c]) expect((await t.server.services.trades.get(no!))!.openBatchNo).toBeNull();
    const batches = await t.server.services.refunds.listBatches();
    expect(batches.total).toBe(1);
  });

  it('refuses a reason longer than 256 bytes and royalty parts in pwd mode', async () => {
    const [a, b] = await trades(2, 1000, true);
    const res = await t.server.services.refunds.createBatches(
      [
        { tradeNo: a!, amountFen: 100, reason: '退'.repeat(90) },
        {
          tradeNo: b!,
          amountFen: 100,
          reason: 'r',
          royalties: [
            {
              outAccount: '',
              outUserId: '2088101122136242',
              inAccount: '',
              inUserId: '2088101122136241',
              amountFen: 50,
              reason: '',
            },
          ],
        },
      ],
      { mode: 'pwd', actor: 'test' },
    );
    expect(res.issues.map((i) => [i.index, i.code])).toEqual([
      [0, 'BATCH_MEMO_LENGTH_EXCEED_LIMIT'],
      [1, 'PWD_REFUND_NOT_ALLOW_ROYALTY'],
    ]);
  });

  it('counts the 99-refunds cap', async () => {
    const [a] = await trades(1);
    await t.database.db
      .updateTable('srv_trades')
      .set({ refund_count: 99 })
      .where('trade_no', '=', a!)
      .execute();
    const res = await t.server.services.refunds.createBatches([{ tradeNo: a!, amountFen: 1, reason: '' }], {
      mode: 'nopwd',
      actor: 'test',
    });
    expect(res.issues.map((i) => i.code)).toEqual(['REFUND_LIMIT_REACHED']);
  });

  it('lets only one of two concurrent selections take a trade', async () => {
    const [a] = await trades(1);
    const attempts = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.server.services.refunds.createBatches([{ tradeNo: a!, amountFen: 700, reason: 'race' }], {
          mode: 'nopwd',
          actor: 'test',
          queue: false,
        }),
      ),
    );
    expect(attempts.filter((r) => r.batches.length === 1)).toHaveLength(1);
    expect(attempts.filter((r) => r.issues.some((i) => i.code === 'TRADE_IN_OPEN_BATCH'))).toHaveLength(5);
  });

  it('cancels a draft, freeing its trades; refuses to cancel a submitted batch', async () => {
    const [a] = await trades(1);
    const res = await t.server.services.refunds.createBatches([{ tradeNo: a!, amountFen: 100, reason: '' }], {
      mode: 'pwd',
      actor: 'test',
    });
    const bn = res.batches[0]!.batchNo;
    const cancelled = await t.server.services.refunds.cancel(bn, 'operator:alice');
    expect(cancelled.state).toBe('cancelled');
    expect((await t.server.services.trades.get(a!))!.openBatchNo).toBeNull();
    const again = await t.server.services.refunds.createBatches(
      [{ tradeNo: a!, amountFen: 100, reason: '' }],
      {
        mode: 'pwd',
        actor: 'test',
      },
    );
    const form = await t.server.services.submission.preparePwd(again.batches[0]!.batchNo, 'operator:alice');
    expect(form.html).toContain('name="batch_no"');
    await expect(t.server.services.refunds.cancel(form.batchNo, 'operator:alice')).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
  });

  it('accepts the raw refund template (batch_num + detail_data) and reports issues by record', async () => {
    const [a, b] = await trades(2);
    const bad = await t.server.services.refunds.createFromDetailData(
      { batchNum: '3', detailData: `${a}^1.00^协商退款#${b}^0.50^理由`, mode: 'pwd' },
      { actor: 'operator:alice' },
    );
    expect(bad.batch).toBeNull();
    expect(bad.issues.map((i) => i.code)).toContain('BATCH_NUM_NOT_EQUAL_TOTAL');
    const ok = await t.server.services.refunds.createFromDetailData(
      { batchNum: '2', detailData: `${a}^1.00^协商退款#${b}^0.50^理由`, mode: 'pwd' },
      { actor: 'operator:alice' },
    );
    expect(ok.issues).toEqual([]);
    expect(ok.batch).toMatchObject({ recordCount: 2, totalFen: 150, state: 'draft', mode: 'pwd' });
  });

  it('lists and searches trades with the refundable amount', async () => {
    const nos = await trades(5, 2000);
    await t.server.services.refunds.createBatches([{ tradeNo: nos[0]!, amountFen: 500, reason: '' }], {
      mode: 'nopwd',
      actor: 'test',
      queue: false,
    });
    const all = await t.server.services.trades.list({ pageSize: 2 });
    expect(all.total).toBe(5);
    expect(all.items).toHaveLength(2);
    const refundable = await t.server.services.trades.list({ status: 'refundable' });
    expect(refundable.total).toBe(4);
    const one = await t.server.services.trades.list({ q: nos[0]!.slice(-6) });
    expect(one.items.map((i) => [i.tradeNo, i.reservedFen, i.refundableFen])).toEqual([[nos[0], 500, 1500]]);
  });

  it('imports paid trades from CSV, all or nothing', async () => {
    const a = tradeNo();
    const b = tradeNo();
    const bad = await t.server.services.trades.importCsv(
      `trade_no,amount,out_trade_no\n${a},12.50,O-1\n${b},abc,O-2\n`,
      'test',
    );
    expect(bad.issues.map((i) => [i.index, i.code])).toEqual([[1, 'INVALID_AMOUNT']]);
    expect(await t.server.services.trades.get(a)).toBeNull();
    const ok = await t.server.services.trades.importCsv(
      `\ufefftrade_no,amount,out_trade_no,subject,royalty\r\n${a},12.50,O-1,"书, 第二版",2088101122136242:1.00\r\n${b},3,O-2,,\r\n`,
      'test',
    );
    expect(ok.issues).toEqual([]);
    expect(ok.created.map((c) => [c.tradeNo, c.paidFen, c.subject, c.hasRoyalty])).toEqual(
      expect.arrayContaining([
        [a, 1250, '书, 第二版', true],
        [b, 300, null, false],
      ]),
    );
  });
});
