/**
 * The set-based apply transaction (fixed SQL texts, one UPDATE … FROM (VALUES …) for the records and one for the
 * trades, reservations released in the same statement): applied once under a concurrent storm over a real socket,
 * including copies with different notify_ids (each passes notify_verify, so every copy reaches the apply
 * transaction), and the anomalies (missing results, foreign trades, amount mismatches) still recorded.
 */
import { dialectsUnderTest } from '@alirefund/store/testing';
import { describe, expect, it } from 'vitest';
import {
  batchNotification,
  draftBatch,
  listen,
  postNotify,
  useStubGateway,
  useTestServer,
} from './helpers.js';

const stub = useStubGateway();

describe.each(dialectsUnderTest())('apply transaction on %s', (dialect) => {
  const t = useTestServer(dialect, stub);

  const batchOf = (n: number, amountFen: number) => draftBatch(t.server, n, amountFen);

  it('applies each batch once when copies with different notify_ids race over a real socket', async () => {
    const batches = await Promise.all([
      batchOf(30, 100),
      batchOf(30, 200),
      batchOf(30, 300),
      batchOf(30, 400),
    ]);
    const bodies: string[] = [];
    for (const [i, b] of batches.entries()) {
      for (let copy = 0; copy < 8; copy++) {
        // Copies 0–3 share a notify_id; 4–7 each carry their own, which the gateway also confirms.
        const notifyId = copy < 4 ? `nid-${b.batchNo}` : `nid-${b.batchNo}-${copy}`;
        stub.valid.add(notifyId);
        bodies.push(
          batchNotification({
            batchNo: b.batchNo,
            notifyId,
            results: b.trades.map((no, k) => ({
              tradeNo: no,
              amount: `${i + 1}.00`,
              ...(k % 10 === 9 ? { code: 'TRADE_HAS_CLOSED' } : {}),
            })),
          }).body,
        );
      }
    }
    const http = await listen(t.app);
    try {
      const answers = await Promise.all(
        bodies.map((body) =>
          fetch(`${http.url}/alipay/notify`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
          }).then((r) => r.text()),
        ),
      );
      expect(answers).toEqual(Array(bodies.length).fill('success'));
    } finally {
      await http.close();
    }
    for (const [i, b] of batches.entries()) {
      for (const [k, no] of b.trades.entries()) {
        const v = await t.server.services.trades.get(no);
        const refunded = k % 10 === 9 ? 0 : (i + 1) * 100;
        expect(v).toMatchObject({
          refundedFen: refunded,
          refundCount: refunded > 0 ? 1 : 0,
          openBatchNo: null,
        });
        expect(v!.status).toBe(refunded > 0 ? 'partially_refunded' : 'paid');
      }
      const batch = await t.server.services.refunds.getBatch(b.batchNo);
      expect(batch).toMatchObject({ state: 'finished', successNum: 27, successFen: 27 * (i + 1) * 100 });
      expect(batch!.events.filter((e) => e.kind === 'notification')).toHaveLength(1);
      expect(batch!.events.filter((e) => e.kind === 'anomaly')).toHaveLength(0);
      expect(batch!.records.filter((r) => r.succeeded)).toHaveLength(27);
      expect(batch!.records.filter((r) => r.resultCode === 'TRADE_HAS_CLOSED')).toHaveLength(3);
      const log = await t.server.services.notifications.list({ batchNo: b.batchNo, pageSize: 100 });
      expect(log.items.filter((x) => x.verdict === 'accepted')).toHaveLength(1);
      expect(log.items.filter((x) => x.verdict === 'duplicate')).toHaveLength(7);
      const detail = await t.server.services.notifications.get(log.items[0]!.id);
      expect(detail!.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
      expect(detail!.remoteAddr).toBe('127.0.0.1');
    }
  });

  it('records a byte-identical redelivery like any duplicate, and still refuses an altered copy', async () => {
    const { batchNo, trades } = await batchOf(2, 300);
    const notifyId = `nid-${batchNo}`;
    stub.valid.add(notifyId);
    const n = batchNotification({
      batchNo,
      notifyId,
      results: trades.map((no) => ({ tradeNo: no, amount: '3.00' })),
    });
    expect((await postNotify(t.app, n.body)).text).toBe('success');
    expect((await postNotify(t.app, n.body)).text).toBe('success');
    // Same content, another notify_time (so other bytes and sign): the full path, which reaches the same verdict.
    const resent = batchNotification({
      batchNo,
      notifyId,
      results: trades.map((no) => ({ tradeNo: no, amount: '3.00' })),
      extra: { notify_time: '2030-01-01 00:00:00' },
    });
    expect((await postNotify(t.app, resent.body)).text).toBe('success');
    const altered = n.body.replace('3.00', '9.00');
    expect(altered).not.toBe(n.body);
    expect((await postNotify(t.app, altered)).text).toBe('fail');
    const log = await t.server.services.notifications.list({ batchNo, pageSize: 10 });
    const [forged, full, identical, accepted] = log.items;
    expect(accepted).toMatchObject({ verdict: 'accepted', notifyId });
    for (const dup of [identical, full]) {
      expect(dup).toMatchObject({
        verdict: 'duplicate',
        reasonCode: 'ALREADY_APPLIED',
        reason: `batch ${batchNo} was already applied; nothing changed`,
        notifyId,
        charset: accepted!.charset,
        response: 'success',
      });
    }
    expect(identical!.notifyTime).toBe(accepted!.notifyTime);
    expect(full!.notifyTime).toBe('2030-01-01 00:00:00');
    expect(forged).toMatchObject({ verdict: 'rejected', reasonCode: 'SIGN_MISMATCH', response: 'fail' });
    for (const no of trades) {
      expect(await t.server.services.trades.get(no)).toMatchObject({ refundedFen: 300, refundCount: 1 });
    }
  });

  it('records missing results, foreign trades and amount mismatches, and still frees every trade', async () => {
    const { batchNo, trades } = await batchOf(4, 300);
    const [other] = await Promise.all([batchOf(1, 300)]);
    stub.valid.add(`nid-${batchNo}`);
    const n = batchNotification({
      batchNo,
      notifyId: `nid-${batchNo}`,
      results: [
        { tradeNo: trades[0]!, amount: '3.00' },
        { tradeNo: trades[1]!, amount: '2.00' },
        { tradeNo: other!.trades[0]!, amount: '3.00' },
      ],
    });
    expect((await postNotify(t.app, n.body)).text).toBe('success');
    const state = await Promise.all(trades.map((no) => t.server.services.trades.get(no)));
    expect(state.map((v) => [v!.refundedFen, v!.refundCount, v!.openBatchNo])).toEqual([
      [300, 1, null],
      [200, 1, null],
      [0, 0, null],
      [0, 0, null],
    ]);
    // The foreign trade keeps its own batch's reservation and is not refunded.
    expect(await t.server.services.trades.get(other!.trades[0]!)).toMatchObject({
      refundedFen: 0,
      openBatchNo: other!.batchNo,
    });
    const batch = await t.server.services.refunds.getBatch(batchNo);
    expect(batch).toMatchObject({ state: 'finished', successNum: 3, successFen: 500 });
    expect(batch!.records.map((r) => r.resultCode)).toEqual(['SUCCESS', 'SUCCESS', 'NO_RESULT', 'NO_RESULT']);
    const anomaly = batch!.events.find((e) => e.kind === 'anomaly');
    expect(anomaly?.message).toContain('not in this batch');
    expect(anomaly?.message).toContain('2.00 yuan refunded, 3.00 requested');
    expect(anomaly?.message).toContain('no result for 2 record(s)');
    expect(anomaly?.message).toContain('success_num says 3 but result_details has 2 SUCCESS record(s)');
  });
});
