/**
 * `alirefund refund` and what failed (issue 13): the report starts with a UTF-8 BOM (Excel on a Chinese Windows),
 * the failed lines are written beside it as a refund file of their own, and `--failed-only` refunds the failed
 * lines of a report again, as a new run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';
import { type BulkHarness, refundCsv, reportRows, startBulkHarness, tradeNos } from './refund-harness.js';

let h: BulkHarness;
beforeEach(async () => {
  h = await startBulkHarness();
});
afterEach(async () => {
  await h.close();
});

describe('alirefund refund: the report and the failed lines', () => {
  it('writes the report with a BOM and the failed lines beside it; --failed-only refunds them again', async () => {
    const nos = tradeNos('7', 6);
    await h.addTrades(
      nos.map((tradeNo, i) => ({
        tradeNo,
        amountFen: 1000,
        status: i === 1 || i === 4 ? 'TRADE_FINISHED' : 'TRADE_SUCCESS',
      })),
    );
    const file = join(h.dir, 'refunds.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '2.50', reason: '活动取消' }))));
    const io = memoryIo({ env: h.env });
    expect(await main(['refund', '--file', file, '--serve'], io)).toBe(2);
    const reportPath = `${file}.report.csv`;
    const report = readFileSync(reportPath);
    expect([...report.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(report.toString('utf8').slice(1)).toMatch(/^line,trade_no,amount,reason,/);
    expect(reportRows(reportPath).filter((r) => r['outcome'] === 'failed')).toHaveLength(2);

    const failedPath = `${file}.report.failed.csv`;
    expect(io.out).toContain(`failed lines: ${failedPath}`);
    expect(io.out).toContain('--failed-only');
    const failed = readFileSync(failedPath);
    expect([...failed.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(failed.toString('utf8').slice(1)).toBe(
      `trade_no,amount,reason\n${nos[1]},2.50,活动取消\n${nos[4]},2.50,活动取消\n`,
    );

    // The failed lines again, from the report: a new run of just those two lines.
    const again = memoryIo({ env: h.env });
    const rerunReport = join(h.dir, 'rerun.report.csv');
    expect(
      await main(
        ['refund', '--file', reportPath, '--failed-only', '--serve', '--report', rerunReport, '--json'],
        again,
      ),
    ).toBe(2);
    const summary = JSON.parse(again.out);
    expect(summary).toMatchObject({ state: 'complete', lines: 2, failed: { lines: 2 } });
    expect(summary.failedLines).toBe(join(h.dir, 'rerun.report.failed.csv'));
    expect(reportRows(rerunReport).map((r) => r['trade_no'])).toEqual([nos[1], nos[4]]);

    // The failed lines file is itself a refund file: the same lines, so the same run as --failed-only.
    const dry = memoryIo({ env: h.env });
    await main(['refund', '--file', failedPath, '--dry-run'], dry);
    expect(dry.out).toContain(`run ${String(summary.run).slice(0, 12)} exists`);
  });

  it('--failed-only refuses a file that is not a report, and a report without a failed line', async () => {
    const nos = tradeNos('8', 2);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 1000 })));
    const file = join(h.dir, 'ok.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '1.00', reason: 'r' }))));
    const notReport = memoryIo({ env: h.env });
    expect(await main(['refund', '--file', file, '--failed-only'], notReport)).not.toBe(0);
    expect(notReport.err).toContain('is not one');
    const io = memoryIo({ env: h.env });
    expect(await main(['refund', '--file', file, '--serve'], io)).toBe(0);
    expect(existsSync(`${file}.report.failed.csv`)).toBe(false);
    const none = memoryIo({ env: h.env });
    expect(await main(['refund', '--file', `${file}.report.csv`, '--failed-only'], none)).not.toBe(0);
    expect(none.err).toContain('no failed line');
  });
});
