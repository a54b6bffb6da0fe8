/**
 * How a bulk run's end is printed (issue 13 point 10): the final state wins over a timeout whose batch finished
 * meanwhile (no STOPPED), and a pwd timeout tells "never confirmed on Alipay's page" from "confirmed but no
 * notification".
 */
import { describe, expect, it } from 'vitest';
import { printOutcome, type RunOutcome } from '../src/bulk/output.js';
import type { Summary } from '../src/bulk/report.js';
import { memoryIo } from './helpers.js';

function summary(pending: number): Summary {
  return {
    lines: 2,
    refunded: { lines: 2 - pending, amountFen: 100 * (2 - pending), amount: '' },
    failed: { lines: 0, amountFen: 0, amount: '0.00', byCode: {} },
    pending: { lines: pending, amountFen: 100 * pending, amount: '', byState: {} },
  };
}

function outcome(o: Partial<RunOutcome>): RunOutcome {
  return {
    end: { kind: 'complete' },
    summary: summary(0),
    file: 'refunds.csv',
    run: 'run1',
    mode: 'pwd',
    batches: 1,
    report: 'refunds.report.csv',
    timings: {},
    notifyUrl: 'http://127.0.0.1:3000/alipay/notify',
    ...o,
  };
}

describe('printOutcome', () => {
  it('prints no STOPPED when the batch finished before the report (the final state wins)', () => {
    const io = memoryIo();
    const code = printOutcome(
      io,
      outcome({ end: { kind: 'timeout', batchNo: 'B1', state: 'accepted' }, summary: summary(0) }),
      false,
    );
    expect(io.out).not.toContain('STOPPED');
    expect(code).toBe(0);
    const json = memoryIo();
    printOutcome(
      json,
      outcome({ end: { kind: 'timeout', batchNo: 'B1', state: 'accepted' }, summary: summary(0) }),
      true,
    );
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, state: 'complete' });
  });

  it('a pwd form never confirmed: says so, and does not blame the notify endpoint', () => {
    const io = memoryIo();
    printOutcome(
      io,
      outcome({
        end: { kind: 'timeout', batchNo: 'B1', state: 'submitted', confirmed: false },
        summary: summary(2),
      }),
      false,
    );
    expect(io.out).toContain('STOPPED');
    expect(io.out).toContain("never confirmed on Alipay's page");
    expect(io.out).not.toContain('notify endpoint');
  });

  it('a pwd batch confirmed but without notification: asks about the notify endpoint', () => {
    const io = memoryIo();
    printOutcome(
      io,
      outcome({
        end: { kind: 'timeout', batchNo: 'B1', state: 'submitted', confirmed: true },
        summary: summary(2),
      }),
      false,
    );
    expect(io.out).toContain("It was confirmed on Alipay's page but no notification came");
    expect(io.out).toContain('notify endpoint (http://127.0.0.1:3000/alipay/notify)');
    expect(io.out).not.toContain('never confirmed');
  });
});
