/**
 * SDK benchmark (issue 2): signing and verifying a 1000-record nopwd request and its notification
 * against a raw md5 over the same bytes; decode + validate of 1000-record detail_data; the same
 * signing with the npm package alipay@0.0.4 as a peer; (d) checkNotificationSignature on the 1000-record
 * notification body against a naive URLSearchParams + sort + md5 check of the same body (issue 11).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  buildRefundRequest,
  canonicalize,
  checkNotificationSignature,
  createConfig,
  decodeDetailData,
  decodeResultDetails,
  encodeDetailData,
  md5Sign,
  signNotification,
  signParams,
  verifyParams,
} from '@alirefund/protocol';
import { compare, fmtNs, measure, report } from './lib.js';
import { naiveSignOk } from './naive-sign.mjs';

const KEY = 'k5u3x0bdzec6y9goq7ctyx96ezkz7828';
const config = createConfig({
  partner: '2088101122136241',
  key: KEY,
  notifyUrl: 'https://shop.example.com/alipay/notify',
});
const records = Array.from({ length: 1000 }, (_, i) => ({
  tradeNo: String(2026112121001004000000000000n + BigInt(i)),
  amountFen: 100 + i,
  reason: i % 3 === 0 ? '协商退款' : 'customer cancelled the order',
}));
const detail = encodeDetailData(records);
const req = buildRefundRequest(config, {
  mode: 'nopwd',
  batchNo: '20261121001',
  refundDate: '2026-11-21 10:00:00',
  detail: records,
});
const params = { ...req.params } as Record<string, string>;
const resultText = records.map((r) => `${r.tradeNo}^${(r.amountFen / 100).toFixed(2)}^SUCCESS`).join('#');
const notification = signNotification(
  {
    notify_time: '2026-11-21 10:00:05',
    notify_type: 'batch_refund_notify',
    notify_id: 'abc',
    batch_no: '20261121001',
    success_num: '1000',
    result_details: resultText,
  },
  config.signingKey,
  'utf-8',
).params;

const requestBytes = Buffer.from(canonicalize(params) + KEY, 'utf8');
const notifyBytes = Buffer.from(canonicalize(notification) + KEY, 'utf8');
console.log(`request: ${requestBytes.length} bytes signed; notification: ${notifyBytes.length} bytes`);

// (a) sign + verify vs the raw hash over the same bytes.
const rawBoth = measure('raw md5 over the request + notification bytes (baseline)', () => {
  createHash('md5').update(requestBytes).digest('hex');
  return createHash('md5').update(notifyBytes).digest('hex');
});
const signVerify = measure(
  'alirefund: canonicalize + sign request, canonicalize + verify notification',
  () => {
    signParams(params, config.signingKey, 'utf-8');
    return verifyParams(notification, config.verifyingKey, 'utf-8');
  },
);
const signOnly = measure('alirefund: canonicalize + MD5 sign of the request only', () =>
  md5Sign(canonicalize(params), KEY, 'utf-8'),
);
const rawReq = measure('raw md5 over the request bytes only', () =>
  createHash('md5').update(requestBytes).digest('hex'),
);

// (c) the peer: alipay@0.0.4's AlipaySubmit.buildRequestPara (filter, sort, join, md5).
const require = createRequire(import.meta.url);
const { AlipaySubmit } = require('alipay/lib/alipay_submit.class.js') as {
  AlipaySubmit: new (c: object) => { buildRequestPara(p: object): Record<string, string> };
};
const peer = new AlipaySubmit({ key: KEY, sign_type: 'MD5', input_charset: 'utf-8' });
const unsigned = { ...params };
delete unsigned['sign'];
delete unsigned['sign_type'];
const peerSign = peer.buildRequestPara(unsigned)['sign'];
if (peerSign !== params['sign']) throw new Error(`peer sign ${peerSign} differs from ours ${params['sign']}`);
const peerRun = measure('alipay@0.0.4: buildRequestPara (same request)', () =>
  peer.buildRequestPara(unsigned),
);
const oursRun = measure('alirefund: signParams (same request)', () =>
  signParams(unsigned, config.signingKey, 'utf-8'),
);

report('(a) sign + verify, 1000-record nopwd request and its notification', rawBoth, [signVerify]);
report('(a′) signing the request alone', rawReq, [signOnly]);
report('(c) peer: alipay@0.0.4 vs alirefund, same parameters, same sign', peerRun, [oursRun]);

// (b) decode + validate.
const decodeRun = measure(
  'decodeDetailData (parse + validate), 1000 records utf-8',
  () => decodeDetailData(detail, { charset: 'utf-8', mode: 'nopwd', batchNum: 1000 }).ok,
  { rounds: 60, perRound: 10 },
);
const decodeGbk = measure(
  'decodeDetailData, 1000 records gbk',
  () => decodeDetailData(detail, { charset: 'gbk', mode: 'nopwd', batchNum: 1000 }).ok,
  { rounds: 60, perRound: 10 },
);
const resultRun = measure('decodeResultDetails, 1000 records', () => decodeResultDetails(resultText).ok, {
  rounds: 60,
  perRound: 10,
});
const splitRun = measure(
  'baseline: detail.split("#").map(split("^"))',
  () => detail.split('#').map((r) => r.split('^')).length,
  { rounds: 60, perRound: 10 },
);
report('(b) decode + validate 1000-record detail_data (target < 1 ms)', splitRun, [
  decodeRun,
  decodeGbk,
  resultRun,
]);

const pairA = compare(
  () => {
    createHash('md5').update(requestBytes).digest('hex');
    return createHash('md5').update(notifyBytes).digest('hex');
  },
  () => {
    signParams(params, config.signingKey, 'utf-8');
    return verifyParams(notification, config.verifyingKey, 'utf-8');
  },
  { rounds: 200 },
);
const pairC = compare(
  () => peer.buildRequestPara(unsigned),
  () => signParams(unsigned, config.signingKey, 'utf-8'),
  { rounds: 200 },
);
// Built from ASCII-only records (V8 keeps strings two-byte once they held CJK, so a .replace() would not do).
const asciiDetail = encodeDetailData(records.map((r) => ({ ...r, reason: 'customer cancelled the order' })));
const asciiParams = { ...params, detail_data: asciiDetail };
const asciiBytes = Buffer.from(canonicalize(asciiParams) + KEY, 'utf8');
const pairAscii = compare(
  () => createHash('md5').update(asciiBytes).digest('hex'),
  () => signParams(asciiParams, config.signingKey, 'utf-8'),
  { rounds: 200 },
);
console.log(`\n### Paired (alternating rounds, median of per-round ratios)\n`);
console.log('| comparison | baseline | alirefund | ratio |');
console.log('|---|---|---|---|');
console.log(
  `| (a) sign request + verify notification vs raw md5 over the same bytes | ${fmtNs(pairA.baselineNs)} | ${fmtNs(pairA.subjectNs)} | ${pairA.ratio.toFixed(2)}× |`,
);
console.log(
  `| (a) ASCII-only request: sign vs raw md5 | ${fmtNs(pairAscii.baselineNs)} | ${fmtNs(pairAscii.subjectNs)} | ${pairAscii.ratio.toFixed(2)}× |`,
);
console.log(
  `| (c) alipay@0.0.4 buildRequestPara vs alirefund signParams | ${fmtNs(pairC.baselineNs)} | ${fmtNs(pairC.subjectNs)} | ${pairC.ratio.toFixed(2)}× |`,
);

console.log(
  `\nsummary: sign+verify ${pairA.ratio.toFixed(2)}× raw md5 (target ≤ 1.5×); decode+validate ${fmtNs(decodeRun.medianNs)} (target < 1 ms); alirefund takes ${pairC.ratio.toFixed(2)}× the time of alipay@0.0.4 (target < 1)`,
);

// (d) the notification sign check on the raw 1000-record body (issue 11): ours decodes (charset-aware, duplicate
// and charset checks) and verifies; the naive check is URLSearchParams (UTF-8 only) + filter + sort + join + md5.
const naiveCheck = (body: string): boolean => naiveSignOk(new URLSearchParams(body), KEY);
const notifyParams = {
  notify_time: '2026-11-21 10:00:05',
  notify_type: 'batch_refund_notify',
  notify_id: 'abc',
  batch_no: '20261121001',
  success_num: '1000',
  result_details: resultText,
};
const dChecks: string[] = [];
for (const charset of ['utf-8', 'gbk'] as const) {
  const body = signNotification(notifyParams, config.signingKey, charset).body;
  const bytes = Buffer.from(body, 'latin1');
  if (!naiveCheck(body)) throw new Error('naive check refused the body');
  checkNotificationSignature(bytes, charset, config.verifyingKey);
  const pair = compare(
    () => naiveCheck(body),
    () => checkNotificationSignature(bytes, charset, config.verifyingKey),
    { rounds: 200 },
  );
  dChecks.push(
    `| (d) checkNotificationSignature (${charset}, ${(bytes.length / 1024).toFixed(0)} KB body) vs naive URLSearchParams + sort + md5 | ${fmtNs(pair.baselineNs)} | ${fmtNs(pair.subjectNs)} | ${pair.ratio.toFixed(2)}× |`,
  );
}
console.log('\n### (d) notification sign check, 1000-record body (target: ratio ≤ 1)\n');
console.log('| comparison | naive | alirefund | ratio |');
console.log('|---|---|---|---|');
for (const line of dChecks) console.log(line);
