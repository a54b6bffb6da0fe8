/**
 * The parsers that take outside input, each with a fast-check arbitrary of hostile and near-valid inputs and the
 * property every one must hold: a result, or a *typed* error (a named Error subclass of the listed kinds) with a
 * message — never an untyped exception, a crash or a hang (every call must finish within FUZZ_MAX_MS).
 *
 * Used by `npm run fuzz` (fuzz/*.fuzz.ts, FUZZ_RUNS cases each, default 100,000) and, at a small count, by
 * packages/server/test/fuzz-smoke.test.ts in the normal suite. docs/fuzzing.md has the figures.
 */
import {
  type Charset,
  decodeDetailData,
  decodeResultDetails,
  encodeResultDetails,
  formEncodePairs,
  parseNopwdReply,
  parseQueryReply,
  type ResultRecord,
  signNotification,
  signParams,
  verifyNotification,
} from '@alirefund/protocol';
import fc from 'fast-check';
import { CONFIG, type FuzzTarget, KEY, PARTNER } from './harness.js';

export { checkOne, fuzzRuns, fuzzTarget, type FuzzStats, type FuzzTarget, maxCallMs } from './harness.js';
import { Hono } from 'hono';
import * as bulk from '../packages/cli/src/bulk/input.js';
import { decodeUpload, prepareCsv } from '../packages/server/src/console/csv.js';
import { type ConsoleEnv, readForm } from '../packages/server/src/console/env.js';
import { splitCsv } from '../packages/server/src/services/csv.js';

// ---------------------------------------------------------------------------------------------------------
// Building blocks

/** Text pieces that parsers of this protocol care about, plus CJK, GBK-less characters and control bytes. */
const PIECES = [
  '^',
  '|',
  '#',
  '$',
  '&',
  '=',
  '%',
  '%2',
  '%E4%B8%AD',
  '%D6%D0',
  '%FF',
  '+',
  ',',
  ';',
  '"',
  "'",
  '\n',
  '\r\n',
  '\t',
  ' ',
  '\u0000',
  '\ufffd',
  '\ud800',
  '¥',
  '中',
  '退款',
  '€',
  '𠀀',
  'SUCCESS',
  'TRADE_HAS_CLOSED',
  'null',
  'true',
  'false',
  'T',
  'F',
  'P',
  'S',
  '0',
  '0.01',
  '1.00',
  '-1',
  '1e3',
  '99999999999.99',
  '2026011521001004180000201117',
  '20260115123456789',
  PARTNER,
  'a@example.com',
];

/** A string mostly made of protocol-relevant pieces, sometimes arbitrary. */
const protocolText = (maxPieces = 40): fc.Arbitrary<string> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.array(fc.constantFrom(...PIECES), { maxLength: maxPieces }).map((a) => a.join('')),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  );

const charsets: fc.Arbitrary<Charset> = fc.constantFrom('utf-8', 'gbk');

/** Byte-level mutations of a valid input. */
const mutatedBytes = (base: Uint8Array): fc.Arbitrary<Uint8Array> =>
  fc
    .array(
      fc.tuple(fc.nat(), fc.constantFrom('flip', 'delete', 'insert', 'dup'), fc.uint8Array({ maxLength: 8 })),
      { maxLength: 4 },
    )
    .map((ops) => {
      let b = Buffer.from(base);
      for (const [at, op, bytes] of ops) {
        const i = b.length === 0 ? 0 : at % b.length;
        if (op === 'flip' && b.length > 0) b[i] = (b[i]! ^ (1 << (at % 8))) & 0xff;
        else if (op === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + (at % 5))]);
        else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)]);
        else if (op === 'dup') b = Buffer.concat([b, Buffer.from('&'), b.subarray(0, i)]);
      }
      return new Uint8Array(b);
    });

/** Valid result_details records (3- and 5-field trade parts, optional charge and royalty parts). */
const resultRecords: fc.Arbitrary<ResultRecord[]> = fc
  .array(
    fc.record({
      tradeNo: fc.stringMatching(/^20\d{14,26}$/),
      amountFen: fc.integer({ min: 0, max: 10_000_000 }),
      code: fc.constantFrom('SUCCESS', 'TRADE_HAS_CLOSED', 'REFUND_AMOUNT_NOT_VALID', 'BUYER_ERROR'),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((rs) =>
    rs.map((r) => {
      const amountText = (r.amountFen / 100).toFixed(2);
      return { ...r, amountText, succeeded: r.code === 'SUCCESS' };
    }),
  );

// ---------------------------------------------------------------------------------------------------------
// Notifications

/** A genuine batch_refund_notify body in `charset` (utf-8 or gbk bytes). */
function signedNotification(
  records: ResultRecord[],
  charset: Charset,
  batchNo: string,
  notifyId: string,
): Uint8Array {
  const { body } = signNotification(
    {
      notify_time: '2026-01-15 12:00:00',
      notify_type: 'batch_refund_notify',
      notify_id: notifyId,
      batch_no: batchNo,
      success_num: String(records.filter((r) => r.succeeded).length),
      result_details: encodeResultDetails(records),
    },
    { signType: 'MD5', key: KEY },
    charset,
  );
  return new Uint8Array(Buffer.from(body, 'latin1'));
}

type NotifyInput = { kind: 'genuine' | 'mutated' | 'random'; body: Uint8Array | string };

const notificationBodies = (charset: Charset): fc.Arbitrary<NotifyInput> => {
  const genuine = fc
    .tuple(
      resultRecords,
      fc.stringMatching(/^2026\d{4}\d{3,20}$/),
      // the notify_id: any text the charset can carry (GBK cannot carry every character)
      charset === 'utf-8'
        ? fc.string({ unit: 'grapheme', maxLength: 40 })
        : fc
            .array(fc.constantFrom('a', 'Z', '9', '-', '中', '退款', ' ', '%', '&', '='), { maxLength: 20 })
            .map((a) => a.join('')),
    )
    .map(([records, batchNo, notifyId]) => signedNotification(records, charset, batchNo, notifyId || 'x'));
  return fc.oneof(
    { weight: 2, arbitrary: genuine.map((body) => ({ kind: 'genuine' as const, body })) },
    {
      weight: 5,
      arbitrary: genuine.chain(mutatedBytes).map((body) => ({ kind: 'mutated' as const, body })),
    },
    {
      weight: 2,
      arbitrary: fc.array(fc.tuple(protocolText(6), protocolText(12)), { maxLength: 12 }).map((pairs) => ({
        kind: 'random' as const,
        body: pairs.map(([k, v]) => `${k}=${v}`).join('&'),
      })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 1000 }).map((body) => ({ kind: 'random' as const, body })),
    },
  );
};

/** notify_verify always says true: the fuzz is about what comes before and after it. */
const verifyFetch = (async () => new Response('true')) as typeof fetch;

const notificationTarget = (charset: Charset): FuzzTarget<NotifyInput> => ({
  name: `notification body (${charset})`,
  arbitrary: notificationBodies(charset),
  typedErrors: ['NotificationError'],
  async run(input) {
    const n = await verifyNotification(input.body, { charset, config: CONFIG, fetch: verifyFetch });
    if (n.notifyType !== 'batch_refund_notify') throw new Error('verified a notification of another type');
  },
});

/** The genuine bodies must verify (an oracle besides "no crash"). */
export async function genuineNotificationVerifies(charset: Charset, records: ResultRecord[]): Promise<void> {
  const body = signedNotification(records, charset, '20260115001', 'id-1');
  await verifyNotification(body, { charset, config: CONFIG, fetch: verifyFetch });
}

// ---------------------------------------------------------------------------------------------------------
// The codecs

const detailText = fc.oneof(
  { weight: 3, arbitrary: protocolText(60) },
  {
    weight: 2,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.stringMatching(/^\d{0,30}$/),
          fc.constantFrom('0.01', '1.00', '80', '0', '-1', '1.001', '', '１'),
          protocolText(5),
          fc.constantFrom(
            '',
            '|a@example.com^^b@example.com^^0.01^r',
            `|${PARTNER}^^b@example.com^^1^x`,
            '|',
            '^^',
          ),
        ),
        { maxLength: 8 },
      )
      .map((rs) => rs.map(([t, a, r, extra]) => `${t}^${a}^${r}${extra}`).join('#')),
  },
);

const resultText = fc.oneof(
  { weight: 3, arbitrary: protocolText(60) },
  { weight: 2, arbitrary: resultRecords.map((r) => encodeResultDetails(r)) },
  {
    weight: 2,
    arbitrary: resultRecords
      .map((r) => new Uint8Array(Buffer.from(encodeResultDetails(r))))
      .chain(mutatedBytes)
      .map((b) => Buffer.from(b).toString('utf8')),
  },
);

// ---------------------------------------------------------------------------------------------------------
// Gateway replies

const XML_PIECES = [
  '<?xml version="1.0" encoding="GBK"?>',
  '<alipay>',
  '</alipay>',
  '<is_success>',
  '</is_success>',
  '<error>',
  '</error>',
  'T',
  'F',
  'P',
  'SYSTEM_ERROR',
  'ILLEGAL_SIGN',
  'BATCH_NUM_EXCEED_LIMIT',
  '<![CDATA[',
  ']]>',
  '&amp;',
  '&lt;',
  '&#x41;',
  '&#99999999;',
  '&undefined;',
  '<!DOCTYPE a [<!ENTITY e "eeeeeeeeee">]>',
  '<!DOCTYPE a [<!ENTITY e "&e;&e;&e;&e;&e;&e;&e;&e;">]>',
  '&e;',
  '<!-- x -->',
  '<a b="1" b="2">',
  '<__proto__>',
  '</__proto__>',
  '<constructor>',
  '<alipay><alipay>',
  '\u0000',
  ' ',
  '中',
];

const nopwdText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(fc.constantFrom(...XML_PIECES), { maxLength: 30 }).map((a) => a.join('')),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('T', 'F', 'P', '', ' T '), protocolText(4))
      .map(
        ([f, e]) =>
          `<?xml version="1.0" encoding="GBK"?><alipay><is_success>${f}</is_success><error>${e}</error></alipay>`,
      ),
  },
);

type QueryInput = { body: string; charset: Charset };

const queryReplies: fc.Arbitrary<QueryInput> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc
      .tuple(charsets, fc.array(fc.tuple(protocolText(4), protocolText(10)), { maxLength: 10 }))
      .map(([charset, pairs]) => ({ charset, body: pairs.map(([k, v]) => `${k}=${v}`).join('&') })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(charsets, resultRecords, fc.boolean(), fc.constantFrom('T', 'F', 'X'))
      .map(([charset, records, sign, flag]) => {
        const params: Record<string, string> = {
          is_success: flag,
          result_details: records.map((r) => `20260115001^${encodeResultDetails([r])}`).join('#'),
        };
        if (sign) {
          params['sign'] = signParams(params, { signType: 'MD5', key: KEY }, charset);
          params['sign_type'] = 'MD5';
        }
        return { charset, body: formEncodePairs(Object.entries(params), charset) };
      })
      .chain((q) =>
        mutatedBytes(new Uint8Array(Buffer.from(q.body, 'latin1'))).map((b) => ({
          charset: q.charset,
          body: Buffer.from(b).toString('latin1'),
        })),
      ),
  },
);

// ---------------------------------------------------------------------------------------------------------
// Refund files (the CLI's bulk input; the console's CSV import)

const CSV_PIECES = [
  'trade_no,amount,reason',
  'trade_no,amount,reason,royalty_from,royalty_to,royalty_amount,royalty_reason',
  '交易号,金额,原因',
  'out_trade_no,amount,reason',
  '\uFEFF',
  '2026011521001004180000201117',
  '0.01',
  '12.50',
  '-3',
  'abc',
  '"',
  '""',
  '"a,b"',
  ',',
  '\n',
  '\r\n',
  '\r',
  '{"trade_no":"2026011521001004180000201117","amount":"1.00","reason":"x"}',
  '{"trade_no":1,"amount":null}',
  '{"royalties":[{"from":"a@example.com","to":"b","amount":"0.01"}]}',
  '{',
  '}',
  '[',
  'null',
  '{"__proto__":{"x":1}}',
  '退款',
  '¥',
  '=cmd|calc',
];

type FileInput = { name: string; text: string };

const refundFiles: fc.Arbitrary<FileInput> = fc.record({
  name: fc.constantFrom('refunds.csv', 'refunds.jsonl', 'refunds.txt', 'refunds', 'refunds.CSV', 'x.json'),
  text: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.array(fc.constantFrom(...CSV_PIECES), { maxLength: 40 }).map((a) => a.join('')),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 400 }) },
  ),
});

/** The CLI's refund-file reader, whichever shape this tree has (text parser, or the bytes reader). */
async function readBulkFile(input: FileInput): Promise<unknown> {
  const api = bulk as unknown as {
    parseInput?: (name: string, text: string) => unknown;
    readRefundInput?: (name: string, bytes: Uint8Array) => Promise<unknown>;
  };
  if (api.readRefundInput) return api.readRefundInput(input.name, new Uint8Array(Buffer.from(input.text)));
  if (api.parseInput) return api.parseInput(input.name, input.text);
  throw new Error('packages/cli/src/bulk/input.ts exports no refund-file reader');
}

// ---------------------------------------------------------------------------------------------------------
// Console form bodies

type FormInput = { type: string; body: Uint8Array };

const formBodies: fc.Arbitrary<FormInput> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.array(fc.tuple(protocolText(4), protocolText(8)), { maxLength: 10 }).map((pairs) => ({
      type: 'application/x-www-form-urlencoded',
      body: new Uint8Array(Buffer.from(pairs.map(([k, v]) => `${k}=${v}`).join('&'))),
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('xyz', 'b', '----x', '"q"', ''),
        fc.array(
          fc.tuple(
            fc.constantFrom('name', 'file', '_csrf', 'x"y', ''),
            fc.boolean(),
            protocolText(8),
            fc.constantFrom('\r\n', '\n', ''),
          ),
          { maxLength: 5 },
        ),
        fc.constantFrom('--', '', '--\r\n'),
      )
      .map(([boundary, parts, end]) => {
        const body = parts
          .map(
            ([name, isFile, value, nl]) =>
              `--${boundary}${nl}Content-Disposition: form-data; name="${name}"${isFile ? '; filename="a.csv"' : ''}${nl}${nl}${value}${nl}`,
          )
          .join('');
        return {
          type: `multipart/form-data; boundary=${boundary}`,
          body: new Uint8Array(Buffer.from(`${body}--${boundary}${end}`)),
        };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'multipart/form-data',
          'multipart/form-data; boundary=',
          'multipart/form-data; boundary=a',
          'application/x-www-form-urlencoded; charset=gbk',
        ),
        fc.uint8Array({ maxLength: 300 }),
      )
      .map(([type, body]) => ({ type, body })),
  },
);

/** A console-shaped app whose one route reads the form the way every console POST does. */
const formApp = (() => {
  const app = new Hono<ConsoleEnv>();
  app.post('/', async (c) => {
    c.set('form', null);
    const form = await readForm(c);
    return c.json({
      name: form.str('name'),
      all: form.all('name').length,
      file: form.file('file')?.size ?? 0,
    });
  });
  app.onError((err) => {
    throw err;
  });
  return app;
})();

// ---------------------------------------------------------------------------------------------------------

export const TARGETS: readonly FuzzTarget<never>[] = [
  notificationTarget('utf-8'),
  notificationTarget('gbk'),
  {
    name: 'detail_data',
    arbitrary: fc.tuple(detailText, charsets, fc.constantFrom('pwd', 'nopwd'), fc.option(fc.nat(1001))),
    typedErrors: [],
    run([text, charset, mode, batchNum]: [string, Charset, 'pwd' | 'nopwd', number | null]) {
      decodeDetailData(text, { charset, mode: mode as never, ...(batchNum === null ? {} : { batchNum }) });
    },
  } satisfies FuzzTarget<[string, Charset, 'pwd' | 'nopwd', number | null]>,
  {
    name: 'result_details',
    arbitrary: fc.tuple(resultText, fc.boolean()),
    typedErrors: [],
    run([text, withBatchNo]: [string, boolean]) {
      decodeResultDetails(text, { withBatchNo });
    },
  } satisfies FuzzTarget<[string, boolean]>,
  {
    name: 'nopwd XML reply',
    arbitrary: nopwdText,
    typedErrors: [],
    run(text: string) {
      const r = parseNopwdReply(text);
      if (!['accepted', 'rejected', 'unknown'].includes(r.status)) throw new Error(`status ${r.status}`);
    },
  } satisfies FuzzTarget<string>,
  {
    name: 'query reply',
    arbitrary: queryReplies,
    typedErrors: [],
    run(q: QueryInput) {
      parseQueryReply(q.body, CONFIG, q.charset);
    },
  } satisfies FuzzTarget<QueryInput>,
  {
    name: 'refund file (CSV / JSON Lines)',
    arbitrary: refundFiles,
    typedErrors: [],
    run: readBulkFile,
  } satisfies FuzzTarget<FileInput>,
  {
    name: 'console CSV import',
    arbitrary: fc.oneof(
      refundFiles.map((f) => new Uint8Array(Buffer.from(f.text))),
      fc.uint8Array({ maxLength: 400 }),
    ),
    typedErrors: [],
    run(bytes: Uint8Array) {
      const { text } = decodeUpload(bytes);
      prepareCsv(text);
      splitCsv(text);
    },
  } satisfies FuzzTarget<Uint8Array>,
  {
    name: 'console form body',
    arbitrary: formBodies,
    typedErrors: ['ServiceError'],
    async run(f: FormInput) {
      const res = await formApp.request('/', {
        method: 'POST',
        headers: { 'content-type': f.type },
        body: f.body,
      });
      if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
    },
  } satisfies FuzzTarget<FormInput>,
] as unknown as readonly FuzzTarget<never>[];
