/**
 * Why does a captured notification not verify? The seeds' 常见问题 chapter, as code: try the
 * usual mistakes one by one and report the one that makes the sign match.
 */
import { type Charset, parseFormBody } from './charset.js';
import { NOTIFY_PARAMS } from './services.js';
import { type VerifyingKey, verifyParams } from './sign.js';

export type FindingCode =
  | 'SIGN_OK'
  | 'EMPTY_BODY'
  | 'DUPLICATE_PARAMETER'
  | 'MISSING_SIGN'
  | 'SIGN_TYPE_MISMATCH'
  | 'WRONG_CHARSET'
  | 'EXTRA_PARAMETER'
  | 'ALREADY_DECODED'
  | 'DOUBLE_ENCODED'
  | 'WRONG_KEY_OR_ALTERED';

/** One finding: what is wrong and how to fix it. */
export interface Finding {
  code: FindingCode;
  message: string;
  fix: string;
}

export interface Diagnosis {
  /** True when the body verifies as given (in `charset`). */
  signOk: boolean;
  /** Parameters decoded in `charset` (first decoding). */
  params: Record<string, string>;
  findings: Finding[];
}

function toRecord(pairs: Array<[string, string]>): { params: Record<string, string>; dup?: string } {
  const params: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (Object.hasOwn(params, k)) return { params, dup: k };
    params[k] = v;
  }
  return { params };
}

function verifies(params: Record<string, string>, key: VerifyingKey, charset: Charset): boolean {
  try {
    return verifyParams(params, key, charset);
  } catch {
    return false;
  }
}

/** Splits a body on `&` and `=` without decoding anything. */
function rawPairs(body: string): Array<[string, string]> {
  return body
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=');
      return i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
    });
}

/**
 * Diagnoses a captured notification body offline (no network): does the sign match, and if not,
 * which of the common mistakes explains it.
 */
export function diagnoseNotificationBody(
  body: string | Uint8Array,
  charset: Charset,
  key: VerifyingKey,
): Diagnosis {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('latin1');
  const findings: Finding[] = [];
  const first = toRecord(parseFormBody(text.trim(), charset));
  const params = first.params;
  if (Object.keys(params).length === 0) {
    return {
      signOk: false,
      params,
      findings: [
        {
          code: 'EMPTY_BODY',
          message: 'the body carries no parameters',
          fix: 'capture the raw POST body (application/x-www-form-urlencoded), not the query string or a log line',
        },
      ],
    };
  }
  if (first.dup) {
    findings.push({
      code: 'DUPLICATE_PARAMETER',
      message: `"${first.dup}" appears twice`,
      fix: 'verify the POST body alone; do not merge query-string and body parameters',
    });
  }
  if (!params['sign']) {
    findings.push({
      code: 'MISSING_SIGN',
      message: 'there is no sign parameter',
      fix: 'a genuine notification is always signed: treat this one as forged, or capture the whole body',
    });
    return { signOk: false, params, findings };
  }
  if (params['sign_type'] !== key.signType) {
    findings.push({
      code: 'SIGN_TYPE_MISMATCH',
      message: `sign_type is ${params['sign_type'] ?? '(missing)'} but the key given is for ${key.signType}`,
      fix: `verify with the ${params['sign_type'] ?? 'matching'} key (MD5 key, or Alipay's RSA public key)`,
    });
    return { signOk: false, params, findings };
  }
  if (verifies(params, key, charset)) {
    findings.push({
      code: 'SIGN_OK',
      message: `the sign matches (decoded as ${charset})`,
      fix: 'nothing to fix in the body; if your server still refuses it, compare its canonical string with `alirefund sign`',
    });
    return { signOk: true, params, findings };
  }

  const other: Charset = charset === 'utf-8' ? 'gbk' : 'utf-8';
  const alt = toRecord(parseFormBody(text.trim(), other)).params;
  if (verifies(alt, key, other)) {
    findings.push({
      code: 'WRONG_CHARSET',
      message: `the sign matches when the body is decoded as ${other}, not ${charset}`,
      fix: `decode notifications in the charset the batch was sent with (_input_charset=${other}); check the page/container encoding too (seed §5.2 D)`,
    });
    return { signOk: false, params, findings };
  }
  const extra = Object.keys(params).filter((k) => !NOTIFY_PARAMS.includes(k));
  // Try dropping all undocumented parameters, then each one alone (Alipay may sign fields we don't know).
  const candidates = extra.length > 1 ? [extra, ...extra.map((k) => [k])] : extra.length === 1 ? [extra] : [];
  for (const drop of candidates) {
    const trimmed = Object.fromEntries(Object.entries(params).filter(([k]) => !drop.includes(k)));
    if (verifies(trimmed, key, charset)) {
      findings.push({
        code: 'EXTRA_PARAMETER',
        message: `the sign matches once ${drop.map((k) => `"${k}"`).join(', ')} ${drop.length > 1 ? 'are' : 'is'} removed`,
        fix: 'verify only what Alipay posted: drop route parameters, framework fields and anything your code added',
      });
      return { signOk: false, params, findings };
    }
  }
  const raw = toRecord(rawPairs(text.trim())).params;
  if (verifies(raw, key, charset)) {
    findings.push({
      code: 'ALREADY_DECODED',
      message:
        'the sign matches when the values are taken as they are, without URL-decoding: the captured body had already been URL-decoded once',
      fix: 'verify the raw POST body, decoding each value exactly once; a framework may already hand you decoded values — then do not decode again',
    });
    return { signOk: false, params, findings };
  }
  const twice: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const again = parseFormBody(`x=${v.replace(/&/g, '%26')}`, charset)[0]?.[1];
    twice[k] = again ?? v;
  }
  if (verifies(twice, key, charset)) {
    findings.push({
      code: 'DOUBLE_ENCODED',
      message:
        'the sign matches only after decoding the values twice: something URL-encoded them again on the way',
      fix: 'find the proxy or logger that re-encodes the body; sign and verify raw (decoded-once) values',
    });
    return { signOk: false, params, findings };
  }
  findings.push({
    code: 'WRONG_KEY_OR_ALTERED',
    message: 'the sign does not match under any of the usual mistakes (charset, extra parameter, decoding)',
    fix: 'check that the key is the one for this partner, with no spaces, partner and key not swapped (seed §5.2 A); otherwise the body was altered or forged',
  });
  return { signOk: false, params, findings };
}
