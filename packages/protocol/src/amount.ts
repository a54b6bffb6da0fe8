/**
 * Money on the wire is decimal yuan with at most two fractional digits ("5", "5.0", "0.01").
 * Inside alirefund it is always an integer number of fen. These helpers are the only
 * place where the two meet.
 */

/** Largest amount we accept, in fen (100 billion yuan): far above any real trade, far below 2^53. */
export const MAX_FEN = 10_000_000_000_000;

const AMOUNT_RE = /^(0|[1-9]\d{0,12})(?:\.(\d{1,2}))?$/;

/**
 * Parses a yuan amount token into integer fen. Returns `null` for anything that is not a
 * plain non-negative decimal with at most two fractional digits (no sign, no exponent,
 * no spaces, no leading zeros).
 * @example parseYuan('5.00') // 500
 */
export function parseYuan(text: string): number | null {
  const m = AMOUNT_RE.exec(text);
  if (!m) return null;
  const whole = Number(m[1]);
  const frac = m[2] === undefined ? 0 : Number(m[2].padEnd(2, '0'));
  const fen = whole * 100 + frac;
  return fen <= MAX_FEN ? fen : null;
}

/**
 * Formats integer fen as yuan with exactly two decimals ("5.00").
 * @throws TypeError when `fen` is not a non-negative safe integer (a programming error).
 */
export function formatYuan(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) {
    throw new TypeError(`formatYuan: expected a non-negative integer number of fen, got ${String(fen)}`);
  }
  const whole = Math.floor(fen / 100);
  const frac = fen % 100;
  return `${whole}.${frac < 10 ? '0' : ''}${frac}`;
}
