/**
 * Merchant order numbers (商户订单号, out_trade_no) wherever operators name a trade (issue 13, point 3): the API's
 * refund items, the console's picks, and the search of the trades and batches lists.
 */
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleClient, type ConsoleServer, startConsoleServer } from './console-helpers.js';
import { authHeaders, tradeNo } from './helpers.js';

describe('merchant order numbers', () => {
  let s: ConsoleServer;
  let a = '';
  let b = '';
  let c = '';
  beforeEach(async () => {
    s = await startConsoleServer();
    [a, b, c] = [tradeNo(), tradeNo(), tradeNo()];
    const reg = await s.server.services.trades.register(
      [
        { tradeNo: a, outTradeNo: 'SO-1001', amountFen: 1000 },
        { tradeNo: b, outTradeNo: 'SO-1002', amountFen: 1000 },
        { tradeNo: c, outTradeNo: 'SO-1002', amountFen: 500 },
      ],
      'test',
    );
    expect(reg.issues).toEqual([]);
  });
  afterEach(async () => {
    await s.cleanup();
  });

  it('the API creates refunds from outTradeNo, reports unknown and ambiguous orders with the other problems, and finds the batch by order number', async () => {
    const token = await s.server.services.tokens.create('orders', 'test');
    const headers = authHeaders(token.token);
    const post = async (body: unknown) => {
      const res = await s.app.request('/api/refunds', {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const bad = await post({
      mode: 'nopwd',
      queue: false,
      items: [
        { outTradeNo: 'SO-404', amount: '1.00' },
        { outTradeNo: 'SO-1002', amount: '1.00' },
        { tradeNo: a, amount: '20.00' },
      ],
    });
    expect(bad.status).toBe(422);
    expect(
      (bad.body['issues'] as Array<{ index: number; code: string }>).map((i) => [i.index, i.code]),
    ).toEqual([
      [0, 'ORDER_NOT_FOUND'],
      [1, 'ORDER_AMBIGUOUS'],
      [2, 'EXCEEDS_REFUNDABLE'],
    ]);
    const ok = await post({
      mode: 'nopwd',
      queue: false,
      items: [{ outTradeNo: 'SO-1001', amount: '2.50' }],
    });
    expect(ok.status).toBe(201);
    const batch = (ok.body['batches'] as Array<{ batchNo: string; detailData: string }>)[0]!;
    expect(batch.detailData).toBe(`${a}^2.50^`);

    const found = await s.app.request('/api/batches?q=SO-1001', { headers });
    expect(
      ((await found.json()) as { items: Array<{ batchNo: string }> }).items.map((x) => x.batchNo),
    ).toEqual([batch.batchNo]);
    const none = await s.app.request('/api/batches?q=SO-1002', { headers });
    expect(((await none.json()) as { total: number }).total).toBe(0);
  });

  it('the console: trades and batches lists search by order number; a pick by order number previews that trade', async () => {
    const br = new ConsoleClient(s.app);
    await br.login();
    await br.get('/trades');
    // SO-1001 is one trade (picked); SO-1002 has two (nothing guessed: left out).
    const preview = await br.post('/refunds/preview', { t: ['SO-1001', 'SO-1002'], from: 'form' });
    expect(preview.status).toBe(200);
    expect(preview.html).toContain(a);
    expect(preview.html).not.toContain(b);
    expect(preview.html).not.toContain(c);

    const created = await s.server.services.refunds.createBatches(
      [{ tradeNo: a, amountFen: 100, reason: '' }],
      {
        mode: 'nopwd',
        actor: 'test',
        queue: false,
      },
    );
    const batchNo = created.batches[0]!.batchNo;
    const trades = await br.get('/trades?q=SO-1002');
    expect(trades.html).toContain(b);
    expect(trades.html).toContain(c);
    expect(trades.html).not.toContain(a);
    expect((await br.get('/batches?q=SO-1001')).html).toContain(batchNo);
    expect((await br.get('/batches?q=SO-1002')).html).not.toContain(batchNo);
    expect((await br.get('/batches?lang=zh-CN')).html).toContain('商户订单号');
  });

  it("the trade import reads .xlsx workbooks (Chinese headers, 商户订单号) with the refund files' reader", async () => {
    const br = new ConsoleClient(s.app);
    await br.login();
    await br.get('/import');
    const [x, y] = [tradeNo(), tradeNo()];
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('订单');
    ws.addRow(['支付宝交易号', '金额', '商户订单号', '商品名称']);
    ws.addRow([x, 12.5, 'SO-2001', 'T恤, 白色']);
    ws.addRow([y, '8.00', 'SO-2002', '马克杯']);
    const form = new FormData();
    form.set(
      'file',
      new File([Buffer.from(await wb.xlsx.writeBuffer())], 'orders.xlsx', {
        type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      }),
    );
    const res = await br.postMultipart('/import', form);
    expect(res.status).toBe(200);
    expect(await s.server.services.trades.get(x)).toMatchObject({
      outTradeNo: 'SO-2001',
      paidFen: 1250,
      subject: 'T恤, 白色',
    });
    expect(await s.server.services.trades.get(y)).toMatchObject({ outTradeNo: 'SO-2002', paidFen: 800 });
    // A bad row names its spreadsheet row.
    const wb2 = new ExcelJS.Workbook();
    const ws2 = wb2.addWorksheet('订单');
    ws2.addRow(['交易号', '金额']);
    ws2.addRow([]);
    ws2.addRow([tradeNo(), 'abc']);
    const form2 = new FormData();
    form2.set('file', new File([Buffer.from(await wb2.xlsx.writeBuffer())], 'bad.xlsx'));
    await br.get('/import');
    const bad = await br.postMultipart('/import', form2);
    expect(bad.status).toBe(422);
    expect(bad.html).toContain('data-line="3"');
  });
});
