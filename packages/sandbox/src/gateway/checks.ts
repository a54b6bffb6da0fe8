/**
 * The check order of `/gateway.do` (README "Check order"), the steps that need no more than the request and the
 * partner: 1–6 for every service, 7 (parameters), 8 (refund_date) and 10–11 (batch_num, detail_data). The
 * first failing step answers with its code. Steps 9 and 12 read batches and accounts (`accept.ts`).
 */
import {
  ALIPAY_EMAIL_RE,
  ALIPAY_USER_ID_RE,
  type Charset,
  type CodecIssue,
  type DetailRecord,
  SERVICE_NOPWD,
  SERVICE_PWD,
  SERVICE_QUERY,
  type VerifyingKey,
  beijingDate,
  canonicalize,
  decodeDetailData,
  isDocumentedParam,
  parseBeijing,
  verifyParams,
} from '@alirefund/protocol';
import type { Core } from '../core.js';
import type { PartnerTable } from '../schema.js';
import type { GatewayRequest } from './request.js';

/** The refund services and the query. */
const SERVICES = new Set([SERVICE_PWD, SERVICE_NOPWD, SERVICE_QUERY]);

/** Which detail_data code wins when a batch has several problems (step 10, then step 11). */
export const DETAIL_CODE_ORDER = [
  'BATCH_NUM_ERROR',
  'BATCH_NUM_EXCEED_LIMIT',
  'BATCH_NUM_NOT_EQUAL_TOTAL',
  'DETAIL_DATA_FORMAT_ERROR',
  'SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT',
  'BATCH_MEMO_LENGTH_EXCEED_LIMIT',
  'DUBL_TRADE_NO_IN_SAME_BATCH',
  'DUBL_ROYALTY_IN_DETAIL',
  'PWD_REFUND_NOT_ALLOW_ROYALTY',
] as const;

export type Refusal = { ok: false; code: string; detail: string };
export const refuse = (code: string, detail: string): Refusal => ({ ok: false, code, detail });

type PartnerRow = Pick<
  PartnerTable,
  'partner' | 'md5_key' | 'email' | 'payment_password' | 'rsa_public_key' | 'services'
>;

export interface CommonOk {
  ok: true;
  service: string;
  partner: PartnerRow;
  charset: Charset;
}

/** Steps 1–6 of the check order (all services but notify_verify). */
export async function checkCommon(core: Core, r: GatewayRequest): Promise<CommonOk | Refusal> {
  const p = r.params;
  const service = p['service'];
  if (service === undefined || !SERVICES.has(service)) {
    return refuse(
      'ILLEGAL_SERVICE',
      service === undefined
        ? 'the request has no service parameter (were all parameters lost?)'
        : `unknown service "${service}"`,
    );
  }
  const partnerId = p['partner'];
  const partner =
    partnerId === undefined
      ? undefined
      : await core.db
          .selectFrom('sbx_partners')
          .select(['partner', 'md5_key', 'email', 'payment_password', 'rsa_public_key', 'services'])
          .where('partner', '=', partnerId)
          .executeTakeFirst();
  if (!partner)
    return refuse(
      'ILLEGAL_PARTNER',
      partnerId === undefined
        ? 'the partner parameter is missing'
        : `partner "${partnerId}" is not known to this sandbox`,
    );
  const signType = p['sign_type'];
  let key: VerifyingKey;
  if (signType === 'MD5') key = { signType: 'MD5', key: partner.md5_key };
  else if (signType === 'RSA' && partner.rsa_public_key)
    key = { signType: 'RSA', publicKey: partner.rsa_public_key };
  else {
    return refuse(
      'ILLEGAL_SIGN_TYPE',
      signType === undefined
        ? 'sign_type is missing; send MD5 or RSA (upper case)'
        : signType === 'RSA'
          ? 'sign_type is RSA but no RSA public key is registered for this partner'
          : `sign_type "${signType}" is not supported; send MD5 or RSA (upper case; DSA is not implemented by the sandbox)`,
    );
  }
  let valid = false;
  try {
    valid = verifyParams(p, key, r.charset ?? 'utf-8');
  } catch {
    valid = false;
  }
  if (!valid) {
    const canonical = canonicalize(p);
    return refuse(
      'ILLEGAL_SIGN',
      `${p['sign'] === undefined ? 'the sign parameter is missing. ' : ''}The sandbox verified this string (the key is appended for MD5, not shown here), in ${r.charset ?? 'utf-8'} bytes: ${canonical.length > 600 ? `${canonical.slice(0, 600)}…` : canonical}`,
    );
  }
  const services = partner.services.split(',');
  if (!services.includes(service)) {
    return refuse(
      'HAS_NO_PRIVILEGE',
      `partner ${partner.partner} has not contracted ${service} (contracted: ${services.join(', ') || 'nothing'})`,
    );
  }
  if (r.charset === null) {
    const raw = p['_input_charset'];
    return refuse(
      'ILLEGAL_CHARSET',
      raw === undefined
        ? '_input_charset is missing; send utf-8 or gbk, in the query string and signed'
        : `_input_charset "${raw}" is not supported; use utf-8 or gbk (gb2312)`,
    );
  }
  for (const [k, v] of Object.entries(p)) {
    if (v.includes('\ufffd'))
      return refuse('ILLEGAL_CHARSET', `parameter ${k} is not valid ${r.charset} text`);
  }
  return { ok: true, service, partner, charset: r.charset };
}

function httpUrlProblem(name: string, v: string): string | null {
  if (v.length > 200) return `${name} is ${v.length} characters; the limit is 200`;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `${name} "${v}" is not an absolute URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${name} must be http or https`;
  if (v.includes('?'))
    return `${name} must not carry a query string (custom parameters such as ?id=123 are forbidden)`;
  return null;
}

/** Step 7: parameters. */
export function checkArguments(r: GatewayRequest, service: string): Refusal | null {
  const p = r.params;
  if (r.conflicts.length > 0)
    return refuse(
      'ILLEGAL_ARGUMENT',
      `parameter(s) ${r.conflicts.join(', ')} were sent twice with different values`,
    );
  const unknown = [...Object.keys(p), ...r.empties].filter((k) => !isDocumentedParam(service, k));
  if (unknown.length > 0) {
    return refuse(
      'ILLEGAL_ARGUMENT',
      `parameter(s) ${unknown.join(', ')} are not parameters of ${service}; the form may contain only the documented parameters`,
    );
  }
  if (r.empties.length > 0) {
    return refuse(
      'ILLEGAL_ARGUMENT',
      `parameter(s) ${r.empties.join(', ')} were sent empty; leave out optional parameters you do not use`,
    );
  }
  if (service === SERVICE_QUERY) {
    if (p['batch_no'] === undefined && p['trade_no'] === undefined)
      return refuse('ILLEGAL_ARGUMENT', 'give batch_no or trade_no (or both)');
    return null;
  }
  for (const name of ['batch_no', 'batch_num', 'detail_data']) {
    if (p[name] === undefined) return refuse('ILLEGAL_ARGUMENT', `required parameter ${name} is missing`);
  }
  for (const name of ['notify_url', 'dback_notify_url']) {
    const v = p[name];
    const problem = v === undefined ? null : httpUrlProblem(name, v);
    if (problem) return refuse('ILLEGAL_ARGUMENT', problem);
  }
  const freeze = p['use_freeze_amount'];
  if (freeze !== undefined && freeze !== 'Y' && freeze !== 'N')
    return refuse('ILLEGAL_ARGUMENT', `use_freeze_amount must be Y or N, not "${freeze}"`);
  const rt = p['return_type'];
  if (rt !== undefined && rt !== 'xml')
    return refuse('ILLEGAL_ARGUMENT', `return_type must be xml, not "${rt}"`);
  const sellerId = p['seller_user_id'];
  const sellerEmail = p['seller_email'];
  if (sellerId !== undefined && !ALIPAY_USER_ID_RE.test(sellerId))
    return refuse('ILLEGAL_ARGUMENT', `seller_user_id "${sellerId}" is not 2088 followed by 12 digits`);
  if (sellerEmail !== undefined && !ALIPAY_EMAIL_RE.test(sellerEmail) && !/^1\d{10}$/.test(sellerEmail)) {
    return refuse('ILLEGAL_ARGUMENT', `seller_email "${sellerEmail}" is not an email or mobile login`);
  }
  if (service === SERVICE_PWD && sellerId === undefined && sellerEmail === undefined) {
    return refuse(
      'ILLEGAL_ARGUMENT',
      'the pwd service needs seller_user_id or seller_email (one of the two)',
    );
  }
  return null;
}

/** Step 8: refund_date is well-formed, on the date of batch_no, and today (Beijing). */
export function checkRefundDate(core: Core, p: Record<string, string>): Refusal | null {
  const rd = p['refund_date'];
  if (rd === undefined) return refuse('REFUND_DATE_ERROR', 'refund_date is missing');
  if (parseBeijing(rd) === null)
    return refuse(
      'REFUND_DATE_ERROR',
      `refund_date "${rd}" is not yyyy-MM-dd HH:mm:ss (24-hour, Beijing time)`,
    );
  const day = rd.slice(0, 10).replace(/-/g, '');
  const bn = p['batch_no'] ?? '';
  if (/^\d{8}/.test(bn) && bn.slice(0, 8) !== day) {
    return refuse(
      'REFUND_DATE_ERROR',
      `refund_date is on ${day} but batch_no starts with ${bn.slice(0, 8)}; make both from one clock reading`,
    );
  }
  const today = beijingDate(core.now());
  if (day !== today)
    return refuse(
      'REFUND_DATE_ERROR',
      `refund_date is on ${day} but today is ${today} (Beijing time, sandbox clock)`,
    );
  return null;
}

/** Steps 10–11: batch_num and detail_data (the SDK's validator, one code by {@link DETAIL_CODE_ORDER}). */
export function checkDetail(
  p: Record<string, string>,
  charset: Charset,
  mode: 'pwd' | 'nopwd',
): { ok: true; records: DetailRecord[] } | Refusal {
  const decoded = decodeDetailData(p['detail_data'] ?? '', { charset, mode, batchNum: p['batch_num'] ?? '' });
  if (decoded.ok) return { ok: true, records: decoded.value };
  const pick = (issues: CodecIssue[]): CodecIssue => {
    for (const code of DETAIL_CODE_ORDER) {
      const hit = issues.find((i) => i.code === code);
      if (hit) return hit;
    }
    return issues[0]!;
  };
  const issue = pick(decoded.issues);
  return refuse(
    issue.code,
    `${issue.record === null ? '' : `record ${issue.record}, `}${issue.field}: ${issue.message}`,
  );
}
