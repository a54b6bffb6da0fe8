/**
 * The outbox: retries on the schedule until exactly `success`, the same notify_id throughout, nothing after
 * `success`; notify_verify true then false; restarts lose nothing; notification faults; redeliver; time travel.
 */
import { callNotifyVerify, checkNotificationSignature, notifyVerifyUrl } from '@alirefund/protocol';
import { dialectsUnderTest } from '@alirefund/store/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Harness,
  KEY,
  OTHER_PARTNER,
  PARTNER,
  type Received,
  api,
  createTrade,
  expectLedgerBalanced,
  nopwdParams,
  send,
  startHarness,
  waitFor,
  xmlOutcome,
} from './helpers.js';

interface NotificationView {
  id: number;
  notifyId: string;
  status: string;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string | null;
  deliveries: Array<{
    attempt: number;
    outcome: string;
    httpStatus: number | null;
    responseBody: string | null;
    latencyMs: number | null;
    requestBody: string;
  }>;
}

describe.each(dialectsUnderTest())('notifications (%s)', (dialect) => {
  let h: Harness;
  afterEach(async () => {
    await expectLedgerBalanced(h);
    await h.close();
  });

  async function submit(path: string): Promise<string> {
    const trade = await createTrade(h);
    const p = nopwdParams(h.sandbox.now(), `${trade}^1.00^x`, { notify_url: `${h.receiver.url}${path}` });
    expect(await xmlOutcome(await send(h.gateway, p))).toBe('T');
    return p['batch_no']!;
  }
  const at = (path: string) => () => h.receiver.received.filter((r) => r.path === path);
  const idOf = (r: Received) =>
    checkNotificationSignature(r.body, 'utf-8', { signType: 'MD5', key: KEY })['notify_id'];
  /** The batch's notification, or null before the batch is processed. */
  async function maybeNotification(batchNo: string): Promise<NotificationView | null> {
    const list = (await api<{ notifications: Array<{ id: number }> }>(h, `/notifications?batchNo=${batchNo}`))
      .json.notifications;
    expect(list.length).toBeLessThanOrEqual(1);
    return list[0] ? (await api<NotificationView>(h, `/notifications/${list[0].id}`)).json : null;
  }
  async function notification(batchNo: string): Promise<NotificationView> {
    const n = await maybeNotification(batchNo);
    expect(n).not.toBeNull();
    return n!;
  }
  const statusIs = (batchNo: string, status: string) => async () =>
    (await maybeNotification(batchNo))?.status === status;
  const verify = async (partner: string, notifyId: string) =>
    (await fetch(notifyVerifyUrl(h.gateway, partner, notifyId))).text();

  it('retries until the body is exactly "success", with the same notify_id, and sends nothing after', async () => {
    h = await startHarness(dialect);
    const replies = [
      { body: 'fail' },
      { body: ' success' },
      { status: 500, body: 'success' },
      { body: 'success' },
    ];
    h.receiver.respond = (_r, i) => replies[i] ?? { body: 'success' };
    const batchNo = await submit('/retry');
    await waitFor(statusIs(batchNo, 'delivered'), 'delivered');
    const n = await notification(batchNo);
    expect(n.attempts).toBe(4);
    expect(n.deliveries.map((d) => [d.attempt, d.outcome, d.httpStatus, d.responseBody])).toEqual([
      [1, 'rejected', 200, 'fail'],
      [2, 'rejected', 200, ' success'],
      [3, 'http_error', 500, 'success'],
      [4, 'acknowledged', 200, 'success'],
    ]);
    expect(
      n.deliveries.every(
        (d) => typeof d.latencyMs === 'number' && d.requestBody.includes('batch_refund_notify'),
      ),
    ).toBe(true);
    const got = at('/retry')();
    expect(got).toHaveLength(4);
    expect(new Set(got.map(idOf))).toEqual(new Set([n.notifyId]));
    // Three more schedule intervals pass: nothing else arrives.
    await new Promise((r) => setTimeout(r, 700));
    expect(at('/retry')()).toHaveLength(4);
    expect((await notification(batchNo)).deliveries).toHaveLength(4);
  });

  it('notify_verify: true while the notification is live (as the merchant checks it), false after success', async () => {
    h = await startHarness(dialect);
    const seen: string[] = [];
    h.receiver.respond = async (r) => {
      const id = idOf(r)!;
      try {
        await callNotifyVerify(h.gateway, PARTNER, id);
        seen.push('true');
      } catch (e) {
        seen.push((e as Error & { code: string }).code);
      }
      // Another partner asking about it gets false.
      seen.push(await verify(OTHER_PARTNER, id));
      return { body: 'success' };
    };
    const batchNo = await submit('/verify');
    await waitFor(statusIs(batchNo, 'delivered'), 'delivered');
    expect(seen).toEqual(['true', 'false']);
    const n = await notification(batchNo);
    expect(await verify(PARTNER, n.notifyId)).toBe('false');
    expect(await verify(PARTNER, '0123456789abcdef0123456789abcdef')).toBe('false');
  });

  it('gives up after the 8th send; notify_verify is false then', async () => {
    h = await startHarness(dialect);
    h.receiver.respond = () => ({ body: 'fail' });
    const batchNo = await submit('/never');
    await waitFor(statusIs(batchNo, 'failed'), 'failed', 10_000);
    const n = await notification(batchNo);
    expect(n.attempts).toBe(8);
    expect(n.deliveries).toHaveLength(8);
    expect(await verify(PARTNER, n.notifyId)).toBe('false');
    await new Promise((r) => setTimeout(r, 500));
    expect(at('/never')()).toHaveLength(8);
  });

  it('a restart mid-retry loses no notification (same notify_id, attempts continue)', async () => {
    h = await startHarness(dialect, { notifySchedule: [0, 400, 400, 400, 400, 400, 400, 400] });
    h.receiver.respond = (_r, i) => (i === 0 ? { body: 'fail' } : { body: 'success' });
    const batchNo = await submit('/restart');
    await waitFor(() => at('/restart')().length === 1, 'first attempt');
    await h.restart();
    await waitFor(statusIs(batchNo, 'delivered'), 'delivered after restart');
    const n = await notification(batchNo);
    expect(n.deliveries.map((d) => [d.attempt, d.outcome])).toEqual([
      [1, 'rejected'],
      [2, 'acknowledged'],
    ]);
    expect(at('/restart')().map(idOf)).toEqual([n.notifyId, n.notifyId]);
  });

  it('a restart before processing: the accepted batch is processed and notified by the new instance', async () => {
    h = await startHarness(dialect);
    await api(h, '/faults', { method: 'PUT', body: { pauseProcessing: true } });
    const batchNo = await submit('/before');
    await h.restart();
    expect((await api<{ status: string }>(h, `/batches/${PARTNER}/${batchNo}`)).json.status).toBe('queued');
    await api(h, '/faults', { method: 'PUT', body: { pauseProcessing: false } });
    await waitFor(statusIs(batchNo, 'delivered'), 'delivered');
    expect(at('/before')()).toHaveLength(1);
  });

  it('faults: drop, duplicate, delay (+ redeliver now), reorder, slow responses', async () => {
    h = await startHarness(dialect);
    // drop: the first send never leaves; the retry delivers.
    await api(h, '/faults', { method: 'PUT', body: { notify: { drop: 1 } } });
    const dropped = await submit('/drop');
    await waitFor(statusIs(dropped, 'delivered'), 'delivered after drop');
    expect((await notification(dropped)).deliveries.map((d) => d.outcome)).toEqual([
      'dropped',
      'acknowledged',
    ]);
    expect(at('/drop')()).toHaveLength(1);

    // duplicate: one send, two identical POSTs.
    await api(h, '/faults', { method: 'PUT', body: { notify: { duplicate: 1 } } });
    const dup = await submit('/dup');
    await waitFor(statusIs(dup, 'delivered'), 'duplicate delivered');
    expect(at('/dup')()).toHaveLength(2);
    expect(new Set(at('/dup')().map(idOf)).size).toBe(1);
    expect((await notification(dup)).attempts).toBe(1);

    // delay: the first send is due later; redeliver sends it now.
    await api(h, '/faults', { method: 'PUT', body: { notify: { delayMs: 60_000 } } });
    const delayed = await submit('/delay');
    const pending = await waitFor(async () => {
      const n = await maybeNotification(delayed);
      return n?.nextAttemptAt ? n : null;
    }, 'notification created');
    expect(Date.parse(pending.nextAttemptAt!) - Date.parse(pending.createdAt)).toBeGreaterThanOrEqual(60_000);
    expect(at('/delay')()).toHaveLength(0);
    await api(h, '/faults', { method: 'PUT', body: { notify: { delayMs: 0 } } });
    const redelivered = await api<{ status: string }>(h, `/notifications/${pending.id}/redeliver`, {
      method: 'POST',
    });
    expect(redelivered.json.status).toBe('delivered');
    expect(at('/delay')()).toHaveLength(1);

    // reorder: the next two notifications are held and released newest first.
    await api(h, '/faults', { method: 'PUT', body: { notify: { reorder: 2 } } });
    const first = await submit('/order');
    await waitFor(
      async () => (await api<{ status: string }>(h, `/batches/${PARTNER}/${first}`)).json.status === 'done',
      'first processed',
    );
    expect((await notification(first)).status).toBe('held');
    const second = await submit('/order');
    await waitFor(() => at('/order')().length === 2, 'both released');
    const order = at('/order')().map(
      (r) => checkNotificationSignature(r.body, 'utf-8', { signType: 'MD5', key: KEY })['batch_no'],
    );
    expect(order).toEqual([second, first]);

    // slow responses: the reply is late but unchanged.
    await api(h, '/faults', { method: 'PUT', body: { slowResponseMs: 150 } });
    expect(await submit('/slow')).toMatch(/^\d{8}/);
    const faults = (await api<Record<string, unknown>>(h, '/faults', { method: 'DELETE' })).json;
    expect(faults).toMatchObject({
      slowResponseMs: 0,
      notify: { drop: 0, duplicate: 0, reorder: 0, delayMs: 0 },
    });
  });

  it('redeliver after success revives the notify_id for one more send', async () => {
    h = await startHarness(dialect);
    const live: string[] = [];
    h.receiver.respond = async (r) => {
      live.push(await verify(PARTNER, idOf(r)!));
      return { body: 'success' };
    };
    const batchNo = await submit('/again');
    await waitFor(statusIs(batchNo, 'delivered'), 'delivered');
    const n = await notification(batchNo);
    await api(h, `/notifications/${n.id}/redeliver`, { method: 'POST' });
    expect(live).toEqual(['true', 'true']);
    expect((await notification(batchNo)).deliveries.map((d) => d.attempt)).toEqual([1, 2]);
    expect(await verify(PARTNER, n.notifyId)).toBe('false');
  });

  it('time travel: moving the clock makes the next retry due; a notify_verify TTL expires', async () => {
    h = await startHarness(dialect, { notifySchedule: [0, 3_600_000], notifyVerifyTtlMs: 60_000 });
    h.receiver.respond = (_r, i) => (i === 0 ? { body: 'fail' } : { body: 'success' });
    const batchNo = await submit('/travel');
    await waitFor(() => at('/travel')().length === 1, 'first attempt');
    const n = await notification(batchNo);
    expect(await verify(PARTNER, n.notifyId)).toBe('true');
    await api(h, '/clock', { method: 'PUT', body: { advanceMs: 120_000 } });
    expect(await verify(PARTNER, n.notifyId)).toBe('false');
    expect(at('/travel')()).toHaveLength(1);
    await api(h, '/clock', { method: 'PUT', body: { advanceMs: 3_600_000 } });
    await waitFor(statusIs(batchNo, 'delivered'), 'retry after time travel');
    // REFUND_DATE_ERROR for a request dated by the host clock once the sandbox clock is a day ahead.
    await api(h, '/clock', { method: 'PUT', body: { offsetMs: 86_400_000 } });
    const trade = await createTrade(h);
    expect(await xmlOutcome(await send(h.gateway, nopwdParams(Date.now(), `${trade}^1.00^x`)))).toBe(
      'REFUND_DATE_ERROR',
    );
    expect(await xmlOutcome(await send(h.gateway, nopwdParams(h.sandbox.now(), `${trade}^1.00^x`)))).toBe(
      'T',
    );
  });
});
