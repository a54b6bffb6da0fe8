/** Small text helpers shared by the codecs (internal: not exported from the package). */

/**
 * `s.split(sep)` keeping empty tokens, for a one-character separator. Hand-rolled because V8's
 * String#split is several times slower on the short sliced strings a record produces.
 */
export function splitKeep(s: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const i = s.indexOf(sep, start);
    if (i < 0) {
      out.push(start === 0 ? s : s.slice(start));
      return out;
    }
    out.push(s.slice(start, i));
    start = i + 1;
  }
}

/** Quotes user text for a message, shortened so that garbage input does not produce huge messages. */
export function q(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
