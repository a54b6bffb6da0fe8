/**
 * 充退: trades paid by bank card refund back to the card. result_details has the 5-field trade part
 * (`^true^P` while the card refund is in progress), the admin API settles it (S or F), the batch's
 * `dback_notify_url` then gets a signed notification, and refund_fastpay_query shows the current status. The
 * notifications are verified with the SDK and decoded with its codecs; the ledger invariant holds after each test.
 */
import {
  type DetailRecord,
  buildRefundQuery,
  callNotifyVerify,
  checkNotificationSignature,
  createConfig,
  decodeResultDetails,
  sendRefundQuery,
} from '@alirefund/protocol';
import { dialectsUnderTest } from '@alirefund/store/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, KEY, PARTNER, api, balanceOf, createTrade, refundSuite, waitFor } from './helpers.js';

interface BatchView {
  status: string;
  dbackNotifyUrl: string | null;
  resultDetails: string | null;
  records: Array<{ tradeNo: string; code: string; dbackStatus: string | null }>;
  notifications: Array<{ status: string; kind: string }>;
}

describe.each(dialectsUnderTest())('充退: refunds of bank-card trades (%s)', (dialect) => {
  /** dback notifications: params after the SDK's signature check and a successful notify_verify. */
  const dbacks: Array<Record<string, string>> = [];
  const suite = refundSuite(dialect, {
    onOther: async (r) => {
      if (!r.path.startsWith('/dback/')) return;
      // The SDK's verifier is for batch_refund_notify; the dback notification is checked piece by piece with
      // the same SDK functions: the sign, then notify_verify (which must answer true before `success`).
      const p = checkNotificationSignature(r.body, 'utf-8', { signType: 'MD5', key: KEY });
      await callNotifyVerify(h.gateway, PARTNER, p['notify_id']!);
      dbacks.push(p);
    },
  });
  const { notified } = suite;
  let h: Harness;
  beforeAll(() => {
    h = suite.h;
  });

  let dbackSeq = 0;
  /** A nopwd batch with a dback_notify_url of its own (unless `dback: false`). */
  const submit = (records: DetailRecord[], opts: { dback?: boolean } = {}) =>
    suite.submit(
      records,
      opts.dback === false ? {} : { dbackNotifyUrl: `${h.receiver.url}/dback/${++dbackSeq}` },
    );
  const batch = (batchNo: string) => suite.batch<BatchView>(batchNo);

  const settle = (batchNo: string, recordNo: number, status: string) =>
    api<{ status?: string; notifyId?: string | null; error?: string }>(
      h,
      `/dbacks/${PARTNER}/${batchNo}/${recordNo}`,
      { body: { status } },
    );

  it('a card refund reports ^true^P, is settled S through the admin API, and dback_notify_url hears of it', async () => {
    const card = await createTrade(h, { amount: '80.00', paidWith: 'bank_card' });
    const cardTooMuch = await createTrade(h, { amount: '10.00', paidWith: 'bank_card' });
    const plain = await createTrade(h, { amount: '50.00' });
    const explicit = await createTrade(h, { amount: '50.00', paidWith: 'balance' });
    expect((await api<{ paidWith: string }>(h, `/trades/${card}`)).json.paidWith).toBe('bank_card');
    expect((await api<{ paidWith: string }>(h, `/trades/${plain}`)).json.paidWith).toBe('balance');
    const seller0 = await balanceOf(h, PARTNER);
    const dback0 = await balanceOf(h, 'SYS:DBACK');
    const buyers0 = await balanceOf(h, 'SYS:BUYERS');

    const b = await submit([
      { tradeNo: card, amountFen: 3000, reason: '充退' },
      { tradeNo: cardTooMuch, amountFen: 1001, reason: 'fails: no 充退' },
      { tradeNo: plain, amountFen: 500, reason: 'balance' },
      { tradeNo: explicit, amountFen: 100, reason: 'balance' },
    ]);
    const v = await batch(b);
    expect(v.dbackNotifyUrl).toBe(`${h.receiver.url}/dback/${dbackSeq}`);
    expect(v.records.map((r) => [r.code, r.dbackStatus])).toEqual([
      ['SUCCESS', 'P'],
      ['RESULT_AMOUNT_NOT_VALID', null],
      ['SUCCESS', null],
      ['SUCCESS', null],
    ]);
    const n = notified.get(b)!;
    expect(n.successNum).toBe(3);
    expect(n.resultDetailsText).toBe(
      `${card}^30.00^SUCCESS^true^P#${cardTooMuch}^10.01^RESULT_AMOUNT_NOT_VALID#${plain}^5.00^SUCCESS#${explicit}^1.00^SUCCESS`,
    );
    expect(n.resultDetails.map((r) => [r.toBankCard, r.bankCardStatus])).toEqual([
      [true, 'P'],
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
    ]);
    // The card refund left the seller for SYS:DBACK (in progress); the balance refunds went to the buyers.
    expect(await balanceOf(h, PARTNER)).toBe(seller0 - 3000 - 500 - 100);
    expect(await balanceOf(h, 'SYS:DBACK')).toBe(dback0 + 3000);
    expect(await balanceOf(h, 'SYS:BUYERS')).toBe(buyers0 + 600);
    expect(dbacks.filter((d) => d['batch_no'] === b)).toEqual([]);

    const pending = (
      await api<{ dbacks: Array<{ batchNo: string; recordNo: number; tradeNo: string; status: string }> }>(
        h,
        '/dbacks?status=P',
      )
    ).json.dbacks.filter((d) => d.batchNo === b);
    expect(pending.map((d) => [d.recordNo, d.tradeNo, d.status])).toEqual([[1, card, 'P']]);

    // The query shows the card refund in progress.
    const cfg = createConfig({ partner: PARTNER, key: KEY, gateway: h.gateway });
    const q1 = await sendRefundQuery(buildRefundQuery(cfg, { tradeNo: card }), cfg);
    expect(
      q1.status === 'found' && q1.records.map((r) => [r.batchNo, r.toBankCard, r.bankCardStatus]),
    ).toEqual([[b, true, 'P']]);

    // Records that are not card refunds cannot be settled; a bad status is refused.
    expect((await settle(b, 3, 'S')).status).toBe(404);
    expect((await settle(b, 1, 'X')).status).toBe(400);

    const s = await settle(b, 1, 'S');
    expect(s.status).toBe(200);
    expect(s.json.notifyId).toMatch(/^[0-9a-f]{32}$/);
    const d = await waitFor(() => dbacks.find((x) => x['batch_no'] === b), 'the dback notification');
    expect(d['notify_type']).toBe('batch_refund_dback_notify');
    expect(d['notify_id']).toBe(s.json.notifyId);
    expect(Object.keys(d).sort()).toEqual(
      ['batch_no', 'notify_id', 'notify_time', 'notify_type', 'result_details', 'sign', 'sign_type'].sort(),
    );
    const rd = decodeResultDetails(d['result_details']!);
    expect(rd.ok && rd.value).toEqual([
      {
        tradeNo: card,
        amountFen: 3000,
        amountText: '30.00',
        code: 'SUCCESS',
        succeeded: true,
        toBankCard: true,
        bankCardStatus: 'S',
      },
    ]);
    // Money reached the card: SYS:DBACK → SYS:BUYERS.
    expect(await balanceOf(h, 'SYS:DBACK')).toBe(dback0);
    expect(await balanceOf(h, 'SYS:BUYERS')).toBe(buyers0 + 3600);
    // Settled once only.
    expect((await settle(b, 1, 'F')).status).toBe(409);
    const q2 = await sendRefundQuery(buildRefundQuery(cfg, { batchNo: b }), cfg);
    expect(q2.status === 'found' && q2.body).toContain(`${b}^${card}^30.00^SUCCESS^true^S#`);
    // The batch notification's result_details stays what was sent (P); the trade shows the current status.
    expect((await api<BatchView>(h, `/batches/${PARTNER}/${b}`)).json.resultDetails).toContain('^true^P');
    expect(
      (await api<{ refunds: Array<{ batchNo: string; dbackStatus: string | null }> }>(h, `/trades/${card}`))
        .json.refunds,
    ).toEqual([expect.objectContaining({ batchNo: b, dbackStatus: 'S' })]);
  });

  it('F: the card refused it; without dback_notify_url nothing is sent but the status is kept', async () => {
    const card1 = await createTrade(h, { amount: '20.00', paidWith: 'bank_card' });
    const card2 = await createTrade(h, { amount: '20.00', paidWith: 'bank_card' });
    const b = await submit([
      { tradeNo: card1, amountFen: 2000, reason: 'full' },
      { tradeNo: card2, amountFen: 700, reason: 'part' },
    ]);
    await batch(b);
    expect(notified.get(b)!.resultDetailsText).toBe(
      `${card1}^20.00^SUCCESS^true^P#${card2}^7.00^SUCCESS^true^P`,
    );
    // A full refund closes the trade as usual.
    expect((await api<{ status: string }>(h, `/trades/${card1}`)).json.status).toBe('TRADE_CLOSED');
    const f = await settle(b, 2, 'F');
    expect(f.status).toBe(200);
    const d = await waitFor(() => dbacks.find((x) => x['batch_no'] === b), 'the dback notification');
    const rd = decodeResultDetails(d['result_details']!);
    expect(
      rd.ok && rd.value.map((r) => [r.tradeNo, r.amountText, r.code, r.toBankCard, r.bankCardStatus]),
    ).toEqual([[card2, '7.00', 'SUCCESS', true, 'F']]);

    const card3 = await createTrade(h, { amount: '20.00', paidWith: 'bank_card' });
    const quiet = await submit([{ tradeNo: card3, amountFen: 100, reason: 'no dback url' }], {
      dback: false,
    });
    const v = await batch(quiet);
    expect(v.dbackNotifyUrl).toBeNull();
    expect(notified.get(quiet)!.resultDetailsText).toBe(`${card3}^1.00^SUCCESS^true^P`);
    const s = await settle(quiet, 1, 'S');
    expect(s.json).toMatchObject({ status: 'S', notifyId: null });
    const all = (await api<{ dbacks: Array<{ batchNo: string; status: string }> }>(h, '/dbacks')).json.dbacks;
    expect(
      all
        .filter((x) => x.batchNo === quiet || x.batchNo === b)
        .map((x) => x.status)
        .sort(),
    ).toEqual(['F', 'P', 'S']);
    const notifications = (
      await api<{ notifications: Array<{ batchNo: string }> }>(h, '/notifications?kind=dback_notify')
    ).json.notifications;
    expect(notifications.some((x) => x.batchNo === quiet)).toBe(false);
  });

  it('seed files: paidWith defaults to balance and is validated', async () => {
    const { parseSeed, SeedError } = await import('../src/index.js');
    const trade = {
      tradeNo: '2026011521001004000000000001',
      partner: PARTNER,
      amount: '1.00',
      status: 'TRADE_SUCCESS',
    };
    expect(parseSeed({ trades: [trade] }).trades[0]!.paidWith).toBeUndefined();
    expect(parseSeed({ trades: [{ ...trade, paidWith: 'bank_card' }] }).trades[0]!.paidWith).toBe(
      'bank_card',
    );
    let problems: string[] = [];
    try {
      parseSeed({ trades: [{ ...trade, paidWith: 'cash' }] });
    } catch (e) {
      if (e instanceof SeedError) problems = e.problems.map((p) => `${p.path}: ${p.message}`);
    }
    expect(problems).toEqual(['trades[0].paidWith: must be one of balance, bank_card']);
    // Through the seed (bulk path) as well as the admin API.
    await h.sandbox.seed({ trades: [{ ...trade, paidWith: 'bank_card' }] });
    expect((await api<{ paidWith: string }>(h, `/trades/${trade.tradeNo}`)).json.paidWith).toBe('bank_card');
  });
});
