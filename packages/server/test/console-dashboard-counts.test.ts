/**
 * Issue 13 point 10: on one day the dashboard's "today" and "last N days" tiles count the same records (the
 * refunded ones, beside the refunded sum), not 1 beside 2 when one record failed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient, type ConsoleServer, startConsoleServer } from './console-helpers.js';
import { batchNotification, postNotify, type StubGateway, startStubGateway } from './helpers.js';

const T1 = '2026020121001004180000710001';
const T2 = '2026020121001004180000710002';

describe('dashboard tiles', () => {
  let stub: StubGateway;
  let s: ConsoleServer;
  let b: ConsoleClient;

  beforeAll(async () => {
    stub = await startStubGateway();
    s = await startConsoleServer({ gateway: stub.gateway });
    b = new ConsoleClient(s.app);
    expect((await b.login()).status).toBe(303);
    await s.server.services.trades.register(
      [
        { tradeNo: T1, amountFen: 1000 },
        { tradeNo: T2, amountFen: 2550 },
      ],
      'test',
    );
    await b.get('/trades');
    const res = await b.post('/refunds', [
      ['t', T1],
      ['t', T2],
      ['reason_all', '协商退款'],
      ['mode', 'nopwd'],
    ]);
    const batchNo = /^\/batches\/(\w+)/.exec(res.location ?? '')![1]!;
    stub.valid.add(`nid-${batchNo}`);
    const n = batchNotification({
      batchNo,
      notifyId: `nid-${batchNo}`,
      results: [
        { tradeNo: T1, amount: '10.00' },
        { tradeNo: T2, amount: '25.50', code: 'TRADE_HAS_CLOSED' },
      ],
    });
    expect((await postNotify(s.app, n.body)).text).toBe('success');
  });
  afterAll(async () => {
    await s?.cleanup();
    await stub?.close();
  });

  it('today and the window count the same refunded records on the same day', async () => {
    const dash = await b.get('/dashboard?lang=zh-CN');
    const subs = [
      ...dash.html.matchAll(/<div class="value"[^>]*>10\.00<\/div><div class="sub">元 · (\d+) 笔<\/div>/g),
    ];
    expect(subs.map((m) => m[1])).toEqual(['1', '1']);
  });
});
