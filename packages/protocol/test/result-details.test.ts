import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FEN, formatYuan, parseYuan } from '../src/amount.js';
import { MAX_ISSUES } from '../src/issues.js';
import {
  RESULT_DETAILS_FORMAT_ERROR,
  type ResultCharge,
  type ResultRecord,
  type ResultRoyalty,
  type ResultSubTrade,
  type UnfreezeRecord,
  decodeResultDetails,
  decodeUnfreezedDetails,
  encodeResultDetails,
  encodeUnfreezedDetails,
} from '../src/result-details.js';

interface VectorRecord {
  tradeNo: string;
  amount: string;
  code: string;
  toBankCard?: boolean;
  bankCardStatus?: 'S' | 'F' | 'P' | null;
  charge?: { account: string; userId: string; amount: string; code: string };
}
const vectors = JSON.parse(readFileSync(new URL('../../../spec/vectors.json', import.meta.url), 'utf8')) as {
  result_details: Array<{ text: string; records: VectorRecord[] }>;
};

function fen(text: string): number {
  const f = parseYuan(text);
  if (f === null) throw new Error(`bad amount ${text}`);
  return f;
}

function decodeOk(text: string, withBatchNo = false): ResultRecord[] {
  const d = decodeResultDetails(text, { withBatchNo });
  if (!d.ok) expect(d.issues).toEqual([]);
  return d.ok ? d.value : [];
}

function triples(text: string, withBatchNo = false): Array<[string, number | null, string]> {
  const d = decodeResultDetails(text, { withBatchNo });
  expect(d.ok).toBe(false);
  return d.ok ? [] : d.issues.map((i) => [i.code, i.record, i.field]);
}

const E = RESULT_DETAILS_FORMAT_ERROR;

describe('result_details vectors (vectors.json)', () => {
  it.each(vectors.result_details.map((v) => [v.text, v] as const))('%s', (text, v) => {
    const expected: ResultRecord[] = v.records.map((r) => {
      const rec: ResultRecord = {
        tradeNo: r.tradeNo,
        amountFen: fen(r.amount),
        amountText: r.amount,
        code: r.code,
        succeeded: r.code === 'SUCCESS',
      };
      if (r.toBankCard !== undefined) rec.toBankCard = r.toBankCard;
      if (r.bankCardStatus !== undefined) rec.bankCardStatus = r.bankCardStatus;
      if (r.charge) {
        const { account, userId, amount, code } = r.charge;
        rec.charge = { account, userId, amountFen: fen(amount), amountText: amount, code };
      }
      return rec;
    });
    const value = decodeOk(text);
    expect(value).toEqual(expected);
    expect(encodeResultDetails(value)).toBe(text);
  });
});

describe('protocol.md §5.2 examples', () => {
  const examples = [
    '2010031906272929^80^SUCCESS$jax_chuanhang@alipay.com^2088101003147483^0.01^SUCCESS',
    '2010031206252779^10.00^NOT_THIS_PARTNERS_TRADE',
    '2013091142096412^0.01^SUCCESS$bycoa@10106266.com^2088101964737404^0.00^SUCCESS',
    '2015042100001000760048511054^1.00^SUCCESS$cnonlinegroup@lanecrawford.com^2088711824364505^0.01^SUCCESS',
    '2017051221001004460213417006^0.01^TRADE_HAS_CLOSED',
    '2013070475489027^0.01^SUCCESS^true^P$alipay-test12@alipay.com^2088201564809153^0.00^SUCCESS',
    '2016052621001004180237340740^0.10^SUCCESS',
  ];

  it.each(examples)('%s round-trips', (text) => {
    const value = decodeOk(text);
    expect(value).toHaveLength(1);
    expect(encodeResultDetails(value)).toBe(text);
  });

  it('all examples joined by "#" decode in order', () => {
    const value = decodeOk(examples.join('#'));
    expect(value.map((r) => [r.tradeNo, r.amountText, r.code, r.succeeded])).toEqual([
      ['2010031906272929', '80', 'SUCCESS', true],
      ['2010031206252779', '10.00', 'NOT_THIS_PARTNERS_TRADE', false],
      ['2013091142096412', '0.01', 'SUCCESS', true],
      ['2015042100001000760048511054', '1.00', 'SUCCESS', true],
      ['2017051221001004460213417006', '0.01', 'TRADE_HAS_CLOSED', false],
      ['2013070475489027', '0.01', 'SUCCESS', true],
      ['2016052621001004180237340740', '0.10', 'SUCCESS', true],
    ]);
    expect(value[0]?.amountFen).toBe(8000);
    expect(value[0]?.charge).toEqual({
      account: 'jax_chuanhang@alipay.com',
      userId: '2088101003147483',
      amountFen: 1,
      amountText: '0.01',
      code: 'SUCCESS',
    });
    expect(value[5]).toMatchObject({ toBankCard: true, bankCardStatus: 'P' });
    expect(value[1]).not.toHaveProperty('toBankCard');
    expect(value[1]).not.toHaveProperty('charge');
  });

  it('query form with royalty and sub-trade (§5.2 / §13)', () => {
    const text =
      '201012300001^2010123016346858^0.02^SUCCESS|zen_gwen@hotmail.com^2088102210397302^alipay-test03@alipay.com^2088101568345155^0.01^SUCCESS$$10.00^10.00^SUCCESS';
    const value = decodeOk(text, true);
    expect(value).toEqual([
      {
        batchNo: '201012300001',
        tradeNo: '2010123016346858',
        amountFen: 2,
        amountText: '0.02',
        code: 'SUCCESS',
        succeeded: true,
        royalties: [
          {
            outAccount: 'zen_gwen@hotmail.com',
            outUserId: '2088102210397302',
            inAccount: 'alipay-test03@alipay.com',
            inUserId: '2088101568345155',
            amountFen: 1,
            amountText: '0.01',
            code: 'SUCCESS',
          },
        ],
        subTrade: {
          refundFen: 1000,
          refundText: '10.00',
          refundableFen: 1000,
          refundableText: '10.00',
          code: 'SUCCESS',
        },
      },
    ]);
    expect(encodeResultDetails(value, { withBatchNo: true })).toBe(text);
  });

  it('§13 query samples: is_dback/dback_status, literal "null"', () => {
    const text = [
      '201606160000375820^20160415210010255^210.00^SUCCESS^true^P',
      '201510160000000001^20151016210010640^2.40^SUCCESS^false^null',
      '201612030000706479^2016111821001004690283673855^1879.00^SELLER_BALANCE_NOT_ENOUGH^false^null',
    ].join('#');
    const value = decodeOk(text, true);
    expect(
      value.map((r) => [r.batchNo, r.tradeNo, r.amountFen, r.succeeded, r.toBankCard, r.bankCardStatus]),
    ).toEqual([
      ['201606160000375820', '20160415210010255', 21000, true, true, 'P'],
      ['201510160000000001', '20151016210010640', 240, true, false, null],
      ['201612030000706479', '2016111821001004690283673855', 187900, false, false, null],
    ]);
    expect(encodeResultDetails(value, { withBatchNo: true })).toBe(text);
  });

  it('empty text is an empty list', () => {
    expect(decodeResultDetails('')).toEqual({ ok: true, value: [] });
    expect(encodeResultDetails([])).toBe('');
  });
});

describe('malformed result_details → RESULT_DETAILS_FORMAT_ERROR', () => {
  it('trade part with 2 or 4 fields; the 4-field message points at withBatchNo', () => {
    expect(triples('2010031206252779^10.00')).toEqual([[E, 1, 'result_details']]);
    const d = decodeResultDetails('t^1.00^SUCCESS#201012300001^2010123016346858^0.02^SUCCESS');
    expect(d.ok ? [] : d.issues.map((i) => [i.record, i.field])).toEqual([[2, 'result_details']]);
    expect(d.ok ? '' : d.issues[0]?.message).toContain('withBatchNo: true');
  });

  it('notification form decoded as query form', () => {
    const d = decodeResultDetails('2010031206252779^10.00^SUCCESS', { withBatchNo: true });
    expect(d.ok ? [] : d.issues.map((i) => [i.code, i.record, i.field])).toEqual([[E, 1, 'result_details']]);
    expect(d.ok ? '' : d.issues[0]?.message).toContain('withBatchNo: false');
  });

  it('bad amounts, empty codes and empty trade_no / batch_no', () => {
    expect(triples('2010031206252779^-1^SUCCESS')).toEqual([[E, 1, 'amount']]);
    expect(triples('2010031206252779^1.00^')).toEqual([[E, 1, 'code']]);
    expect(triples('^1.00^SUCCESS')).toEqual([[E, 1, 'tradeNo']]);
    expect(triples('^t^1.00^SUCCESS', true)).toEqual([[E, 1, 'batchNo']]);
  });

  it('is_dback and dback_status values', () => {
    expect(triples('t^1.00^SUCCESS^yes^P')).toEqual([[E, 1, 'toBankCard']]);
    expect(triples('t^1.00^SUCCESS^true^X')).toEqual([[E, 1, 'bankCardStatus']]);
    expect(triples('t^1.00^SUCCESS^true^')).toEqual([[E, 1, 'bankCardStatus']]);
  });

  it('charge, royalty and sub-trade parts', () => {
    expect(triples('t^1.00^SUCCESS$a^b^0.01')).toEqual([[E, 1, 'charge']]);
    expect(triples('t^1.00^SUCCESS$a^b^x^SUCCESS')).toEqual([[E, 1, 'charge.amount']]);
    expect(triples('t^1.00^SUCCESS$a^b^0.01^')).toEqual([[E, 1, 'charge.code']]);
    expect(triples('t^1.00^SUCCESS$a^b^0.01^S$c^d^0.01^S')).toEqual([[E, 1, 'charge']]);
    expect(triples('t^1.00^SUCCESS|a^b^c^d^0.01')).toEqual([[E, 1, 'royalties[0]']]);
    expect(triples('t^1.00^SUCCESS|a^b^c^d^0.01^S|a^b^c^d^1.2.3^S')).toEqual([[E, 1, 'royalties[1].amount']]);
    expect(triples('t^1.00^SUCCESS|a^b^c^d^0.01^S$x^y^0.01^S')).toEqual([[E, 1, 'royalties[0]']]);
    expect(triples('t^1.00^SUCCESS$$1.00^2.00')).toEqual([[E, 1, 'subTrade']]);
    expect(triples('t^1.00^SUCCESS$$1.00^x^S')).toEqual([[E, 1, 'subTrade.refundable']]);
    expect(triples('t^1.00^SUCCESS$$1.00^2.00^S|x')).toEqual([[E, 1, 'subTrade']]);
  });

  it('empty records and issue collection across records', () => {
    expect(triples('t^1.00^SUCCESS##u^x^S#')).toEqual([
      [E, 2, 'result_details'],
      [E, 3, 'amount'],
      [E, 4, 'result_details'],
    ]);
  });

  it(`issues are capped at ${MAX_ISSUES}`, () => {
    const d = decodeResultDetails(Array.from({ length: 1000 }, () => 'x^y').join('#'));
    expect(d.ok ? 0 : d.issues.length).toBe(MAX_ISSUES);
  });
});

describe('encodeResultDetails', () => {
  const base: ResultRecord = {
    tradeNo: 't1',
    amountFen: 8000,
    amountText: '80',
    code: 'SUCCESS',
    succeeded: true,
  };

  it('writes amountText verbatim and the 5-field tail only when toBankCard is set', () => {
    expect(encodeResultDetails([base])).toBe('t1^80^SUCCESS');
    expect(encodeResultDetails([{ ...base, toBankCard: false, bankCardStatus: null }])).toBe(
      't1^80^SUCCESS^false^null',
    );
    expect(encodeResultDetails([{ ...base, toBankCard: true }])).toBe('t1^80^SUCCESS^true^null');
  });

  it('throws TypeError on separators and inconsistent options', () => {
    expect(() => encodeResultDetails([{ ...base, code: 'A#B' }])).toThrow(TypeError);
    expect(() => encodeResultDetails([{ ...base, tradeNo: 'a$b' }])).toThrow(/record 1 tradeNo/);
    expect(() => encodeResultDetails([base], { withBatchNo: true })).toThrow(/no batchNo/);
    expect(() => encodeResultDetails([{ ...base, batchNo: 'b1' }])).toThrow(/withBatchNo/);
    expect(() => encodeResultDetails([{ ...base, bankCardStatus: 'S' }])).toThrow(/toBankCard/);
  });
});

describe('unfreezed_details', () => {
  const rec: UnfreezeRecord = {
    unfreezeOrderNo: '20140326000010001',
    freezeOrderNo: '20140325000010001',
    amountFen: 2,
    amountText: '0.02',
    tradeNo: '2014032638780412',
    processedAt: '2014-03-26 15:30:00',
    status: 'S',
    code: 'SUCCESS',
  };
  const text = '20140326000010001^20140325000010001^0.02^2014032638780412^2014-03-26 15:30:00^S^SUCCESS';

  it('decodes and encodes the 7-field records, "#"-separated', () => {
    expect(decodeUnfreezedDetails(text)).toEqual({ ok: true, value: [rec] });
    const two = `${text}#${text.replace('0.02', '5')}`;
    const d = decodeUnfreezedDetails(two);
    expect(d).toEqual({ ok: true, value: [rec, { ...rec, amountFen: 500, amountText: '5' }] });
    expect(d.ok && encodeUnfreezedDetails(d.value)).toBe(two);
    expect(decodeUnfreezedDetails('')).toEqual({ ok: true, value: [] });
  });

  it('reports wrong field counts, bad amounts and empty codes', () => {
    const issues = (t: string) => {
      const d = decodeUnfreezedDetails(t);
      expect(d.ok).toBe(false);
      return d.ok ? [] : d.issues.map((i) => [i.code, i.record, i.field]);
    };
    expect(issues(`${text}#a^b^c`)).toEqual([[E, 2, 'unfreezed_details']]);
    expect(issues(text.replace('0.02', '0.0x'))).toEqual([[E, 1, 'amount']]);
    expect(issues(text.replace('^SUCCESS', '^'))).toEqual([[E, 1, 'code']]);
  });

  it('encoder refuses ^ and # in fields', () => {
    expect(() => encodeUnfreezedDetails([{ ...rec, status: 'S^F' }])).toThrow(TypeError);
    expect(() => encodeUnfreezedDetails([{ ...rec, code: 'A#B' }])).toThrow(/record 1 code/);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests

/** Free text without the result separators (accounts may be anything the gateway echoes). */
const freeArb = (minLength = 0) =>
  fc.string({ unit: fc.constantFrom(...'abcXYZ019@._- 中文'), minLength, maxLength: 12 });
const codeArb = fc.oneof(
  fc.constant('SUCCESS'),
  fc.constantFrom('TRADE_HAS_CLOSED', 'NOT_THIS_PARTNERS_TRADE', 'SELLER_BALANCE_NOT_ENOUGH'),
  fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ_'), minLength: 1, maxLength: 20 }),
);
/** Any wire spelling parseYuan accepts, paired with its fen. */
const amountArb = fc
  .tuple(fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: MAX_FEN })), fc.nat(2))
  .map(([f, style]) => {
    let text = formatYuan(f);
    if (style === 1 && f % 100 === 0) text = String(f / 100);
    if (style === 2 && f % 10 === 0) text = text.slice(0, -1);
    return { fen: f, text };
  });

const chargeArb: fc.Arbitrary<ResultCharge> = fc
  .tuple(freeArb(), freeArb(), amountArb, codeArb)
  .map(([account, userId, a, code]) => ({ account, userId, amountFen: a.fen, amountText: a.text, code }));
const royaltyArb: fc.Arbitrary<ResultRoyalty> = fc
  .tuple(freeArb(), freeArb(), freeArb(), freeArb(), amountArb, codeArb)
  .map(([outAccount, outUserId, inAccount, inUserId, a, code]) => ({
    outAccount,
    outUserId,
    inAccount,
    inUserId,
    amountFen: a.fen,
    amountText: a.text,
    code,
  }));
const subArb: fc.Arbitrary<ResultSubTrade> = fc.tuple(amountArb, amountArb, codeArb).map(([r, a, code]) => ({
  refundFen: r.fen,
  refundText: r.text,
  refundableFen: a.fen,
  refundableText: a.text,
  code,
}));

const recordArb = (withBatchNo: boolean): fc.Arbitrary<ResultRecord> =>
  fc
    .record({
      batchNo: withBatchNo ? freeArb(1).map((s): string | undefined => s) : fc.constant(undefined),
      tradeNo: freeArb(1),
      amount: amountArb,
      code: codeArb,
      dback: fc.option(fc.tuple(fc.boolean(), fc.constantFrom<'S' | 'F' | 'P' | null>('S', 'F', 'P', null)), {
        nil: undefined,
      }),
      charge: fc.option(chargeArb, { nil: undefined }),
      royalties: fc.array(royaltyArb, { maxLength: 3 }),
      subTrade: fc.option(subArb, { nil: undefined }),
    })
    .map((r) => {
      const rec: ResultRecord = {
        tradeNo: r.tradeNo,
        amountFen: r.amount.fen,
        amountText: r.amount.text,
        code: r.code,
        succeeded: r.code === 'SUCCESS',
      };
      if (r.batchNo !== undefined) rec.batchNo = r.batchNo;
      if (r.dback) {
        rec.toBankCard = r.dback[0];
        rec.bankCardStatus = r.dback[1];
      }
      if (r.charge) rec.charge = r.charge;
      if (r.royalties.length > 0) rec.royalties = r.royalties;
      if (r.subTrade) rec.subTrade = r.subTrade;
      return rec;
    });

const unfreezeArb: fc.Arbitrary<UnfreezeRecord> = fc
  .tuple(freeArb(), freeArb(), amountArb, freeArb(), freeArb(), freeArb(), codeArb)
  .map(([unfreezeOrderNo, freezeOrderNo, a, tradeNo, processedAt, status, code]) => ({
    unfreezeOrderNo,
    freezeOrderNo,
    amountFen: a.fen,
    amountText: a.text,
    tradeNo,
    processedAt,
    status,
    code,
  }));

const SOUP = [...'^|$#0123456789.a@', 'SUCCESS', 'true', 'null', 'P'];
const anyTextArb = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom(...SOUP), maxLength: 40 }),
);

describe('properties', () => {
  for (const withBatchNo of [false, true]) {
    it(`decode(encode(x)) equals x (withBatchNo: ${withBatchNo})`, () => {
      fc.assert(
        fc.property(fc.array(recordArb(withBatchNo), { minLength: 1, maxLength: 8 }), (records) => {
          const text = encodeResultDetails(records, { withBatchNo });
          const d = decodeResultDetails(text, { withBatchNo });
          expect(d).toEqual({ ok: true, value: records });
          if (d.ok) expect(encodeResultDetails(d.value, { withBatchNo })).toBe(text);
        }),
        { numRuns: 1000 },
      );
    });
  }

  it('unfreezed_details: decode(encode(x)) equals x', () => {
    fc.assert(
      fc.property(fc.array(unfreezeArb, { minLength: 1, maxLength: 8 }), (records) => {
        expect(decodeUnfreezedDetails(encodeUnfreezedDetails(records))).toEqual({ ok: true, value: records });
      }),
      { numRuns: 1000 },
    );
  });

  it('decoders never throw; whatever decodes re-encodes to the same text', () => {
    fc.assert(
      fc.property(anyTextArb, fc.boolean(), (text, withBatchNo) => {
        const d = decodeResultDetails(text, { withBatchNo });
        if (d.ok) expect(encodeResultDetails(d.value, { withBatchNo })).toBe(text);
        else {
          expect(d.issues.length).toBeGreaterThan(0);
          expect(d.issues.length).toBeLessThanOrEqual(MAX_ISSUES);
          for (const i of d.issues) expect(i.code).toBe(E);
        }
        const u = decodeUnfreezedDetails(text);
        if (u.ok) expect(encodeUnfreezedDetails(u.value)).toBe(text);
      }),
      { numRuns: 10_000 },
    );
  });
});
