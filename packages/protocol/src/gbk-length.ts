/** GBK byte lengths, learnt per character and cached: the hot path of the reason-length rule. */
import iconv from 'iconv-lite';

/**
 * GBK byte length of each BMP code unit, learnt lazily: 0 = not asked yet, 1 or 2 = bytes, 3 = not
 * representable. GBK is a stateless single/double-byte charset, so a string survives the iconv round
 * trip exactly when each of its characters does, and its length is the sum of theirs. Caching per
 * character (at most 64 KiB, shared by all calls) makes GBK checks of unique Chinese reasons cheap;
 * the test suite checks this against `findUnrepresentable` / `byteLength` for the whole BMP.
 */
const GBK_LEN = new Uint8Array(0x10000);
const GBK_BAD = 3;

/** GBK byte length of `text`, or -1 when GBK cannot represent it (surrogates never can). */
export function gbkByteLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      n++;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) return -1;
    let len = GBK_LEN[c]!;
    if (len === 0) {
      const ch = text[i]!;
      const bytes = iconv.encode(ch, 'gbk');
      len = iconv.decode(bytes, 'gbk') === ch ? bytes.length : GBK_BAD;
      GBK_LEN[c] = len;
    }
    if (len === GBK_BAD) return -1;
    n += len;
  }
  return n;
}
