/**
 * nopwd end to end (T and F, notification verified with the SDK), every per-record business rule with its
 * code, the batch lock, royalties, GBK and RSA, refund_fastpay_query, and the ledger invariant after each test.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  type DetailRecord,
  buildRefundQuery,
  buildRefundRequest,
  checkNotificationSignature,
  createConfig,
  decodeResultDetails,
  newBatchIdentity,
  sendNopwdRequest,
  sendRefundQuery,
} from '@alirefund/protocol';
import { dialectsUnderTest } from '@alirefund/store/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_A,
  AGENT_B,
  type Harness,
  KEY,
  OTHER_PARTNER,
  PARTNER,
  UNSIGNED,
  api,
  balanceOf,
  createTrade,
  formOf,
  nopwdParams,
  refundSuite,
  send,
  tradeNo,
  waitFor,
  xmlOutcome,
} from './helpers.js';

interface BatchView {
  status: string;
  successNum: number | null;
  lockError: boolean;
  resultDetails: string | null;
  records: Array<{ tradeNo: string; code: string; succeeded: boolean }>;
  notifications: Array<{ status: string; kind: string; notifyId: string }>;
}

describe.each(dialectsUnderTest())('nopwd and the ledger (%s)', (dialect) => {
  const suite = refundSuite(dialect);
  const { notified, submit } = suite;
  let h: Harness;
  beforeAll(() => {
    h = suite.h;
  });
  const batch = (batchNo: string, partner = PARTNER) => suite.batch<BatchView>(batchNo, partner);
  const rsaMerchant = generateKeyPairSync('rsa', { modulusLength: 1024 });

  it('T: a partial then a full refund; notification and trade_status_sync verified; trade closes', async () => {
    const trade = await createTrade(h, {
      amount: '100.00',
      notifyUrl: `${h.receiver.url}/trade-notify`,
      outTradeNo: 'ORDER-1',
    });
    const before = await balanceOf(h, PARTNER);
    const b1 = await submit([{ tradeNo: trade, amountFen: 3000, reason: '协商退款' }]);
    const v1 = await batch(b1);
    expect(v1.successNum).toBe(1);
    const n1 = notified.get(b1)!;
    expect(n1.successNum).toBe(1);
    expect(n1.resultDetailsText).toBe(`${trade}^30.00^SUCCESS`);
    expect(await balanceOf(h, PARTNER)).toBe(before - 3000);
    let t = (await api<{ status: string; refundedFen: number }>(h, `/trades/${trade}`)).json;
    expect(t).toMatchObject({ status: 'TRADE_SUCCESS', refundedFen: 3000 });

    const b2 = await submit([{ tradeNo: trade, amountFen: 7000, reason: '全额' }]);
    await batch(b2);
    t = (await api<{ status: string; refundedFen: number }>(h, `/trades/${trade}`)).json;
    expect(t).toMatchObject({ status: 'TRADE_CLOSED', refundedFen: 10000 });

    // The trade's own notification (trade_status_sync), signed like every notification.
    const syncs = await waitFor(() => {
      const s = h.receiver.received.filter(
        (r) => r.path === '/trade-notify' && r.body.includes(Buffer.from(trade)),
      );
      return s.length >= 2 ? s : null;
    }, 'two trade_status_sync');
    const params = syncs.map((r) =>
      checkNotificationSignature(r.body, 'utf-8', { signType: 'MD5', key: KEY }),
    );
    expect(
      params.map((p) => [p['notify_type'], p['trade_status'], p['refund_status'], p['out_trade_no']]),
    ).toEqual([
      ['trade_status_sync', 'TRADE_SUCCESS', 'REFUND_SUCCESS', 'ORDER-1'],
      ['trade_status_sync', 'TRADE_CLOSED', 'REFUND_SUCCESS', 'ORDER-1'],
    ]);

    const b3 = await submit([{ tradeNo: trade, amountFen: 1, reason: 'again' }]);
    expect((await batch(b3)).records[0]!.code).toBe('TRADE_HAS_CLOSED');
    expect(notified.get(b3)!.successNum).toBe(0);
  });

  it('per-record rules: each failing record has its code, the others still succeed', async () => {
    const ok1 = await createTrade(h, { amount: '50.00' });
    const closed = await createTrade(h, { status: 'TRADE_CLOSED' });
    const finished = await createTrade(h, { status: 'TRADE_FINISHED' });
    const waiting = await createTrade(h, { status: 'WAIT_BUYER_PAY' });
    const foreign = await createTrade(h, { partner: OTHER_PARTNER });
    const small = await createTrade(h, { amount: '10.00' });
    const partial = await createTrade(h, { amount: '10.00' });
    const sub = await createTrade(h);
    const forced = await createTrade(h);
    const unsignedSeller = await createTrade(h, { sellerId: UNSIGNED });
    const ok2 = await createTrade(h, { amount: '20.00' });
    const missing = tradeNo();
    await submit([{ tradeNo: partial, amountFen: 800, reason: 'first' }]).then(batch);
    await api(h, '/faults', {
      method: 'PUT',
      body: { forceCodes: [{ tradeNo: forced, code: 'TRADE_PROCESS_ERROR' }] },
    });
    const before = await balanceOf(h, PARTNER);
    const records: DetailRecord[] = [
      { tradeNo: ok1, amountFen: 5000, reason: 'ok' },
      { tradeNo: closed, amountFen: 100, reason: 'x' },
      { tradeNo: finished, amountFen: 100, reason: 'x' },
      { tradeNo: waiting, amountFen: 100, reason: 'x' },
      { tradeNo: foreign, amountFen: 100, reason: 'x' },
      { tradeNo: missing, amountFen: 100, reason: 'x' },
      { tradeNo: small, amountFen: 1001, reason: 'more than paid' },
      { tradeNo: partial, amountFen: 300, reason: '8 + 3 > 10' },
      { tradeNo: sub, amountFen: 100, reason: 'x', subTrade: { amountFen: 100, reason: 'sub' } },
      { tradeNo: forced, amountFen: 100, reason: 'x' },
      { tradeNo: unsignedSeller, amountFen: 100, reason: 'x' },
      {
        tradeNo: ok2,
        amountFen: 1234,
        reason: 'ok',
        charge: { account: '', userId: PARTNER, amountFen: 1, reason: 'fee' },
      },
    ];
    const v = await batch(await submit(records));
    expect(v.records.map((r) => r.code)).toEqual([
      'SUCCESS',
      'TRADE_HAS_CLOSED',
      'TRADE_HAS_FINISHED',
      'TRADE_STATUS_ERROR',
      'NOT_THIS_PARTNERS_TRADE',
      'TRADE_NOT_EXISTS',
      'RESULT_AMOUNT_NOT_VALID',
      'REFUND_TRADE_FEE_ERROR',
      'REFUND_SUBTRADE_FEE_ERROR',
      'TRADE_PROCESS_ERROR',
      'PARTNER_NOT_SIGN_PROTOCOL',
      'SUCCESS',
    ]);
    expect(v.successNum).toBe(2);
    expect(await balanceOf(h, PARTNER)).toBe(before - 5000 - 1234);
    const details = decodeResultDetails(v.resultDetails!);
    expect(details.ok && details.value[11]!.charge).toMatchObject({
      userId: PARTNER,
      amountText: '0.00',
      code: 'SUCCESS',
    });
    expect(details.ok && details.value[8]!.subTrade).toMatchObject({
      refundText: '1.00',
      code: 'REFUND_SUBTRADE_FEE_ERROR',
    });
    // The forced code was used once: the same trade now refunds.
    expect(
      (await batch(await submit([{ tradeNo: forced, amountFen: 100, reason: 'x' }]))).records[0]!.code,
    ).toBe('SUCCESS');
  });

  it('SELLER_BALANCE_NOT_ENOUGH and NOT_THIS_SELLER_TRADE', async () => {
    // OTHER_PARTNER holds 100.00.
    const big = await createTrade(h, { partner: OTHER_PARTNER, amount: '500.00' });
    const params = nopwdParams(h.sandbox.now(), `${big}^200.00^x`, {
      partner: OTHER_PARTNER,
      notify_url: `${h.receiver.url}/plain`,
    });
    expect(
      await xmlOutcome(
        await send(h.gateway, params, { key: { signType: 'MD5', key: 'abcdefghijklmnopqrstuvwxyz012345' } }),
      ),
    ).toBe('T');
    expect((await batch(params['batch_no']!, OTHER_PARTNER)).records[0]!.code).toBe(
      'SELLER_BALANCE_NOT_ENOUGH',
    );
    const mine = await createTrade(h);
    const b = await submit([{ tradeNo: mine, amountFen: 100, reason: 'x' }]);
    expect((await batch(b)).records[0]!.code).toBe('SUCCESS');
    const p2 = nopwdParams(h.sandbox.now(), `${mine}^1.00^x`, {
      seller_user_id: AGENT_A,
      notify_url: `${h.receiver.url}/plain`,
    });
    expect(await xmlOutcome(await send(h.gateway, p2))).toBe('T');
    expect((await batch(p2['batch_no']!)).records[0]!.code).toBe('NOT_THIS_SELLER_TRADE');
  });

  it('royalties: pulled back first (入大于出，先入后出), each rule with its code, money moved only on success', async () => {
    const royal = (royalties: Array<{ userId: string; amount: string }>) =>
      createTrade(h, { amount: '100.00', royalties });
    const tOk = await royal([{ userId: AGENT_A, amount: '20.00' }]);
    const tOnly = await royal([{ userId: AGENT_A, amount: '5.00' }]);
    const tNoAcct = await royal([{ userId: AGENT_A, amount: '5.00' }]);
    const tUnsignedOut = await royal([{ userId: UNSIGNED, amount: '10.00' }]);
    const tUnsignedIn = await royal([{ userId: AGENT_A, amount: '10.00' }]);
    const tTooMuch = await royal([{ userId: AGENT_A, amount: '20.00' }]);
    const tPoor = await royal([{ userId: AGENT_B, amount: '10.00' }]);
    const a0 = await balanceOf(h, AGENT_A);
    const p0 = await balanceOf(h, PARTNER);
    const y = (out: string, into: string, fen: number) => ({
      outAccount: '',
      outUserId: out,
      inAccount: '',
      inUserId: into,
      amountFen: fen,
      reason: '',
    });
    const records: DetailRecord[] = [
      { tradeNo: tOk, amountFen: 10000, reason: 'full', royalties: [y(AGENT_A, PARTNER, 2000)] },
      {
        tradeNo: tOnly,
        amountFen: 0,
        reason: 'royalty only',
        royalties: [
          { ...y('', '', 500), outAccount: 'agent.a@example.com', inAccount: 'seller@example.com' },
        ],
      },
      { tradeNo: tNoAcct, amountFen: 100, reason: 'x', royalties: [y('2088000000000001', PARTNER, 100)] },
      { tradeNo: tUnsignedOut, amountFen: 100, reason: 'x', royalties: [y(UNSIGNED, PARTNER, 100)] },
      { tradeNo: tUnsignedIn, amountFen: 100, reason: 'x', royalties: [y(AGENT_A, UNSIGNED, 100)] },
      { tradeNo: tTooMuch, amountFen: 100, reason: 'x', royalties: [y(AGENT_A, PARTNER, 2001)] },
      { tradeNo: tPoor, amountFen: 100, reason: 'x', royalties: [y(AGENT_B, PARTNER, 1000)] },
    ];
    const v = await batch(await submit(records));
    expect(v.records.map((r) => r.code)).toEqual([
      'SUCCESS',
      'SUCCESS',
      'ACCOUNT_NOT_EXISTS',
      'PARTNER_NOT_SIGN_PROTOCOL',
      'ROYALTYER_NOT_SIGN_PROTOCOL',
      'REFUND_ROYALTY_FEE_ERROR',
      'TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH',
    ]);
    expect(v.resultDetails!.split('#')[0]).toBe(
      `${tOk}^100.00^SUCCESS|^${AGENT_A}^^${PARTNER}^20.00^SUCCESS`,
    );
    expect(v.resultDetails!.split('#')[1]).toBe(
      `${tOnly}^0.00^SUCCESS|agent.a@example.com^^seller@example.com^^5.00^SUCCESS`,
    );
    expect(await balanceOf(h, AGENT_A)).toBe(a0 - 2000 - 500);
    expect(await balanceOf(h, PARTNER)).toBe(p0 + 2000 + 500 - 10000);
    // The royalty is spent: a second pull-back of the same royalty fails.
    const again = await batch(
      await submit([{ tradeNo: tOnly, amountFen: 0, reason: 'again', royalties: [y(AGENT_A, PARTNER, 1)] }]),
    );
    expect(again.records[0]!.code).toBe('REFUND_ROYALTY_FEE_ERROR');
  });

  it('BATCH_REFUND_LOCK_ERROR: a batch accepted while another of the partner is processing', async () => {
    const t1 = await createTrade(h);
    const t2 = await createTrade(h);
    const t3 = await createTrade(h);
    await api(h, '/faults', { method: 'PUT', body: { pauseProcessing: true } });
    const a = await submit([{ tradeNo: t1, amountFen: 100, reason: 'a' }]);
    const b = await submit([{ tradeNo: t2, amountFen: 100, reason: 'b' }]);
    expect(
      (await api<{ status: string; lockError: boolean }>(h, `/batches/${PARTNER}/${b}`)).json,
    ).toMatchObject({ status: 'queued', lockError: true });
    await api(h, '/faults', { method: 'PUT', body: { pauseProcessing: false } });
    expect((await batch(a)).records[0]!.code).toBe('SUCCESS');
    const vb = await batch(b);
    expect(vb.records[0]!.code).toBe('BATCH_REFUND_LOCK_ERROR');
    expect(notified.get(b)!.resultDetailsText).toBe(`${t2}^1.00^BATCH_REFUND_LOCK_ERROR`);
    // Once both are processed the lock is free again.
    expect((await batch(await submit([{ tradeNo: t3, amountFen: 100, reason: 'c' }]))).records[0]!.code).toBe(
      'SUCCESS',
    );
  });

  it('the ledger report is one snapshot: polled while batches are processed, it never shows a mismatch', async () => {
    const trades = await Promise.all(Array.from({ length: 40 }, () => createTrade(h)));
    let polling = true;
    const reports: { sumFen: number; unbalancedTxns: string[]; balancesMatchEntries: boolean }[] = [];
    const poller = (async () => {
      while (polling) reports.push((await api<(typeof reports)[number]>(h, '/ledger')).json);
    })();
    try {
      for (let i = 0; i < 4; i++) {
        const part = trades.slice(i * 10, i * 10 + 10);
        const v = await batch(
          await submit(part.map((t) => ({ tradeNo: t, amountFen: 100, reason: 'snap' }))),
        );
        expect(v.records.every((r) => r.code === 'SUCCESS')).toBe(true);
      }
    } finally {
      polling = false;
      await poller;
    }
    expect(reports.length).toBeGreaterThan(0);
    for (const r of reports) {
      expect(r).toMatchObject({ sumFen: 0, unbalancedTxns: [], balancesMatchEntries: true });
    }
  });

  it('WHOLE_DETAIL_FORBID_REFUND after 99 refunds of one trade', async () => {
    const trade = await createTrade(h, { amount: '100.00' });
    for (let i = 0; i < 99; i++) {
      const p = nopwdParams(h.sandbox.now(), `${trade}^0.01^n${i}`);
      expect(await xmlOutcome(await send(h.gateway, p))).toBe('T');
      await waitFor(
        async () =>
          (await api<{ status: string }>(h, `/batches/${PARTNER}/${p['batch_no']}`)).json.status === 'done',
        'batch done',
      );
    }
    const t = (await api<{ refundCount: number }>(h, `/trades/${trade}`)).json;
    expect(t.refundCount).toBe(99);
    expect(
      (await batch(await submit([{ tradeNo: trade, amountFen: 1, reason: '100th' }]))).records[0]!.code,
    ).toBe('WHOLE_DETAIL_FORBID_REFUND');
  });

  it('GBK: request, XML reply and notification all in GBK', async () => {
    const trade = await createTrade(h);
    const batchNo = await submit([{ tradeNo: trade, amountFen: 1000, reason: '协商退款（部分）' }], {
      path: '/batch/gbk',
      config: { inputCharset: 'gbk' },
    });
    await batch(batchNo);
    const raw = h.receiver.received.find(
      (r) => r.path === '/batch/gbk' && r.body.includes(Buffer.from(batchNo)),
    )!;
    expect(raw.contentType).toContain('gbk');
    expect((await formOf(raw, 'gbk'))['result_details']).toBe(`${trade}^10.00^SUCCESS`);
    expect(notified.get(batchNo)!.successNum).toBe(1);
  });

  it('RSA: request signed with the merchant key, notification with the sandbox (Alipay) key', async () => {
    const created = await api(h, `/partners/${OTHER_PARTNER}`);
    expect(created.status).toBe(200);
    // OTHER_PARTNER has no RSA key yet: register a second partner with one.
    const rsaPartner = '2088404455569574';
    const res = await api(h, '/partners', {
      body: {
        partner: rsaPartner,
        key: 'rsarsarsarsarsarsarsarsarsarsa12',
        email: 'rsa@example.com',
        paymentPassword: 'rsa-pass',
        balance: '100.00',
        services: ['refund_fastpay_by_platform_nopwd'],
        rsaPublicKey: rsaMerchant.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    });
    expect(res.status).toBe(201);
    const trade = await createTrade(h, { partner: rsaPartner });
    const cfg = createConfig({
      partner: rsaPartner,
      signType: 'RSA',
      privateKey: rsaMerchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      alipayPublicKey: (await api<{ pem: string }>(h, '/alipay-public-key')).json.pem,
      gateway: h.gateway,
      notifyUrl: `${h.receiver.url}/rsa-plain`,
    });
    const id = newBatchIdentity({ clock: () => h.sandbox.now() });
    expect(
      (
        await sendNopwdRequest(
          buildRefundRequest(cfg, {
            mode: 'nopwd',
            ...id,
            detail: [{ tradeNo: trade, amountFen: 100, reason: 'rsa' }],
          }),
        )
      ).status,
    ).toBe('accepted');
    await batch(id.batchNo, rsaPartner);
    const raw = h.receiver.received.find(
      (r) => r.path === '/rsa-plain' && r.body.includes(Buffer.from(id.batchNo)),
    )!;
    const p = checkNotificationSignature(raw.body, 'utf-8', {
      signType: 'RSA',
      publicKey: h.sandbox.alipayPublicKeyPem,
    });
    expect(p['sign_type']).toBe('RSA');
    expect(p['result_details']).toBe(`${trade}^1.00^SUCCESS`);
  });

  it('refund_fastpay_query: found by batch_no and by trade_no, REFUND_NOT_EXIST otherwise', async () => {
    const trade = await createTrade(h);
    const b = await submit([{ tradeNo: trade, amountFen: 250, reason: 'q' }]);
    await batch(b);
    const cfg = suite.config('/unused');
    const byBatch = await sendRefundQuery(buildRefundQuery(cfg, { batchNo: b }), cfg);
    expect(byBatch.status === 'found' && byBatch.body).toBe(
      `is_success=T&result_details=${b}^${trade}^2.50^SUCCESS`,
    );
    const byTrade = await sendRefundQuery(buildRefundQuery(cfg, { tradeNo: trade }), cfg);
    expect(byTrade.status === 'found' && byTrade.records.map((r) => [r.batchNo, r.code])).toEqual([
      [b, 'SUCCESS'],
    ]);
    const none = await sendRefundQuery(buildRefundQuery(cfg, { batchNo: `${b.slice(0, 8)}999999` }), cfg);
    expect(none.status === 'not-found' && none.body).toBe('is_success=F&error_code=REFUND_NOT_EXIST');
  });

  it('SYSTEM_ERROR after accepting: the batch still runs and is notified', async () => {
    const trade = await createTrade(h);
    await api(h, '/faults', { method: 'PUT', body: { systemErrorAfterAccept: 1 } });
    const req = suite.request([{ tradeNo: trade, amountFen: 100, reason: 'x' }]);
    const batchNo = req.params['batch_no']!;
    expect(await sendNopwdRequest(req)).toMatchObject({ status: 'unknown', code: 'SYSTEM_ERROR' });
    expect((await batch(batchNo)).records[0]!.code).toBe('SUCCESS');
    expect(notified.get(batchNo)!.successNum).toBe(1);
    expect((await api<{ systemErrorAfterAccept: number }>(h, '/faults')).json.systemErrorAfterAccept).toBe(0);
  });
});
