/**
 * Admin API: the sandbox's settings, kept in `sbx_meta` across restarts: the clock offset (`/clock`: time travel
 * for REFUND_DATE_ERROR and retries) and fault injection (`/faults`; PUT merges, DELETE clears all).
 */
import { beijingDate, formatBeijing } from '@alirefund/protocol';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { type Core, type Faults, noFaults } from '../core.js';
import { invalid, jsonBody, validBody } from './http.js';

const nonNegInt = z.number().int().min(0);

export const faultsPatchSchema = z.strictObject({
  notify: z
    .strictObject({
      duplicate: nonNegInt.optional(),
      drop: nonNegInt.optional(),
      delayMs: nonNegInt.max(86_400_000).optional(),
      reorder: nonNegInt.max(1000).optional(),
    })
    .optional(),
  forceCodes: z
    .array(
      z.strictObject({
        tradeNo: z.string().min(1),
        code: z.string().regex(/^[A-Z][A-Z0-9_]*$/, {
          message: 'must be an upper-case result code such as SELLER_BALANCE_NOT_ENOUGH',
        }),
        times: z.number().int().min(1).default(1),
      }),
    )
    .optional(),
  systemErrorAfterAccept: nonNegInt.optional(),
  slowResponseMs: nonNegInt.max(120_000).optional(),
  pauseProcessing: z.boolean().optional(),
});

const clockSchema = z.union([
  z.strictObject({ offsetMs: z.number().int() }),
  z.strictObject({ advanceMs: z.number().int() }),
  z.strictObject({ now: z.string() }),
]);

/** Parses a clock target: ISO-8601 or `yyyy-MM-dd HH:mm:ss` (Beijing). */
function parseInstant(text: string): number | null {
  const bj = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (bj) {
    const [y, mo, d, hh, mi, s] = bj.slice(1).map(Number) as [number, number, number, number, number, number];
    return Date.UTC(y, mo - 1, d, hh, mi, s) - 8 * 3_600_000;
  }
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

export function clockView(core: Core) {
  const now = core.now();
  return {
    now: new Date(now).toISOString(),
    beijing: formatBeijing(now),
    beijingDate: beijingDate(now),
    offsetMs: core.clockOffsetMs,
  };
}

/** `onUnpause` runs when `pauseProcessing` is lifted (the queued batches are processed). */
export function settingsRoutes(app: Hono, core: Core, onUnpause: () => void): void {
  // ---- clock
  app.get('/clock', (c) => c.json(clockView(core)));
  const setClock = async (c: Context) => {
    const body = await jsonBody(c);
    if (!body.ok) return body.response;
    const parsed = clockSchema.safeParse(body.value);
    if (!parsed.success)
      return invalid(c, [
        {
          path: '(body)',
          message: 'give {"offsetMs": n}, {"advanceMs": n} or {"now": "2026-01-02 03:04:05"}',
        },
      ]);
    const v = parsed.data;
    if ('offsetMs' in v) core.clockOffsetMs = v.offsetMs;
    else if ('advanceMs' in v) core.clockOffsetMs += v.advanceMs;
    else {
      const t = parseInstant(v.now);
      if (t === null)
        return invalid(c, [{ path: 'now', message: 'must be ISO-8601 or yyyy-MM-dd HH:mm:ss (Beijing)' }]);
      core.clockOffsetMs += t - core.now();
    }
    await core.saveSettings();
    core.kick();
    return c.json(clockView(core));
  };
  app.put('/clock', setClock);
  app.post('/clock', setClock);

  // ---- faults
  app.get('/faults', (c) => c.json(core.faults));
  const patchFaults = async (c: Context) => {
    const parsed = await validBody(c, faultsPatchSchema);
    if (!parsed.ok) return parsed.response;
    const f: Faults = core.faults;
    const v = parsed.data;
    const wasPaused = f.pauseProcessing;
    if (v.notify)
      f.notify = {
        ...f.notify,
        ...Object.fromEntries(Object.entries(v.notify).filter(([, x]) => x !== undefined)),
      };
    if (v.forceCodes)
      f.forceCodes = v.forceCodes.map((x) => ({ tradeNo: x.tradeNo, code: x.code, times: x.times }));
    if (v.systemErrorAfterAccept !== undefined) f.systemErrorAfterAccept = v.systemErrorAfterAccept;
    if (v.slowResponseMs !== undefined) f.slowResponseMs = v.slowResponseMs;
    if (v.pauseProcessing !== undefined) f.pauseProcessing = v.pauseProcessing;
    await core.saveSettings();
    if (wasPaused && !f.pauseProcessing) onUnpause();
    return c.json(f);
  };
  app.put('/faults', patchFaults);
  app.post('/faults', patchFaults);
  app.delete('/faults', async (c) => {
    const wasPaused = core.faults.pauseProcessing;
    core.faults = noFaults();
    await core.saveSettings();
    if (wasPaused) onUnpause();
    return c.json(core.faults);
  });
}
