/**
 * `alirefund refund --new-run` (issue 13, point 10): after a run failed on a wrong key (ILLEGAL_SIGN), the same
 * file with the key fixed starts a fresh run instead of replaying the old one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';
import {
  type BulkHarness,
  expectRefundedOnce,
  refundCsv,
  startBulkHarness,
  tradeNos,
} from './refund-harness.js';

let h: BulkHarness;
beforeEach(async () => {
  h = await startBulkHarness();
});
afterEach(async () => {
  await h.close();
});

describe('alirefund refund --new-run', () => {
  it('a run refused for a wrong key is replaced by a fresh one once the key is fixed', async () => {
    const nos = tradeNos('71', 6);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 1000 })));
    const file = join(h.dir, 'key.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '1.00', reason: '' }))));
    const args = ['refund', '--file', file, '--serve', '--batch-size', '3', '--timeout', '20s'];
    const wrong = memoryIo({ env: { ...h.env, ALIPAY_KEY: 'x'.repeat(32) } });
    const first = await main(args, wrong);
    expect(first).not.toBe(0);
    expect(wrong.out + wrong.err).toContain('ILLEGAL_SIGN');

    // The same command with the right key replays the old run…
    const again = memoryIo({ env: h.env });
    expect(await main(args, again)).not.toBe(0);
    expect(again.out + again.err).toContain('ILLEGAL_SIGN');
    expect(again.out + again.err).toContain('--new-run');

    // …--new-run starts a fresh one: every line refunded once.
    const fresh = memoryIo({ env: h.env });
    expect(await main([...args, '--new-run'], fresh)).toBe(0);
    expect(fresh.err).toContain('new run');
    await expectRefundedOnce(h, nos, () => 100);
  });
});
