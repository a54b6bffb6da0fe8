/**
 * The notification retry schedule: one interval per send, the first normally 0. Alipay's mapi schedule is
 * 8 sends, the intervals 4m, 10m, 10m, 1h, 2h, 6h, 15h after the first (protocol.md §5.3).
 */

/** `0,4m,10m,10m,1h,2h,6h,15h` in milliseconds. */
export const DEFAULT_NOTIFY_SCHEDULE: readonly number[] = Object.freeze([
  0,
  4 * 60_000,
  10 * 60_000,
  10 * 60_000,
  3_600_000,
  2 * 3_600_000,
  6 * 3_600_000,
  15 * 3_600_000,
]);

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Thrown by {@link parseScheduleList} naming the bad item. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

/**
 * Parses a `--notify-schedule` list: comma-separated intervals, each a number with a unit (`ms`, `s`, `m`,
 * `h`, `d`); a bare `0` needs no unit. The n-th item is the wait before the n-th send, counted from the
 * previous send; the list length is the number of sends.
 * @example parseScheduleList('0,200ms,200ms') // [0, 200, 200]
 * @throws ScheduleError naming the bad item.
 */
export function parseScheduleList(text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.length === 0 || (items.length === 1 && items[0] === '')) {
    throw new ScheduleError('the notify schedule is empty; give e.g. 0,4m,10m,10m,1h,2h,6h,15h');
  }
  const out: number[] = [];
  for (const [i, item] of items.entries()) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(item);
    if (!m) {
      throw new ScheduleError(
        `notify schedule item ${i + 1} ${JSON.stringify(item)} is not an interval; write a number and a unit (ms, s, m, h, d), e.g. 200ms or 4m`,
      );
    }
    const value = Number(m[1]);
    if (m[2] === undefined && value !== 0) {
      throw new ScheduleError(
        `notify schedule item ${i + 1} ${JSON.stringify(item)} has no unit; write e.g. ${item}ms or ${item}s`,
      );
    }
    const ms = Math.round(value * (UNITS[m[2] ?? 'ms'] ?? 1));
    if (!Number.isSafeInteger(ms))
      throw new ScheduleError(`notify schedule item ${i + 1} ${JSON.stringify(item)} is too large`);
    out.push(ms);
  }
  if (out.length > 100)
    throw new ScheduleError(`the notify schedule has ${out.length} sends; at most 100 are allowed`);
  return out;
}

/** Formats a schedule back into the list syntax (`0,4m,10m,…`). */
export function formatSchedule(schedule: readonly number[]): string {
  return schedule
    .map((ms) => {
      if (ms === 0) return '0';
      for (const [unit, size] of [
        ['d', 86_400_000],
        ['h', 3_600_000],
        ['m', 60_000],
        ['s', 1000],
      ] as const) {
        if (ms % size === 0) return `${ms / size}${unit}`;
      }
      return `${ms}ms`;
    })
    .join(',');
}
