/**
 * The bulk file as operators write it (issue 13, points 3–5): Chinese column names, merchant order numbers
 * (商户订单号) instead of Alipay's trade numbers, CSV saved as GBK by Excel, .xlsx workbooks, JSON Lines; and
 * every problem of every line, format and business together, in one run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';
import { type BulkHarness, startBulkHarness, tradeNos } from './refund-harness.js';

let h: BulkHarness;
beforeEach(async () => {
  h = await startBulkHarness();
});
afterEach(async () => {
  await h.close();
});

/** Registers paid trades with merchant order numbers ORDER-<k>. */
async function tradesWithOrders(prefix: string, count: number, amountFen = 1000): Promise<string[]> {
  const nos = tradeNos(prefix, count);
  await h.addTrades(nos.map((tradeNo) => ({ tradeNo, amountFen })));
  await h.withServer(async (server) => {
    for (const [k, no] of nos.entries())
      await server.database.db
        .updateTable('srv_trades')
        .set({ out_trade_no: `ORDER-${prefix}-${k + 1}` })
        .where('trade_no', '=', no)
        .execute();
  });
  return nos;
}

async function dryRun(file: string): Promise<{ code: number; out: Record<string, unknown>; err: string }> {
  const io = memoryIo({ env: h.env });
  const code = await main(['refund', '--file', file, '--dry-run', '--json'], io);
  return { code, out: io.out === '' ? {} : JSON.parse(io.out), err: io.err };
}

describe('alirefund refund: the files operators have', () => {
  it('a GBK CSV with Chinese headers and merchant order numbers is read, resolved and valid', async () => {
    const nos = await tradesWithOrders('61', 3);
    const text = [
      '商户订单号,退款金额,退款原因',
      'ORDER-61-1,1.00,七天无理由退货',
      'ORDER-61-2,￥2.50,尺码不合适',
      'ORDER-61-3,3,',
      '',
    ].join('\r\n');
    const file = join(h.dir, 'gbk.csv');
    writeFileSync(file, iconv.encode(text, 'gbk'));
    const res = await dryRun(file);
    expect(res.err).toBe('');
    expect(res.out).toMatchObject({ ok: true, state: 'dry_run', format: 'csv', lines: 3, amount: '6.50' });
    expect(res.code).toBe(0);
    // UTF-8 with a BOM, 交易号 and 商户订单号 side by side (both given: they must agree; an order number in the
    // 交易号 column is an order number).
    const file2 = join(h.dir, 'bom.csv');
    writeFileSync(
      file2,
      `\ufeff支付宝交易号,商户订单号,退款金额,退款理由\n${nos[0]},ORDER-61-1,1.00,a\n,ORDER-61-2,1.00,b\nORDER-61-3,,1.00,c\n`,
    );
    expect((await dryRun(file2)).out).toMatchObject({ ok: true, lines: 3, amount: '3.00' });
  });

  it('an .xlsx workbook (Chinese headers, text and number cells) and JSON Lines with out_trade_no', async () => {
    const nos = await tradesWithOrders('62', 3);
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('退款');
    ws.addRow(['交易号', '退款金额', '退款原因']);
    ws.addRow([nos[0], 1.5, '破损']);
    ws.addRow([nos[1], '2.00', { richText: [{ text: '发错' }, { text: '货' }] }]);
    ws.addRow([nos[2], 3]); // the reason cell left empty
    const file = join(h.dir, 'refunds.xlsx');
    writeFileSync(file, Buffer.from(await wb.xlsx.writeBuffer()));
    const res = await dryRun(file);
    expect(res.err).toBe('');
    expect(res.out).toMatchObject({ ok: true, format: 'xlsx', lines: 3, amount: '6.50' });

    // A long trade number typed into a number cell has lost digits: reported, not guessed.
    const wb2 = new ExcelJS.Workbook();
    const ws2 = wb2.addWorksheet('Sheet1');
    ws2.addRow(['trade_no', 'amount', 'reason']);
    ws2.addRow([Number(nos[0]), 1, 'x']);
    const file2 = join(h.dir, 'numbers.xlsx');
    writeFileSync(file2, Buffer.from(await wb2.xlsx.writeBuffer()));
    const bad = await dryRun(file2);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatchObject({
      ok: false,
      issues: [{ line: 2, field: 'trade_no', code: 'CELL_NOT_TEXT' }],
    });

    const file3 = join(h.dir, 'orders.jsonl');
    writeFileSync(
      file3,
      `{"out_trade_no":"ORDER-62-1","amount":"1.00","reason":"a"}\n{"商户订单号":"ORDER-62-2","退款金额":2,"退款原因":"b"}\n`,
    );
    expect((await dryRun(file3)).out).toMatchObject({ ok: true, format: 'jsonl', lines: 2, amount: '3.00' });
  });

  it('every problem of every line in one pass: format and business together, each with line, field and code', async () => {
    const nos = await tradesWithOrders('63', 7);
    await h.withServer(async (server) => {
      // nos[4] was refunded in full already; ORDER-63-6 is also the order of another trade.
      await server.database.db
        .updateTable('srv_trades')
        .set({ refunded_fen: 1000, refund_count: 1, status: 'fully_refunded' })
        .where('trade_no', '=', nos[4]!)
        .execute();
      await server.database.db
        .updateTable('srv_trades')
        .set({ out_trade_no: 'ORDER-63-6' })
        .where('trade_no', '=', nos[6]!)
        .execute();
    });
    const file = join(h.dir, 'mixed.csv');
    writeFileSync(
      file,
      [
        '交易号,商户订单号,退款金额,退款原因',
        `${nos[0]},,1.00,fine`, // 2
        `${nos[1]},,1.005,too many decimals`, // 3: format
        `20260000000000000000000099,,1.00,not registered`, // 4: business (unknown trade)
        `,ORDER-63-404,1.00,unknown order`, // 5: business (unknown order)
        `${nos[4]},,1.00,already refunded`, // 6: business
        `,ORDER-63-4,10.01,over-refund`, // 7: business
        `${nos[0]},,1.00,duplicate`, // 8: duplicate
        `,ORDER-63-6,1.00,ambiguous`, // 9: two trades have this order
        `${nos[2]},,1.00,a^b`, // 10: format (separator)
        `12ab,,1.00,bad trade_no`, // 11: format
        `${nos[5]},,x,not an amount`, // 12: format (amount)
      ].join('\n'),
    );
    const io = memoryIo({ env: h.env });
    expect(await main(['refund', '--file', file, '--json'], io)).toBe(1);
    const out = JSON.parse(io.out);
    const seen = out.issues.map((i: { line: number; field: string; code: string }) => [
      i.line,
      i.field,
      i.code,
    ]);
    expect(seen).toEqual([
      [3, 'amount', 'DETAIL_DATA_FORMAT_ERROR'],
      [4, 'trade_no', 'TRADE_NOT_FOUND'],
      [5, 'out_trade_no', 'ORDER_NOT_FOUND'],
      [6, 'amount', 'EXCEEDS_REFUNDABLE'],
      [7, 'amount', 'EXCEEDS_REFUNDABLE'],
      [8, 'trade_no', 'DUPLICATE_TRADE_NO'],
      [9, 'out_trade_no', 'ORDER_AMBIGUOUS'],
      [10, 'reason', expect.any(String)],
      [11, 'trade_no', expect.any(String)],
      [12, 'amount', 'DETAIL_DATA_FORMAT_ERROR'],
    ]);
    // Each says what to do.
    for (const i of out.issues) expect(i.message.length).toBeGreaterThan(20);
    expect(out.issues[2].message).toContain('import the trade');
    expect(out.issues[6].message).toContain('write the trade number');
    expect(await h.sandboxBatches()).toEqual([]);
  });
});
