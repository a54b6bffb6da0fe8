/**
 * The per-partner queue and nopwd submission against a stub gateway on a real socket: one batch in flight, the
 * next after the notification or after the wait; F → rejected; SYSTEM_ERROR & co and transport failures →
 * needs_attention, never resubmitted automatically; pwd forms wait for the partner too.
 */
import { dialectsUnderTest } from '@alirefund/store/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  batchNotification,
  postNotify,
  tradeNo,
  useStubGateway,
  useTestServer,
  XML_T,
  xmlF,
} from './helpers.js';

const stub = useStubGateway();

const WAIT = 60_000;

describe.each(dialectsUnderTest())('queue and submission on %s', (dialect) => {
  let now: number;
  beforeEach(() => {
    now = Date.now();
    stub.nopwd = () => ({ body: XML_T });
  });
  const t = useTestServer(dialect, stub, { nextBatchWaitMs: WAIT, clock: () => now });

  async function queued(batches: number, mode: 'nopwd' | 'pwd' = 'nopwd') {
    const nos = Array.from({ length: batches * 2 }, () => tradeNo());
    await t.server.services.trades.register(
      nos.map((no) => ({ tradeNo: no, amountFen: 1000 })),
      'test',
    );
    const res = await t.server.services.refunds.createBatches(
      nos.map((no) => ({ tradeNo: no, amountFen: 100, reason: 'q' })),
      { mode, actor: 'test', batchSize: 2 },
    );
    expect(res.issues).toEqual([]);
    return res.batches.map((b) => ({ batchNo: b.batchNo, trades: b.records.map((r) => r.tradeNo) }));
  }

  const sent = (batchNos: string[]) => stub.nopwdBatches.filter((b) => batchNos.includes(b));
  const stateOf = async (bn: string) => (await t.server.services.refunds.getBatch(bn))!.state;

  async function notify(b: { batchNo: string; trades: string[] }) {
    stub.valid.add(`n-${b.batchNo}`);
    const n = batchNotification({
      batchNo: b.batchNo,
      notifyId: `n-${b.batchNo}`,
      results: b.trades.map((no) => ({ tradeNo: no, amount: '1.00' })),
    });
    expect((await postNotify(t.app, n.body)).text).toBe('success');
    await t.server.services.submission.idle();
  }

  it('sends one batch at a time: the next goes after the previous one’s notification', async () => {
    const bs = await queued(3);
    const nos = bs.map((b) => b.batchNo);
    await t.server.services.submission.idle();
    await t.server.services.submission.tick();
    expect(sent(nos)).toEqual([nos[0]]);
    expect(await stateOf(nos[0]!)).toBe('accepted');
    const busy = await t.server.services.submission.tick();
    expect(busy).toEqual([{ kind: 'busy', heldBy: nos[0], since: expect.any(String) }]);
    expect(sent(nos)).toEqual([nos[0]]);

    await notify(bs[0]!);
    expect(await stateOf(nos[0]!)).toBe('finished');
    expect(sent(nos)).toEqual([nos[0], nos[1]]);
    await notify(bs[1]!);
    await notify(bs[2]!);
    expect(sent(nos)).toEqual(nos);
    const params = stub.nopwdParams.find((p) => p['batch_no'] === nos[0])!;
    expect(params['notify_url']).toBe('http://127.0.0.1:1/alipay/notify');
    expect(params['detail_data']).toBe(`${bs[0]!.trades[0]}^1.00^q#${bs[0]!.trades[1]}^1.00^q`);
  });

  it('moves on after the wait when no notification comes', async () => {
    const bs = await queued(2);
    const nos = bs.map((b) => b.batchNo);
    await t.server.services.submission.tick();
    expect(sent(nos)).toEqual([nos[0]]);
    now += WAIT - 1000;
    await t.server.services.submission.tick();
    expect(sent(nos)).toEqual([nos[0]]);
    now += 2000;
    await t.server.services.submission.tick();
    expect(sent(nos)).toEqual([nos[0], nos[1]]);
  });

  it('F marks the batch rejected with the code explained, frees its trades, and the next goes at once', async () => {
    const bs = await queued(2);
    const nos = bs.map((b) => b.batchNo);
    stub.nopwd = (p) =>
      p['batch_no'] === nos[0] ? { body: xmlF('SELLER_STATUS_NOT_ALLOW') } : { body: XML_T };
    await t.server.services.submission.tick();
    expect(sent(nos)).toEqual(nos);
    const b0 = await t.server.services.refunds.getBatch(nos[0]!);
    expect(b0).toMatchObject({ state: 'rejected', gatewayCode: 'SELLER_STATUS_NOT_ALLOW' });
    expect(b0!.gatewayExplanation?.zh).toBeTruthy();
    expect(b0!.events.at(-1)!.message).toContain('SELLER_STATUS_NOT_ALLOW');
    for (const no of bs[0]!.trades) expect((await t.server.services.trades.get(no))!.openBatchNo).toBeNull();
    expect(await stateOf(nos[1]!)).toBe('accepted');
  });

  it.each([
    ['SYSTEM_ERROR', { body: xmlF('SYSTEM_ERROR') }],
    ['UNKNOWN_EXCEPTION', { body: xmlF('UNKNOWN_EXCEPTION') }],
    ['GENERIC_FAILURE', { body: xmlF('GENERIC_FAILURE') }],
    ['TRANSPORT_ERROR', 'drop' as const],
  ])('%s → needs_attention, never resubmitted automatically', async (code, behaviour) => {
    const bs = await queued(2);
    const nos = bs.map((b) => b.batchNo);
    stub.nopwd = (p) => (p['batch_no'] === nos[0] ? behaviour : { body: XML_T });
    await t.server.services.submission.tick();
    expect(await t.server.services.refunds.getBatch(nos[0]!)).toMatchObject({
      state: 'needs_attention',
      gatewayCode: code,
    });
    // Its trades stay reserved: it may have been accepted.
    expect((await t.server.services.trades.get(bs[0]!.trades[0]!))!.openBatchNo).toBe(nos[0]);
    await t.server.services.submission.tick();
    await t.server.services.submission.reconcile();
    expect(sent(nos)).toEqual([nos[0]]);
    now += WAIT + 1000;
    await t.server.services.submission.reconcile();
    expect(sent(nos)).toEqual([nos[0], nos[1]]);
    expect(await stateOf(nos[0]!)).toBe('needs_attention');
    // The outcome becomes known with the notification after all.
    await notify(bs[0]!);
    expect(await stateOf(nos[0]!)).toBe('finished');
    expect(sent(nos)).toEqual([nos[0], nos[1]]);
  });

  it('an operator resolves needs_attention as resubmit_manually, freeing the trades', async () => {
    const bs = await queued(1);
    stub.nopwd = () => ({ body: xmlF('SYSTEM_ERROR') });
    await t.server.services.submission.tick();
    const resolved = await t.server.services.refunds.resolve(
      bs[0]!.batchNo,
      'resubmit_manually',
      'operator:alice',
      'checked with query',
    );
    expect(resolved.state).toBe('resubmit_manually');
    expect(resolved.events.at(-1)).toMatchObject({ kind: 'resolved', actor: 'operator:alice' });
    expect((await t.server.services.trades.get(bs[0]!.trades[0]!))!.openBatchNo).toBeNull();
    expect((await t.server.services.submission.inFlight()).batchNo).toBeNull();
    const audit = await t.server.services.audit.list({ action: 'batch.resolve.resubmit_manually' });
    expect(audit.items).toHaveLength(1);
  });

  it('pwd: the form waits for the partner, then marks the batch submitted', async () => {
    const nopwd = await queued(1);
    const pwd = await queued(1, 'pwd');
    await t.server.services.submission.tick();
    await expect(
      t.server.services.submission.preparePwd(pwd[0]!.batchNo, 'operator:alice'),
    ).rejects.toMatchObject({
      code: 'PARTNER_BUSY',
    });
    expect(await stateOf(pwd[0]!.batchNo)).toBe('draft');
    await notify(nopwd[0]!);
    const form = await t.server.services.submission.preparePwd(pwd[0]!.batchNo, 'operator:alice', {
      lang: 'en',
      nonce: 'abc',
    });
    expect(form.action).toBe(`${stub.gateway}?_input_charset=utf-8`);
    expect(form.params['service']).toBe('refund_fastpay_by_platform_pwd');
    expect(form.html).toContain('nonce="abc"');
    expect(await stateOf(pwd[0]!.batchNo)).toBe('submitted');
    // Rendering it again is allowed (same batch_no).
    const again = await t.server.services.submission.preparePwd(pwd[0]!.batchNo, 'operator:alice');
    expect(again.params['batch_no']).toBe(pwd[0]!.batchNo);
  });

  it('re-keys a queued batch whose batch_no date passed before it was sent', async () => {
    const bs = await queued(1);
    now += 36 * 3600_000;
    await t.server.services.submission.tick();
    const old = await t.server.services.refunds.getBatch(bs[0]!.batchNo);
    expect(old!.state).toBe('cancelled');
    const replacement = (old!.events.at(-1)!.data as { replacedBy: string }).replacedBy;
    expect(sent([bs[0]!.batchNo, replacement])).toEqual([replacement]);
    expect(replacement.slice(0, 8)).not.toBe(bs[0]!.batchNo.slice(0, 8));
    expect((await t.server.services.trades.get(bs[0]!.trades[0]!))!.openBatchNo).toBe(replacement);
  });
});
