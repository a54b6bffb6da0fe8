import { describe, expect, it } from 'vitest';
import { BATCH_NO_RE, batchNoProblem, newBatchIdentity } from '../src/batch-no.js';
import { beijingDate, formatBeijing, parseBeijing } from '../src/beijing-time.js';

describe('Beijing time', () => {
  it('formats any instant in UTC+8 whatever the host zone', () => {
    expect(formatBeijing(Date.UTC(2026, 10, 21, 15, 59, 59))).toBe('2026-11-21 23:59:59');
    expect(formatBeijing(Date.UTC(2026, 10, 21, 16, 0, 0))).toBe('2026-11-22 00:00:00');
    expect(beijingDate(Date.UTC(2026, 11, 31, 16, 0, 0))).toBe('20270101');
  });

  it('parses only real calendar times', () => {
    expect(parseBeijing('2026-11-22 00:00:00')).toBe(Date.UTC(2026, 10, 21, 16));
    expect(parseBeijing('2026-02-30 00:00:00')).toBeNull();
    expect(parseBeijing('2026-11-22 24:00:00')).toBeNull();
    expect(parseBeijing('2026-11-22T00:00:00')).toBeNull();
  });
});

describe('newBatchIdentity', () => {
  it('takes batch_no date and refund_date from one reading, at midnight too', () => {
    let calls = 0;
    const clock = () => {
      calls++;
      return Date.UTC(2026, 10, 21, 15, 59, 59, 999);
    };
    const id = newBatchIdentity({ clock });
    expect(calls).toBe(1);
    expect(id.refundDate).toBe('2026-11-21 23:59:59');
    expect(id.batchNo.slice(0, 8)).toBe('20261121');
    expect(id.batchNo.slice(8, 17)).toBe('235959999');
    expect(id.batchNo).toMatch(BATCH_NO_RE);
    expect(id.batchNo).toHaveLength(32);
    expect(batchNoProblem(id.batchNo)).toBeNull();
  });

  it('does not collide across 20,000 batches created in the same millisecond', () => {
    const clock = () => Date.UTC(2026, 10, 21, 1, 2, 3, 4);
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(newBatchIdentity({ clock }).batchNo);
    expect(seen.size).toBe(20_000);
  });
});

describe('batchNoProblem', () => {
  it.each([
    ['2026112', /11\.\.32/],
    ['20261121' + '00', /11\.\.32/],
    ['20261121000', /not be 000/],
    ['20261321001', /not a calendar date/],
    ['20261121' + 'x'.repeat(25), /11\.\.32/],
    ['20261121AB-1', /11\.\.32/],
  ])('%s is refused', (batchNo, why) => {
    expect(batchNoProblem(batchNo)).toMatch(why);
  });
  it.each(['20261121001', '20261121RP2016', '20261121' + '9'.repeat(24)])('%s is accepted', (b) => {
    expect(batchNoProblem(b)).toBeNull();
  });
});
