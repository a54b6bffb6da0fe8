/**
 * Live pages: small JSON answers the console script polls (with backoff) to know when a page changed. When the
 * version changes, the script fetches the page again and swaps its <main>; no page reload, no inline script
 * (CSP: `script-src 'self'`, `connect-src 'self'`).
 *
 * `GET /live/dashboard` → `{ v }`; `GET /live/batches/:batchNo` → `{ v, final }` (final: the batch will not
 * change any more, the script stops).
 */
import type { Hono } from 'hono';
import type { BatchState } from '../db.js';
import type { BatchDetail } from '../services/refund-types.js';
import type { ConsoleEnv } from './env.js';
import { h, type Html } from './ui.js';

const FINAL: readonly BatchState[] = ['finished', 'rejected', 'cancelled'];

export function registerLive(con: Hono<ConsoleEnv>): void {
  con.get('/live/dashboard', async (c) => {
    const v = await c.get('ctx').services.dashboard.version();
    return c.json({ v, final: false }, 200, { 'cache-control': 'no-store' });
  });
  con.get('/live/batches/:batchNo{[0-9A-Za-z]{1,64}}', async (c) => {
    const b = await c.get('ctx').services.refunds.getBatch(c.req.param('batchNo'));
    if (!b) return c.json({ v: 'gone', final: true }, 404);
    const v = batchVersion(b);
    return c.json({ v, final: batchFinal(b) }, 200, { 'cache-control': 'no-store' });
  });
}

/** What the batch page shows that can change by itself (state, results, notifications, events). */
export function batchVersion(b: BatchDetail): string {
  const settled = b.records.filter((r) => r.succeeded !== null).length;
  return [
    b.state,
    b.successNum ?? '',
    settled,
    b.notifications.length,
    b.events.length,
    b.times.appliedAt ?? '',
  ].join('|');
}

/** A batch that will not change any more: the script does not poll. */
export function batchFinal(b: BatchDetail): boolean {
  return FINAL.includes(b.state);
}

/**
 * The marker that makes a page live: the script polls `url` and swaps <main> when the answer's version is no
 * longer `version` (the page's own).
 */
export function liveMarker(label: string, url: string, version: string, final = false): Html {
  return h`<p class="live-status muted small" data-live="${url}" data-live-v="${version}"${final ? h` data-live-final="1"` : ''} aria-live="polite"><span class="live-dot" aria-hidden="true"></span>${label}</p>`;
}
