/**
 * createBatches' reservation, set-based: every trade of a selection is taken by one conditional UPDATE per chunk
 * of records, and the selection is created entirely or not at all. These tests change the database between the
 * selection's check (plan) and its persistence, as a concurrent writer would, so that only the reservation
 * itself stands between the selection and a double refund: a trade taken by another open batch, refunded in the
 * meantime (over-refund) or at the 99-refunds cap must be refused, with nothing created. They also check that
 * the batches createBatches returns (built from memory, not reloaded) are what getBatch reads back.
 */
import { dialectsUnderTest } from '@alirefund/store/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { createRefundService, type RefundItem, type RefundService } from '../src/services/refunds.js';
import type { TradeService } from '../src/services/trades.js';
import { tradeNo, useStubGateway, useTestServer } from './helpers.js';

const stub = useStubGateway();

const PAID_FEN = 1000;

describe.each(dialectsUnderTest())('createBatches reservation on %s', (dialect) => {
  const t = useTestServer(dialect, stub, { batchSize: 50 });
  /** Runs once, right after the selection was checked against the trades (before anything is persisted). */
  let afterCheck: (() => Promise<void>) | null = null;
  /** A refund service whose trade lookups let the test act as a concurrent writer. */
  let refunds: RefundService;

  beforeEach(() => {
    const real = t.server.services.trades;
    const trades: TradeService = {
      ...real,
      async getMany(nos, db) {
        const found = await real.getMany(nos, db);
        const f = afterCheck;
        afterCheck = null;
        if (f) await f();
        return found;
      },
    };
    const settings = t.server.settings;
    refunds = createRefundService(
      {
        database: t.database,
        settings,
        config: settings.alipay,
        clock: Date.now,
        log: silentLogger,
        fetch,
      },
      t.server.services.audit,
      trades,
      { batchesQueued: () => {} },
    );
  });
  afterEach(() => {
    afterCheck = null;
  });

  async function register(n: number): Promise<string[]> {
    const nos = Array.from({ length: n }, () => tradeNo());
    const res = await t.server.services.trades.register(
      nos.map((no) => ({ tradeNo: no, amountFen: PAID_FEN })),
      'test',
    );
    expect(res.issues).toEqual([]);
    return nos;
  }

  const itemsOf = (nos: readonly string[], amountFen = 300): RefundItem[] =>
    nos.map((no) => ({ tradeNo: no, amountFen, reason: '协商退款' }));

  /** What the database holds for `nos`: batches by `actor`, records and reservations. */
  async function footprint(nos: readonly string[], actor: string) {
    const batches = await t.database.db
      .selectFrom('srv_batches')
      .select('batch_no')
      .where('created_by', '=', actor)
      .execute();
    const records = await t.database.db
      .selectFrom('srv_batch_records')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('trade_no', 'in', [...nos])
      .executeTakeFirstOrThrow();
    const reserved = await t.database.db
      .selectFrom('srv_trades')
      .select(['trade_no', 'open_batch_no'])
      .where('trade_no', 'in', [...nos])
      .where('open_batch_no', 'is not', null)
      .execute();
    return { batches: batches.length, records: Number(records.n), reserved };
  }

  // 1,200 trades in batches of 1,000: two batches, the first over two reservation chunks.
  const cases: Array<{ name: string; victim: number }> = [
    { name: 'in the first chunk of the first batch', victim: 0 },
    { name: 'in the second chunk of the first batch', victim: 777 },
    { name: 'in the second batch', victim: 1199 },
  ];

  for (const { name, victim } of cases) {
    it(`refuses a trade taken by another open batch meanwhile (${name}); creates nothing`, async () => {
      const nos = await register(1200);
      let other = '';
      afterCheck = async () => {
        const res = await t.server.services.refunds.createBatches(itemsOf([nos[victim]!], 100), {
          mode: 'nopwd',
          actor: 'other',
          queue: false,
        });
        expect(res.issues).toEqual([]);
        other = res.batches[0]!.batchNo;
      };
      const res = await refunds.createBatches(itemsOf(nos), {
        mode: 'nopwd',
        actor: 'bulk',
        queue: false,
        batchSize: 1000,
      });
      expect(res.batches).toEqual([]);
      expect(res.issues).toEqual([
        {
          index: victim,
          field: 'tradeNo',
          code: 'TRADE_IN_OPEN_BATCH',
          message: `trade ${nos[victim]} was just taken by another batch or refunded; reload and try again`,
        },
      ]);
      const fp = await footprint(nos, 'bulk');
      expect(fp.batches).toBe(0);
      expect(fp.records).toBe(1); // the other batch's record
      expect(fp.reserved).toEqual([{ trade_no: nos[victim], open_batch_no: other }]);
    });
  }

  /**
   * Registers `n` trades, changes trade `victim` with `change` between the check and the persistence, and expects
   * the selection (in batches of `batchSize`) refused at `victim` with nothing created.
   */
  async function expectRefusedWhenChangedMeanwhile(
    n: number,
    victim: number,
    change: { refunded_fen?: number; refund_count: number; status?: 'partially_refunded' },
    batchSize: number,
  ) {
    const nos = await register(n);
    afterCheck = async () => {
      await t.database.db
        .updateTable('srv_trades')
        .set(change)
        .where('trade_no', '=', nos[victim]!)
        .execute();
    };
    const res = await refunds.createBatches(itemsOf(nos), {
      mode: 'nopwd',
      actor: 'bulk',
      queue: false,
      batchSize,
    });
    expect(res.batches).toEqual([]);
    expect(res.issues.map((i) => [i.index, i.code])).toEqual([[victim, 'TRADE_IN_OPEN_BATCH']]);
    expect(await footprint(nos, 'bulk')).toEqual({ batches: 0, records: 0, reserved: [] });
  }

  it('refuses a trade refunded meanwhile so that the amount would exceed what is left (over-refund)', async () => {
    // 300 fen asked; 701 refunded meanwhile leaves 299.
    const change = { refunded_fen: PAID_FEN - 299, refund_count: 1, status: 'partially_refunded' } as const;
    await expectRefusedWhenChangedMeanwhile(600, 555, change, 1000);
  });

  it('refuses a trade that reached the 99-refunds cap meanwhile', async () => {
    await expectRefusedWhenChangedMeanwhile(30, 12, { refund_count: 99 }, 10);
  });

  it('takes a trade whose remaining amount is exactly the refund, and one with 98 refunds', async () => {
    const nos = await register(3);
    afterCheck = async () => {
      await t.database.db
        .updateTable('srv_trades')
        .set({ refunded_fen: PAID_FEN - 300, refund_count: 1, status: 'partially_refunded' })
        .where('trade_no', '=', nos[0]!)
        .execute();
      await t.database.db
        .updateTable('srv_trades')
        .set({ refund_count: 98 })
        .where('trade_no', '=', nos[1]!)
        .execute();
    };
    const res = await refunds.createBatches(itemsOf(nos), { mode: 'nopwd', actor: 'bulk', queue: false });
    expect(res.issues).toEqual([]);
    const fp = await footprint(nos, 'bulk');
    expect(fp.batches).toBe(1);
    expect(fp.reserved.map((r) => r.open_batch_no)).toEqual([1, 2, 3].map(() => res.batches[0]!.batchNo));
  });

  it('lets exactly one of two concurrent overlapping selections (1,000 trades each) take the trades', async () => {
    const nos = await register(1500);
    const a = nos.slice(0, 1000);
    const b = nos.slice(500, 1500).reverse();
    const [ra, rb] = await Promise.all([
      t.server.services.refunds.createBatches(itemsOf(a), {
        mode: 'nopwd',
        actor: 'a',
        queue: false,
        batchSize: 250,
      }),
      t.server.services.refunds.createBatches(itemsOf(b), {
        mode: 'nopwd',
        actor: 'b',
        queue: false,
        batchSize: 250,
      }),
    ]);
    const winners = [ra, rb].filter((r) => r.batches.length > 0);
    const losers = [ra, rb].filter((r) => r.batches.length === 0);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]!.issues).toHaveLength(1);
    expect(losers[0]!.issues[0]!.code).toBe('TRADE_IN_OPEN_BATCH');
    const [winner, loserActor, won] = ra.batches.length > 0 ? ['a', 'b', a] : ['b', 'a', b];
    expect((await footprint(nos, loserActor)).batches).toBe(0);
    const fp = await footprint(nos, winner);
    expect(fp.batches).toBe(4);
    expect(fp.records).toBe(1000);
    expect(new Set(fp.reserved.map((r) => r.trade_no))).toEqual(new Set(won));
    // Each trade is reserved by the batch that carries it.
    const carriers = await t.database.db
      .selectFrom('srv_batch_records as r')
      .innerJoin('srv_trades as t', 't.trade_no', 'r.trade_no')
      .select(['r.batch_no', 't.open_batch_no'])
      .where('r.trade_no', 'in', won)
      .execute();
    expect(carriers.every((c) => c.batch_no === c.open_batch_no)).toBe(true);
  });

  it('returns the created batches exactly as getBatch reads them back', async () => {
    const nos = Array.from({ length: 7 }, () => tradeNo());
    const reg = await t.server.services.trades.register(
      nos.map((no, i) => ({
        tradeNo: no,
        amountFen: PAID_FEN,
        ...(i % 2 === 0 ? { royalties: [{ userId: '2088101122136242', amountFen: 100 }] } : {}),
      })),
      'test',
    );
    expect(reg.issues).toEqual([]);
    const items: RefundItem[] = nos.map((no, i) => ({
      tradeNo: no,
      amountFen: 100 + i,
      reason: i === 3 ? '' : `退款 ${i}`,
      ...(i % 2 === 0
        ? {
            royalties: [
              {
                outAccount: '',
                outUserId: '2088101122136242',
                inAccount: '',
                inUserId: '2088101122136241',
                amountFen: 10,
                reason: '分润',
              },
            ],
          }
        : {}),
    }));
    const nopwd = await t.server.services.refunds.createBatches(items, {
      mode: 'nopwd',
      actor: 'test-nopwd',
      queue: false,
      batchSize: 3,
    });
    expect(nopwd.issues).toEqual([]);
    expect(nopwd.batches.map((b) => b.recordCount)).toEqual([3, 3, 1]);
    expect(nopwd.batches[0]!.records[0]!.royalties).toHaveLength(1);
    for (const b of nopwd.batches) {
      expect(await t.server.services.refunds.getBatch(b.batchNo)).toEqual(b);
      await t.server.services.refunds.cancel(b.batchNo, 'test');
    }
    const pwd = await t.server.services.refunds.createBatches(
      items.map(({ royalties: _r, ...rest }) => rest),
      { mode: 'pwd', actor: 'test-pwd', queue: false, batchSize: 4 },
    );
    expect(pwd.issues).toEqual([]);
    expect(pwd.batches.map((b) => b.recordCount)).toEqual([4, 3]);
    for (const b of pwd.batches) expect(await t.server.services.refunds.getBatch(b.batchNo)).toEqual(b);
  });
});
