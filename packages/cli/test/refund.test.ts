/**
 * `alirefund refund` in-process (`main(argv, io)`) against the real sandbox on 127.0.0.1:0 and a real merchant
 * database (SQLite): 5,000 rows in nopwd and in pwd (the password page driven over HTTP), a bad file that
 * sends nothing, a dry run, and a batch whose outcome is unknown stopping the run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';
import {
  type BulkHarness,
  confirmServedPwdPages,
  expectRefundedOnce,
  refundCsv,
  reportRows,
  setFaults,
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

describe('alirefund refund', () => {
  it('nopwd: 5,000 rows in batches of 500 are all refunded once; both ledgers agree; report and JSON summary', async () => {
    const nos = tradeNos('1', 5000);
    await h.addTrades(
      nos.map((tradeNo, i) => ({
        tradeNo,
        amountFen: 1000,
        status: i === 17 ? 'TRADE_FINISHED' : 'TRADE_SUCCESS',
      })),
    );
    const file = join(h.dir, 'refunds.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '2.50', reason: '活动取消' }))));
    const io = memoryIo({ env: h.env });
    const t0 = Date.now();
    const code = await main(['refund', '--file', file, '--serve', '--batch-size', '500', '--json'], io);
    const seconds = (Date.now() - t0) / 1000;
    expect(io.err).not.toContain('unexpected error');
    expect(code).toBe(2); // one line failed (TRADE_HAS_FINISHED)
    const summary = JSON.parse(io.out);
    expect(summary).toMatchObject({
      state: 'complete',
      batches: 10,
      lines: 5000,
      refunded: { lines: 4999, amount: '12497.50' },
      failed: { lines: 1, byCode: { TRADE_HAS_FINISHED: 1 } },
      pending: { lines: 0 },
    });
    const rows = reportRows(`${file}.report.csv`);
    expect(rows).toHaveLength(5000);
    expect(rows[0]).toMatchObject({
      line: '2',
      trade_no: nos[0],
      outcome: 'refunded',
      refunded_amount: '2.50',
    });
    expect(rows[17]).toMatchObject({
      outcome: 'failed',
      code: 'TRADE_HAS_FINISHED',
      refunded_amount: '0.00',
    });
    // Both sides agree, trade by trade.
    const sbx = await h.sandboxRefunds();
    const srv = await h.serverRefunds();
    expect(sbx.size).toBe(4999);
    for (const no of nos) {
      expect(srv.get(no)).toEqual({ fen: sbx.get(no)?.fen ?? 0, count: sbx.get(no)?.count ?? 0, open: null });
    }
    expect(new Set((await h.sandboxBatches()).map((b) => b.batch_no)).size).toBe(10);
    // Off a TTY: plain progress lines, one per batch.
    expect(io.err.match(/batch \d+\/10 \S+ \(lines [\d-]+\): finished/g)).toHaveLength(10);
    // Running it again is a no-op that prints the same summary (the run is complete).
    const again = memoryIo({ env: h.env });
    expect(await main(['refund', '--file', file, '--serve', '--json'], again)).toBe(2);
    expect(JSON.parse(again.out).refunded.lines).toBe(4999);
    expect(new Set((await h.sandboxBatches()).map((b) => b.batch_no)).size).toBe(10);
    console.log(`nopwd 5000 rows: ${seconds.toFixed(1)} s`);
  });

  it('pwd: 5,000 JSON Lines rows in 5 batches, each confirmed on the sandbox password page over HTTP', async () => {
    const nos = tradeNos('2', 5000);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 880 })));
    const file = join(h.dir, 'refunds.jsonl');
    writeFileSync(
      file,
      nos
        .map((no, i) => JSON.stringify({ trade_no: no, amount: i % 2 ? '8.80' : '1.5', reason: '航班取消' }))
        .join('\n'),
    );
    const io = memoryIo({ env: h.env });
    const run = main(['refund', '--file', file, '--mode', 'pwd', '--serve', '--batch-size', '1000'], io);
    const confirmed = await confirmServedPwdPages(run, io, h.sandboxUrl);
    expect(await run).toBe(0);
    expect(confirmed.size).toBe(5);
    expect(io.out).toMatch(/refunded\s+5000\s+25750\.00/);
    await expectRefundedOnce(h, nos, (i) => (i % 2 ? 880 : 150));
    const rows = reportRows(`${file}.report.csv`);
    expect(rows.every((r) => r['outcome'] === 'refunded')).toBe(true);
  });

  it('a bad file prints every problem with its line and field, and sends nothing', async () => {
    const nos = tradeNos('3', 6);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 1000 })));
    const env = { ...h.env, ALIPAY_INPUT_CHARSET: 'gbk' };
    const file = join(h.dir, 'bad.csv');
    writeFileSync(
      file,
      [
        'trade_no,amount,reason',
        `${nos[0]},1.00,ok`, // 2: fine
        `${nos[1]},1.005,too many decimals`, // 3
        `${nos[2]},-1,negative`, // 4
        `${nos[0]},1.00,duplicate`, // 5
        `20260000000000000000000099,1.00,not registered`, // 6
        `${nos[3]},10.01,more than paid`, // 7
        `${nos[4]},1.00,a^b`, // 8: separator
        `${nos[5]},1.00,${'退'.repeat(200)}`, // 9: 400 bytes in GBK
        `12ab,1.00,bad trade_no`, // 10
        `${nos[5]},1.00`, // 11: missing field
        `${nos[2]}9,1.00,¥ not in GBK`, // 12: unregistered and a character GBK cannot carry
      ].join('\n'),
    );
    const io = memoryIo({ env });
    const code = await main(['refund', '--file', file, '--serve'], io);
    expect(code).toBe(1);
    for (const [line, field] of [
      [3, 'amount'],
      [4, 'amount'],
      [5, 'trade_no'],
      [8, 'reason'],
      [9, 'reason'],
      [10, 'trade_no'],
      [11, 'line'],
      [12, 'reason'],
    ] as const)
      expect(io.err).toContain(`bad.csv:${line}: ${field}: `);
    expect(io.err).toContain('DUPLICATE_TRADE_NO');
    expect(io.err).toContain('BATCH_MEMO_LENGTH_EXCEED_LIMIT');
    expect(io.err).toContain('SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT');
    expect(io.err).toContain('nothing was sent');
    // The store's checks run in the same pass as the file's own (one round of errors, issue 13 point 5).
    expect(io.err).toContain('bad.csv:6: trade_no: TRADE_NOT_FOUND');
    expect(io.err).toContain('bad.csv:7: amount: EXCEEDS_REFUNDABLE');
    const file2 = join(h.dir, 'bad2.csv');
    writeFileSync(
      file2,
      refundCsv([
        { tradeNo: nos[0]!, amount: '1.00', reason: 'ok' },
        { tradeNo: '20260000000000000000000099', amount: '1.00', reason: 'not registered' },
        { tradeNo: nos[3]!, amount: '10.01', reason: 'more than paid' },
      ]),
    );
    const io2 = memoryIo({ env });
    expect(await main(['refund', '--file', file2, '--serve', '--json'], io2)).toBe(1);
    const out = JSON.parse(io2.out);
    expect(out).toMatchObject({ ok: false, state: 'invalid', sent: 0 });
    expect(
      out.issues.map((i: { line: number; field: string; code: string }) => [i.line, i.field, i.code]),
    ).toEqual([
      [3, 'trade_no', 'TRADE_NOT_FOUND'],
      [4, 'amount', 'EXCEEDS_REFUNDABLE'],
    ]);
    // Nothing reached the gateway, and nothing was persisted for sending.
    expect(await h.sandboxBatches()).toEqual([]);
    const requests = (await (await fetch(`${h.sandboxUrl}/sandbox/api/requests`)).json()) as
      | { items?: unknown[] }
      | unknown[];
    expect(Array.isArray(requests) ? requests : (requests.items ?? [])).toEqual([]);
    expect([...(await h.serverRefunds()).values()].every((t) => t.open === null)).toBe(true);
  });

  it('--dry-run validates against the database and sends nothing', async () => {
    const nos = tradeNos('4', 120);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 500 })));
    const file = join(h.dir, 'dry.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '5', reason: '' }))));
    const io = memoryIo({ env: h.env });
    expect(await main(['refund', '--file', file, '--dry-run'], io)).toBe(0);
    expect(io.out).toContain('120 refund line(s), 600.00 yuan, all valid');
    expect(io.out).toContain('would create 3 nopwd batch(es)');
    expect(await h.sandboxBatches()).toEqual([]);
    expect([...(await h.serverRefunds()).values()].every((t) => t.open === null)).toBe(true);
  });

  it('an outcome-unknown batch (SYSTEM_ERROR) stops the run and prints the command to look it up', async () => {
    const nos = tradeNos('5', 30);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 500 })));
    const file = join(h.dir, 'unknown.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '1.00', reason: 'r' }))));
    await setFaults(h.sandboxUrl, { systemErrorAfterAccept: 1 });
    const io = memoryIo({ env: h.env });
    expect(await main(['refund', '--file', file, '--serve', '--batch-size', '10'], io)).toBe(3);
    const batchNo = /alirefund reconcile --batch (\d+)/.exec(io.out)?.[1];
    expect(batchNo).toBeDefined();
    expect(io.out).toContain('SYSTEM_ERROR');
    expect((await h.sandboxBatches()).map((b) => b.batch_no)).toEqual([batchNo]);
    // Running it again stops at the same batch: it is never resubmitted automatically.
    const io2 = memoryIo({ env: h.env });
    expect(await main(['refund', '--file', file, '--serve', '--batch-size', '10'], io2)).toBe(3);
    expect(io2.out).toContain(`alirefund reconcile --batch ${batchNo}`);
    expect((await h.sandboxBatches()).map((b) => b.batch_no)).toEqual([batchNo]);
  });

  it('on a TTY the progress is one bar redrawn in place (records, batches, failures, ETA)', async () => {
    const nos = tradeNos('6', 40);
    await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen: 500 })));
    const file = join(h.dir, 'tty.csv');
    writeFileSync(file, refundCsv(nos.map((tradeNo) => ({ tradeNo, amount: '1.00', reason: '' }))));
    const io = memoryIo({ env: h.env, tty: true });
    expect(await main(['refund', '--file', file, '--serve', '--batch-size', '10'], io)).toBe(0);
    expect(io.err).toContain('\r\x1b[2K[');
    expect(io.err).toMatch(/\[#{24}\] 100% records 40\/40 · batches 4\/4 · failed 0 · ETA \d+:\d\d/);
    expect(io.err).not.toMatch(/: finished, \d+ refunded/); // no plain lines on a TTY
    expect(io.out).toMatch(/refunded\s+40\s+40\.00/);
  });
});
