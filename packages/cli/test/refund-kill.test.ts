/**
 * `alirefund refund` killed with `kill -9` mid-way (a real child process running the CLI's bin), while a batch
 * is on the wire: the resumed run asks the gateway about it (refund_fastpay_query) instead of sending it again,
 * and ends with every trade refunded exactly once and both ledgers (sandbox and merchant database) in agreement.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';
import { type BulkHarness, refundCsv, startBulkHarness, tradeNos } from './refund-harness.js';

const BIN = resolve(fileURLToPath(import.meta.url), '../../bin/alirefund.js');
let h: BulkHarness;
let child: ChildProcess | undefined;
beforeAll(async () => {
  h = await startBulkHarness();
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await h.close();
});

async function faults(body: object | null): Promise<void> {
  const res = await fetch(`${h.sandboxUrl}/sandbox/api/faults`, {
    method: body === null ? 'DELETE' : 'PUT',
    headers: { 'content-type': 'application/json' },
    ...(body === null ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.ok).toBe(true);
}

it('killed with kill -9 while a batch is on the wire, then resumed: every trade refunded exactly once', async () => {
  const nos = tradeNos('7', 3000);
  await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 1000 })));
  const file = join(h.dir, 'kill.csv');
  writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '3.00', reason: '演出取消' }))));
  const args = ['refund', '--file', file, '--serve', '--batch-size', '100'];

  child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...h.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) =>
    child!.once('exit', (code, signal) => r(signal ? -1 : code)),
  );
  const waitFor = async (re: RegExp, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!re.test(err)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${re}; stderr so far:\n${err}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await waitFor(/batch 8\/30 \d+ \(lines [\d-]+\): finished/);
  // The next reply is held back 3 s (after the gateway accepted the batch): kill the CLI while it waits for it.
  // Its notification is held back 5 s, so that the resumed run has to ask the gateway about it first.
  await faults({ slowResponseMs: 3000, notify: { delayMs: 5000 } });
  // The first batch sent after the faults were set.
  const mark = err.length;
  const sent = /batch \d+\/30 (\d+): sending/;
  for (const end = Date.now() + 20_000; !sent.test(err.slice(mark)); ) {
    if (Date.now() > end) throw new Error(`no batch sent after the faults were set:\n${err}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const inFlight = sent.exec(err.slice(mark))![1]!;
  // Once the gateway has accepted it (its reply is still held back), kill the CLI.
  for (const end = Date.now() + 10_000; !(await h.sandboxBatches()).some((b) => b.batch_no === inFlight); ) {
    if (Date.now() > end) throw new Error(`the sandbox never got batch ${inFlight}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  expect(await exited).toBe(-1);
  await faults(null);

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
  const sbx = await h.sandboxRefunds();
  const srv = await h.serverRefunds();
  for (const no of nos) {
    expect(sbx.get(no)).toEqual({ fen: 300, count: 1 });
    expect(srv.get(no)).toEqual({ fen: 300, count: 1, open: null });
  }
  const batches = await h.sandboxBatches();
  expect(batches).toHaveLength(30);
  expect(new Set(batches.map((b) => b.batch_no)).size).toBe(30);
  const ledger = (await (await fetch(`${h.sandboxUrl}/sandbox/api/ledger`)).json()) as {
    sumFen: number;
    unbalancedTxns: unknown[];
    balancesMatchEntries: boolean;
  };
  expect(ledger).toMatchObject({ sumFen: 0, unbalancedTxns: [], balancesMatchEntries: true });
}, 60_000);
