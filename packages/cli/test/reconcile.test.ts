/**
 * `alirefund reconcile` against the real sandbox on a loopback socket and a server database in a SQLite file:
 * a batch whose notifications the sandbox dropped is applied from refund_fastpay_query, once; a pwd batch the
 * operator never confirmed needs an operator (exit 2); flags are checked.
 */
import { join } from 'node:path';
import type { ReconcileReport } from '@alirefund/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';
import {
  type BulkHarness,
  sandboxApi,
  setFaults,
  startBulkHarness,
  tradeNos,
  waitFor,
} from './refund-harness.js';

describe('alirefund reconcile (sandbox on loopback, server database in a SQLite file)', () => {
  let h: BulkHarness;
  let dbPath: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    h = await startBulkHarness({
      schedule: [0, 200, 200, 200, 200, 200, 200, 200],
      dbFile: false,
      // Nothing listens there: the sandbox's notifications fail, as when a notify_url is broken.
      publicUrl: 'http://127.0.0.1:9',
    });
    dbPath = h.serverDbUrl;
    // The commands are given --db (but for the test that reads it from the environment).
    env = { ...h.env, ALIREFUND_DATABASE_URL: join(h.dir, 'ignored.sqlite') };
  });

  afterAll(async () => {
    await h.close();
  });

  /** Paid trades of 20.00 yuan, in the sandbox and in the merchant database. */
  async function seed(nos: string[]): Promise<void> {
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 2000 })));
  }

  it('applies a batch whose notifications the sandbox dropped, once, and prints what happened', async () => {
    const nos = tradeNos('101', 2);
    await seed(nos);
    await setFaults(h.sandboxUrl, { notify: { drop: 1000 } });
    const batchNo = await h.withServer(async (s) => {
      const res = await s.services.refunds.createBatches(
        nos.map((t) => ({ tradeNo: t, amountFen: 500, reason: '演出取消' })),
        { mode: 'nopwd', actor: 'test' },
      );
      await s.services.submission.idle();
      await s.services.submission.tick();
      return res.batches[0]!.batchNo;
    });
    await waitFor(
      async () => {
        const r = await sandboxApi<{ notifications: unknown[] }>(
          h.sandboxUrl,
          `/notifications?batchNo=${batchNo}`,
        );
        return r.notifications.length > 0;
      },
      () => 'the sandbox processed the batch',
    );

    // Younger than the default 2h: nothing to do.
    const young = memoryIo({ env });
    expect(await main(['reconcile', '--db', dbPath], young)).toBe(0);
    expect(young.out).toMatch(/^no batch needing attention and none without a notification older than 2\.0h/);

    const io = memoryIo({ env });
    expect(await main(['reconcile', '--older-than', '0s', '--db', dbPath, '--json'], io)).toBe(0);
    const report = JSON.parse(io.out) as ReconcileReport & { ok: boolean };
    expect(report.ok).toBe(true);
    expect(report.items).toMatchObject([
      { batchNo, stateBefore: 'accepted', stateAfter: 'finished', outcome: 'applied', successNum: 2 },
    ]);

    // The table form, and the second run finds nothing: applied once.
    const again = memoryIo({ env });
    expect(await main(['reconcile', '--older-than', '0', '--db', dbPath], again)).toBe(0);
    expect(again.out).toMatch(/^no batch needing attention and none without a notification/);
    const one = memoryIo({ env });
    expect(await main(['reconcile', '--batch', batchNo, '--db', dbPath], one)).toBe(0);
    expect(one.out).toMatch(/batch_no\s+mode\s+age\s+before\s+after\s+outcome/);
    expect(one.out).toMatch(new RegExp(`${batchNo}\\s+nopwd\\s+\\S+\\s+finished\\s+finished\\s+not_open`));
    const trades = await h.serverRefunds();
    for (const t of nos) expect(trades.get(t)).toEqual({ fen: 500, count: 1, open: null });
    await setFaults(h.sandboxUrl, null);
  });

  it('with no arguments checks a fresh needs_attention batch despite the 2h default, and says so in its help', async () => {
    const nos = tradeNos('103', 2);
    await seed(nos);
    await setFaults(h.sandboxUrl, { systemErrorAfterAccept: 1, notify: { drop: 1000 } });
    const batchNo = await h.withServer(async (s) => {
      const res = await s.services.refunds.createBatches(
        nos.map((t) => ({ tradeNo: t, amountFen: 300, reason: 'x' })),
        { mode: 'nopwd', actor: 'test' },
      );
      await s.services.submission.idle();
      await s.services.submission.tick();
      const b = res.batches[0]!.batchNo;
      expect((await s.services.refunds.getBatch(b))!.state).toBe('needs_attention');
      return b;
    });
    await waitFor(
      async () => {
        const r = await sandboxApi<{ notifications: unknown[] }>(
          h.sandboxUrl,
          `/notifications?batchNo=${batchNo}`,
        );
        return r.notifications.length > 0;
      },
      () => 'the sandbox processed the batch',
    );
    await setFaults(h.sandboxUrl, null);
    const io = memoryIo({ env });
    expect(await main(['reconcile', '--db', dbPath, '--json'], io)).toBe(0);
    const report = JSON.parse(io.out) as ReconcileReport;
    expect(report.items).toMatchObject([
      { batchNo, stateBefore: 'needs_attention', stateAfter: 'finished', outcome: 'applied' },
    ]);
    const help = memoryIo({ env });
    await main(['reconcile', '--help'], help);
    expect(help.out).toMatch(/needs_attention batches are always checked/);
  });

  it('exits 2 when a batch needs an operator (a pwd batch never confirmed on the password page)', async () => {
    const [t] = tradeNos('102', 1) as [string];
    await seed([t]);
    const batchNo = await h.withServer(async (s) => {
      const res = await s.services.refunds.createBatches([{ tradeNo: t, amountFen: 100, reason: 'x' }], {
        mode: 'pwd',
        actor: 'test',
      });
      await s.services.submission.preparePwd(res.batches[0]!.batchNo, 'operator:alice');
      return res.batches[0]!.batchNo;
    });
    const io = memoryIo({ env: { ...env, ALIREFUND_DATABASE_URL: dbPath } });
    expect(await main(['reconcile', '--batch', batchNo], io)).toBe(2);
    expect(io.out).toMatch(
      new RegExp(
        `${batchNo}\\s+pwd\\s+\\S+\\s+submitted\\s+submitted\\s+not_at_gateway\\s+REFUND_NOT_EXIST\\s+YES`,
      ),
    );
    expect(io.out).toMatch(/never accepted: the operator probably never confirmed it on the password page/);
    expect(io.out).toMatch(/1 need an operator/);
  });

  it('checks its flags and the configuration', async () => {
    const bad = memoryIo({ env });
    expect(await main(['reconcile', '--older-than', 'soon', '--db', dbPath], bad)).toBe(1);
    expect(bad.err).toMatch(/--older-than: "soon" is not a duration/);
    const unknown = memoryIo({ env });
    expect(await main(['reconcile', '--batch', '20260101999', '--db', dbPath], unknown)).toBe(1);
    expect(unknown.err).toMatch(/no batch 20260101999/);
    const noKey = memoryIo({ env: { ...env, ALIPAY_KEY: '' } });
    expect(await main(['reconcile', '--db', dbPath], noKey)).toBe(1);
    expect(noKey.err).toMatch(/ALIPAY_KEY/);
    const help = memoryIo();
    await main(['reconcile', '--help'], help);
    expect(help.out).toMatch(
      /--older-than <duration>[\s\S]*--batch <batch_no>[\s\S]*--db <url>[\s\S]*--json/,
    );
    expect(help.out).toMatch(/Example:\n\s+ALIPAY_PARTNER=/);
  });
});
