/**
 * `alirefund refund` killed with `kill -9` mid-way (a real child process running the CLI's bin), while a batch
 * is on the wire: the resumed run asks the gateway about it (refund_fastpay_query) instead of sending it again,
 * and ends with every trade refunded exactly once and both ledgers (sandbox and merchant database) in agreement.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';
import {
  type BulkHarness,
  type CliProcess,
  expectLedgerBalanced,
  expectRefundedOnce,
  refundCsv,
  setFaults,
  spawnCli,
  startBulkHarness,
  tradeNos,
  waitFor,
} from './refund-harness.js';

let h: BulkHarness;
let cli: CliProcess | undefined;
beforeAll(async () => {
  h = await startBulkHarness();
});
afterAll(async () => {
  await cli?.kill();
  await h.close();
});

it('killed with kill -9 while a batch is on the wire, then resumed: every trade refunded exactly once', async () => {
  const nos = tradeNos('7', 3000);
  await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 1000 })));
  const file = join(h.dir, 'kill.csv');
  writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '3.00', reason: '演出取消' }))));
  const args = ['refund', '--file', file, '--serve', '--batch-size', '100'];

  cli = spawnCli(args, h.env);
  await cli.waitForErr(/batch 8\/30 \d+ \(lines [\d-]+\): finished/);
  // The next reply is held back 3 s (after the gateway accepted the batch): kill the CLI while it waits for it.
  // Its notification is held back 5 s, so that the resumed run has to ask the gateway about it first.
  await setFaults(h.sandboxUrl, { slowResponseMs: 3000, notify: { delayMs: 5000 } });
  // The first batch sent after the faults were set.
  const mark = cli.err.length;
  const inFlight = (await cli.waitForErr(/batch \d+\/30 (\d+): sending/, { from: mark }))[1]!;
  // Once the gateway has accepted it (its reply is still held back), kill the CLI.
  await waitFor(
    async () => (await h.sandboxBatches()).some((b) => b.batch_no === inFlight),
    () => `the sandbox to get batch ${inFlight}`,
    10_000,
  );
  cli.child.kill('SIGKILL');
  expect(await cli.exited).toBe('signal:SIGKILL');
  await setFaults(h.sandboxUrl, null);

  // Resume in-process with the same command.
  const io = memoryIo({ env: h.env });
  const code = await main([...args, '--json'], io);
  expect(io.err).toContain('resuming run');
  expect(io.err).toMatch(new RegExp(`${inFlight}: submitted without a recorded answer; asking the gateway`));
  expect(io.err).toContain('the gateway has it (accepted)');
  expect(code).toBe(0);
  expect(JSON.parse(io.out)).toMatchObject({
    state: 'complete',
    refunded: { lines: 3000, amount: '9000.00' },
  });

  // Exactly once on both sides, trade by trade; no batch_no accepted twice; the sandbox's ledger balances.
  await expectRefundedOnce(h, nos, () => 300);
  const batches = await h.sandboxBatches();
  expect(batches).toHaveLength(30);
  expect(new Set(batches.map((b) => b.batch_no)).size).toBe(30);
  await expectLedgerBalanced(h.sandboxUrl);
}, 60_000);
