/**
 * End to end against the real sandbox on real sockets, sandbox and server sharing one database as in the demo:
 * nopwd (create batches → queue → submit → sandbox notifies → trades refunded, failures recorded with their
 * codes, trade notifications reconciled) and pwd (form → confirmation page → password → notification).
 */
import { formEncodePairs } from '@alirefund/protocol';
import { dialectsUnderTest } from '@alirefund/store/testing';
import { describe, expect, it } from 'vitest';
import {
  PARTNER,
  PAY_PASSWORD,
  SELLER_EMAIL,
  sandboxTradeNo as tradeNo,
  useSandboxServer,
  waitFor,
} from './helpers.js';

describe.each(dialectsUnderTest())('end to end with the sandbox on %s', (dialect) => {
  const h = useSandboxServer(dialect, { batchSize: 3 });

  it('nopwd: batches go one at a time, the sandbox notifies, trades are refunded once', async () => {
    const nos = Array.from({ length: 7 }, () => tradeNo());
    await h.seed(
      [
        ...nos.slice(0, 6).map((tradeNo) => ({ tradeNo, amount: '10.00' })),
        { tradeNo: nos[6]!, amount: '10.00', status: 'TRADE_FINISHED' },
      ],
      { tradeNotify: true },
    );
    const res = await h.server.services.refunds.createBatches(
      nos.map((no, i) => ({ tradeNo: no, amountFen: i === 0 ? 1000 : 250, reason: '协商退款' })),
      { mode: 'nopwd', actor: 'test' },
    );
    expect(res.issues).toEqual([]);
    expect(res.batches.map((b) => b.recordCount)).toEqual([3, 3, 1]);

    const finished = await waitFor('all batches finished', async () => {
      const all = await Promise.all(res.batches.map((b) => h.server.services.refunds.getBatch(b.batchNo)));
      return all.every((b) => b!.state === 'finished') ? all : null;
    });
    // One at a time: each batch was submitted only after the previous one's notification was applied.
    for (let i = 1; i < finished.length; i++) {
      expect(finished[i]!.times.submittedAt! >= finished[i - 1]!.times.appliedAt!).toBe(true);
    }
    const t0 = await h.server.services.trades.get(nos[0]!);
    expect(t0).toMatchObject({
      refundedFen: 1000,
      status: 'fully_refunded',
      refundCount: 1,
      openBatchNo: null,
    });
    for (const no of nos.slice(1, 6)) {
      expect(await h.server.services.trades.get(no)).toMatchObject({
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
    expect(await h.server.services.trades.get(nos[6]!)).toMatchObject({ refundedFen: 0, openBatchNo: null });

    // The sandbox agrees, and got "success" for each notification.
    const sbx = (await (await fetch(`${h.sandboxUrl}/sandbox/api/trades/${nos[0]}`)).json()) as {
      refunds: unknown[];
    };
    expect(sbx.refunds).toHaveLength(1);
    const deliveries = await h.server.services.notifications.list({
      kind: 'batch_refund_notify',
      pageSize: 100,
    });
    expect(deliveries.items.filter((d) => d.verdict === 'accepted')).toHaveLength(3);
    expect(deliveries.items.filter((d) => d.verdict === 'rejected')).toHaveLength(0);

    // Trade notifications (trade_status_sync) for the refunded trades: recorded and consistent.
    const tradeNotes = await waitFor('trade notifications', async () => {
      const l = await h.server.services.notifications.list({ kind: 'trade_status_sync', pageSize: 100 });
      return l.items.filter((i) => i.verdict === 'accepted').length >= 6 ? l : null;
    });
    expect(tradeNotes.items.filter((i) => i.verdict === 'rejected')).toEqual([]);
    // Either order is possible: a trade notification may arrive before its batch notification was applied.
    for (const n of tradeNotes.items)
      expect(['CONSISTENT', 'AWAITING_BATCH_NOTIFICATION']).toContain(n.reasonCode);
    for (const no of nos) expect((await h.server.services.trades.get(no))!.reconcileNote).toBeNull();
    expect((await h.server.services.trades.get(nos[0]!))!.gatewayStatus).toBe('TRADE_CLOSED');
    // Refunds were applied once, whatever the trade notifications said.
    expect(await h.server.services.trades.get(nos[0]!)).toMatchObject({ refundedFen: 1000, refundCount: 1 });
  });

  it('pwd: the signed form leads to the confirmation page; after the password the notification refunds the trades', async () => {
    const nos = [tradeNo(), tradeNo()];
    await h.seed(
      nos.map((tradeNo) => ({ tradeNo, amount: '8.00' })),
      { tradeNotify: true },
    );
    const res = await h.server.services.refunds.createBatches(
      nos.map((no) => ({ tradeNo: no, amountFen: 300, reason: '退货' })),
      { mode: 'pwd', actor: 'operator:alice' },
    );
    expect(res.issues).toEqual([]);
    const form = await h.server.services.submission.preparePwd(res.batches[0]!.batchNo, 'operator:alice');
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
    const confirm = await fetch(`${h.sandboxUrl}/pwd/confirm`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: h.sandboxUrl,
        referer: form.action,
      },
      body: new URLSearchParams({
        partner: PARTNER,
        batch_no: form.batchNo,
        token: token!,
        email: SELLER_EMAIL,
        password: PAY_PASSWORD,
      }),
    });
    expect(confirm.status).toBe(200);
    await waitFor(
      'pwd batch finished',
      async () => (await h.server.services.refunds.getBatch(form.batchNo))?.state === 'finished',
    );
    for (const no of nos)
      expect(await h.server.services.trades.get(no)).toMatchObject({ refundedFen: 300, refundCount: 1 });
  });
});
