/**
 * `alirefund refund` honours the two-person rule: with ALIREFUND_APPROVAL_THRESHOLD below the file's total, the
 * run persists its batches awaiting approval, sends nothing and stops with exit code 5 naming them; once an
 * approver has approved them, the same command resumes and sends them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';
import { type BulkHarness, refundCsv, startBulkHarness, tradeNos } from './refund-harness.js';

let h: BulkHarness;
beforeEach(async () => {
  h = await startBulkHarness();
});
afterEach(async () => {
  await h.close();
});

describe('alirefund refund and the two-person rule', () => {
  it('stops with exit code 5 before sending batches that await approval, and resumes once approved', async () => {
    const nos = tradeNos('77', 3);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 1000 })));
    const file = join(h.dir, 'refunds.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '2.50', reason: '双人复核' }))));
    const env = { ...h.env, ALIREFUND_APPROVAL_THRESHOLD: '5.00' };

    const io = memoryIo({ env });
    expect(await main(['refund', '--file', file, '--serve', '--json'], io)).toBe(5);
    const summary = JSON.parse(io.out);
    expect(summary).toMatchObject({ state: 'awaiting_approval', exitCode: 5, pending: { lines: 3 } });
    const batchNos = summary.awaitingApproval.batchNos as string[];
    expect(batchNos).toHaveLength(1);
    expect(summary.awaitingApproval.command).toMatch(/approve/);
    expect(await h.sandboxBatches()).toEqual([]);

    // The run's own actor cannot approve; an approver can.
    await h.withServer(async (server) => {
      const b = (await server.services.refunds.getBatch(batchNos[0]!))!;
      expect(b.state).toBe('awaiting_approval');
      await expect(
        server.services.approval.approve(b.batchNo, { actor: b.createdBy, role: 'admin' }),
      ).rejects.toThrow(/two-person rule/);
      await server.services.approval.approve(b.batchNo, { actor: 'operator:anna', role: 'approver' });
    });

    const again = memoryIo({ env });
    expect(await main(['refund', '--file', file, '--serve', '--json'], again)).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({
      state: 'complete',
      refunded: { lines: 3, amount: '7.50' },
    });
  });

  it('prints what to do in text mode', async () => {
    const nos = tradeNos('78', 1);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 1000 })));
    const file = join(h.dir, 'one.csv');
    writeFileSync(file, refundCsv([{ tradeNo: nos[0]!, amount: '9.00', reason: 'x' }]));
    const io = memoryIo({ env: { ...h.env, ALIREFUND_APPROVAL_ALL: 'true' } });
    expect(await main(['refund', '--file', file, '--serve'], io)).toBe(5);
    expect(io.out).toMatch(/STOPPED: 1 batch\(es\) await approval by a second person/);
    expect(io.out).toMatch(/run the same command again/);
  });
});
