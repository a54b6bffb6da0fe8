/**
 * The one-pass form decoder (charset.ts `decodeFormBytes`) and the sign check over decoded bytes
 * (notify.ts): the same pairs as the straightforward decoder they replaced, and the same verdicts.
 */
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  type Charset,
  checkNotificationSignature,
  decodeBytes,
  NotificationError,
  parseFormBody,
  signNotification,
} from '../src/index.js';

/** The decoder before the one-pass rewrite (a regex and a slice per `%XX`), kept as the reference. */
function referenceParse(body: string | Uint8Array, charset: Charset): Array<[string, string]> {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('latin1');
  const out: Array<[string, string]> = [];
  if (text.length === 0) return out;
  const decode = (token: string): string => {
    const s = token.replace(/\+/g, ' ');
    if (!s.includes('%')) {
      return /^[\x00-\x7f]*$/.test(s) ? s : decodeBytes(Buffer.from(s, 'latin1'), charset);
    }
    const bytes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
        bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (c < 0x100) bytes.push(c);
      else for (const b of Buffer.from(s[i] ?? '', 'utf8')) bytes.push(b);
    }
    return decodeBytes(Uint8Array.from(bytes), charset);
  };
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push([decode(eq < 0 ? part : part.slice(0, eq)), decode(eq < 0 ? '' : part.slice(eq + 1))]);
  }
  return out;
}

const KEY = 'k5u3x0bdzec6y9goq7ctyx96ezkz7828';
const md5Key = { signType: 'MD5' as const, key: KEY };

/** Form-ish bytes: separators, escapes (valid, truncated, bad hex), `+`, ASCII, high bytes. */
const formish = fc
  .array(
    fc.oneof(
      fc.constantFrom('&', '=', '+', '%', '%2', '%zz', '%41', '%e4%b8%ad', '%C4%E3', '%FF', '%3D', '%26'),
      fc.string({ maxLength: 6 }),
      fc.uint8Array({ maxLength: 4 }).map((b) => Buffer.from(b).toString('latin1')),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

describe('decodeFormBytes / parseFormBody', () => {
  it('decodes exactly as the reference decoder, for bytes and Latin-1 strings, in both charsets', () => {
    fc.assert(
      fc.property(formish, fc.constantFrom<Charset>('utf-8', 'gbk'), (text, charset) => {
        const bytes = Buffer.from(text, 'latin1');
        expect(parseFormBody(bytes, charset)).toEqual(referenceParse(bytes, charset));
        expect(parseFormBody(text, charset)).toEqual(referenceParse(text, charset));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a string body holding characters beyond Latin-1 as before', () => {
    const body = 'a=中%E6%96%87+x&b=€&c=%41€';
    expect(parseFormBody(body, 'utf-8')).toEqual(referenceParse(body, 'utf-8'));
    expect(parseFormBody(body, 'utf-8')[0]).toEqual(['a', '中文 x']);
  });
});

describe('checkNotificationSignature over the decoded bytes', () => {
  const params = (reason: string) => ({
    notify_time: '2026-11-21 10:00:05',
    notify_type: 'batch_refund_notify',
    notify_id: 'n1',
    batch_no: '20261121001',
    success_num: '1',
    result_details: `2011011201037066^5.00^SUCCESS#${reason}`,
  });

  it('accepts what is signed, in UTF-8 and GBK, from bytes and from strings', () => {
    for (const charset of ['utf-8', 'gbk'] as const) {
      const signed = signNotification(params('协商退款 & = + %'), md5Key, charset);
      const bytes = Buffer.from(signed.body, 'latin1');
      expect(checkNotificationSignature(bytes, charset, md5Key)).toEqual(signed.params);
      expect(checkNotificationSignature(signed.body, charset, md5Key)).toEqual(signed.params);
    }
  });

  it('accepts GBK bytes sent unescaped (raw high bytes in the body)', () => {
    const signed = signNotification(params('协商退款'), md5Key, 'gbk');
    const raw = Buffer.from(
      signed.body.replace(/(%[0-9A-F]{2})+/g, (m) =>
        /%[89A-F]/.test(m) ? iconv.decode(Buffer.from(m.replace(/%/g, ''), 'hex'), 'latin1') : m,
      ),
      'latin1',
    );
    expect(checkNotificationSignature(raw, 'gbk', md5Key)).toEqual(signed.params);
  });

  it('refuses a changed byte, a repeated parameter and the wrong charset with the same codes as before', () => {
    const signed = signNotification(params('协商退款'), md5Key, 'utf-8');
    const code = (body: string | Uint8Array, charset: Charset) => {
      try {
        checkNotificationSignature(body, charset, md5Key);
        return 'ok';
      } catch (e) {
        return e instanceof NotificationError ? e.code : String(e);
      }
    };
    expect(code(signed.body.replace('success_num=1', 'success_num=2'), 'utf-8')).toBe('SIGN_MISMATCH');
    expect(code(`${signed.body}&batch_no=x`, 'utf-8')).toBe('MALFORMED_BODY');
    expect(code(signed.body, 'gbk')).toBe('CHARSET_MISMATCH');
    expect(code('', 'utf-8')).toBe('MALFORMED_BODY');
  });
});
