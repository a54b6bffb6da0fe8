/**
 * `alirefund refund` without --serve: the notifications are received by a separate `alirefund serve` process on the
 * same merchant database (SQLite file, and PostgreSQL when under test), configured by the same variables. The
 * refund command only drives the batches and polls the database; the run completes and its report is taken from
 * the notifications the serve process applied (nopwd; and pwd with the forms written next to the file).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dialectsUnderTest, openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type BulkHarness,
  type CliProcess,
  confirmPwdForm,
  expectLedgerBalanced,
  expectRefundedOnce,
  refundCsv,
  reportRows,
  spawnCli,
  startBulkHarness,
  tradeNos,
  waitFor,
} from './refund-harness.js';

interface SbxNotification {
  batchNo: string | null;
  kind: string;
  url: string;
  status: string;
}

describe.each(dialectsUnderTest())('alirefund refund with a separate `alirefund serve` (%s)', (dialect) => {
  let database: TestDatabase | undefined;
  let h: BulkHarness;
  let serve: CliProcess;
  let refund: CliProcess | undefined;

  beforeEach(async () => {
    if (dialect === 'postgres') database = await openTestDatabase('postgres');
    h = await startBulkHarness(database ? { serverDbUrl: database.url } : {});
    // The server alone, on the port of ALIREFUND_PUBLIC_URL, with the same variables as the refund command.
    const port = new URL(h.env['ALIREFUND_PUBLIC_URL']!).port;
    serve = spawnCli(['serve', '--port', port, '--host', '127.0.0.1'], {
      ...h.env,
      ALIREFUND_LOG_LEVEL: 'info',
    });
    await serve.waitForOut(/notify_url: \S+/);
  });
  afterEach(async () => {
    await refund?.kill();
    await serve?.kill();
    await h?.close();
    await database?.cleanup();
    database = undefined;
  });

  /** batch_nos whose notification the serve process logged as applied. */
  const appliedByServe = () =>
    new Set(
      serve.err
        .split('\n')
        .filter((l) => l.includes('batch notification applied'))
        .map((l) => (JSON.parse(l) as { batchNo: string }).batchNo),
    );

  it('nopwd: 300 rows, the report (one TRADE_HAS_FINISHED) comes from the notifications serve applied', async () => {
    const nos = tradeNos('11', 300);
    await h.addTrades(
      nos.map((tradeNo, i) => ({
        tradeNo,
        amountFen: 1500,
        status: i === 123 ? 'TRADE_FINISHED' : 'TRADE_SUCCESS',
      })),
    );
    const file = join(h.dir, 'serve.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '5.00', reason: '拒收' }))));
    refund = spawnCli(['refund', '--file', file, '--batch-size', '50', '--json'], h.env);
    const code = await refund.exited;
    expect(code, refund.err).toBe(2); // done, one line failed
    expect(refund.err).toContain('`alirefund serve` must be running on this database');
    expect(refund.err).not.toContain('receiving notifications at');
    const summary = JSON.parse(refund.out);
    expect(summary).toMatchObject({
      state: 'complete',
      batches: 6,
      lines: 300,
      refunded: { lines: 299, amount: '1495.00' },
      failed: { lines: 1, byCode: { TRADE_HAS_FINISHED: 1 } },
      pending: { lines: 0 },
    });

    // Every batch's notification went to serve's notify_url and was applied there.
    const batches = await h.serverBatches();
    expect(batches.size).toBe(6);
    expect([...batches.values()].every((b) => b.state === 'finished')).toBe(true);
    await waitFor(
      () => appliedByServe().size === 6,
      () => `serve to log 6 applied notifications:\n${serve.err}`,
    );
    expect(appliedByServe()).toEqual(new Set(batches.keys()));
    const notes = (
      (await (await fetch(`${h.sandboxUrl}/sandbox/api/notifications?kind=batch_refund_notify`)).json()) as {
        notifications: SbxNotification[];
      }
    ).notifications;
    expect(new Set(notes.map((n) => n.batchNo))).toEqual(new Set(batches.keys()));
    for (const n of notes) {
      expect(n.url).toBe(`${h.env['ALIREFUND_PUBLIC_URL']}/alipay/notify`);
      expect(n.status).toBe('delivered');
    }

    // The report: every line's outcome as the notifications said.
    const rows = reportRows(`${file}.report.csv`);
    expect(rows).toHaveLength(300);
    expect(rows[123]).toMatchObject({
      trade_no: nos[123],
      outcome: 'failed',
      code: 'TRADE_HAS_FINISHED',
      refunded_amount: '0.00',
    });
    expect(rows.filter((r) => r['outcome'] === 'refunded' && r['refunded_amount'] === '5.00')).toHaveLength(
      299,
    );
    expect(new Set(rows.map((r) => r['batch_no']))).toEqual(new Set(batches.keys()));

    await expectRefundedOnce(h, nos, (i) => (i === 123 ? 0 : 500));
    await expectLedgerBalanced(h.sandboxUrl);
  }, 60_000);

  it('pwd: 120 rows, the forms written next to the file are confirmed; serve applies the notifications', async () => {
    const nos = tradeNos('12', 120);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 700 })));
    const file = join(h.dir, 'serve-pwd.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '7', reason: '' }))));
    refund = spawnCli(['refund', '--file', file, '--mode', 'pwd', '--batch-size', '40'], h.env);
    const run = refund;
    let exit: number | string | undefined;
    void run.exited.then((c) => {
      exit = c;
    });
    const confirmed = new Set<string>();
    while (exit === undefined) {
      for (const m of run.err.matchAll(/open (\S+\.(\d+)\.pwd\.html) in a browser/g)) {
        if (confirmed.has(m[2]!)) continue;
        confirmed.add(m[2]!);
        await confirmPwdForm(readFileSync(m[1]!, 'utf8'), h.sandboxUrl);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(exit, run.err).toBe(0);
    expect(confirmed.size).toBe(3);
    expect(readdirSync(h.dir).filter((f) => f.endsWith('.pwd.html'))).toHaveLength(3);
    expect(run.out).toMatch(/refunded\s+120\s+840\.00/);
    const batches = await h.serverBatches();
    expect(new Set(batches.keys())).toEqual(confirmed);
    await waitFor(
      () => appliedByServe().size === 3,
      () => `serve to log 3 applied notifications:\n${serve.err}`,
    );
    expect(appliedByServe()).toEqual(confirmed);
    const rows = reportRows(`${file}.report.csv`);
    expect(rows.every((r) => r['outcome'] === 'refunded' && r['refunded_amount'] === '7.00')).toBe(true);
    await expectRefundedOnce(h, nos, () => 700);
  }, 60_000);
});
