/**
 * Issue 13 point 10, "small things that cost trust", in the console (in-process, SQLite): the preview's total
 * counts only valid rows and shows no empty detail_data box; the confirm dialog says how many records and how
 * much (zh and en).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient, type ConsoleServer, type Page, startConsoleServer } from './console-helpers.js';

const A = '2026020121001004180000700001';
const B = '2026020121001004180000700002';

const totalOf = (p: Page) => /id="preview-total">([^<]*)</.exec(p.html)?.[1];
const confirmOf = (p: Page) => /id="submit-refund"[^>]*data-confirm="([^"]*)"/.exec(p.html)?.[1];

describe('console: what the operator is asked to trust', () => {
  let s: ConsoleServer;
  let b: ConsoleClient;

  beforeAll(async () => {
    s = await startConsoleServer();
    b = new ConsoleClient(s.app);
    expect((await b.login()).status).toBe(303);
    const res = await s.server.services.trades.register(
      [
        { tradeNo: A, amountFen: 123_456, outTradeNo: 'TRUST-A' },
        { tradeNo: B, amountFen: 1001, outTradeNo: 'TRUST-B' },
      ],
      'test',
    );
    expect(res.issues).toEqual([]);
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('with an invalid row the total counts only the valid rows, and no empty detail_data box shows', async () => {
    const pv = await b.post('/refunds/preview?lang=zh-CN', [
      ['from', 'list'],
      ['t', A],
      ['t', B],
      [`amount.${A}`, '10.00'],
      [`amount.${B}`, '999.00'],
    ]);
    expect(pv.html).toContain('data-code="EXCEEDS_REFUNDABLE"');
    expect(totalOf(pv)).toBe('10.00');
    expect(pv.html).toContain('不含 1 条有问题的记录');
    // An amount that is no amount: no detail_data can be built, and the page says why instead of an empty box.
    const bad = await b.post('/refunds/preview?lang=zh-CN', [
      ['from', 'list'],
      ['t', A],
      ['t', B],
      [`amount.${A}`, '10.00'],
      [`amount.${B}`, '999.00'],
      [`reason.${B}`, '退款^理由'],
    ]);
    expect(totalOf(bad)).toBe('10.00');
    expect(bad.html).not.toMatch(/<pre class="detail-data"><\/pre>/);
    expect(bad.html).toContain('修正上面的问题后才会生成 detail_data');
    const en = await b.post('/refunds/preview?lang=en', [
      ['from', 'list'],
      ['t', A],
      ['t', B],
      [`amount.${A}`, '10.00'],
      [`amount.${B}`, '999.00'],
      [`reason.${B}`, '退款^理由'],
    ]);
    expect(en.html).toContain('excludes 1 record(s) with problems');
    expect(en.html).toContain('detail_data is built once the problems above are fixed.');
  });

  it('the confirm dialog says how many records and how much (zh and en)', async () => {
    const fields: Array<[string, string]> = [
      ['from', 'list'],
      ['t', A],
      ['t', B],
      [`amount.${A}`, '1234.56'],
      [`amount.${B}`, '10.01'],
    ];
    const zh = await b.post('/refunds/preview?lang=zh-CN', fields);
    expect(confirmOf(zh)).toBe('确认创建退款批次并提交到支付宝？共 2 笔，退款总额 1,244.57 元。');
    const en = await b.post('/refunds/preview?lang=en', fields);
    expect(confirmOf(en)).toBe(
      'Create the refund batches and submit them to Alipay? 2 record(s), 1,244.57 yuan in total.',
    );
    await b.get('/dashboard?lang=zh-CN');
  });

  it('amounts shown to operators have thousands separators (trade page and preview total)', async () => {
    const page = await b.get(`/trades/${A}`);
    expect(page.html).toContain('1,234.56');
    const pv = await b.post('/refunds/preview', [
      ['from', 'list'],
      ['t', A],
      ['t', B],
      [`amount.${A}`, '1234.56'],
      [`amount.${B}`, '10.01'],
    ]);
    expect(totalOf(pv)).toBe('1,244.57');
    // What is typed and what is sent stay plain: the amount field and detail_data.
    expect(pv.html).toContain(`value="1234.56"`);
    expect(pv.html).toContain(`${A}^1234.56^`);
  });

  it("the dashboard's recent batches keep their time on one line (not cut off)", async () => {
    const res = await s.server.services.refunds.createBatches([{ tradeNo: B, amountFen: 100, reason: 'x' }], {
      mode: 'pwd',
      actor: 'test',
      queue: false,
    });
    expect(res.issues).toEqual([]);
    const dash = await b.get('/dashboard');
    expect(dash.html).toMatch(
      /<td class="nowrap recent-when"><time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d<\/time><\/td>/,
    );
  });
});
