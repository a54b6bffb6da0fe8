/**
 * Date-range filters of the trade and batch lists (issue 13 point 10): `from` and `to` are days `yyyy-MM-dd` in
 * Beijing time (UTC+8), both included, either optional. They become UTC instants comparable with the stored
 * ISO-8601 `created_at` (`[from 00:00+08:00, to+1 00:00+08:00)`). A day that does not exist, or a range that
 * ends before it starts, is the caller's mistake, named by field.
 */
import { ServiceError } from '../errors.js';

/** Days as the lists take them (Beijing time, both ends included). */
export interface DayRange {
  /** First day, `yyyy-MM-dd`. */
  from?: string;
  /** Last day, `yyyy-MM-dd`. */
  to?: string;
}

/** The range as UTC ISO instants: `createdAt >= sinceIso` and `createdAt < untilIso`. */
export interface InstantRange {
  sinceIso?: string;
  untilIso?: string;
}

export type DayRangeCheck =
  | { ok: true; range: InstantRange }
  | { ok: false; field: 'from' | 'to'; problem: 'format' | 'order'; value: string };

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Beijing midnight that starts `day`, in epoch ms; null when `day` is not a real calendar day. */
function beijingMidnight(day: string): number | null {
  const m = DAY_RE.exec(day);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utc = Date.UTC(y, mo - 1, d);
  const back = new Date(utc);
  // 2026-02-30 rolls over to March: not a day.
  if (y < 1970 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    return null;
  }
  return utc - 8 * 3_600_000;
}

/** Checks a range; empty or absent ends are open. */
export function checkDayRange(range: DayRange): DayRangeCheck {
  const from = range.from?.trim() ?? '';
  const to = range.to?.trim() ?? '';
  const since = from === '' ? undefined : beijingMidnight(from);
  if (since === null) return { ok: false, field: 'from', problem: 'format', value: from };
  const last = to === '' ? undefined : beijingMidnight(to);
  if (last === null) return { ok: false, field: 'to', problem: 'format', value: to };
  if (since !== undefined && last !== undefined && last < since) {
    return { ok: false, field: 'to', problem: 'order', value: to };
  }
  return {
    ok: true,
    range: {
      ...(since !== undefined ? { sinceIso: new Date(since).toISOString() } : {}),
      ...(last !== undefined ? { untilIso: new Date(last + 86_400_000).toISOString() } : {}),
    },
  };
}

/** The range as instants, or a ServiceError (INVALID_REQUEST, 400) naming the field and what is expected. */
export function dayRange(range: DayRange): InstantRange {
  const res = checkDayRange(range);
  if (res.ok) return res.range;
  throw new ServiceError(
    'INVALID_REQUEST',
    res.problem === 'order'
      ? `to (${res.value}) is before from (${range.from}); the range is from the first day to the last, both included`
      : `${res.field} must be a day yyyy-MM-dd in Beijing time (UTC+8), such as 2026-01-15; got "${res.value.slice(0, 40)}"`,
    res.field,
  );
}
