/**
 * POST /alipay/notify: exactly once under duplicated, reordered and concurrent deliveries; forgeries refused and
 * recorded; the exact `success` answer. Runs on every dialect under test.
 */
import { createHash } from 'node:crypto';
import { signNotification } from '@alirefund/protocol';
import { dialectsUnderTest } from '@alirefund/store/testing';
import { describe, expect, it } from 'vitest';
import {
  batchNotification,
  draftBatch,
  KEY,
  listen,
  makeConfig,
  postNotify,
  startTestServer,
  tradeNo,
  useStubGateway,
  useTestServer,
} from './helpers.js';

const stub = useStubGateway();

describe.each(dialectsUnderTest())('batch notifications on %s', (dialect) => {
  const t = useTestServer(dialect, stub);

  const batchOf = (n: number, amountFen = 300, opts: { mode?: 'pwd' | 'nopwd' } = {}) =>
    draftBatch(t.server, n, amountFen, opts.mode ?? 'nopwd');

  async function refundedOf(no: string) {
    const v = await t.server.services.trades.get(no);
    return { refunded: v!.refundedFen, count: v!.refundCount, status: v!.status, open: v!.openBatchNo };
  }

  it('applies a notification once, answers exactly "success", and a duplicate changes nothing', async () => {
    const { batchNo, trades } = await batchOf(3);
    const notifyId = `nid-${batchNo}`;
    stub.valid.add(notifyId);
    const n = batchNotification({
      batchNo,
      notifyId,
      results: [
        { tradeNo: trades[0]!, amount: '3.00' },
        { tradeNo: trades[1]!, amount: '3.00', code: 'TRADE_HAS_CLOSED' },
        { tradeNo: trades[2]!, amount: '3.00' },
      ],
    });
    const first = await postNotify(t.app, n.body);
    expect(first).toMatchObject({ status: 200, text: 'success' });
    expect(first.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(first.headers.get('set-cookie')).toBeNull();
    expect(first.headers.get('location')).toBeNull();

    const after1 = await Promise.all(trades.map(refundedOf));
    expect(after1).toEqual([
      { refunded: 300, count: 1, status: 'partially_refunded', open: null },
      { refunded: 0, count: 0, status: 'paid', open: null },
      { refunded: 300, count: 1, status: 'partially_refunded', open: null },
    ]);
    const batch = await t.server.services.refunds.getBatch(batchNo);
    expect(batch).toMatchObject({
      state: 'finished',
      successNum: 2,
      successFen: 600,
      appliedNotifyId: notifyId,
    });
    expect(batch!.records.map((r) => [r.resultCode, r.succeeded])).toEqual([
      ['SUCCESS', true],
      ['TRADE_HAS_CLOSED', false],
      ['SUCCESS', true],
    ]);
    expect(batch!.records[1]!.explanation?.zh).toBeTruthy();
    expect(batch!.events.map((e) => e.kind)).toEqual(['created', 'notification']);

    for (let i = 0; i < 3; i++) expect((await postNotify(t.app, n.body)).text).toBe('success');
    expect(await Promise.all(trades.map(refundedOf))).toEqual(after1);
    const log = await t.server.services.notifications.list({ batchNo });
    expect(log.items.map((x) => x.verdict).sort()).toEqual([
      'accepted',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
  });

  it('keeps a redelivery of the applied body as its digest and first 4 KB; the applied row has it whole', async () => {
    const { batchNo, trades } = await batchOf(300);
    const notifyId = `nid-${batchNo}`;
    stub.valid.add(notifyId);
    const n = batchNotification({
      batchNo,
      notifyId,
      results: trades.map((tradeNo) => ({ tradeNo, amount: '3.00' })),
    });
    expect(n.body.length).toBeGreaterThan(8192);
    const sha = createHash('sha256').update(n.body, 'latin1').digest('hex');
    expect((await postNotify(t.app, n.body)).text).toBe('success');
    expect((await postNotify(t.app, n.body)).text).toBe('success');
    const log = await t.server.services.notifications.list({ batchNo });
    const byVerdict = Object.fromEntries(
      await Promise.all(
        log.items.map(async (x) => [x.verdict, await t.server.services.notifications.get(x.id)] as const),
      ),
    );
    expect(byVerdict['accepted']).toMatchObject({ rawBody: n.body, bodyLength: null });
    expect(byVerdict['duplicate']).toMatchObject({
      rawBody: n.body.slice(0, 4096),
      bodyLength: n.body.length,
      bodySha256: sha,
      reasonCode: 'ALREADY_APPLIED',
    });
  });

  it('applies reordered deliveries of several batches once each', async () => {
    const batches = await Promise.all([batchOf(2, 100), batchOf(2, 200), batchOf(2, 300)]);
    const bodies = batches.map((b, i) => {
      const notifyId = `nid-${b.batchNo}`;
      stub.valid.add(notifyId);
      return batchNotification({
        batchNo: b.batchNo,
        notifyId,
        results: b.trades.map((no) => ({ tradeNo: no, amount: `${i + 1}.00` })),
      }).body;
    });
    // Newest first, each twice, interleaved.
    const order = [2, 1, 2, 0, 1, 0];
    for (const i of order) expect((await postNotify(t.app, bodies[i]!)).text).toBe('success');
    for (const [i, b] of batches.entries()) {
      for (const no of b.trades)
        expect(await refundedOf(no)).toMatchObject({ refunded: (i + 1) * 100, count: 1 });
    }
    const accepted = await t.server.services.notifications.list({ verdict: 'accepted' });
    expect(accepted.total).toBe(3);
  });

  it('applies once under 24 concurrent deliveries of the same notification', async () => {
    const { batchNo, trades } = await batchOf(5, 250);
    const notifyId = `nid-${batchNo}`;
    stub.valid.add(notifyId);
    const n = batchNotification({
      batchNo,
      notifyId,
      results: trades.map((no) => ({ tradeNo: no, amount: '2.50' })),
    });
    const answers = await Promise.all(Array.from({ length: 24 }, () => postNotify(t.app, n.body)));
    expect(answers.map((a) => a.text)).toEqual(Array(24).fill('success'));
    for (const no of trades) expect(await refundedOf(no)).toMatchObject({ refunded: 250, count: 1 });
    const log = await t.server.services.notifications.list({ batchNo, pageSize: 100 });
    expect(log.items.filter((x) => x.verdict === 'accepted')).toHaveLength(1);
    expect(log.items.filter((x) => x.verdict === 'duplicate')).toHaveLength(23);
  });

  it('fully refunds a trade over two batches and frees it between them', async () => {
    const { batchNo, trades } = await batchOf(1, 600);
    stub.valid.add(`a-${batchNo}`);
    await postNotify(
      t.app,
      batchNotification({
        batchNo,
        notifyId: `a-${batchNo}`,
        results: [{ tradeNo: trades[0]!, amount: '6.00' }],
      }).body,
    );
    const second = await t.server.services.refunds.createBatches(
      [{ tradeNo: trades[0]!, amountFen: 400, reason: 'rest' }],
      {
        mode: 'nopwd',
        actor: 'test',
        queue: false,
      },
    );
    expect(second.issues).toEqual([]);
    const bn2 = second.batches[0]!.batchNo;
    stub.valid.add(`b-${bn2}`);
    await postNotify(
      t.app,
      batchNotification({
        batchNo: bn2,
        notifyId: `b-${bn2}`,
        results: [{ tradeNo: trades[0]!, amount: '4.00' }],
      }).body,
    );
    expect(await refundedOf(trades[0]!)).toEqual({
      refunded: 1000,
      count: 2,
      status: 'fully_refunded',
      open: null,
    });
  });

  describe('forgeries are answered "fail", recorded with the reason, and change nothing', () => {
    async function expectRejected(
      body: string,
      reasonCode: string,
      batchNo: string | null,
      trades: string[],
      ownBatch: string | null = batchNo,
    ) {
      const res = await postNotify(t.app, body);
      expect(res).toMatchObject({ status: 200, text: 'fail' });
      const log = await t.server.services.notifications.list({ verdict: 'rejected', pageSize: 100 });
      const rec = log.items.find((x) => x.batchNo === batchNo && x.reasonCode === reasonCode);
      expect(rec, `a rejected notification with ${reasonCode}`).toBeDefined();
      expect(rec!.reason).toBeTruthy();
      for (const no of trades) expect(await refundedOf(no)).toMatchObject({ refunded: 0, count: 0 });
      if (ownBatch) expect((await t.server.services.refunds.getBatch(ownBatch))!.state).toBe('draft');
    }

    it('bad sign (wrong key)', async () => {
      const { batchNo, trades } = await batchOf(1);
      stub.valid.add(`nid-${batchNo}`);
      const n = batchNotification({
        batchNo,
        notifyId: `nid-${batchNo}`,
        results: [{ tradeNo: trades[0]!, amount: '3.00' }],
        key: 'zyxwvutsrqponmlkjihgfedcba543210',
      });
      await expectRejected(n.body, 'SIGN_MISMATCH', batchNo, trades);
    });

    it('tampered amount', async () => {
      const { batchNo, trades } = await batchOf(1);
      stub.valid.add(`nid-${batchNo}`);
      const n = batchNotification({
        batchNo,
        notifyId: `nid-${batchNo}`,
        results: [{ tradeNo: trades[0]!, amount: '3.00' }],
      });
      await expectRejected(n.body.replace('3.00', '9.00'), 'SIGN_MISMATCH', batchNo, trades);
    });

    it('missing sign', async () => {
      const { batchNo, trades } = await batchOf(1);
      stub.valid.add(`nid-${batchNo}`);
      const n = batchNotification({
        batchNo,
        notifyId: `nid-${batchNo}`,
        results: [{ tradeNo: trades[0]!, amount: '3.00' }],
      });
      const body = n.body
        .split('&')
        .filter((p) => !p.startsWith('sign='))
        .join('&');
      await expectRejected(body, 'MISSING_SIGN', batchNo, trades);
    });

    it('unknown batch', async () => {
      const own = await batchOf(1);
      const batchNo = '20240101999999999999';
      stub.valid.add(`nid-${batchNo}`);
      const n = batchNotification({
        batchNo,
        notifyId: `nid-${batchNo}`,
        results: [{ tradeNo: own.trades[0]!, amount: '3.00' }],
      });
      await expectRejected(n.body, 'UNKNOWN_BATCH', batchNo, own.trades, own.batchNo);
    });

    it('notify_id the gateway does not know (notify_verify false)', async () => {
      const { batchNo, trades } = await batchOf(1);
      const n = batchNotification({
        batchNo,
        notifyId: 'never-sent-by-alipay',
        results: [{ tradeNo: trades[0]!, amount: '3.00' }],
      });
      await expectRejected(n.body, 'NOTIFY_VERIFY_FALSE', batchNo, trades);
    });

    it('an extra parameter added after signing', async () => {
      const { batchNo, trades } = await batchOf(1);
      stub.valid.add(`nid-${batchNo}`);
      const n = batchNotification({
        batchNo,
        notifyId: `nid-${batchNo}`,
        results: [{ tradeNo: trades[0]!, amount: '3.00' }],
      });
      await expectRejected(`${n.body}&route_id=7`, 'UNEXPECTED_PARAMETER', batchNo, trades);
    });

    it('no batch_no at all, and an empty body', async () => {
      const n = signNotification(
        { notify_type: 'batch_refund_notify', notify_id: 'x' },
        { signType: 'MD5', key: KEY },
        'utf-8',
      );
      expect((await postNotify(t.app, n.body)).text).toBe('fail');
      expect((await postNotify(t.app, '')).text).toBe('fail');
      const log = await t.server.services.notifications.list({ verdict: 'rejected' });
      expect(log.items.map((i) => i.reasonCode)).toEqual(['MISSING_BATCH_NO', 'MISSING_BATCH_NO']);
    });

    it('a signed duplicate with another notify_id the gateway denies', async () => {
      const { batchNo, trades } = await batchOf(1);
      stub.valid.add(`nid-${batchNo}`);
      const good = batchNotification({
        batchNo,
        notifyId: `nid-${batchNo}`,
        results: [{ tradeNo: trades[0]!, amount: '3.00' }],
      });
      expect((await postNotify(t.app, good.body)).text).toBe('success');
      const replay = batchNotification({
        batchNo,
        notifyId: 'forged-id',
        results: [{ tradeNo: trades[0]!, amount: '3.00' }],
      });
      expect((await postNotify(t.app, replay.body)).text).toBe('fail');
      expect(await refundedOf(trades[0]!)).toMatchObject({ refunded: 300, count: 1 });
    });
  });

  it('decodes a GBK batch’s notification in GBK', async () => {
    // This test's server, replaced by one for a GBK gateway (afterEach cleans that one up).
    await t.cleanup();
    Object.assign(t, await startTestServer(dialect, makeConfig(stub.gateway, { inputCharset: 'gbk' })));
    const { batchNo, trades } = await batchOf(1);
    expect((await t.server.services.refunds.getBatch(batchNo))!.charset).toBe('gbk');
    stub.valid.add(`nid-${batchNo}`);
    const n = batchNotification({
      batchNo,
      notifyId: `nid-${batchNo}`,
      results: [{ tradeNo: trades[0]!, amount: '3.00' }],
      charset: 'gbk',
      extra: { notify_time: '2024-01-01 10:00:00' },
    });
    expect(n.body).toMatch(/%[0-9A-F]{2}/);
    expect((await postNotify(t.app, n.body)).text).toBe('success');
    expect(await refundedOf(trades[0]!)).toMatchObject({ refunded: 300 });
  });

  it('answers over a real socket: body exactly "success", no cookie, no redirect', async () => {
    const { batchNo, trades } = await batchOf(2);
    stub.valid.add(`nid-${batchNo}`);
    const n = batchNotification({
      batchNo,
      notifyId: `nid-${batchNo}`,
      results: trades.map((no) => ({ tradeNo: no, amount: '3.00' })),
    });
    const http = await listen(t.app);
    try {
      const send = () =>
        fetch(`${http.url}/alipay/notify`, {
          method: 'POST',
          body: n.body,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          redirect: 'manual',
        });
      const res = await Promise.all([send(), send(), send()]);
      for (const r of res) {
        expect(r.status).toBe(200);
        expect(new Uint8Array(await r.arrayBuffer())).toEqual(new TextEncoder().encode('success'));
        expect(r.headers.get('set-cookie')).toBeNull();
      }
      const log = await t.server.services.notifications.list({ batchNo });
      expect(log.items.every((i) => i.remoteAddr === '127.0.0.1')).toBe(true);
      expect(log.items.filter((i) => i.verdict === 'accepted')).toHaveLength(1);
    } finally {
      await http.close();
    }
    for (const no of trades) expect(await refundedOf(no)).toMatchObject({ refunded: 300, count: 1 });
  });
});

describe.each(dialectsUnderTest())('trade notifications on %s', (dialect) => {
  const t = useTestServer(dialect, stub);

  function tradeNotify(params: Record<string, string>, key = KEY) {
    return signNotification(
      { notify_time: '2024-01-01 10:00:00', notify_type: 'trade_status_sync', ...params },
      { signType: 'MD5', key },
      'utf-8',
    ).body;
  }

  it('records, reconciles, deduplicates and never applies a refund', async () => {
    const no = tradeNo();
    await t.server.services.trades.register([{ tradeNo: no, amountFen: 1000 }], 'test');
    stub.valid.add(`t1-${no}`);
    const body = tradeNotify({
      notify_id: `t1-${no}`,
      trade_no: no,
      trade_status: 'TRADE_CLOSED',
      refund_status: 'REFUND_SUCCESS',
      total_fee: '10.00',
    });
    expect((await postNotify(t.app, body, '/alipay/trade-notify')).text).toBe('success');
    expect((await postNotify(t.app, body, '/alipay/trade-notify')).text).toBe('success');
    const view = await t.server.services.trades.get(no);
    expect(view).toMatchObject({
      refundedFen: 0,
      refundCount: 0,
      status: 'paid',
      gatewayStatus: 'TRADE_CLOSED',
    });
    expect(view!.reconcileNote).toContain('fully refunded');
    const log = await t.server.services.notifications.list({ kind: 'trade_status_sync' });
    expect(log.items.map((i) => [i.verdict, i.reasonCode])).toEqual([
      ['duplicate', 'ALREADY_RECORDED'],
      ['accepted', 'DISCREPANCY'],
    ]);
  });

  it('registers an unknown paid trade from its payment notification', async () => {
    const no = tradeNo();
    stub.valid.add(`t2-${no}`);
    const body = tradeNotify({
      notify_id: `t2-${no}`,
      trade_no: no,
      trade_status: 'TRADE_SUCCESS',
      total_fee: '12.34',
      out_trade_no: 'O-9',
    });
    expect((await postNotify(t.app, body, '/alipay/trade-notify')).text).toBe('success');
    expect(await t.server.services.trades.get(no)).toMatchObject({
      paidFen: 1234,
      outTradeNo: 'O-9',
      status: 'paid',
    });
  });

  it('refuses forged trade notifications', async () => {
    const no = tradeNo();
    stub.valid.add(`t3-${no}`);
    const forged = tradeNotify(
      { notify_id: `t3-${no}`, trade_no: no, trade_status: 'TRADE_SUCCESS', total_fee: '99.00' },
      'zyxwvutsrqponmlkjihgfedcba543210',
    );
    expect((await postNotify(t.app, forged, '/alipay/trade-notify')).text).toBe('fail');
    const unverified = tradeNotify({
      notify_id: 'not-from-alipay',
      trade_no: no,
      trade_status: 'TRADE_SUCCESS',
      total_fee: '99.00',
    });
    expect((await postNotify(t.app, unverified, '/alipay/trade-notify')).text).toBe('fail');
    expect(await t.server.services.trades.get(no)).toBeNull();
    const log = await t.server.services.notifications.list({ kind: 'trade_status_sync' });
    expect(log.items.map((i) => i.reasonCode)).toEqual(['NOTIFY_VERIFY_FALSE', 'SIGN_MISMATCH']);
  });
});
