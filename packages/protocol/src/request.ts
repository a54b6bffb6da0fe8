/**
 * Building and sending batch refund requests (the seeds' `alipay_service` / `alipay_submit`).
 */
import { batchNoProblem } from './batch-no.js';
import { parseBeijing } from './beijing-time.js';
import { formEncodePairs } from './charset.js';
import { type CodeInfo, isOutcomeUnknown, lookupCode } from './codes.js';
import type { AlipayConfig } from './config.js';
import { type DetailRecord, decodeDetailData, encodeDetailData } from './detail-data.js';
import { escapeHtml } from './html.js';
import type { CodecIssue } from './issues.js';
import { SERVICE_NOPWD, SERVICE_PWD } from './services.js';
import { canonicalize, signCanonical } from './sign.js';
import { XMLParser } from 'fast-xml-parser';

export type RefundModeName = 'pwd' | 'nopwd';

/** What a batch refund request is made of. */
export interface RefundRequestInput {
  mode: RefundModeName;
  batchNo: string;
  refundDate: string;
  /** Records, or a `detail_data` string typed by hand (the seeds' refund template page). */
  detail: readonly DetailRecord[] | string;
  /** Defaults to the record count. */
  batchNum?: number | string;
  /** Defaults to config.notifyUrl. */
  notifyUrl?: string;
  /** nopwd only. */
  dbackNotifyUrl?: string;
  /** nopwd only: `use_freeze_amount=Y`. */
  useFreezeAmount?: boolean;
}

/** A signed request, ready to be rendered as a form, a URL, or posted. */
export interface SignedRequest {
  readonly service: typeof SERVICE_PWD | typeof SERVICE_NOPWD;
  readonly charset: AlipayConfig['inputCharset'];
  readonly gateway: string;
  /** All parameters in sending order, `sign` and `sign_type` last. */
  readonly params: Readonly<Record<string, string>>;
  /** The string that was signed (without the key). */
  readonly canonical: string;
  readonly recordCount: number;
}

/** Thrown when a request would be refused by the gateway; lists every problem. */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  constructor(readonly issues: readonly CodecIssue[]) {
    super(
      `the refund request would be refused:\n${issues
        .slice(0, 20)
        .map(
          (i) => `  - ${i.record === null ? '' : `record ${i.record}, `}${i.field}: ${i.message} [${i.code}]`,
        )
        .join('\n')}${issues.length > 20 ? `\n  … and ${issues.length - 20} more` : ''}`,
    );
  }
}

/**
 * Validates and signs a batch refund request. Nothing is sent.
 * @throws RequestValidationError when batch_no, refund_date, batch_num or detail_data would be refused.
 */
export function buildRefundRequest(config: AlipayConfig, input: RefundRequestInput): SignedRequest {
  const issues: CodecIssue[] = [];
  const detailData = typeof input.detail === 'string' ? input.detail : safeEncode(input.detail, issues);
  const recordCount = detailData === '' ? 0 : detailData.split('#').length;
  const batchNum = String(input.batchNum ?? recordCount);
  const decoded = decodeDetailData(detailData, { charset: config.inputCharset, mode: input.mode, batchNum });
  if (!decoded.ok) issues.push(...decoded.issues);
  const bn = batchNoProblem(input.batchNo);
  if (bn) issues.push({ code: 'BATCH_NO_FORMAT_ERROR', record: null, field: 'batch_no', message: bn });
  if (parseBeijing(input.refundDate) === null) {
    issues.push({
      code: 'REFUND_DATE_ERROR',
      record: null,
      field: 'refund_date',
      message: 'refund_date must be yyyy-MM-dd HH:mm:ss (Beijing time)',
    });
  } else if (!bn && input.refundDate.slice(0, 10).replace(/-/g, '') !== input.batchNo.slice(0, 8)) {
    issues.push({
      code: 'REFUND_DATE_ERROR',
      record: null,
      field: 'refund_date',
      message: `refund_date ${input.refundDate.slice(0, 10)} is not the date of batch_no ${input.batchNo.slice(0, 8)}; create both from one clock reading (newBatchIdentity)`,
    });
  }
  const notifyUrl = input.notifyUrl ?? config.notifyUrl;
  if (notifyUrl?.includes('?')) {
    issues.push({
      code: 'ILLEGAL_ARGUMENT',
      record: null,
      field: 'notify_url',
      message: 'notify_url must not carry a query string',
    });
  }
  if (input.mode === 'pwd' && config.sellerUserId === undefined && config.sellerEmail === undefined) {
    // seller_user_id defaults to the partner, as the official demo does.
  }
  if (issues.length > 0) throw new RequestValidationError(issues);

  const service = input.mode === 'pwd' ? SERVICE_PWD : SERVICE_NOPWD;
  const params: Record<string, string> = {
    service,
    partner: config.partner,
    _input_charset: config.inputCharset,
  };
  if (notifyUrl !== undefined) params['notify_url'] = notifyUrl;
  if (input.mode === 'pwd') {
    if (config.sellerUserId !== undefined || config.sellerEmail === undefined) {
      params['seller_user_id'] = config.sellerUserId ?? config.partner;
    } else {
      params['seller_email'] = config.sellerEmail;
    }
  } else {
    if (input.dbackNotifyUrl !== undefined) params['dback_notify_url'] = input.dbackNotifyUrl;
    if (input.useFreezeAmount) params['use_freeze_amount'] = 'Y';
  }
  params['refund_date'] = input.refundDate;
  params['batch_no'] = input.batchNo;
  params['batch_num'] = batchNum;
  params['detail_data'] = detailData;
  const canonical = canonicalize(params);
  params['sign'] = signCanonical(canonical, config.signingKey, config.inputCharset);
  params['sign_type'] = config.signType;
  return Object.freeze({
    service,
    charset: config.inputCharset,
    gateway: config.gateway,
    params: Object.freeze(params),
    canonical,
    recordCount,
  });
}

function safeEncode(records: readonly DetailRecord[], issues: CodecIssue[]): string {
  try {
    return encodeDetailData(records);
  } catch (e) {
    issues.push({
      code: 'DETAIL_DATA_FORMAT_ERROR',
      record: null,
      field: 'detail_data',
      message: (e as Error).message,
    });
    return '';
  }
}

/** The gateway URL with `_input_charset` in the query string, as the form rules require. */
export function formAction(req: Pick<SignedRequest, 'gateway' | 'charset'>): string {
  return `${req.gateway}${req.gateway.includes('?') ? '&' : '?'}_input_charset=${req.charset}`;
}

export interface FormOptions {
  /** POST (default) or GET. */
  method?: 'POST' | 'GET';
  /** A CSP nonce for the auto-submit script. */
  nonce?: string;
  /** Language of the fallback text. */
  lang?: 'zh-CN' | 'en';
}

/**
 * Renders the auto-submit HTML page that sends the operator's browser to the gateway (pwd).
 * Only the request's parameters are hidden inputs (`_input_charset` included), every value is
 * HTML-escaped, and a visible button remains for browsers that block the script.
 */
export function renderRefundForm(req: SignedRequest, opts: FormOptions = {}): string {
  const method = opts.method ?? 'POST';
  const en = opts.lang === 'en';
  const inputs = Object.entries(req.params)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}"/>`)
    .join('\n');
  const nonce = opts.nonce === undefined ? '' : ` nonce="${escapeHtml(opts.nonce)}"`;
  return `<!DOCTYPE html>
<html lang="${en ? 'en' : 'zh-CN'}"><head><meta charset="utf-8"><title>${en ? 'Redirecting to Alipay…' : '正在跳转到支付宝…'}</title></head>
<body>
<form id="alipaysubmit" name="alipaysubmit" action="${escapeHtml(formAction(req))}" method="${method.toLowerCase()}" accept-charset="${req.charset}">
${inputs}
<p>${en ? 'If the page does not move on by itself, press the button.' : '如果页面没有自动跳转，请点击下面的按钮。'}</p>
<button type="submit">${en ? 'Continue to Alipay' : '确认，前往支付宝'}</button>
</form>
<script${nonce}>document.getElementById('alipaysubmit').submit();</script>
</body></html>`;
}

/** Longest URL we produce for GET redirects; longer batches must use the POST form. */
export const MAX_REDIRECT_URL_LENGTH = 2000;

/**
 * A redirect URL carrying the whole request (for small pwd batches sent by GET).
 * @throws RangeError when the URL would exceed {@link MAX_REDIRECT_URL_LENGTH}; use the form.
 */
export function buildRefundUrl(req: SignedRequest): string {
  const url = `${req.gateway}?${formEncodePairs(Object.entries(req.params), req.charset)}`;
  if (url.length > MAX_REDIRECT_URL_LENGTH) {
    throw new RangeError(
      `the redirect URL would be ${url.length} characters (limit ${MAX_REDIRECT_URL_LENGTH}); render the POST form instead`,
    );
  }
  return url;
}

/** The synchronous answer to a nopwd request. */
export type NopwdResult =
  /** T (or P): accepted for processing. NOT refunded: only the notification's result_details says that. */
  | { status: 'accepted'; isSuccess: 'T' | 'P'; body: string }
  /** F: nothing was processed and no notification will come. */
  | { status: 'rejected'; code: string; info: CodeInfo; body: string }
  /** The batch may or may not have been accepted: pause it for an operator; never resubmit it automatically. */
  | {
      status: 'unknown';
      reason: 'gateway-system-error' | 'transport' | 'timeout' | 'bad-response';
      code: string;
      message: string;
      body?: string;
    };

const xml = new XMLParser({ parseTagValue: false, ignoreDeclaration: true, trimValues: true });

/** Parses `<alipay><is_success>T|F|P</is_success><error>…</error></alipay>`. */
export function parseNopwdReply(body: string): NopwdResult {
  let doc: unknown;
  try {
    doc = xml.parse(body);
  } catch {
    doc = null;
  }
  const root = (doc as { alipay?: { is_success?: unknown; error?: unknown } } | null)?.alipay;
  const flag = typeof root?.is_success === 'string' ? root.is_success : undefined;
  if (flag === 'T' || flag === 'P') return { status: 'accepted', isSuccess: flag, body };
  if (flag === 'F') {
    const code = typeof root?.error === 'string' && root.error !== '' ? root.error : 'UNKNOWN_EXCEPTION';
    if (isOutcomeUnknown(code)) {
      return {
        status: 'unknown',
        reason: 'gateway-system-error',
        code,
        message: `the gateway answered ${code}: the batch may still have been accepted; pause and look it up (refund_fastpay_query) before doing anything else`,
        body,
      };
    }
    return { status: 'rejected', code, info: lookupCode(code), body };
  }
  return {
    status: 'unknown',
    reason: 'bad-response',
    code: 'TRANSPORT_ERROR',
    message: `the gateway's reply is not the expected <alipay><is_success>…</is_success></alipay> XML: ${JSON.stringify(body.slice(0, 200))}`,
    body,
  };
}

export interface SendOptions {
  /** Defaults to 15 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/**
 * Sends a signed nopwd request to the gateway (POST, form-encoded in the request's charset) and
 * classifies the reply. Transport failures and timeouts come back as `status: 'unknown'`: the
 * gateway may have received the batch.
 */
export async function sendNopwdRequest(req: SignedRequest, opts: SendOptions = {}): Promise<NopwdResult> {
  if (req.service !== SERVICE_NOPWD)
    throw new TypeError(
      `sendNopwdRequest: ${req.service} is a browser (pwd) request; render it with renderRefundForm`,
    );
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const signals = [AbortSignal.timeout(timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  const signal = AbortSignal.any(signals);
  let res: Response;
  let text: string;
  try {
    res = await (opts.fetch ?? fetch)(formAction(req), {
      method: 'POST',
      headers: { 'content-type': `application/x-www-form-urlencoded; charset=${req.charset}` },
      body: formEncodePairs(Object.entries(req.params), req.charset),
      signal,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    text = new TextDecoder(req.charset === 'gbk' ? 'gbk' : 'utf-8').decode(bytes);
  } catch (e) {
    const timedOut = signals[0]!.aborted;
    return {
      status: 'unknown',
      reason: timedOut ? 'timeout' : 'transport',
      code: 'TRANSPORT_ERROR',
      message: timedOut
        ? `no reply from the gateway within ${timeoutMs} ms: the batch may have been accepted; do not resubmit it, look it up`
        : `could not reach the gateway (${(e as Error).message}): the batch may have been accepted if the connection broke after sending; look it up before resubmitting`,
    };
  }
  if (res.status !== 200) {
    return {
      status: 'unknown',
      reason: 'bad-response',
      code: 'TRANSPORT_ERROR',
      message: `the gateway answered HTTP ${res.status}`,
      body: text,
    };
  }
  return parseNopwdReply(text);
}
