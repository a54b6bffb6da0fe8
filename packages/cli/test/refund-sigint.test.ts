/**
 * Ctrl-C: `alirefund refund` (a real child process running the CLI's bin) gets SIGINT while a batch is on the wire
 * (the sandbox holds its reply back, so the signal cannot miss the window). It finishes that batch, sends no new
 * one, exits 130 saying how to resume; the same command run again finishes the file, every trade refunded exactly
 * once and both ledgers (sandbox and merchant database) in agreement.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
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

it('SIGINT while a batch is on the wire: that batch completes, no new batch is sent, exit 130; running again finishes exactly once', async () => {
  const nos = tradeNos('8', 600);
  await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 1000 })));
  const file = join(h.dir, 'sigint.csv');
  writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '4.00', reason: '退货' }))));
  const args = ['refund', '--file', file, '--serve', '--batch-size', '50'];

  cli = spawnCli(args, h.env);
  await cli.waitForErr(/batch 3\/12 \d+ \(lines [\d-]+\): finished/);
  // Hold every gateway reply back 4 s (the gateway does the work first): the next batch stays on the wire.
  await setFaults(h.sandboxUrl, { slowResponseMs: 4000 });
  const mark = cli.err.length;
  // (The batch sent just before may be slowed down too: a reply and its notify_verify, 4 s each.)
  const inFlight = (await cli.waitForErr(/batch (\d+)\/12 (\d+): sending/, { from: mark, ms: 40_000 }))[2]!;
  // The gateway has accepted it; its reply is still held back.
  await waitFor(
    async () => (await h.sandboxBatches()).some((b) => b.batch_no === inFlight),
    () => `the sandbox to get batch ${inFlight}`,
  );
  const sentBeforeSignal = (await h.sandboxBatches()).map((b) => b.batch_no).sort();
  const signalMark = cli.err.length;
  cli.child.kill('SIGINT');
  await cli.waitForErr(/Ctrl-C: stopping after the batch in flight/, { from: signalMark });
  const code = await cli.exited;
  const afterSignal = cli.err.slice(signalMark);

  expect(code, cli.err).toBe(130);
  expect(cli.out).toContain('Interrupted: no new batch was sent. Run the same command again to resume.');
  expect(afterSignal).not.toMatch(/: sending \d+ record/);
  // A notification that arrives while the command shuts down is handled before the database is closed: no error
  // is logged (ALIREFUND_LOG_LEVEL=error), e.g. "notification failed: driver has already been destroyed".
  expect(cli.err).not.toMatch(/"level":(50|60)/);
  // The batch in flight got its answer before the process stopped.
  expect(['accepted', 'finished']).toContain((await h.serverBatches()).get(inFlight)?.state);
  // Nothing new reached the gateway after the signal.
  await setFaults(h.sandboxUrl, null);
  expect((await h.sandboxBatches()).map((b) => b.batch_no).sort()).toEqual(sentBeforeSignal);
  const sentCount = sentBeforeSignal.length;
  expect(sentCount).toBeGreaterThanOrEqual(4);
  expect(sentCount).toBeLessThan(12);

  // The same command again, as its own process: resumes and finishes the file.
  cli = spawnCli([...args, '--json'], h.env);
  const code2 = await cli.exited;
  expect(code2, cli.err).toBe(0);
  expect(cli.err).toContain('resuming run');
  expect(cli.err).not.toContain(`${inFlight}: sending`);
  expect(JSON.parse(cli.out)).toMatchObject({
    state: 'complete',
    batches: 12,
    lines: 600,
    refunded: { lines: 600, amount: '2400.00' },
    pending: { lines: 0 },
  });

  await expectRefundedOnce(h, nos, () => 400);
  const batches = await h.sandboxBatches();
  expect(batches).toHaveLength(12);
  expect(new Set(batches.map((b) => b.batch_no)).size).toBe(12);
  await expectLedgerBalanced(h.sandboxUrl);
}, 60_000);

it('a second SIGINT exits at once (130) with the batch still on the wire; the resumed run asks the gateway and finishes exactly once', async () => {
  await setFaults(h.sandboxUrl, null);
  const nos = tradeNos('13', 200);
  await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 1000 })));
  const file = join(h.dir, 'sigint2.csv');
  writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '1.10', reason: '重复支付' }))));
  const args = ['refund', '--file', file, '--serve', '--batch-size', '50'];
  const before = new Set((await h.sandboxBatches()).map((b) => b.batch_no));

  // Every reply held back 10 s: the process is still waiting for the first one when the second Ctrl-C comes.
  // Its notification is held back 8 s, so that the resumed run has to ask the gateway about it first.
  await setFaults(h.sandboxUrl, { slowResponseMs: 10_000, notify: { delayMs: 8000 } });
  cli = spawnCli(args, h.env);
  const inFlight = (await cli.waitForErr(/batch 1\/4 (\d+): sending/))[1]!;
  const mark = cli.err.length;
  await waitFor(
    async () => (await h.sandboxBatches()).some((b) => b.batch_no === inFlight),
    () => `the sandbox to get batch ${inFlight}`,
  );
  cli.child.kill('SIGINT');
  await cli.waitForErr(/Ctrl-C: stopping after the batch in flight/, { from: mark });
  cli.child.kill('SIGINT');
  expect(await cli.exited, cli.err).toBe(130);
  expect(cli.err).toContain('second Ctrl-C: exiting now; run the same command again to resume');
  // Its answer was never recorded.
  expect((await h.serverBatches()).get(inFlight)?.state).toBe('submitted');
  // The gateway ran the batch once the connection closed; its (delayed) notification exists before the faults go.
  await waitFor(
    async () =>
      (
        (await (await fetch(`${h.sandboxUrl}/sandbox/api/notifications?batchNo=${inFlight}`)).json()) as {
          notifications: unknown[];
        }
      ).notifications.length > 0,
    () => `the sandbox's notification of ${inFlight}`,
  );
  await setFaults(h.sandboxUrl, null);

  cli = spawnCli([...args, '--json'], h.env);
  expect(await cli.exited, cli.err).toBe(0);
  expect(cli.err).toMatch(new RegExp(`${inFlight}: submitted without a recorded answer; asking the gateway`));
  expect(cli.err).toContain('the gateway has it (accepted)');
  expect(cli.err).not.toContain(`${inFlight}: sending`);
  expect(JSON.parse(cli.out)).toMatchObject({
    state: 'complete',
    refunded: { lines: 200, amount: '220.00' },
  });
  await expectRefundedOnce(h, nos, () => 110);
  const mine = (await h.sandboxBatches()).filter((b) => !before.has(b.batch_no));
  expect(mine).toHaveLength(4);
  await expectLedgerBalanced(h.sandboxUrl);
}, 60_000);
