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

/** Hex digit values by byte (-1: not a hex digit). */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}

/**
 * A form body percent-decoded into bytes: pair `i`'s key is `bytes[starts[4i], starts[4i+1])`, its value
 * `bytes[starts[4i+2], starts[4i+3])`; `ascii[i]` is 1 when both are ASCII. `bytes` and `starts` are scratch
 * buffers reused by the next call: read them synchronously.
 */
export interface DecodedForm {
  bytes: Buffer;
  starts: Int32Array;
  ascii: Uint8Array;
  count: number;
}

let formBytes = Buffer.allocUnsafe(0);
let formStarts = new Int32Array(0);
let formAscii = new Uint8Array(0);
const KEEP_FORM_BYTES = 1024 * 1024;

/**
 * Percent-decodes an x-www-form-urlencoded body in one pass over its bytes into a preallocated buffer (`+` →
 * space; `%XX` → the byte; a malformed `%` kept literally; empty parts skipped). The bytes are still in the
 * body's charset: {@link formText} turns a key or value into text.
 */
export function decodeFormBytes(body: Uint8Array): DecodedForm {
  const n = body.length;
  let out = formBytes;
  if (out.length < n) {
    out = Buffer.allocUnsafe(Math.max(n, 4096));
    if (n <= KEEP_FORM_BYTES) formBytes = out;
  }
  // At most one pair per `&` (+1).
  let maxPairs = 1;
  for (let i = body.indexOf(0x26); i >= 0; i = body.indexOf(0x26, i + 1)) maxPairs++;
  let starts = formStarts;
  let ascii = formAscii;
  if (ascii.length < maxPairs) {
    starts = new Int32Array(maxPairs * 4);
    ascii = new Uint8Array(maxPairs);
    if (n <= KEEP_FORM_BYTES) {
      formStarts = starts;
      formAscii = ascii;
    }
  }
  let at = 0;
  let count = 0;
  let i = 0;
  while (i < n) {
    const partStart = i;
    const keyStart = at;
    let keyEnd = -1;
    let high = 0;
    for (; i < n; i++) {
      let c = body[i]!;
      if (c === 0x26) break;
      if (c === 0x3d && keyEnd < 0) {
        keyEnd = at;
        continue;
      }
      if (c === 0x2b) c = 0x20;
      else if (c === 0x25 && i + 2 < n) {
        const h = HEX[body[i + 1]!]!;
        const l = HEX[body[i + 2]!]!;
        if ((h | l) >= 0) {
          c = (h << 4) | l;
          i += 2;
        }
      }
      high |= c;
      out[at++] = c;
    }
    if (i > partStart) {
      const b = count * 4;
      starts[b] = keyStart;
      starts[b + 1] = keyEnd < 0 ? at : keyEnd;
      starts[b + 2] = keyEnd < 0 ? at : keyEnd;
      starts[b + 3] = at;
      ascii[count] = high < 0x80 ? 1 : 0;
      count++;
    }
    i++; // the `&`
  }
  return { bytes: out, starts, ascii, count };
}

/** The text of `bytes[start, end)` in `charset` (ASCII when `isAscii`). */
export function formText(
  bytes: Buffer,
  start: number,
  end: number,
  isAscii: boolean,
  charset: Charset,
): string {
  if (start === end) return '';
  if (isAscii) return bytes.toString('latin1', start, end);
  return charset === 'utf-8'
    ? bytes.toString('utf8', start, end)
    : iconv.decode(bytes.subarray(start, end), 'gbk');
}

/** The body as bytes for {@link decodeFormBytes}; null for a string that holds characters beyond Latin-1. */
function formBodyBytes(body: string | Uint8Array): Uint8Array | null {
  if (typeof body !== 'string') return body;
  // A string body is read as latin1 bytes (one byte per character below U+0100).
  for (let i = 0; i < body.length; i++) if (body.charCodeAt(i) > 0xff) return null;
  return Buffer.from(body, 'latin1');
}

/**
 * Parses an x-www-form-urlencoded body, percent-decoding the bytes in `charset`. Keeps every
 * pair in order (duplicates included), so that callers can detect added or repeated fields.
 * Malformed percent escapes are kept literally.
 */
export function parseFormBody(body: string | Uint8Array, charset: Charset): Array<[string, string]> {
  const bytes = formBodyBytes(body);
  if (bytes === null) return parseFormText(body as string, charset);
  const f = decodeFormBytes(bytes);
  const out: Array<[string, string]> = new Array(f.count);
  for (let p = 0; p < f.count; p++) {
    const b = p * 4;
    const a = f.ascii[p] === 1;
    out[p] = [
      formText(f.bytes, f.starts[b]!, f.starts[b + 1]!, a, charset),
      formText(f.bytes, f.starts[b + 2]!, f.starts[b + 3]!, a, charset),
    ];
  }
  return out;
}

/** parseFormBody for a string holding characters beyond Latin-1 (their UTF-8 bytes are taken). */
function parseFormText(text: string, charset: Charset): Array<[string, string]> {
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
    // Raw non-ASCII characters are read as latin1 bytes, as for a Uint8Array body.
    return /^[\x00-\x7f]*$/.test(s) ? s : decodeBytes(Buffer.from(s, 'latin1'), charset);
  }
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
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
