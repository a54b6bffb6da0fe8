/**
 * `refund_fastpay_query` (protocol.md §13): the only way to learn a batch's outcome when its
 * notification never came. The reply is a query string, not XML; result records carry a
 * `batch_no^` prefix.
 */
import { type Charset, decodeBytes, formEncodePairs, parseFormBody } from './charset.js';
import { type CodeInfo, lookupCode } from './codes.js';
import type { AlipayConfig } from './config.js';
import { formAction } from './request.js';
import {
  type ResultRecord,
  decodeResultDetails,
  type UnfreezeRecord,
  decodeUnfreezedDetails,
} from './result-details.js';
import { SERVICE_QUERY } from './services.js';
import { canonicalize, signCanonical, verifyParams } from './sign.js';

/** A signed query request. */
export interface SignedQuery {
  readonly service: typeof SERVICE_QUERY;
  readonly charset: Charset;
  readonly gateway: string;
  readonly params: Readonly<Record<string, string>>;
  readonly canonical: string;
}

/**
 * Signs a refund query by batch_no and/or trade_no (at least one).
 * @throws TypeError when neither is given (a programming error).
 */
export function buildRefundQuery(
  config: AlipayConfig,
  by: { batchNo?: string; tradeNo?: string },
): SignedQuery {
  if (!by.batchNo && !by.tradeNo) throw new TypeError('buildRefundQuery: give batchNo, tradeNo or both');
  const params: Record<string, string> = {
    service: SERVICE_QUERY,
    partner: config.partner,
    _input_charset: config.inputCharset,
  };
  if (by.batchNo) params['batch_no'] = by.batchNo;
  if (by.tradeNo) params['trade_no'] = by.tradeNo;
  const canonical = canonicalize(params);
  params['sign'] = signCanonical(canonical, config.signingKey, config.inputCharset);
  params['sign_type'] = config.signType;
  return Object.freeze({
    service: SERVICE_QUERY,
    charset: config.inputCharset,
    gateway: config.gateway,
    params: Object.freeze(params),
    canonical,
  });
}

/** The answer to a refund query. */
export type QueryResult =
  | {
      status: 'found';
      records: ResultRecord[];
      unfreezed?: UnfreezeRecord[];
      /** true when the reply was signed and the sign matched; false when it was unsigned. */
      signed: boolean;
      body: string;
    }
  /** `REFUND_NOT_EXIST`: the gateway has no such batch (it was never accepted). */
  | { status: 'not-found'; code: string; info: CodeInfo; body: string }
  | { status: 'error'; code: string; info: CodeInfo; body: string }
  /** Transport failure, timeout, or a reply we cannot read: try again later. */
  | { status: 'unavailable'; message: string; body?: string };

/**
 * Parses the query-string reply. A signed reply whose sign does not match is `unavailable`
 * (never trusted).
 */
export function parseQueryReply(
  body: string,
  config: Pick<AlipayConfig, 'verifyingKey'>,
  charset: Charset,
): QueryResult {
  const pairs = parseFormBody(body.trim(), charset);
  const p: Record<string, string> = {};
  for (const [k, v] of pairs) p[k] = v;
  const flag = p['is_success'];
  if (flag === 'F') {
    const code = p['error_code'] ?? p['error'] ?? 'UNKNOWN_EXCEPTION';
    return code === 'REFUND_NOT_EXIST'
      ? { status: 'not-found', code, info: lookupCode(code), body }
      : { status: 'error', code, info: lookupCode(code), body };
  }
  if (flag !== 'T')
    return {
      status: 'unavailable',
      message: `unexpected reply to refund_fastpay_query: ${JSON.stringify(body.slice(0, 160))}`,
      body,
    };
  let signed = false;
  if (p['sign'] !== undefined) {
    let ok = false;
    try {
      ok = verifyParams(p, config.verifyingKey, charset);
    } catch {
      ok = false;
    }
    if (!ok)
      return {
        status: 'unavailable',
        message: 'the query reply is signed but the sign does not match: not trusted',
        body,
      };
    signed = true;
  }
  const text = p['result_details'] ?? '';
  const decoded =
    text === '' ? { ok: true as const, value: [] } : decodeResultDetails(text, { withBatchNo: true });
  if (!decoded.ok)
    return {
      status: 'unavailable',
      message: `result_details in the query reply is malformed: ${decoded.issues[0]?.message ?? ''}`,
      body,
    };
  const result: QueryResult = { status: 'found', records: decoded.value, signed, body };
  const u = p['unfreezed_details'];
  if (u) {
    const ud = decodeUnfreezedDetails(u);
    if (ud.ok) result.unfreezed = ud.value;
  }
  return result;
}

/** Sends a refund query (POST, form-encoded in the charset) and parses the reply. Never throws on I/O. */
export async function sendRefundQuery(
  query: SignedQuery,
  config: Pick<AlipayConfig, 'verifyingKey'>,
  opts: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<QueryResult> {
  try {
    const res = await (opts.fetch ?? fetch)(formAction(query), {
      method: 'POST',
      headers: { 'content-type': `application/x-www-form-urlencoded; charset=${query.charset}` },
      body: formEncodePairs(Object.entries(query.params), query.charset),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
    const body = decodeBytes(new Uint8Array(await res.arrayBuffer()), query.charset);
    if (res.status !== 200)
      return { status: 'unavailable', message: `the gateway answered HTTP ${res.status}`, body };
    // The reply's values are percent-encoded; parse them as such (in the query's charset).
    return parseQueryReply(body, config, query.charset);
  } catch (e) {
    return { status: 'unavailable', message: `could not reach the gateway: ${(e as Error).message}` };
  }
}
