/**
 * Wire times are Beijing time (UTC+8, no DST) whatever the host's zone.
 */
const OFFSET_MS = 8 * 3600_000;

/** A clock: returns the current instant. Inject one in tests. */
export type Clock = () => Date | number;
export const systemClock: Clock = () => Date.now();

function parts(instant: Date | number) {
  const d = new Date((typeof instant === 'number' ? instant : instant.getTime()) + OFFSET_MS);
  const p2 = (n: number) => (n < 10 ? '0' : '') + n;
  return {
    date: `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}`,
    dash: `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`,
    time: `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`,
    ms: d.getUTCMilliseconds(),
  };
}

/** `yyyy-MM-dd HH:mm:ss` in Beijing time. */
export function formatBeijing(instant: Date | number): string {
  const p = parts(instant);
  return `${p.dash} ${p.time}`;
}

/** `yyyyMMdd` in Beijing time. */
export function beijingDate(instant: Date | number): string {
  return parts(instant).date;
}

/**
 * Parses `yyyy-MM-dd HH:mm:ss` (Beijing) to epoch milliseconds; `null` when malformed or not a
 * real calendar time.
 */
export function parseBeijing(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - OFFSET_MS;
  return formatBeijing(ms) === text ? ms : null;
}
