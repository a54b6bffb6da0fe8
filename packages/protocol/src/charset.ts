/**
 * Charsets of the mapi gateway. `_input_charset` decides the bytes that are signed, the bytes
 * that reason lengths are counted in, and how notification bodies are percent-decoded.
 */
import iconv from 'iconv-lite';

export type Charset = 'utf-8' | 'gbk';

/** Thrown when text cannot be represented in the target charset (e.g. `¥` U+00A5 in GBK). */
export class CharsetError extends Error {
  override readonly name = 'CharsetError';
  readonly code = 'UNREPRESENTABLE_CHARACTER';
  constructor(
    message: string,
    /** The first offending character. */
    readonly character: string,
    /** Its index (UTF-16 code units) in the text. */
    readonly index: number,
    readonly charset: Charset,
  ) {
    super(message);
  }
}

/**
 * Normalises a charset name as Alipay accepts it: `utf-8`/`utf8` → `utf-8`; `gbk`/`gb2312` → `gbk`
 * (GB2312 is a subset of GBK, so GBK bytes are what the gateway reads). Case-insensitive.
 * Returns `null` for anything else.
 */
export function normalizeCharset(name: string): Charset | null {
  const n = name.trim().toLowerCase();
  if (n === 'utf-8' || n === 'utf8') return 'utf-8';
  if (n === 'gbk' || n === 'gb2312' || n === 'cp936') return 'gbk';
  return null;
}

// GBK covers most of the BMP's CJK and common symbols, but not everything: a whole-string round
// trip is the fast check; only when it fails do we look for the first offending character.
function firstUnrepresentable(text: string): { ch: string; index: number } | null {
  if (/^[\x00-\x7f]*$/.test(text)) return null;
  if (iconv.decode(iconv.encode(text, 'gbk'), 'gbk') === text) return null;
  let index = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) >= 0x80 && iconv.decode(iconv.encode(ch, 'gbk'), 'gbk') !== ch) return { ch, index };
    index += ch.length;
  }
  return null;
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return `"${ch}" (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * Checks that `text` can be carried by `charset`. Returns `null` when it can, else the
 * offending character and its index. UTF-8 carries everything except lone surrogates.
 */
export function findUnrepresentable(
  text: string,
  charset: Charset,
): { character: string; index: number } | null {
  if (charset === 'utf-8') {
    if (!text.isWellFormed()) {
      let index = 0;
      for (const ch of text) {
        const c = ch.charCodeAt(0);
        if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) return { character: ch, index };
        index += ch.length;
      }
    }
    return null;
  }
  const bad = firstUnrepresentable(text);
  return bad ? { character: bad.ch, index: bad.index } : null;
}

/**
 * Encodes text to bytes in `charset`. Refuses (never substitutes `?`) text the charset
 * cannot carry.
 * @throws CharsetError naming the first offending character.
 */
export function encodeText(text: string, charset: Charset, what = 'text'): Buffer {
  if (charset === 'gbk') {
    const bytes = iconv.encode(text, 'gbk');
    // One round trip decides; the per-character search runs only to describe a failure.
    if (/^[\x00-\x7f]*$/.test(text) || iconv.decode(bytes, 'gbk') === text) return bytes;
  } else if (text.isWellFormed()) {
    return Buffer.from(text, 'utf8');
  }
  const bad = findUnrepresentable(text, charset) ?? { character: '\ufffd', index: 0 };
  throw new CharsetError(
    `${what} contains ${describeChar(bad.character)} at position ${bad.index}, which ${charset.toUpperCase()} cannot represent; ` +
      `remove or replace it${charset === 'gbk' ? ', or send the request with _input_charset=utf-8' : ''}`,
    bad.character,
    bad.index,
    charset,
  );
}

/** Decodes bytes in `charset`. Invalid sequences become U+FFFD (callers check for it when it matters). */
export function decodeBytes(bytes: Uint8Array, charset: Charset): string {
  return charset === 'utf-8' ? Buffer.from(bytes).toString('utf8') : iconv.decode(Buffer.from(bytes), 'gbk');
}

/** Number of bytes `text` takes in `charset` (used for the 256-byte reason limit). */
export function byteLength(text: string, charset: Charset): number {
  if (charset === 'utf-8') return Buffer.byteLength(text, 'utf8');
  if (/^[\x00-\x7f]*$/.test(text)) return text.length;
  return iconv.encode(text, 'gbk').length;
}

/**
 * Percent-encodes a string the way an HTML form in `charset` does
 * (application/x-www-form-urlencoded: space → `+`, unreserved `*-._` and alphanumerics kept).
 */
export function formEncode(text: string, charset: Charset): string {
  if (charset === 'utf-8' || /^[\x00-\x7f]*$/.test(text)) {
    return encodeURIComponent(text)
      .replace(/%20/g, '+')
      .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  const bytes = encodeText(text, charset);
  let out = '';
  for (const b of bytes) {
    if (
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x2a ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f
    ) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Builds an x-www-form-urlencoded body from ordered pairs, in `charset`. */
export function formEncodePairs(pairs: Iterable<readonly [string, string]>, charset: Charset): string {
  const parts: string[] = [];
  for (const [k, v] of pairs) parts.push(`${formEncode(k, charset)}=${formEncode(v, charset)}`);
  return parts.join('&');
}

/**
 * Parses an x-www-form-urlencoded body, percent-decoding the bytes in `charset`. Keeps every
 * pair in order (duplicates included), so that callers can detect added or repeated fields.
 * Malformed percent escapes are kept literally.
 */
export function parseFormBody(body: string | Uint8Array, charset: Charset): Array<[string, string]> {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('latin1');
  const out: Array<[string, string]> = [];
  if (text.length === 0) return out;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out.push([percentDecode(k, charset), percentDecode(v, charset)]);
  }
  return out;
}

function percentDecode(token: string, charset: Charset): string {
  const s = token.replace(/\+/g, ' ');
  if (!s.includes('%')) {
    // Raw non-ASCII bytes passed as latin1 characters (a Uint8Array body): re-decode them.
    return /^[\x00-\x7f]*$/.test(s) ? s : decodeBytes(Buffer.from(s, 'latin1'), charset);
  }
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length + 0 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x100) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(s[i] ?? '', 'utf8')) bytes.push(b);
    }
  }
  return decodeBytes(Uint8Array.from(bytes), charset);
}
