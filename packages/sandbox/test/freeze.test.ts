/**
 * Frozen funds and `unfreezed_details`: freeze orders from the seed file and the admin API, nopwd refunds with
 * `use_freeze_amount=Y` releasing them (oldest first, then the available balance), the notification verified
 * with the SDK and its `unfreezed_details` decoded with the SDK codec, the query reply, and the ledger invariant
 * after each test.
 */
import {
  type DetailRecord,
  type UnfreezeRecord,
  buildRefundQuery,
  decodeUnfreezedDetails,
  formatBeijing,
  sendRefundQuery,
} from '@alirefund/protocol';
import { dialectsUnderTest } from '@alirefund/store/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  OTHER_PARTNER,
  PARTNER,
  api,
  balanceOf,
  baseSeed,
  createTrade,
  formOf,
  refundSuite,
} from './helpers.js';

interface BatchView {
  status: string;
  successNum: number | null;
  useFreezeAmount: boolean;
  resultDetails: string | null;
  unfreezedDetails: string | null;
  records: Array<{ tradeNo: string; code: string }>;
  notifications: Array<{ status: string; kind: string; params: Record<string, string> }>;
}

interface FreezeView {
  freezeOrderNo: string;
  partner: string;
  amountFen: number;
  leftFen: number;
  releases: Array<UnfreezeRecord & { batchNo: string }>;
}

/** The base seed with two freeze orders for PARTNER (on top of its balance). */
function freezeSeed() {
  const seed = baseSeed();
  return {
    ...seed,
    partners: seed.partners.map((p, i) =>
      i === 0
        ? {
            ...p,
            frozen: [
              { freezeOrderNo: 'FRZ-A-001', amount: '30.00' },
              { freezeOrderNo: 'FRZ-A-002', amount: '20.00' },
            ],
          }
        : p,
    ),
  };
}

describe.each(dialectsUnderTest())('frozen funds and unfreezed_details (%s)', (dialect) => {
  /** The raw parameters of each verified notification, by batch_no. */
  const rawParams = new Map<string, Record<string, string>>();
  const suite = refundSuite(dialect, {
    seed: freezeSeed(),
    onVerified: async (n, r) => {
      rawParams.set(n.batchNo, await formOf(r));
    },
  });
  const { notified } = suite;
  let h: Harness;
  beforeAll(() => {
    h = suite.h;
  });

  async function submit(
    records: DetailRecord[],
    opts: { freeze?: boolean; partner?: string } = {},
  ): Promise<string> {
    const req = suite.request(records, {
      ...(opts.partner === undefined ? {} : { partner: opts.partner }),
      ...(opts.freeze === undefined ? {} : { useFreezeAmount: opts.freeze }),
    });
    if (opts.freeze) expect(req.params['use_freeze_amount']).toBe('Y');
    return suite.send(req);
  }
  const batch = (batchNo: string, partner = PARTNER) => suite.batch<BatchView>(batchNo, partner);

  async function freezes(partner: string): Promise<Map<string, FreezeView>> {
    const { json } = await api<{ freezes: FreezeView[] }>(h, `/freezes?partner=${partner}`);
    return new Map(json.freezes.map((f) => [f.freezeOrderNo, f]));
  }

  it('seeded freeze orders: a use_freeze_amount=Y refund releases them oldest first and reports unfreezed_details', async () => {
    const f0 = await freezes(PARTNER);
    expect([...f0.values()].map((f) => [f.freezeOrderNo, f.amountFen, f.leftFen])).toEqual([
      ['FRZ-A-001', 3000, 3000],
      ['FRZ-A-002', 2000, 2000],
    ]);
    const p0 = (await api<{ frozenFen: number; balanceFen: number }>(h, `/partners/${PARTNER}`)).json;
    expect(p0.frozenFen).toBe(5000);
    const t1 = await createTrade(h, { amount: '100.00' });
    const t2 = await createTrade(h, { amount: '10.00' });
    const closed = await createTrade(h, { status: 'TRADE_CLOSED' });
    const before = await balanceOf(h, PARTNER);

    const b = await submit(
      [
        { tradeNo: t1, amountFen: 4000, reason: '冻结退款' },
        { tradeNo: closed, amountFen: 100, reason: 'fails: nothing unfrozen' },
        { tradeNo: t2, amountFen: 500, reason: 'second' },
      ],
      { freeze: true },
    );
    const v = await batch(b);
    expect(v.useFreezeAmount).toBe(true);
    expect(v.records.map((r) => r.code)).toEqual(['SUCCESS', 'TRADE_HAS_CLOSED', 'SUCCESS']);

    // The notification passed the SDK's verification (sign + notify_verify) and carries the 7-field records.
    const n = notified.get(b)!;
    expect(n.successNum).toBe(2);
    expect(n.resultDetailsText).toBe(
      `${t1}^40.00^SUCCESS#${closed}^1.00^TRADE_HAS_CLOSED#${t2}^5.00^SUCCESS`,
    );
    const summary = (u: UnfreezeRecord) => [
      u.freezeOrderNo,
      u.amountFen,
      u.amountText,
      u.tradeNo,
      u.status,
      u.code,
    ];
    expect(n.unfreezedDetails?.map(summary)).toEqual([
      ['FRZ-A-001', 3000, '30.00', t1, 'S', 'SUCCESS'],
      ['FRZ-A-002', 1000, '10.00', t1, 'S', 'SUCCESS'],
      ['FRZ-A-002', 500, '5.00', t2, 'S', 'SUCCESS'],
    ]);
    // The raw parameter, decoded by the SDK codec, is what the batch stored; it was part of the signed string
    // (verifyNotification checked the sign over every parameter it received).
    const raw = rawParams.get(b)!;
    expect(raw['unfreezed_details']).toBe(v.unfreezedDetails);
    const decoded = decodeUnfreezedDetails(raw['unfreezed_details']!);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const stamp = formatBeijing(h.sandbox.now()).slice(0, 10);
    for (const u of decoded.value) {
      expect(u.unfreezeOrderNo).toMatch(/^\d{24}$/);
      expect(u.processedAt).toMatch(new RegExp(`^${stamp} \\d{2}:\\d{2}:\\d{2}$`));
    }
    expect(new Set(decoded.value.map((u) => u.unfreezeOrderNo)).size).toBe(3);

    // Money: 45.00 refunded, all of it out of the frozen funds; the available balance did not move.
    expect(await balanceOf(h, PARTNER)).toBe(before);
    const f1 = await freezes(PARTNER);
    expect(f1.get('FRZ-A-001')!.leftFen).toBe(0);
    expect(f1.get('FRZ-A-002')!.leftFen).toBe(500);
    expect(f1.get('FRZ-A-002')!.releases.map((r) => [r.batchNo, r.amountFen])).toEqual([
      [b, 1000],
      [b, 500],
    ]);
    expect(await balanceOf(h, 'FRZ:FRZ-A-001')).toBe(0);

    // Frozen funds run out half-way: 5.00 from FRZ-A-002, the other 15.00 from the available balance.
    const t3 = await createTrade(h, { amount: '50.00' });
    const b2 = await submit([{ tradeNo: t3, amountFen: 2000, reason: 'part frozen' }], { freeze: true });
    await batch(b2);
    expect(notified.get(b2)!.unfreezedDetails?.map(summary)).toEqual([
      ['FRZ-A-002', 500, '5.00', t3, 'S', 'SUCCESS'],
    ]);
    expect(await balanceOf(h, PARTNER)).toBe(before - 1500);
    expect((await freezes(PARTNER)).get('FRZ-A-002')!.leftFen).toBe(0);

    // Nothing frozen any more: Y is accepted and unfreezed_details is absent.
    const t4 = await createTrade(h);
    const b3 = await submit([{ tradeNo: t4, amountFen: 100, reason: 'no frozen funds' }], { freeze: true });
    await batch(b3);
    expect(notified.get(b3)!.unfreezedDetails).toBeUndefined();
    expect(rawParams.get(b3)!).not.toHaveProperty('unfreezed_details');
  });

  it('admin freeze from the balance; without use_freeze_amount=Y frozen funds are untouched and do not count', async () => {
    // OTHER_PARTNER holds 100.00: freeze 60.00 of it.
    const bad = await api(h, `/partners/${OTHER_PARTNER}/freezes`, {
      body: { freezeOrderNo: 'FRZ-B-001', amount: '100.01' },
    });
    expect(bad.status).toBe(400);
    const made = await api(h, `/partners/${OTHER_PARTNER}/freezes`, {
      body: { freezeOrderNo: 'FRZ-B-001', amount: '60.00' },
    });
    expect(made.status).toBe(201);
    const dup = await api(h, `/partners/${OTHER_PARTNER}/freezes`, {
      body: { freezeOrderNo: 'FRZ-B-001', amount: '1.00' },
    });
    expect(dup.status).toBe(409);
    const badNo = await api(h, `/partners/${OTHER_PARTNER}/freezes`, {
      body: { freezeOrderNo: 'a^b', amount: '1.00' },
    });
    expect(badNo.status).toBe(400);
    expect(
      (await api(h, '/partners/2088999999999999/freezes', { body: { freezeOrderNo: 'X1', amount: '1.00' } }))
        .status,
    ).toBe(404);
    expect(await balanceOf(h, OTHER_PARTNER)).toBe(4000);
    expect((await freezes(OTHER_PARTNER)).get('FRZ-B-001')).toMatchObject({ amountFen: 6000, leftFen: 6000 });

    const big = await createTrade(h, { partner: OTHER_PARTNER, amount: '200.00' });
    // Without Y, only the available 40.00 counts.
    const n1 = await submit([{ tradeNo: big, amountFen: 5000, reason: 'N' }], { partner: OTHER_PARTNER });
    expect((await batch(n1, OTHER_PARTNER)).records[0]!.code).toBe('SELLER_BALANCE_NOT_ENOUGH');
    expect(rawParams.get(n1)!).not.toHaveProperty('unfreezed_details');
    const explicitN = await submit([{ tradeNo: big, amountFen: 1000, reason: 'explicit N' }], {
      partner: OTHER_PARTNER,
      freeze: false,
    });
    expect((await batch(explicitN, OTHER_PARTNER)).records[0]!.code).toBe('SUCCESS');
    expect(notified.get(explicitN)!.unfreezedDetails).toBeUndefined();
    expect(await balanceOf(h, OTHER_PARTNER)).toBe(3000);
    expect((await freezes(OTHER_PARTNER)).get('FRZ-B-001')!.leftFen).toBe(6000);

    // With Y: 30.00 available + 60.00 frozen cover 90.00 (60.00 released first); 90.01 would not.
    const tooMuch = await submit([{ tradeNo: big, amountFen: 9001, reason: 'Y, too much' }], {
      partner: OTHER_PARTNER,
      freeze: true,
    });
    expect((await batch(tooMuch, OTHER_PARTNER)).records[0]!.code).toBe('SELLER_BALANCE_NOT_ENOUGH');
    expect(notified.get(tooMuch)!.unfreezedDetails).toBeUndefined();
    const y = await submit([{ tradeNo: big, amountFen: 9000, reason: 'Y' }], {
      partner: OTHER_PARTNER,
      freeze: true,
    });
    expect((await batch(y, OTHER_PARTNER)).records[0]!.code).toBe('SUCCESS');
    expect(notified.get(y)!.unfreezedDetails?.map((u) => [u.freezeOrderNo, u.amountFen, u.tradeNo])).toEqual([
      ['FRZ-B-001', 6000, big],
    ]);
    expect(await balanceOf(h, OTHER_PARTNER)).toBe(0);
    expect((await freezes(OTHER_PARTNER)).get('FRZ-B-001')!.leftFen).toBe(0);
  });

  it('refund_fastpay_query returns the unfreezed_details of the records it finds', async () => {
    const made = await api(h, `/partners/${PARTNER}/freezes`, {
      body: { freezeOrderNo: 'FRZ-Q-001', amount: '7.00' },
    });
    expect(made.status).toBe(201);
    const t = await createTrade(h);
    const b = await submit([{ tradeNo: t, amountFen: 300, reason: 'q' }], { freeze: true });
    await batch(b);
    const cfg = suite.config('/unused');
    const byBatch = await sendRefundQuery(buildRefundQuery(cfg, { batchNo: b }), cfg);
    expect(byBatch.status).toBe('found');
    if (byBatch.status !== 'found') return;
    expect(byBatch.records.map((r) => [r.batchNo, r.tradeNo, r.code])).toEqual([[b, t, 'SUCCESS']]);
    expect(byBatch.unfreezed?.map((u) => [u.freezeOrderNo, u.amountFen, u.tradeNo])).toEqual([
      ['FRZ-Q-001', 300, t],
    ]);
    const sentNo = notified.get(b)!.unfreezedDetails?.[0]?.unfreezeOrderNo;
    expect(sentNo).toMatch(/^\d{24}$/);
    expect(byBatch.unfreezed?.[0]?.unfreezeOrderNo).toBe(sentNo);
    // A trade refunded without frozen funds: no unfreezed_details in the reply.
    const plain = await createTrade(h);
    const b2 = await submit([{ tradeNo: plain, amountFen: 100, reason: 'plain' }]);
    await batch(b2);
    const byTrade = await sendRefundQuery(buildRefundQuery(cfg, { tradeNo: plain }), cfg);
    expect(byTrade.status === 'found' && byTrade.unfreezed).toBeUndefined();
    expect(byTrade.status === 'found' && byTrade.body).not.toContain('unfreezed_details');
  });

  it('seed files: frozen is optional, validated, and a freeze order number is used once', async () => {
    const { parseSeed, SeedError } = await import('../src/index.js');
    // An existing seed without the new fields still loads.
    expect(() => parseSeed(baseSeed())).not.toThrow();
    const twice = freezeSeed();
    twice.partners[1] = {
      ...twice.partners[1]!,
      frozen: [{ freezeOrderNo: 'FRZ-A-001', amount: '1.00' }],
    } as never;
    let problems: string[] = [];
    try {
      parseSeed(twice);
    } catch (e) {
      if (e instanceof SeedError) problems = e.problems.map((p) => `${p.path}: ${p.message}`);
    }
    expect(problems).toEqual([
      expect.stringMatching(
        /^partners\[1\]\.frozen\[0\]\.freezeOrderNo: freezeOrderNo FRZ-A-001 is already used/,
      ),
    ]);
    // A new partner whose freeze order number exists in the database is refused, naming the path.
    await expect(
      h.sandbox.seed({
        partners: [
          {
            partner: '2088505566670685',
            key: 'frozenfrozenfrozenfrozenfrozen12',
            email: 'frozen@example.com',
            paymentPassword: 'frozen-pass',
            balance: '1.00',
            services: ['refund_fastpay_by_platform_nopwd'],
            frozen: [{ freezeOrderNo: 'FRZ-A-002', amount: '1.00' }],
          },
        ],
      }),
    ).rejects.toThrow(/partners\[0\]\.frozen\[0\]\.freezeOrderNo: freeze order FRZ-A-002 already exists/);
    // Seeding the same file again is idempotent: the freeze orders are not funded twice.
    const summary = await h.sandbox.seed(freezeSeed());
    expect(summary.partners[0]!.created).toBe(false);
    expect((await freezes(PARTNER)).get('FRZ-A-001')!.amountFen).toBe(3000);
  });
});
