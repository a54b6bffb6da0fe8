/**
 * Notifications (the seeds' `alipay_notify`): verification that either returns a typed
 * notification or throws a typed error saying which check failed and what to look at, and
 * `signNotification()`, the one public signer the sandbox and every test use.
 */
import { createHash } from 'node:crypto';
import {
  type Charset,
  decodeFormBytes,
  encodeText,
  formEncodePairs,
  formText,
  parseFormBody,
} from './charset.js';
import type { AlipayConfig } from './config.js';
import { diagnoseNotificationBody } from './diagnose.js';
import type { CodecIssue } from './issues.js';
import {
  type ResultRecord,
  type UnfreezeRecord,
  decodeResultDetails,
  decodeUnfreezedDetails,
} from './result-details.js';
import { SERVICE_NOTIFY_VERIFY } from './services.js';
import { md5Equals, type SigningKey, type VerifyingKey, signParams, verifyParams } from './sign.js';

/** Which check a notification failed. */
export type NotificationCheck = 'decode' | 'sign' | 'notify_verify' | 'content';

export type NotificationErrorCode =
  | 'MALFORMED_BODY'
  | 'CHARSET_MISMATCH'
  | 'MISSING_SIGN'
  | 'UNSUPPORTED_SIGN_TYPE'
  | 'SIGN_MISMATCH'
  | 'UNEXPECTED_PARAMETER'
  | 'NOTIFY_VERIFY_FALSE'
  | 'NOTIFY_VERIFY_UNREACHABLE'
  | 'NOTIFY_VERIFY_BAD_RESPONSE'
  | 'WRONG_NOTIFY_TYPE'
  | 'MALFORMED_CONTENT';

/** A notification that must not be trusted. `hint` says what to look at (seed §5.2 checklist). */
export class NotificationError extends Error {
  override readonly name = 'NotificationError';
  constructor(
    readonly code: NotificationErrorCode,
    readonly check: NotificationCheck,
    message: string,
    readonly hint: string,
    /** Decoded parameters, when decoding got that far (no secrets: a notification carries none). */
    readonly params?: Readonly<Record<string, string>>,
    readonly issues?: readonly CodecIssue[],
  ) {
    super(`${message} — ${hint}`);
  }

  /** The matching entry of the error-code catalogue (`lookupCode`), when there is one. */
  get catalogueCode(): string | undefined {
    return CATALOGUE_CODE[this.code];
  }
}

const CATALOGUE_CODE: Partial<Record<NotificationErrorCode, string>> = {
  CHARSET_MISMATCH: 'NOTIFY_SIGN_MISMATCH',
  MISSING_SIGN: 'NOTIFY_SIGN_MISMATCH',
  UNSUPPORTED_SIGN_TYPE: 'NOTIFY_SIGN_MISMATCH',
  SIGN_MISMATCH: 'NOTIFY_SIGN_MISMATCH',
  UNEXPECTED_PARAMETER: 'NOTIFY_SIGN_MISMATCH',
  NOTIFY_VERIFY_FALSE: 'NOTIFY_VERIFY_FALSE',
  NOTIFY_VERIFY_UNREACHABLE: 'NOTIFY_VERIFY_UNREACHABLE',
  NOTIFY_VERIFY_BAD_RESPONSE: 'NOTIFY_VERIFY_UNREACHABLE',
  MALFORMED_CONTENT: 'RESULT_DETAILS_FORMAT_ERROR',
};

/** A verified `batch_refund_notify`. */
export interface BatchRefundNotification {
  notifyType: 'batch_refund_notify';
  notifyId: string;
  notifyTime: string;
  signType: string;
  batchNo: string;
  successNum: number;
  resultDetailsText: string;
  resultDetails: ResultRecord[];
  unfreezedDetails?: UnfreezeRecord[];
  /** Every parameter as received (decoded). */
  params: Readonly<Record<string, string>>;
}

export interface VerifyOptions {
  /** The charset the batch was sent with: the body is decoded in it before anything else. */
  charset: Charset;
  /** Merchant configuration (partner, verifying key, gateway). */
  config: Pick<AlipayConfig, 'partner' | 'gateway' | 'verifyingKey' | 'signType'>;
  /** Call the gateway's notify_verify (default true). Turn off only for offline diagnosis. */
  remoteVerify?: boolean;
  /** Timeout of the notify_verify call, default 5000 ms. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const KEY_HINT =
  'check that the key (or Alipay public key) is the one for this partner, with no spaces, and that partner and key are not swapped';

function tryVerify(params: Record<string, string>, key: VerifyingKey, charset: Charset): boolean {
  try {
    return verifyParams(params, key, charset);
  } catch {
    return false;
  }
}

function duplicateParameter(k: string): NotificationError {
  return new NotificationError(
    'MALFORMED_BODY',
    'decode',
    `parameter "${k}" appears twice in the body`,
    'pass the raw request body exactly as received; do not merge query-string and body parameters',
  );
}

function decodeOnce(body: string | Uint8Array, charset: Charset): Record<string, string> {
  const pairs = parseFormBody(body, charset);
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (Object.hasOwn(out, k)) throw duplicateParameter(k);
    out[k] = v;
  }
  return out;
}

/** The signed bytes `k=v&…` + key, written into a reused buffer (grown as needed). */
let signedScratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The body decoded once into bytes (charset.ts `decodeFormBytes`), its parameters as text, and the MD5 over the
 * signed pairs' *decoded bytes* (sorted by key, `sign`/`sign_type`/empty values left out) + key: the bytes the
 * signer hashed, without turning the text back into bytes. `md5` is null when the check cannot take this path
 * (RSA, a non-ASCII key name); the caller then verifies the text as before.
 */
function decodeAndDigest(
  bytes: Uint8Array,
  charset: Charset,
  key: VerifyingKey,
): { params: Record<string, string>; md5: string | null } {
  const f = decodeFormBytes(bytes);
  const { starts, ascii } = f;
  const params: Record<string, string> = {};
  const signed: number[] = [];
  let asciiKeys = true;
  let size = 0;
  for (let p = 0; p < f.count; p++) {
    const b = p * 4;
    const isAscii = ascii[p] === 1;
    const k = formText(f.bytes, starts[b]!, starts[b + 1]!, isAscii, charset);
    if (Object.hasOwn(params, k)) throw duplicateParameter(k);
    params[k] = formText(f.bytes, starts[b + 2]!, starts[b + 3]!, isAscii, charset);
    if (k === 'sign' || k === 'sign_type' || starts[b + 2] === starts[b + 3]) continue;
    if (!isAscii && !/^[\x00-\x7f]*$/.test(k)) asciiKeys = false;
    signed.push(p);
    size += starts[b + 3]! - starts[b]! + 1;
  }
  if (key.signType !== 'MD5' || !asciiKeys) return { params, md5: null };
  // ASCII key names: their byte order is their UTF-16 order.
  const keyOf = (p: number) => f.bytes.toString('latin1', starts[p * 4]!, starts[p * 4 + 1]!);
  const names = signed.map(keyOf);
  const order = signed
    .map((_, j) => j)
    .sort((x, y) => (names[x]! < names[y]! ? -1 : names[x]! > names[y]! ? 1 : 0));
  if (signedScratch.length < size) signedScratch = Buffer.allocUnsafe(size * 2);
  const out = signedScratch;
  let at = 0;
  for (let j = 0; j < order.length; j++) {
    const b = signed[order[j]!]! * 4;
    if (j > 0) out[at++] = 0x26;
    at += f.bytes.copy(out, at, starts[b]!, starts[b + 1]!);
    out[at++] = 0x3d;
    at += f.bytes.copy(out, at, starts[b + 2]!, starts[b + 3]!);
  }
  const md5 = createHash('md5')
    .update(out.subarray(0, at))
    .update(charset === 'utf-8' ? Buffer.from(key.key, 'utf8') : encodeText(key.key, charset, 'the key'))
    .digest('hex');
  return { params, md5 };
}

/** A string body as bytes (latin1, one per character), or null when it holds characters beyond Latin-1. */
function latin1Bytes(body: string): Uint8Array | null {
  for (let i = 0; i < body.length; i++) if (body.charCodeAt(i) > 0xff) return null;
  return Buffer.from(body, 'latin1');
}

/**
 * Decodes a notification body and checks its signature (no network). Returns the parameters.
 * @throws NotificationError with check 'decode' or 'sign'.
 */
export function checkNotificationSignature(
  body: string | Uint8Array,
  charset: Charset,
  key: VerifyingKey,
  opts: {
    /**
     * On a sign failure, try the usual mistakes (other charset, added parameter) to say why (default true).
     * Off, a failure is reported as SIGN_MISMATCH at the cost of the check alone (e.g. for a caller already
     * known to send forgeries).
     */
    explain?: boolean;
  } = {},
): Record<string, string> {
  const bytes = typeof body === 'string' ? latin1Bytes(body) : body;
  const fast = bytes === null ? null : decodeAndDigest(bytes, charset, key);
  const params = fast === null ? decodeOnce(body, charset) : fast.params;
  if (Object.keys(params).length === 0) {
    throw new NotificationError(
      'MALFORMED_BODY',
      'decode',
      'the body carries no parameters',
      'the notification must be read from the raw POST body (application/x-www-form-urlencoded)',
    );
  }
  const badText = Object.entries(params).find(([, v]) => v.includes('\ufffd'));
  if (badText) {
    const other: Charset = charset === 'utf-8' ? 'gbk' : 'utf-8';
    throw new NotificationError(
      'CHARSET_MISMATCH',
      'decode',
      `"${badText[0]}" is not valid ${charset} text`,
      `the body was probably encoded in ${other}: decode it in the charset the batch was sent with (_input_charset)`,
      params,
    );
  }
  const sign = params['sign'];
  if (sign === undefined || sign === '') {
    throw new NotificationError(
      'MISSING_SIGN',
      'sign',
      'the notification has no sign',
      'a genuine Alipay notification is always signed; treat this one as forged',
      params,
    );
  }
  const signType = params['sign_type'];
  if (signType !== key.signType) {
    throw new NotificationError(
      'UNSUPPORTED_SIGN_TYPE',
      'sign',
      `sign_type is ${signType === undefined ? 'missing' : `"${signType}"`}, expected ${key.signType}`,
      'the notification uses the sign_type of the request; check that the batch was sent with the same signType as configured here',
      params,
    );
  }
  // The bytes the signer hashed match: genuine. Otherwise the text path decides (and explains below).
  // For UTF-8 those bytes are exactly the text's bytes, so a mismatch is final; GBK text is re-encoded to be sure.
  if (fast?.md5 != null && md5Equals(fast.md5, sign)) return params;
  if ((fast?.md5 == null || charset !== 'utf-8') && tryVerify(params, key, charset)) return params;

  // Say why: the diagnosis tries the usual mistakes (charset, added parameter, decoding).
  const finding =
    opts.explain === false ? undefined : diagnoseNotificationBody(body, charset, key).findings.at(-1);
  const code: NotificationErrorCode =
    finding?.code === 'WRONG_CHARSET'
      ? 'CHARSET_MISMATCH'
      : finding?.code === 'EXTRA_PARAMETER'
        ? 'UNEXPECTED_PARAMETER'
        : 'SIGN_MISMATCH';
  throw new NotificationError(
    code,
    'sign',
    code === 'SIGN_MISMATCH'
      ? 'the sign does not match the parameters'
      : (finding?.message ?? 'the sign does not match'),
    code === 'SIGN_MISMATCH'
      ? `${KEY_HINT}; ${finding?.fix ?? ''}`.replace(/; $/, '')
      : (finding?.fix ?? KEY_HINT),
    params,
  );
}

/** The notify_verify URL for a notify_id (unsigned: service, partner, notify_id). */
export function notifyVerifyUrl(gateway: string, partner: string, notifyId: string): string {
  const q = new URLSearchParams({ service: SERVICE_NOTIFY_VERIFY, partner, notify_id: notifyId });
  return `${gateway}${gateway.includes('?') ? '&' : '?'}${q.toString()}`;
}

/**
 * Asks the gateway whether it sent `notifyId` (ATN check).
 * @throws NotificationError when the answer is not `true`.
 */
export async function callNotifyVerify(
  gateway: string,
  partner: string,
  notifyId: string,
  opts: {
    timeoutMs?: number;
    fetch?: typeof fetch;
    /**
     * Reads the answer's text without `fetch` (e.g. over a keep-alive node:http agent, no Request/Response
     * objects). It must reject with an error named `TimeoutError` when no answer came within `timeoutMs`.
     * Takes precedence over `fetch`.
     */
    getText?: (url: string, timeoutMs: number) => Promise<string>;
  } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const url = notifyVerifyUrl(gateway, partner, notifyId);
  let body: string;
  try {
    if (opts.getText) body = await opts.getText(url, timeoutMs);
    else {
      const res = await (opts.fetch ?? fetch)(url, { signal: AbortSignal.timeout(timeoutMs) });
      body = await res.text();
    }
  } catch (e) {
    throw new NotificationError(
      'NOTIFY_VERIFY_UNREACHABLE',
      'notify_verify',
      `notify_verify could not be called (${(e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e as Error).message})`,
      'check that this server can reach the gateway (DNS, firewall, proxy); answer "fail" so that Alipay sends the notification again',
    );
  }
  const t = body.replace(/^\ufeff/, '').trim();
  if (/true$/i.test(t) && t.length <= 8) return;
  if (/^false$/i.test(t)) {
    throw new NotificationError(
      'NOTIFY_VERIFY_FALSE',
      'notify_verify',
      `the gateway does not recognise notify_id ${notifyId}`,
      'the notification was not sent by Alipay to this partner, or its notify_id has expired (already acknowledged with success, or too old); check the partner id',
    );
  }
  throw new NotificationError(
    'NOTIFY_VERIFY_BAD_RESPONSE',
    'notify_verify',
    `notify_verify answered ${JSON.stringify(t.slice(0, 120))} instead of true/false`,
    'check the gateway URL (it must be the mapi gateway.do) and any proxy between this server and Alipay',
  );
}

/**
 * Verifies any mapi notification (sign, then notify_verify) and returns its parameters.
 * @throws NotificationError
 */
export async function verifySignedNotification(
  body: string | Uint8Array,
  opts: VerifyOptions,
): Promise<Record<string, string>> {
  const params = checkNotificationSignature(body, opts.charset, opts.config.verifyingKey);
  const notifyId = params['notify_id'];
  if (notifyId === undefined || notifyId === '') {
    throw new NotificationError(
      'MALFORMED_CONTENT',
      'content',
      'notify_id is missing',
      'a genuine notification always carries notify_id',
      params,
    );
  }
  if (opts.remoteVerify !== false) {
    await callNotifyVerify(opts.config.gateway, opts.config.partner, notifyId, {
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.fetch !== undefined ? { fetch: opts.fetch } : {}),
    });
  }
  return params;
}

/** Turns verified parameters into a typed notification. @throws NotificationError ('content') */
export function parseBatchRefundNotification(params: Record<string, string>): BatchRefundNotification {
  const fail = (message: string, issues?: readonly CodecIssue[]): never => {
    throw new NotificationError(
      'MALFORMED_CONTENT',
      'content',
      message,
      'the notification is signed but its content is not a batch refund result; record it and alert an operator',
      params,
      issues,
    );
  };
  if (params['notify_type'] !== 'batch_refund_notify') {
    throw new NotificationError(
      'WRONG_NOTIFY_TYPE',
      'content',
      `notify_type is ${JSON.stringify(params['notify_type'] ?? null)}, not batch_refund_notify`,
      'trade status notifications (trade_status_sync) belong on the trade notify endpoint',
      params,
    );
  }
  const batchNo = params['batch_no'] ?? '';
  if (batchNo === '') fail('batch_no is missing');
  const successText = params['success_num'] ?? '';
  if (!/^\d{1,4}$/.test(successText))
    fail(`success_num ${JSON.stringify(successText)} is not a record count`);
  const resultText = params['result_details'] ?? '';
  const decoded = resultText === '' ? { ok: true as const, value: [] } : decodeResultDetails(resultText);
  if (!decoded.ok) fail(`result_details is malformed: ${decoded.issues[0]?.message ?? ''}`, decoded.issues);
  const resultDetails = decoded.ok ? decoded.value : [];
  const n: BatchRefundNotification = {
    notifyType: 'batch_refund_notify',
    notifyId: params['notify_id'] ?? '',
    notifyTime: params['notify_time'] ?? '',
    signType: params['sign_type'] ?? '',
    batchNo,
    successNum: Number(successText),
    resultDetailsText: resultText,
    resultDetails,
    params,
  };
  const unfreezed = params['unfreezed_details'];
  if (unfreezed !== undefined && unfreezed !== '') {
    const u = decodeUnfreezedDetails(unfreezed);
    if (!u.ok) fail(`unfreezed_details is malformed: ${u.issues[0]?.message ?? ''}`, u.issues);
    else n.unfreezedDetails = u.value;
  }
  return n;
}

/**
 * Verifies a `batch_refund_notify` body: decode in the batch's charset, check the sign, call
 * notify_verify, parse result_details. Never returns a bare boolean.
 * @throws NotificationError saying which check failed and what to look at.
 * @example const n = await verifyNotification(rawBody, { charset: 'utf-8', config });
 */
export async function verifyNotification(
  body: string | Uint8Array,
  opts: VerifyOptions,
): Promise<BatchRefundNotification> {
  const params = await verifySignedNotification(body, opts);
  return parseBatchRefundNotification(params);
}

/** A signed notification: parameters (with sign, sign_type) and the form body in the charset. */
export interface SignedNotification {
  params: Record<string, string>;
  body: string;
}

/**
 * Signs notification parameters as Alipay does (the sandbox's signer and the tests' one).
 * Empty values are dropped from the body as well as from the signature.
 */
export function signNotification(
  params: Readonly<Record<string, string | undefined>>,
  key: SigningKey,
  charset: Charset,
): SignedNotification {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== '' && k !== 'sign' && k !== 'sign_type') out[k] = v;
  out['sign'] = signParams(out, key, charset);
  out['sign_type'] = key.signType;
  return { params: out, body: formEncodePairs(Object.entries(out), charset) };
}
