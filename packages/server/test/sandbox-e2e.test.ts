/**
 * End to end against the real sandbox on real sockets, sandbox and server sharing one database as in the demo:
 * nopwd (create batches → queue → submit → sandbox notifies → trades refunded, failures recorded with their
 * codes, trade notifications reconciled) and pwd (form → confirmation page → password → notification).
 */
import { formEncodePairs } from '@alirefund/protocol';
import { createSandbox, type Sandbox } from '@alirefund/sandbox';
import { dialectsUnderTest, openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AlirefundServer, createServer, makeSettings, type ServerDB } from '../src/index.js';
import { API_TOKEN, KEY, listen, makeConfig, PARTNER } from './helpers.js';

const EMAIL = 'seller@example.com';
const PASSWORD = 'pay-123456';

let counter = 0;
function tradeNo(): string {
  counter++;
  return `20260115210010041${String(Date.now() % 1e6).padStart(6, '0')}${String(counter).padStart(5, '0')}`;
}

/** Polls `check` until it returns a value (not a timing assertion: only a bound on waiting). */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(dialectsUnderTest())('end to end with the sandbox on %s', (dialect) => {
  let database: TestDatabase<ServerDB>;
  let sandbox: Sandbox;
  let server: AlirefundServer;
  let closers: Array<() => Promise<void>>;
  let sandboxUrl: string;
  let serverUrl: string;

  beforeEach(async () => {
    closers = [];
    database = await openTestDatabase<ServerDB>(dialect);
    sandbox = await createSandbox({
      database,
      notifySchedule: [0, 200, 200, 200, 200, 200, 200, 200],
      pollMs: 20,
    });
    const sHttp = await listen(sandbox.app);
    sandboxUrl = sHttp.url;
    const config = makeConfig(`${sandboxUrl}/gateway.do`, { sellerEmail: EMAIL });
    // The server's URL is needed in its settings: reserve it by listening on a proxy app first.
    let app: AlirefundServer['app'] | undefined;
    const { Hono } = await import('hono');
    const front = new Hono();
    front.all('*', (c) => (app ? app.fetch(c.req.raw) : c.text('starting', 503)));
    const vHttp = await listen(front);
    serverUrl = vHttp.url;
    server = await createServer({
      settings: makeSettings({ alipay: config, publicUrl: serverUrl, apiToken: API_TOKEN, batchSize: 3 }),
      database,
      console: false,
    });
    app = server.app;
    closers.push(
      () => vHttp.close(),
      () => server.close(),
      () => sandbox.close(),
      () => sHttp.close(),
      () => database.cleanup(),
    );
  });

  afterEach(async () => {
    for (const c of closers) await c().catch(() => {});
  });

  async function seed(trades: Array<{ tradeNo: string; amount: string; status?: string }>) {
    await sandbox.seed({
      partners: [
        {
          partner: PARTNER,
          key: KEY,
          email: EMAIL,
          paymentPassword: PASSWORD,
          balance: '100000.00',
          services: [
            'refund_fastpay_by_platform_pwd',
            'refund_fastpay_by_platform_nopwd',
            'refund_fastpay_query',
          ],
        },
      ],
      accounts: [],
      trades: trades.map((t) => ({
        tradeNo: t.tradeNo,
        partner: PARTNER,
        amount: t.amount,
        status: t.status ?? 'TRADE_SUCCESS',
        notifyUrl: `${serverUrl}/alipay/trade-notify`,
      })),
    });
    const reg = await server.services.trades.register(
      trades.map((t) => ({ tradeNo: t.tradeNo, amountFen: Math.round(Number(t.amount) * 100) })),
      'test',
    );
    expect(reg.issues).toEqual([]);
  }

  it('nopwd: batches go one at a time, the sandbox notifies, trades are refunded once', async () => {
    const nos = Array.from({ length: 7 }, () => tradeNo());
    await seed([
      ...nos.slice(0, 6).map((tradeNo) => ({ tradeNo, amount: '10.00' })),
      { tradeNo: nos[6]!, amount: '10.00', status: 'TRADE_FINISHED' },
    ]);
    const res = await server.services.refunds.createBatches(
      nos.map((no, i) => ({ tradeNo: no, amountFen: i === 0 ? 1000 : 250, reason: '协商退款' })),
      { mode: 'nopwd', actor: 'test' },
    );
    expect(res.issues).toEqual([]);
    expect(res.batches.map((b) => b.recordCount)).toEqual([3, 3, 1]);

    const finished = await waitFor('all batches finished', async () => {
      const all = await Promise.all(res.batches.map((b) => server.services.refunds.getBatch(b.batchNo)));
      return all.every((b) => b!.state === 'finished') ? all : null;
    });
    // One at a time: each batch was submitted only after the previous one's notification was applied.
    for (let i = 1; i < finished.length; i++) {
      expect(finished[i]!.times.submittedAt! >= finished[i - 1]!.times.appliedAt!).toBe(true);
    }
    const t0 = await server.services.trades.get(nos[0]!);
    expect(t0).toMatchObject({
      refundedFen: 1000,
      status: 'fully_refunded',
      refundCount: 1,
      openBatchNo: null,
    });
    for (const no of nos.slice(1, 6)) {
      expect(await server.services.trades.get(no)).toMatchObject({
        refundedFen: 250,
        status: 'partially_refunded',
      });
    }
    const last = finished[2]!;
    expect(last.records[0]).toMatchObject({
      tradeNo: nos[6],
      succeeded: false,
      resultCode: 'TRADE_HAS_FINISHED',
    });
    expect(last.records[0]!.explanation?.zh).toBeTruthy();
    expect(await server.services.trades.get(nos[6]!)).toMatchObject({ refundedFen: 0, openBatchNo: null });

    // The sandbox agrees, and got "success" for each notification.
    const sbx = (await (await fetch(`${sandboxUrl}/sandbox/api/trades/${nos[0]}`)).json()) as {
      refunds: unknown[];
    };
    expect(sbx.refunds).toHaveLength(1);
    const deliveries = await server.services.notifications.list({
      kind: 'batch_refund_notify',
      pageSize: 100,
    });
    expect(deliveries.items.filter((d) => d.verdict === 'accepted')).toHaveLength(3);
    expect(deliveries.items.filter((d) => d.verdict === 'rejected')).toHaveLength(0);

    // Trade notifications (trade_status_sync) for the refunded trades: recorded and consistent.
    const tradeNotes = await waitFor('trade notifications', async () => {
      const l = await server.services.notifications.list({ kind: 'trade_status_sync', pageSize: 100 });
      return l.items.filter((i) => i.verdict === 'accepted').length >= 6 ? l : null;
    });
    expect(tradeNotes.items.filter((i) => i.verdict === 'rejected')).toEqual([]);
    // Either order is possible: a trade notification may arrive before its batch notification was applied.
    for (const n of tradeNotes.items)
      expect(['CONSISTENT', 'AWAITING_BATCH_NOTIFICATION']).toContain(n.reasonCode);
    for (const no of nos) expect((await server.services.trades.get(no))!.reconcileNote).toBeNull();
    expect((await server.services.trades.get(nos[0]!))!.gatewayStatus).toBe('TRADE_CLOSED');
    // Refunds were applied once, whatever the trade notifications said.
    expect(await server.services.trades.get(nos[0]!)).toMatchObject({ refundedFen: 1000, refundCount: 1 });
  });

  it('pwd: the signed form leads to the confirmation page; after the password the notification refunds the trades', async () => {
    const nos = [tradeNo(), tradeNo()];
    await seed(nos.map((tradeNo) => ({ tradeNo, amount: '8.00' })));
    const res = await server.services.refunds.createBatches(
      nos.map((no) => ({ tradeNo: no, amountFen: 300, reason: '退货' })),
      { mode: 'pwd', actor: 'operator:alice' },
    );
    expect(res.issues).toEqual([]);
    const form = await server.services.submission.preparePwd(res.batches[0]!.batchNo, 'operator:alice');
    // What the browser does with the auto-submit form.
    const page = await fetch(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: formEncodePairs(Object.entries(form.params), 'utf-8'),
    });
    const html = await page.text();
    expect(html).toContain('确认批量退款信息');
    const token = /name="token" value="([^"]+)"/.exec(html)?.[1];
    expect(token).toBeDefined();
    const confirm = await fetch(`${sandboxUrl}/pwd/confirm`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: sandboxUrl,
        referer: form.action,
      },
      body: new URLSearchParams({
        partner: PARTNER,
        batch_no: form.batchNo,
        token: token!,
        email: EMAIL,
        password: PASSWORD,
      }),
    });
    expect(confirm.status).toBe(200);
    await waitFor(
      'pwd batch finished',
      async () => (await server.services.refunds.getBatch(form.batchNo))?.state === 'finished',
    );
    for (const no of nos)
      expect(await server.services.trades.get(no)).toMatchObject({ refundedFen: 300, refundCount: 1 });
  });
});
