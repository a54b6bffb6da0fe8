/**
 * `batch_no` and `refund_date`, from one clock reading (so they never straddle midnight).
 */
import { randomInt } from 'node:crypto';
import { type Clock, beijingDate, formatBeijing, systemClock } from './beijing-time.js';

/** `yyyyMMdd` + a 3..24-character serial of digits or letters; the serial is never `000`. */
export const BATCH_NO_RE = /^(\d{8})([0-9A-Za-z]{3,24})$/;

export interface NewBatchOptions {
  clock?: Clock;
  /** Random source for the serial; defaults to crypto.randomInt. */
  random?: (maxExclusive: number) => number;
}

/** A fresh batch identity. */
export interface BatchIdentity {
  batchNo: string;
  refundDate: string;
}

/**
 * Creates a `batch_no` + `refund_date` pair in Beijing time.
 *
 * The serial is 24 digits: `HHmmssSSS` (sortable within a day) followed by 15 random digits,
 * so two hosts creating thousands of batches in the same millisecond collide with probability
 * about n²/2·10⁻¹⁵. All digits, as the seeds recommend.
 * @example newBatchIdentity() // { batchNo: '20261121213344123123456789012345', refundDate: '2026-11-21 21:33:44' }
 */
export function newBatchIdentity(opts: NewBatchOptions = {}): BatchIdentity {
  const now = (opts.clock ?? systemClock)();
  const random = opts.random ?? ((n: number) => randomInt(n));
  const refundDate = formatBeijing(now);
  const ms = (typeof now === 'number' ? now : now.getTime()) % 1000;
  let rand = '';
  for (let i = 0; i < 3; i++) rand += String(random(100_000)).padStart(5, '0');
  const serial = refundDate.slice(11).replace(/:/g, '') + String(ms).padStart(3, '0') + rand;
  return { batchNo: beijingDate(now) + serial, refundDate };
}

/** Why a batch_no is malformed, or null when it is well-formed. */
export function batchNoProblem(batchNo: string): string | null {
  const m = BATCH_NO_RE.exec(batchNo);
  if (!m)
    return 'batch_no must be yyyyMMdd followed by a serial of 3 to 24 digits or letters (11..32 characters)';
  if (m[2] === '000') return 'the serial part of batch_no must not be 000';
  const d = m[1]!;
  const y = Number(d.slice(0, 4));
  const mo = Number(d.slice(4, 6));
  const day = Number(d.slice(6, 8));
  const dt = new Date(Date.UTC(y, mo - 1, day));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== day) {
    return `batch_no starts with ${d}, which is not a calendar date`;
  }
  return null;
}
