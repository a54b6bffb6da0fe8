import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FEN, formatYuan, parseYuan } from '../src/amount.js';
import { type Charset, byteLength, findUnrepresentable } from '../src/charset.js';
import {
  type ChargeItem,
  type DetailOptions,
  type DetailRecord,
  MAX_BATCH_RECORDS,
  MAX_REASON_BYTES,
  type RoyaltyItem,
  type SubTradeItem,
  decodeDetailData,
  encodeDetailData,
  gbkByteLength,
  validateDetailRecords,
} from '../src/detail-data.js';
import { type CodecIssue, MAX_ISSUES } from '../src/issues.js';

interface VectorRecord {
  tradeNo: string;
  amount: string;
  reason: string;
  royalties?: Array<{
    outAccount: string;
    outUserId: string;
    inAccount: string;
    inUserId: string;
    amount: string;
    reason: string;
  }>;
}
const vectors = JSON.parse(readFileSync(new URL('../../../spec/vectors.json', import.meta.url), 'utf8')) as {
  detail_data: Array<{ text: string; records: VectorRecord[] }>;
};

const NOPWD: DetailOptions = { charset: 'utf-8', mode: 'nopwd' };
const PWD: DetailOptions = { charset: 'utf-8', mode: 'pwd' };

const T1 = '2011011201037066';
const T2 = '2010120607408670';
const T3 = '2016052621001004180237340740';
const UID1 = '2088101964737404';
const UID2 = '2088701892019087';
const UID3 = '2088701892019088';

/** Wire amount → the decoded shape: amountText only for non-canonical spellings. */
function amt(text: string): { amountFen: number; amountText?: string } {
  const fen = parseYuan(text);
  if (fen === null) throw new Error(`bad vector amount ${text}`);
  return text === formatYuan(fen) ? { amountFen: fen } : { amountFen: fen, amountText: text };
}

function issuesOf(text: string, opts: DetailOptions = NOPWD): CodecIssue[] {
  const d = decodeDetailData(text, opts);
  expect(d.ok).toBe(false);
  return d.ok ? [] : d.issues;
}

/** Decodes, expects failure, and returns [code, record, field] triples for compact assertions. */
function triples(text: string, opts: DetailOptions = NOPWD): Array<[string, number | null, string]> {
  return issuesOf(text, opts).map((i) => [i.code, i.record, i.field]);
}

function decodeOk(text: string, opts: DetailOptions = NOPWD): DetailRecord[] {
  const d = decodeDetailData(text, opts);
  if (!d.ok) expect(d.issues).toEqual([]);
  return d.ok ? d.value : [];
}

const tradeRec = (tradeNo: string, amount = '1.00', reason = 'r') => `${tradeNo}^${amount}^${reason}`;

describe('detail_data vectors (vectors.json)', () => {
  it.each(vectors.detail_data.map((v) => [v.text, v] as const))('%s', (_text, v) => {
    const expected: DetailRecord[] = v.records.map((r) => {
      const rec: DetailRecord = { tradeNo: r.tradeNo, ...amt(r.amount), reason: r.reason };
      if (r.royalties) {
        rec.royalties = r.royalties.map((y) => ({
          outAccount: y.outAccount,
          outUserId: y.outUserId,
          inAccount: y.inAccount,
          inUserId: y.inUserId,
          ...amt(y.amount),
          reason: y.reason,
        }));
      }
      return rec;
    });
    for (const charset of ['utf-8', 'gbk'] as const) {
      const opts: DetailOptions = { charset, mode: 'nopwd', batchNum: String(v.records.length) };
      const value = decodeOk(v.text, opts);
      expect(value).toEqual(expected);
      expect(encodeDetailData(value)).toBe(v.text);
      expect(validateDetailRecords(value, opts)).toEqual([]);
    }
  });
});

describe('protocol.md §3 examples', () => {
  it('single trade records decode for pwd and nopwd', () => {
    for (const opts of [PWD, NOPWD]) {
      expect(decodeOk('2011011201037066^5.00^协商退款', opts)).toEqual([
        { tradeNo: T1, amountFen: 500, reason: '协商退款' },
      ]);
      expect(decodeOk('2010120607408670^0.01^备注说明一', opts)).toEqual([
        { tradeNo: T2, amountFen: 1, reason: '备注说明一' },
      ]);
    }
  });

  it('multi-record example', () => {
    const text = '2011011201037066^5.00^协商退款#2010120607408670^0.01^备注说明一';
    const value = decodeOk(text, { ...PWD, batchNum: 2 });
    expect(value.map((r) => r.tradeNo)).toEqual([T1, T2]);
    expect(encodeDetailData(value)).toBe(text);
  });

  it('the 2013 call that omits the reason is a format error on record 1', () => {
    const issues = issuesOf('2013091141206212^0.01', PWD);
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'detail_data'],
    ]);
    expect(issues[0]?.message).toContain('reason is missing');
  });

  it('"TRADE#" dummy of the Homer spec splits into two broken records', () => {
    const t = triples(
      'TRADE#^100^协商退款|from^2088701892019087^to^2088701892019088^30^协商退款$$20^协商退款',
    );
    expect(t).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'detail_data'],
      ['DETAIL_DATA_FORMAT_ERROR', 2, 'tradeNo'],
      ['DETAIL_DATA_FORMAT_ERROR', 2, 'royalties[0].outAccount'],
      ['DETAIL_DATA_FORMAT_ERROR', 2, 'royalties[0].inAccount'],
    ]);
  });

  it('the same shape with a real trade number and emails: trade|royalty$$subtrade, verbatim amounts', () => {
    const text = `${T1}^100^协商退款|from@a.com^${UID2}^to@b.com^${UID3}^30^协商退款$$20^协商退款`;
    expect(decodeOk(text)).toEqual([
      {
        tradeNo: T1,
        amountFen: 10000,
        amountText: '100',
        reason: '协商退款',
        royalties: [
          {
            outAccount: 'from@a.com',
            outUserId: UID2,
            inAccount: 'to@b.com',
            inUserId: UID3,
            amountFen: 3000,
            amountText: '30',
            reason: '协商退款',
          },
        ],
        subTrade: { amountFen: 2000, amountText: '20', reason: '协商退款' },
      },
    ]);
    expect(encodeDetailData(decodeOk(text))).toBe(text);
  });

  it('trade + charge + royalty (2014 sandbox call)', () => {
    const text =
      '2014032638780412^0.02^测试冻结转退款$^2088101964737404^0.02^测试退收费|^2088101964737404^jscs1@10106266.com^^0.02^测试退分润';
    expect(decodeOk(text)).toEqual([
      {
        tradeNo: '2014032638780412',
        amountFen: 2,
        reason: '测试冻结转退款',
        charge: { account: '', userId: UID1, amountFen: 2, reason: '测试退收费' },
        royalties: [
          {
            outAccount: '',
            outUserId: UID1,
            inAccount: 'jscs1@10106266.com',
            inUserId: '',
            amountFen: 2,
            reason: '测试退分润',
          },
        ],
      },
    ]);
    expect(encodeDetailData(decodeOk(text))).toBe(text);
  });
});

describe('structure rules → DETAIL_DATA_FORMAT_ERROR', () => {
  it('empty input', () => {
    expect(triples('')).toEqual([['DETAIL_DATA_FORMAT_ERROR', null, 'detail_data']]);
  });

  it('empty record between, before or after "#"', () => {
    expect(triples(`${tradeRec(T1)}##${tradeRec(T2)}`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 2, 'detail_data'],
    ]);
    expect(triples(`${tradeRec(T1)}#`)).toEqual([['DETAIL_DATA_FORMAT_ERROR', 2, 'detail_data']]);
    expect(triples(`#${tradeRec(T1)}`)).toEqual([['DETAIL_DATA_FORMAT_ERROR', 1, 'detail_data']]);
  });

  it('trade part with 4 fields', () => {
    const issues = issuesOf(`${tradeRec(T1)}#${T2}^1.00^a^b`);
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 2, 'detail_data'],
    ]);
    expect(issues[0]?.message).toContain('has 4 fields');
  });

  it('charge part with 3 fields', () => {
    expect(triples(`${tradeRec(T1)}$a@b.com^^1.00`)).toEqual([['DETAIL_DATA_FORMAT_ERROR', 1, 'charge']]);
  });

  it('two "$" charge separators', () => {
    expect(triples(`${tradeRec(T1)}$^${UID1}^1.00^x$^${UID1}^1.00^x`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'charge'],
    ]);
  });

  it('royalty item with 5 fields', () => {
    expect(triples(`${T1}^0^r|^${UID1}^^${UID2}^1.00`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'royalties[0]'],
    ]);
  });

  it('"$" inside a royalty item (charge after royalty)', () => {
    expect(triples(`${T1}^1.00^r|^${UID1}^^${UID2}^1.00^x$^${UID1}^1.00^x`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'royalties[0]'],
    ]);
  });

  it('sub-trade part with 3 fields', () => {
    expect(triples(`${tradeRec(T1)}$$1.00^x^y`)).toEqual([['DETAIL_DATA_FORMAT_ERROR', 1, 'subTrade']]);
  });

  it('a record is split at its first "$$": everything after it is the sub-trade part', () => {
    const issues = issuesOf(`${tradeRec(T1)}$$1.00^a$$2.00^b`);
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'subTrade'],
    ]);
    expect(issues[0]?.message).toContain('"1.00^a$$2.00^b" has 3 fields');
  });

  it('empty royalty item "||"', () => {
    expect(triples(`${T1}^0^r|^${UID1}^^${UID2}^1.00^x||^${UID1}^^${UID3}^1.00^x`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'royalties[1]'],
    ]);
  });
});

describe('amount rules', () => {
  it.each([
    ['abc', 'not a decimal yuan amount'],
    ['-1.00', 'negative'],
    ['1.234', 'more than 2 decimals'],
    ['', 'empty'],
    ['01.00', 'leading zero'],
    ['1e3', 'not a decimal yuan amount'],
    [' 1.00', 'not a decimal yuan amount'],
  ])('trade amount %j is rejected (%s)', (token, words) => {
    const issues = issuesOf(`${T1}^${token}^r`);
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'amount'],
    ]);
    expect(issues[0]?.message).toContain(words);
  });

  it('amounts in charge, royalty and sub-trade are checked with their own field', () => {
    expect(triples(`${tradeRec(T1)}$^${UID1}^x^r|^${UID1}^^${UID2}^-2^r$$1.001^r`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'charge.amount'],
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'royalties[0].amount'],
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'subTrade.amount'],
    ]);
  });

  it('trade amount 0 without royalties is rejected', () => {
    expect(triples(`${T1}^0^r`)).toEqual([['DETAIL_DATA_FORMAT_ERROR', 1, 'amount']]);
    expect(triples(`${T1}^0.00^r$$1.00^r`)).toEqual([['DETAIL_DATA_FORMAT_ERROR', 1, 'amount']]);
  });

  it('trade amount 0 is allowed for a royalty-only refund', () => {
    for (const zero of ['0', '0.00', '0.0']) {
      const [rec] = decodeOk(`${T1}^${zero}^r|^${UID1}^^${UID2}^0.50^r`);
      expect(rec?.amountFen).toBe(0);
      expect(rec?.royalties?.[0]?.amountFen).toBe(50);
    }
  });

  it('royalty, charge and sub-trade amounts of 0 are rejected', () => {
    expect(triples(`${T1}^1.00^r$^${UID1}^0.00^r|^${UID1}^^${UID2}^0^r$$0^r`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'charge.amount'],
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'royalties[0].amount'],
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'subTrade.amount'],
    ]);
  });

  it('non-canonical spellings are kept in amountText; canonical ones are not', () => {
    const [rec] = decodeOk(`${T1}^5^r$^${UID1}^0.5^r|^${UID1}^^${UID2}^0.10^r$$7.0^r`);
    expect(rec).toEqual({
      tradeNo: T1,
      amountFen: 500,
      amountText: '5',
      reason: 'r',
      charge: { account: '', userId: UID1, amountFen: 50, amountText: '0.5', reason: 'r' },
      royalties: [
        { outAccount: '', outUserId: UID1, inAccount: '', inUserId: UID2, amountFen: 10, reason: 'r' },
      ],
      subTrade: { amountFen: 700, amountText: '7.0', reason: 'r' },
    });
  });
});

describe('trade_no and account rules', () => {
  it.each([
    ['', 'empty'],
    ['abc123456789', 'not an Alipay trade number'],
    ['12345', 'not an Alipay trade number'],
    ['1'.repeat(65), 'not an Alipay trade number'],
    [`${T1} `, 'not an Alipay trade number'],
  ])('trade_no %j is rejected', (tradeNo, words) => {
    const issues = issuesOf(`${tradeNo}^1.00^r`);
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'tradeNo'],
    ]);
    expect(issues[0]?.message).toContain(words);
  });

  it('accepts 6..64 digit trade numbers (16, 17 and 28 in practice)', () => {
    for (const tradeNo of ['123456', T1, '20160415210010255', T3, '9'.repeat(64)]) {
      expect(decodeOk(tradeRec(tradeNo))[0]?.tradeNo).toBe(tradeNo);
    }
  });

  it('royalty side with neither email nor user id', () => {
    expect(triples(`${T1}^0^r|^^a@b.com^^1.00^r`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'royalties[0].outUserId'],
    ]);
    expect(triples(`${T1}^0^r|a@b.com^^^^1.00^r`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'royalties[0].inUserId'],
    ]);
  });

  it('both email and user id on one side are allowed', () => {
    expect(decodeOk(`${T1}^0^r|a@b.com^${UID1}^c@d.com^${UID2}^1.00^r`)).toHaveLength(1);
  });

  it('a mobile number as account is rejected, even next to a user id, with a hint', () => {
    for (const text of [
      `${T1}^0^r|13800138000^^^${UID2}^1.00^r`,
      `${T1}^0^r|13800138000^${UID1}^^${UID2}^1.00^r`,
    ]) {
      const issues = issuesOf(text);
      expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
        ['DETAIL_DATA_FORMAT_ERROR', 1, 'royalties[0].outAccount'],
      ]);
      expect(issues[0]?.message).toContain('mobile number');
    }
  });

  it('an account that is neither email nor mobile, and a user id in the account slot', () => {
    expect(triples(`${T1}^0^r|^${UID1}^not-an-email^^1.00^r`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'royalties[0].inAccount'],
    ]);
    const issues = issuesOf(`${T1}^0^r|^${UID1}^${UID2}^^1.00^r`);
    expect(issues[0]?.field).toBe('royalties[0].inAccount');
    expect(issues[0]?.message).toContain('looks like a user id');
  });

  it('a user id that is not 2088 + 12 digits', () => {
    for (const uid of ['2088123', '1088101964737404', '20881019647374041', '2088x01964737404']) {
      expect(triples(`${T1}^0^r|^${uid}^^${UID2}^1.00^r`)).toEqual([
        ['DETAIL_DATA_FORMAT_ERROR', 1, 'royalties[0].outUserId'],
      ]);
    }
  });

  it('charge payer needs email or user id, and they must be well-formed', () => {
    expect(triples(`${tradeRec(T1)}$^^1.00^r`)).toEqual([['DETAIL_DATA_FORMAT_ERROR', 1, 'charge.userId']]);
    expect(triples(`${tradeRec(T1)}$x^^1.00^r`)).toEqual([['DETAIL_DATA_FORMAT_ERROR', 1, 'charge.account']]);
    expect(triples(`${tradeRec(T1)}$^123^1.00^r`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'charge.userId'],
    ]);
  });
});

describe('reason rules', () => {
  it.each(['^', '|', '$', '#'])('reason containing %j (structured input) names the character', (sep) => {
    const issues = validateDetailRecords([{ tradeNo: T1, amountFen: 100, reason: `bad${sep}reason` }], NOPWD);
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'reason'],
    ]);
    expect(issues[0]?.message).toContain(`"${sep}"`);
  });

  it('a "$" smuggled into a sub-trade reason on the wire is reported on that reason', () => {
    expect(triples(`${tradeRec(T1)}$$1.00^a$b`)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'subTrade.reason'],
    ]);
  });

  it('256 ASCII bytes pass, 257 fail with BATCH_MEMO_LENGTH_EXCEED_LIMIT', () => {
    expect(decodeOk(tradeRec(T1, '1.00', 'a'.repeat(MAX_REASON_BYTES)))).toHaveLength(1);
    const issues = issuesOf(`${tradeRec(T1)}#${tradeRec(T2, '1.00', 'a'.repeat(257))}`);
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['BATCH_MEMO_LENGTH_EXCEED_LIMIT', 2, 'reason'],
    ]);
    expect(issues[0]?.message).toContain('257 bytes');
  });

  it('long reasons in royalty, charge and sub-trade parts are reported on their field', () => {
    const long = 'b'.repeat(300);
    expect(
      triples(`${T1}^1.00^r$^${UID1}^1.00^${long}|^${UID1}^^${UID2}^1.00^${long}$$1.00^${long}`),
    ).toEqual([
      ['BATCH_MEMO_LENGTH_EXCEED_LIMIT', 1, 'charge.reason'],
      ['BATCH_MEMO_LENGTH_EXCEED_LIMIT', 1, 'royalties[0].reason'],
      ['BATCH_MEMO_LENGTH_EXCEED_LIMIT', 1, 'subTrade.reason'],
    ]);
  });

  it('empty reasons are accepted in every part', () => {
    expect(decodeOk(`${T1}^1.00^$^${UID1}^1.00^|^${UID1}^^${UID2}^1.00^$$1.00^`)).toHaveLength(1);
  });
});

describe('GBK vs UTF-8 byte counting', () => {
  const zh = (n: number) => '退'.repeat(n);
  const gbk: DetailOptions = { charset: 'gbk', mode: 'nopwd' };

  it('byte counts used by the tests are what the charsets say', () => {
    expect([byteLength(zh(129), 'gbk'), byteLength(zh(129), 'utf-8')]).toEqual([258, 387]);
    expect([byteLength(zh(85), 'gbk'), byteLength(zh(85), 'utf-8')]).toEqual([170, 255]);
  });

  it('129 Chinese characters exceed the limit in both charsets', () => {
    for (const opts of [gbk, NOPWD]) {
      const issues = issuesOf(tradeRec(T1, '1.00', zh(129)), opts);
      expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
        ['BATCH_MEMO_LENGTH_EXCEED_LIMIT', 1, 'reason'],
      ]);
      expect(issues[0]?.message).toContain(
        opts.charset === 'gbk' ? '258 bytes in GBK' : '387 bytes in UTF-8',
      );
    }
  });

  it('85 Chinese characters pass both; 128 pass only GBK (256 vs 384 bytes)', () => {
    expect(decodeOk(tradeRec(T1, '1.00', zh(85)), gbk)).toHaveLength(1);
    expect(decodeOk(tradeRec(T1, '1.00', zh(85)), NOPWD)).toHaveLength(1);
    expect(decodeOk(tradeRec(T1, '1.00', zh(128)), gbk)).toHaveLength(1);
    expect(triples(tradeRec(T1, '1.00', zh(128)), NOPWD)).toEqual([
      ['BATCH_MEMO_LENGTH_EXCEED_LIMIT', 1, 'reason'],
    ]);
  });

  it('"¥" fails only for GBK, naming the character', () => {
    const text = `${tradeRec(T1)}#${tradeRec(T2, '1.00', '退款¥5')}`;
    expect(decodeOk(text, NOPWD)).toHaveLength(2);
    const issues = issuesOf(text, gbk);
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT', 2, 'reason'],
    ]);
    expect(issues[0]?.message).toContain('"¥" (U+00A5)');
    expect(issues[0]?.message).toContain('utf-8');
  });

  it('an emoji fails GBK; a lone surrogate fails UTF-8', () => {
    expect(triples(tradeRec(T1, '1.00', '好😀'), gbk)).toEqual([
      ['SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT', 1, 'reason'],
    ]);
    expect(decodeOk(tradeRec(T1, '1.00', '好😀'), NOPWD)).toHaveLength(1);
    expect(triples(tradeRec(T1, '1.00', 'a\ud800b'), NOPWD)).toEqual([
      ['SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT', 1, 'reason'],
    ]);
  });

  it('gbkByteLength agrees with findUnrepresentable/byteLength for every BMP code unit', () => {
    const mismatches: number[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      const expected = findUnrepresentable(ch, 'gbk') ? -1 : byteLength(ch, 'gbk');
      if (gbkByteLength(ch) !== expected) mismatches.push(c);
    }
    expect(mismatches).toEqual([]);
  });

  it('gbkByteLength agrees on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => {
        const expected = findUnrepresentable(s, 'gbk') ? -1 : byteLength(s, 'gbk');
        expect(gbkByteLength(s)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('batch-level rules', () => {
  const records = (n: number, start = 0) =>
    Array.from({ length: n }, (_, i) => tradeRec(`2016052621001004180${String(237340000 + start + i)}`)).join(
      '#',
    );

  it('1000 records are fine, 1001 exceed the limit', () => {
    expect(decodeOk(records(MAX_BATCH_RECORDS), { ...NOPWD, batchNum: '1000' })).toHaveLength(1000);
    expect(triples(records(1001))).toEqual([['BATCH_NUM_EXCEED_LIMIT', null, 'detail_data']]);
  });

  it('batch_num above 1000 matching the count is reported once, on batch_num', () => {
    expect(triples(records(1001), { ...NOPWD, batchNum: 1001 })).toEqual([
      ['BATCH_NUM_EXCEED_LIMIT', null, 'batch_num'],
    ]);
  });

  it.each([['abc'], ['0'], ['-1'], ['1.5'], ['01'], [' 2'], [''], [0], [1.5], [-2], [Number.NaN]])(
    'batch_num %j is BATCH_NUM_ERROR',
    (batchNum) => {
      expect(triples(records(2), { ...NOPWD, batchNum })).toEqual([['BATCH_NUM_ERROR', null, 'batch_num']]);
    },
  );

  it('batch_num different from the record count', () => {
    const issues = issuesOf(records(2), { ...NOPWD, batchNum: '3' });
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['BATCH_NUM_NOT_EQUAL_TOTAL', null, 'batch_num'],
    ]);
    expect(issues[0]?.message).toContain('2 records');
    expect(decodeOk(records(2), { ...NOPWD, batchNum: 2 })).toHaveLength(2);
  });

  it('duplicate trade_no is reported on the second occurrence, naming the first', () => {
    const issues = issuesOf([tradeRec(T1), tradeRec(T2), tradeRec(T1), tradeRec(T2)].join('#'));
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['DUBL_TRADE_NO_IN_SAME_BATCH', 3, 'tradeNo'],
      ['DUBL_TRADE_NO_IN_SAME_BATCH', 4, 'tradeNo'],
    ]);
    expect(issues[0]?.message).toContain('record 1');
    expect(issues[1]?.message).toContain('record 2');
  });

  it('two royalty items with the same out and in accounts', () => {
    const y = (out: string, into: string) => `|^${out}^^${into}^1.00^r`;
    const issues = issuesOf(`${T1}^0^r${y(UID1, UID2)}${y(UID1, UID3)}${y(UID1, UID2)}`);
    expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
      ['DUBL_ROYALTY_IN_DETAIL', 1, 'royalties[2]'],
    ]);
    expect(issues[0]?.message).toContain('royalty 1');
    // Same accounts given by email are duplicates too; the user id wins when both are given.
    expect(triples(`${T1}^0^r|a@b.com^^c@d.com^^1.00^r|a@b.com^^c@d.com^^2.00^r`)).toEqual([
      ['DUBL_ROYALTY_IN_DETAIL', 1, 'royalties[1]'],
    ]);
    expect(
      decodeOk(`${T1}^0^r|a@b.com^${UID1}^^${UID2}^1.00^r|a@b.com^${UID3}^^${UID2}^1.00^r`),
    ).toHaveLength(1);
  });

  it('issues are collected across records in record order', () => {
    const t = triples([`${T1}^x^r`, tradeRec(T2), `abc^1.00^${'z'.repeat(300)}`, `${T3}^0^r`].join('#'), {
      ...NOPWD,
      batchNum: 5,
    });
    expect(t).toEqual([
      ['BATCH_NUM_NOT_EQUAL_TOTAL', null, 'batch_num'],
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'amount'],
      ['DETAIL_DATA_FORMAT_ERROR', 3, 'tradeNo'],
      ['BATCH_MEMO_LENGTH_EXCEED_LIMIT', 3, 'reason'],
      ['DETAIL_DATA_FORMAT_ERROR', 4, 'amount'],
    ]);
  });

  it(`issues are capped at ${MAX_ISSUES}`, () => {
    const text = Array.from({ length: 5000 }, () => 'x^y^z').join('#');
    expect(issuesOf(text)).toHaveLength(MAX_ISSUES);
  });
});

describe('pwd mode', () => {
  it('royalty items → PWD_REFUND_NOT_ALLOW_ROYALTY', () => {
    expect(triples(`${tradeRec(T2)}#${T1}^0^r|^${UID1}^^${UID2}^1.00^r`, PWD)).toEqual([
      ['PWD_REFUND_NOT_ALLOW_ROYALTY', 2, 'royalties'],
    ]);
  });

  it('charge and sub-trade parts → DETAIL_DATA_FORMAT_ERROR', () => {
    expect(triples(`${tradeRec(T1)}$^${UID1}^1.00^r`, PWD)).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', 1, 'charge'],
    ]);
    expect(triples(`${tradeRec(T1)}$$1.00^r`, PWD)).toEqual([['DETAIL_DATA_FORMAT_ERROR', 1, 'subTrade']]);
  });
});

describe('validateDetailRecords (structured input)', () => {
  const ok: DetailRecord = { tradeNo: T1, amountFen: 500, reason: '协商退款' };

  it('valid records give no issues', () => {
    expect(validateDetailRecords([ok], { ...PWD, batchNum: 1 })).toEqual([]);
  });

  it('no records', () => {
    expect(validateDetailRecords([], NOPWD).map((i) => [i.code, i.record, i.field])).toEqual([
      ['DETAIL_DATA_FORMAT_ERROR', null, 'detail_data'],
    ]);
  });

  it('amountFen must be a non-negative safe integer', () => {
    for (const amountFen of [-1, 1.5, Number.NaN, MAX_FEN + 1]) {
      const issues = validateDetailRecords([{ ...ok, amountFen }], NOPWD);
      expect(issues.map((i) => [i.code, i.record, i.field])).toEqual([
        ['DETAIL_DATA_FORMAT_ERROR', 1, 'amount'],
      ]);
    }
  });

  it('amountText must parse and agree with amountFen', () => {
    expect(
      validateDetailRecords([{ ...ok, amountText: '5.01' }], NOPWD).map((i) => [i.code, i.record, i.field]),
    ).toEqual([['DETAIL_DATA_FORMAT_ERROR', 1, 'amount']]);
    expect(
      validateDetailRecords([{ ...ok, amountText: '5.001' }], NOPWD).map((i) => [i.code, i.record, i.field]),
    ).toEqual([['DETAIL_DATA_FORMAT_ERROR', 1, 'amount']]);
    expect(validateDetailRecords([{ ...ok, amountText: '5' }], NOPWD)).toEqual([]);
  });

  it('applies the same rules as the decoder, with the same fields', () => {
    const royalty: RoyaltyItem = {
      outAccount: '',
      outUserId: UID1,
      inAccount: '',
      inUserId: UID2,
      amountFen: 0,
      reason: 'x',
    };
    const records: DetailRecord[] = [
      ok,
      { ...ok, royalties: [royalty, { ...royalty, amountFen: 5 }] },
      { tradeNo: T2, amountFen: 0, reason: 'r', subTrade: { amountFen: 1, reason: 'a|b' } },
    ];
    expect(
      validateDetailRecords(records, { ...PWD, batchNum: 2 }).map((i) => [i.code, i.record, i.field]),
    ).toEqual([
      ['BATCH_NUM_NOT_EQUAL_TOTAL', null, 'batch_num'],
      ['DUBL_TRADE_NO_IN_SAME_BATCH', 2, 'tradeNo'],
      ['PWD_REFUND_NOT_ALLOW_ROYALTY', 2, 'royalties'],
      ['DETAIL_DATA_FORMAT_ERROR', 2, 'royalties[0].amount'],
      ['DUBL_ROYALTY_IN_DETAIL', 2, 'royalties[1]'],
      ['DETAIL_DATA_FORMAT_ERROR', 3, 'amount'],
      ['DETAIL_DATA_FORMAT_ERROR', 3, 'subTrade'],
      ['DETAIL_DATA_FORMAT_ERROR', 3, 'subTrade.reason'],
    ]);
  });
});

describe('encodeDetailData', () => {
  it('writes formatYuan(amountFen) unless amountText is given', () => {
    expect(encodeDetailData([{ tradeNo: T1, amountFen: 8000, reason: 'a' }])).toBe(`${T1}^80.00^a`);
    expect(encodeDetailData([{ tradeNo: T1, amountFen: 8000, amountText: '80', reason: 'a' }])).toBe(
      `${T1}^80^a`,
    );
  });

  it('writes every part in grammar order', () => {
    const rec: DetailRecord = {
      tradeNo: T1,
      amountFen: 100,
      reason: 't',
      subTrade: { amountFen: 4, reason: 's' },
      royalties: [
        { outAccount: 'a@b.com', outUserId: '', inAccount: '', inUserId: UID1, amountFen: 2, reason: 'y1' },
        { outAccount: '', outUserId: UID2, inAccount: 'c@d.com', inUserId: '', amountFen: 3, reason: '' },
      ],
      charge: { account: '', userId: UID3, amountFen: 1, reason: 'c' },
    };
    expect(encodeDetailData([rec, { tradeNo: T2, amountFen: 1, reason: '' }])).toBe(
      `${T1}^1.00^t$^${UID3}^0.01^c|a@b.com^^^${UID1}^0.02^y1|^${UID2}^c@d.com^^0.03^$$0.04^s#${T2}^0.01^`,
    );
  });

  it('throws TypeError for separators in any field and for invalid fen', () => {
    expect(() => encodeDetailData([{ tradeNo: T1, amountFen: 1, reason: 'a#b' }])).toThrow(TypeError);
    expect(() => encodeDetailData([{ tradeNo: `${T1}^`, amountFen: 1, reason: 'a' }])).toThrow(
      /record 1 tradeNo/,
    );
    expect(() =>
      encodeDetailData([
        { tradeNo: T1, amountFen: 1, reason: 'a' },
        {
          tradeNo: T2,
          amountFen: 1,
          reason: 'a',
          charge: { account: 'a|b', userId: '', amountFen: 1, reason: '' },
        },
      ]),
    ).toThrow(/record 2 charge\.account contains the separator "\|"/);
    expect(() => encodeDetailData([{ tradeNo: T1, amountFen: -1, reason: 'a' }])).toThrow(TypeError);
    expect(() => encodeDetailData([{ tradeNo: T1, amountFen: 1, amountText: '1$', reason: 'a' }])).toThrow(
      TypeError,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const tradeNoArb = digits(6, 64);
const userIdArb = digits(12, 12).map((d) => `2088${d}`);
const emailArb = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...'abcxyz019._-+'), minLength: 1, maxLength: 10 }),
    fc.string({ unit: fc.constantFrom(...'abc019-'), minLength: 1, maxLength: 8 }),
    fc.constantFrom('com', 'com.cn', 'net'),
  )
  .map(([local, host, tld]) => `${local}@${host}.${tld}`);
/** Safe alphabet: ASCII letters, digits, spaces, punctuation and Chinese (all representable in GBK). */
const reasonArb = fc.string({
  unit: fc.constantFrom(...'abcXYZ 019.,-_()：，。退款协商测试备注说明中文'),
  maxLength: 40,
});

/** A fen amount and, sometimes, a valid non-canonical spelling of it. */
function amountArb(min: number): fc.Arbitrary<{ amountFen: number; amountText?: string }> {
  return fc
    .tuple(fc.oneof(fc.integer({ min, max: 100_000 }), fc.integer({ min, max: MAX_FEN })), fc.boolean())
    .map(([fen, alt]) => {
      if (alt && fen % 100 === 0) return { amountFen: fen, amountText: String(fen / 100) };
      if (alt && fen % 10 === 0)
        return { amountFen: fen, amountText: `${Math.floor(fen / 100)}.${(fen % 100) / 10}` };
      return { amountFen: fen };
    });
}

const partyArb = fc.oneof(
  fc.record({ account: emailArb, userId: fc.constant('') }),
  fc.record({ account: fc.constant(''), userId: userIdArb }),
  fc.record({ account: emailArb, userId: userIdArb }),
);

const royaltyArb: fc.Arbitrary<RoyaltyItem> = fc
  .tuple(partyArb, partyArb, amountArb(1), reasonArb)
  .map(([o, i, a, reason]) => ({
    outAccount: o.account,
    outUserId: o.userId,
    inAccount: i.account,
    inUserId: i.userId,
    ...a,
    reason,
  }));
const chargeArb: fc.Arbitrary<ChargeItem> = fc
  .tuple(partyArb, amountArb(1), reasonArb)
  .map(([p, a, reason]) => ({ ...p, ...a, reason }));
const subArb: fc.Arbitrary<SubTradeItem> = fc
  .tuple(amountArb(1), reasonArb)
  .map(([a, reason]) => ({ ...a, reason }));

const royaltyKey = (y: RoyaltyItem) => `${y.outUserId || y.outAccount}|${y.inUserId || y.inAccount}`;

const recordArb = (mode: 'pwd' | 'nopwd'): fc.Arbitrary<DetailRecord> =>
  fc
    .record({
      tradeNo: tradeNoArb,
      reason: reasonArb,
      charge: mode === 'nopwd' ? fc.option(chargeArb, { nil: undefined }) : fc.constant(undefined),
      royalties:
        mode === 'nopwd'
          ? fc.uniqueArray(royaltyArb, { maxLength: 3, selector: royaltyKey })
          : fc.constant<RoyaltyItem[]>([]),
      subTrade: mode === 'nopwd' ? fc.option(subArb, { nil: undefined }) : fc.constant(undefined),
    })
    .chain((r) => amountArb(r.royalties.length > 0 ? 0 : 1).map((a) => ({ ...r, ...a })))
    .map(({ tradeNo, reason, charge, royalties, subTrade, amountFen, amountText }) => {
      const rec: DetailRecord = { tradeNo, amountFen, reason };
      if (amountText !== undefined) rec.amountText = amountText;
      if (charge) rec.charge = charge;
      if (royalties.length > 0) rec.royalties = royalties;
      if (subTrade) rec.subTrade = subTrade;
      return rec;
    });

const batchArb = (mode: 'pwd' | 'nopwd') =>
  fc.uniqueArray(recordArb(mode), { minLength: 1, maxLength: 15, selector: (r) => r.tradeNo });

const SEPARATOR_SOUP = [...'^|$#0123456789.a@'];
const soupArb = fc.oneof(
  fc.string({ unit: fc.constantFrom(...SEPARATOR_SOUP), maxLength: 60 }),
  fc.string({
    unit: fc.constantFrom(...SEPARATOR_SOUP, '2088', '^^', '$$', '1.00', '0', 'x@y.com'),
    maxLength: 30,
  }),
);

const ISSUE_CODES = new Set([
  'DETAIL_DATA_FORMAT_ERROR',
  'BATCH_MEMO_LENGTH_EXCEED_LIMIT',
  'SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT',
  'BATCH_NUM_EXCEED_LIMIT',
  'BATCH_NUM_ERROR',
  'BATCH_NUM_NOT_EQUAL_TOTAL',
  'DUBL_TRADE_NO_IN_SAME_BATCH',
  'DUBL_ROYALTY_IN_DETAIL',
  'PWD_REFUND_NOT_ALLOW_ROYALTY',
]);

/** Shared invariants for any input: no throw; well-formed issues; ok ⇒ exact re-encoding. */
function checkAnyInput(text: string, opts: DetailOptions): void {
  const d = decodeDetailData(text, opts);
  if (d.ok) {
    expect(encodeDetailData(d.value)).toBe(text);
    expect(validateDetailRecords(d.value, opts)).toEqual([]);
  } else {
    const count = text === '' ? 0 : text.split('#').length;
    expect(d.issues.length).toBeGreaterThan(0);
    expect(d.issues.length).toBeLessThanOrEqual(MAX_ISSUES);
    for (const i of d.issues) {
      expect(ISSUE_CODES.has(i.code)).toBe(true);
      if (i.record !== null) expect(i.record >= 1 && i.record <= count).toBe(true);
      expect(i.message.length).toBeGreaterThan(0);
    }
  }
}

describe('properties', () => {
  for (const charset of ['utf-8', 'gbk'] as const satisfies readonly Charset[]) {
    for (const mode of ['pwd', 'nopwd'] as const) {
      it(`${charset}/${mode}: valid structures validate and decode(encode(x)) equals x`, () => {
        fc.assert(
          fc.property(batchArb(mode), (records) => {
            const opts: DetailOptions = { charset, mode, batchNum: records.length };
            expect(validateDetailRecords(records, opts)).toEqual([]);
            const text = encodeDetailData(records);
            const d = decodeDetailData(text, opts);
            expect(d).toEqual({ ok: true, value: records });
            // …and the text side: encode(decode(text)) === text.
            if (d.ok) expect(encodeDetailData(d.value)).toBe(text);
          }),
          { numRuns: 300 },
        );
      });
    }
  }

  it('decode never throws on arbitrary strings (full Unicode incl. lone surrogates)', () => {
    const anyUnit = fc.string({ unit: fc.nat(0xffff).map((c) => String.fromCharCode(c)), maxLength: 50 });
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), anyUnit),
        fc.boolean(),
        (text, gbk) => {
          checkAnyInput(text, { charset: gbk ? 'gbk' : 'utf-8', mode: 'nopwd' });
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('decode never throws on strings built from the separator alphabet', () => {
    fc.assert(
      fc.property(soupArb, fc.constantFrom<'pwd' | 'nopwd'>('pwd', 'nopwd'), (text, mode) => {
        checkAnyInput(text, { charset: 'utf-8', mode });
      }),
      { numRuns: 10_000 },
    );
  });

  it('decode never throws on mutated valid texts and keeps the invariants', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(recordArb('nopwd'), { minLength: 1, maxLength: 3, selector: (r) => r.tradeNo }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...SEPARATOR_SOUP, '', '退', '¥')), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.boolean(),
        (records, edits, gbk) => {
          let text = encodeDetailData(records);
          for (const [pos, ch] of edits) {
            const at = pos % (text.length + 1);
            text =
              ch === '' ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + ch + text.slice(at);
          }
          checkAnyInput(text, { charset: gbk ? 'gbk' : 'utf-8', mode: 'nopwd' });
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

describe('a full batch', () => {
  // Speed is measured in bench/protocol.bench.ts (npm run bench), not asserted here: machines are noisy.
  it('decodes and validates 1000 records with distinct Chinese reasons in both charsets', () => {
    const text = Array.from({ length: 1000 }, (_, i) =>
      tradeRec(`2016052621001004180${String(237340000 + i)}`, `${(i % 500) + 1}.00`, `协商退款第${i}笔`),
    ).join('#');
    for (const charset of ['utf-8', 'gbk'] as const) {
      const opts: DetailOptions = { charset, mode: 'nopwd', batchNum: 1000 };
      const d = decodeDetailData(text, opts);
      expect(d.ok && d.value.length).toBe(1000);
      expect(d.ok && d.value[999]?.reason).toBe('协商退款第999笔');
    }
  });
});
