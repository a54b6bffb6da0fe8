/**
 * `alirefund refund --db postgres://…`: the merchant database on the project's throwaway PostgreSQL cluster
 * (`@alirefund/store/testing`), the real sandbox over loopback HTTP. nopwd as a real child process (--db wins over
 * ALIREFUND_DATABASE_URL), pwd in-process with every batch confirmed on the sandbox's password page; each run
 * refunds every trade exactly once, the merchant database agrees with the sandbox's ledger, and running the
 * command again is a no-op.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dialectsUnderTest, openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';
import {
  type BulkHarness,
  confirmServedPwdPages,
  refundCsv,
  expectLedgerBalanced,
  expectRefundedOnce,
  spawnCli,
  startBulkHarness,
  tradeNos,
} from './refund-harness.js';

describe.skipIf(!dialectsUnderTest().includes('postgres'))('alirefund refund on PostgreSQL', () => {
  let database: TestDatabase;
  let h: BulkHarness;
  beforeEach(async () => {
    database = await openTestDatabase('postgres');
    h = await startBulkHarness({ serverDbUrl: database.url });
  });
  afterEach(async () => {
    await h?.close();
    await database?.cleanup();
  });

  async function expectExactlyOnce(nos: readonly string[], fenOf: (i: number) => number): Promise<void> {
    expect((await h.sandboxRefunds()).size).toBe(nos.length);
    await expectRefundedOnce(h, nos, fenOf);
    await expectLedgerBalanced(h.sandboxUrl);
  }

  it('nopwd, 400 rows in 4 batches, a real `alirefund refund --db postgres://…` process', async () => {
    expect(database.dialect).toBe('postgres');
    expect(h.serverDbUrl).toMatch(/^postgres(ql)?:\/\//);
    const nos = tradeNos('9', 400);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 2000 })));
    const file = join(h.dir, 'pg.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '12.34', reason: '缺货' }))));
    // ALIREFUND_DATABASE_URL points at a SQLite file that must never be created: --db wins.
    const decoy = join(h.dir, 'decoy.sqlite');
    const env = { ...h.env, ALIREFUND_DATABASE_URL: decoy };
    const args = [
      'refund',
      '--file',
      file,
      '--db',
      h.serverDbUrl,
      '--serve',
      '--batch-size',
      '100',
      '--json',
    ];
    const cli = spawnCli(args, env);
    const code = await cli.exited;
    expect(code, cli.err).toBe(0);
    expect(existsSync(decoy)).toBe(false);
    expect(JSON.parse(cli.out)).toMatchObject({
      state: 'complete',
      batches: 4,
      lines: 400,
      refunded: { lines: 400, amount: '4936.00' },
      failed: { lines: 0 },
      pending: { lines: 0 },
    });
    expect(cli.err.match(/batch \d\/4 \d+ \(lines [\d-]+\): finished, 100 refunded, 0 failed/g)).toHaveLength(
      4,
    );
    await expectExactlyOnce(nos, () => 1234);
    const batches = [...(await h.serverBatches()).values()];
    expect(batches).toHaveLength(4);
    expect(batches.every((b) => b.state === 'finished' && b.successNum === 100)).toBe(true);
    const report = readFileSync(`${file}.report.csv`, 'utf8').trimEnd().split('\n');
    expect(report).toHaveLength(401);
    expect(report.slice(1).every((l) => l.includes(',refunded,') && l.includes(',12.34'))).toBe(true);

    // The same command again: the run is complete, nothing more is sent.
    const again = spawnCli(args, env);
    expect(await again.exited, again.err).toBe(0);
    expect(JSON.parse(again.out).refunded.lines).toBe(400);
    expect(await h.sandboxBatches()).toHaveLength(4);
    await expectExactlyOnce(nos, () => 1234);
  }, 60_000);

  it('pwd, 300 JSON Lines rows in 3 batches, each confirmed on the sandbox password page over HTTP', async () => {
    const nos = tradeNos('10', 300);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 990 })));
    const file = join(h.dir, 'pg.jsonl');
    writeFileSync(
      file,
      nos
        .map((no, i) => JSON.stringify({ trade_no: no, amount: i % 3 ? '9.90' : '0.01', reason: '退票' }))
        .join('\n'),
    );
    const io = memoryIo({ env: { ...h.env, ALIREFUND_DATABASE_URL: join(h.dir, 'decoy.sqlite') } });
    const run = main(
      ['refund', '--file', file, '--db', h.serverDbUrl, '--mode', 'pwd', '--serve', '--batch-size', '100'],
      io,
    );
    const confirmed = await confirmServedPwdPages(run, io, h.sandboxUrl);
    expect(await run, io.err).toBe(0);
    expect(confirmed.size).toBe(3);
    // 100 × 0.01 + 200 × 9.90
    expect(io.out).toMatch(/refunded\s+300\s+1981\.00/);
    await expectExactlyOnce(nos, (i) => (i % 3 ? 990 : 1));
    const batches = [...(await h.serverBatches()).values()];
    expect(batches).toHaveLength(3);
    expect(batches.every((b) => b.state === 'finished')).toBe(true);
    expect(existsSync(join(h.dir, 'decoy.sqlite'))).toBe(false);
  }, 60_000);
});
