/**
 * The JSON API: bearer tokens required, stable error codes, trades → refunds → batch → notifications.
 */
import { describe, expect, it } from 'vitest';
import {
  API_TOKEN,
  authHeaders,
  batchNotification,
  postNotify,
  tradeNo,
  useStubGateway,
  useTestServer,
} from './helpers.js';

const stub = useStubGateway();

describe('JSON API', () => {
  const t = useTestServer('sqlite', stub);

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = authHeaders(),
  ) => {
    const res = await t.app.request(path, {
      method,
      headers,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>),
      headers: res.headers,
    };
  };

  it.each([
    ['GET', '/api/trades/2024010100000001'],
    ['POST', '/api/trades'],
    ['POST', '/api/refunds'],
    ['GET', '/api/batches/20240101123'],
    ['GET', '/api/notifications?batchNo=1'],
    ['GET', '/api/nowhere'],
  ])('refuses %s %s without a token, and with a wrong one', async (method, path) => {
    const none = await call(method, path, method === 'POST' ? {} : undefined, {
      'content-type': 'application/json',
    });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ code: 'UNAUTHORIZED', field: 'authorization' });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await call(
      method,
      path,
      method === 'POST' ? {} : undefined,
      authHeaders('not-the-token-0123456789'),
    );
    expect(wrong.status).toBe(401);
    const revokedToken = await t.server.services.tokens.create('temp', 'test');
    await t.server.services.tokens.revoke(revokedToken.id, 'test');
    expect((await call(method, path, undefined, authHeaders(revokedToken.token))).status).toBe(401);
  });

  it('registers trades, creates batches, shows the batch and its notifications', async () => {
    const a = tradeNo();
    const b = tradeNo();
    const reg = await call('POST', '/api/trades', {
      trades: [
        { tradeNo: a, amount: '10.00', outTradeNo: 'ORDER-1' },
        { tradeNo: b, amountFen: 500 },
      ],
    });
    expect(reg.status).toBe(201);
    expect((reg.body!['created'] as unknown[]).length).toBe(2);
    const again = await call('POST', '/api/trades', [{ tradeNo: a, amount: '10.00', outTradeNo: 'ORDER-1' }]);
    expect(again.status).toBe(200);
    const conflict = await call('POST', '/api/trades', { tradeNo: a, amount: '11.00' });
    expect(conflict).toMatchObject({ status: 409, body: { code: 'TRADE_EXISTS', field: 'tradeNo' } });

    const got = await call('GET', `/api/trades/${a}`);
    expect(got.body).toMatchObject({
      trade: { tradeNo: a, paidFen: 1000, outTradeNo: 'ORDER-1' },
      refunds: [],
    });
    expect((await call('GET', '/api/trades/2099000000000000')).body).toMatchObject({
      code: 'TRADE_NOT_FOUND',
    });

    const refunds = await call('POST', '/api/refunds', {
      mode: 'nopwd',
      queue: false,
      items: [
        { tradeNo: a, amount: '2.50', reason: '协商退款' },
        { tradeNo: b, amountFen: 500, reason: '' },
      ],
    });
    expect(refunds.status).toBe(201);
    const batch = (
      refunds.body!['batches'] as Array<{ batchNo: string; detailData: string; state: string }>
    )[0]!;
    expect(batch).toMatchObject({ state: 'draft', detailData: `${a}^2.50^协商退款#${b}^5.00^` });

    stub.valid.add(`api-${batch.batchNo}`);
    const n = batchNotification({
      batchNo: batch.batchNo,
      notifyId: `api-${batch.batchNo}`,
      results: [
        { tradeNo: a, amount: '2.50' },
        { tradeNo: b, amount: '5.00' },
      ],
    });
    expect((await postNotify(t.app, n.body)).text).toBe('success');
    const shown = await call('GET', `/api/batches/${batch.batchNo}`);
    expect(shown.body).toMatchObject({ state: 'finished', successNum: 2, successFen: 750 });
    expect((shown.body!['records'] as Array<{ resultCode: string }>).map((r) => r.resultCode)).toEqual([
      'SUCCESS',
      'SUCCESS',
    ]);
    const notes = await call('GET', `/api/notifications?batchNo=${batch.batchNo}`);
    expect(notes.body).toMatchObject({
      total: 1,
      items: [{ verdict: 'accepted', notifyId: `api-${batch.batchNo}` }],
    });
    expect((await call('GET', `/api/trades/${b}`)).body).toMatchObject({
      trade: { status: 'fully_refunded' },
    });
  });

  it('answers errors as {code, message, field}', async () => {
    const notJson = await call('POST', '/api/refunds', 'not json');
    expect(notJson).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST' } });
    const badMode = await call('POST', '/api/refunds', {
      mode: 'cash',
      items: [{ tradeNo: '1', amount: '1' }],
    });
    expect(badMode).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST', field: 'mode' } });
    const badAmount = await call('POST', '/api/refunds', {
      mode: 'nopwd',
      items: [{ tradeNo: '2024010100000001', amount: '1.234' }],
    });
    expect(badAmount.body).toMatchObject({
      code: 'INVALID_REQUEST',
      field: 'amount',
      issues: [{ index: 0 }],
    });
    const unknown = await call('POST', '/api/refunds', {
      mode: 'nopwd',
      items: [{ tradeNo: '2024010100000001', amount: '1.00' }],
    });
    expect(unknown).toMatchObject({
      status: 422,
      body: { code: 'VALIDATION_FAILED', issues: [{ index: 0, code: 'TRADE_NOT_FOUND' }] },
    });
    expect(typeof unknown.body!['message']).toBe('string');
    expect((await call('GET', '/api/batches/20240101999')).body).toMatchObject({
      code: 'BATCH_NOT_FOUND',
      field: 'batchNo',
    });
    expect((await call('GET', '/api/nowhere')).body).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('accepts tokens created later, not only the bootstrap one', async () => {
    const created = await t.server.services.tokens.create('shop-backend', 'operator:admin');
    expect(created.token).not.toBe(API_TOKEN);
    const res = await call('GET', '/api/notifications', undefined, authHeaders(created.token));
    expect(res.status).toBe(200);
    const stored = await t.database.db.selectFrom('srv_api_tokens').select('token_hash').execute();
    expect(stored.map((s) => s.token_hash)).not.toContain(created.token);
  });
});
