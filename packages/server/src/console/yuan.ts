/**
 * Amounts for operators' eyes (issue 13 point 10): yuan with thousands separators, `1,234.56`. Only the console's
 * display uses them; stored and sent amounts stay integer fen, and inputs, detail_data and exports keep the plain
 * `1234.56` of the SDK's formatYuan.
 */
import { formatYuan } from '@alirefund/protocol';

/** A plain yuan text (`1234567.50`, `-12.00`) with thousands separators in its integer part. */
export function groupYuan(text: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(text);
  if (!m) return text;
  return `${m[1]}${(m[2] ?? '').replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}`;
}

/** Integer fen as yuan with thousands separators (1,234.56). */
export function displayYuan(fen: number): string {
  return groupYuan(formatYuan(fen));
}

/**
 * A stored English message shown as is (`… 1234567.89 yuan …`), with thousands separators in its yuan amounts:
 * numbers with exactly two decimals; trade and batch numbers (no decimals) are left alone.
 */
export function groupAmountsIn(text: string): string {
  return text.replace(/(?<![\d.,])(\d{4,})(\.\d{2})(?![\d.])/g, (_, int: string, dec: string) =>
    groupYuan(`${int}${dec}`),
  );
}
