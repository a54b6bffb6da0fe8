/**
 * /healthz, /readyz and /metrics in-process, on every dialect: what readiness checks and when it says no.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { dialectsUnderTest } from '@alirefund/store/testing';
import { batchNotification, postNotify, useStubGateway, useTestServer } from './helpers.js';

const stub = useStubGateway();

describe.each(dialectsUnderTest())('ops endpoints (%s)', (dialect) => {
  const t = useTestServer(dialect, stub);

  it('/readyz is 200 with every check ok, and 503 naming the check once the server drains', async () => {
    const ok = await t.app.request('/readyz');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(((await ok.json()) as { checks: Record<string, string> }).checks).toEqual({
      shutdown: 'ok',
      database: 'ok',
      migrations: 'ok',
      gateway: 'ok',
    });
    t.server.drain();
    const draining = await t.app.request('/readyz');
    expect(draining.status).toBe(503);
    const body = (await draining.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('not ready');
    expect(body.checks['shutdown']).toMatch(/shutting down/);
    expect(body.checks['database']).toBe('ok');
    // /healthz stays 200: a draining process is alive
    expect((await t.app.request('/healthz')).status).toBe(200);
  });

  it('/readyz is 503 when a migration is missing (an older schema than the code expects)', async () => {
    await sql`delete from alirefund_migrations where namespace = 'server' and name = (
      select max(name) from alirefund_migrations where namespace = 'server')`.execute(t.database.db);
    const res = await t.app.request('/readyz');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, string> };
    expect(body.checks['migrations']).toMatch(/^1 not applied yet: 0\d{3}_/);
  });

  it('/metrics is 404 without a configured token, and counts a rejected notification by reason', async () => {
    expect((await t.app.request('/metrics')).status).toBe(404);
    const res = await postNotify(
      t.app,
      batchNotification({
        batchNo: '20261204999',
        notifyId: 'n-ops',
        results: [{ tradeNo: '1', amount: '1.00' }],
      }).body,
    );
    expect(res.text).toBe('fail');
    const text = await t.server.metrics.render();
    expect(text).toMatch(
      /^alirefund_notifications_total\{kind="batch",verdict="rejected",reason="UNKNOWN_BATCH"\} 1$/m,
    );
    expect(text).toMatch(/^alirefund_notifications_received_total\{kind="batch"\} 1$/m);
  });
});
