/**
 * Every synchronous gateway code, each reached by a request built to cause it, and the check order.
 * Black-box over HTTP; requests are signed with the SDK.
 */
import { newBatchIdentity } from '@alirefund/protocol';
import { dialectsUnderTest } from '@alirefund/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_A,
  AGENT_B,
  type Harness,
  KEY,
  NOPRIV_PARTNER,
  OTHER_KEY,
  PARTNER,
  api,
  createTrade,
  expectLedgerBalanced,
  nopwdParams,
  pwdParams,
  send,
  startHarness,
  xmlOutcome,
} from './helpers.js';

describe.each(dialectsUnderTest())('gateway checks (%s)', (dialect) => {
  let h: Harness;
  let trade: string;
  const now = () => h.sandbox.now();
  const detail = () => `${trade}^1.00^test`;

  beforeAll(async () => {
    h = await startHarness(dialect, { autoDispatch: false });
    trade = await createTrade(h);
  });
  afterAll(async () => {
    await expectLedgerBalanced(h);
    await h.close();
  });

  const codeOf = async (params: Record<string, string>, opts: Parameters<typeof send>[2] = {}) =>
    xmlOutcome(await send(h.gateway, params, opts));

  it('accepts a valid nopwd request with T', async () => {
    expect(await codeOf(nopwdParams(now(), detail()))).toBe('T');
  });

  it('ILLEGAL_SERVICE: unknown or missing service', async () => {
    expect(await codeOf(nopwdParams(now(), detail(), { service: 'refund_fastpay_by_platform_nopwdx' }))).toBe(
      'ILLEGAL_SERVICE',
    );
    expect(await codeOf(nopwdParams(now(), detail(), { service: undefined }))).toBe('ILLEGAL_SERVICE');
  });

  it('ILLEGAL_PARTNER: unknown partner', async () => {
    expect(await codeOf(nopwdParams(now(), detail(), { partner: '2088999999999999' }))).toBe(
      'ILLEGAL_PARTNER',
    );
  });

  it('ILLEGAL_SIGN_TYPE: DSA, lower-case md5, RSA without a registered key, missing', async () => {
    expect(await codeOf(nopwdParams(now(), detail()), { after: { sign_type: 'DSA' } })).toBe(
      'ILLEGAL_SIGN_TYPE',
    );
    expect(await codeOf(nopwdParams(now(), detail()), { after: { sign_type: 'md5' } })).toBe(
      'ILLEGAL_SIGN_TYPE',
    );
    expect(await codeOf(nopwdParams(now(), detail()), { after: { sign_type: 'RSA' } })).toBe(
      'ILLEGAL_SIGN_TYPE',
    );
    expect(await codeOf(nopwdParams(now(), detail()), { drop: ['sign_type'] })).toBe('ILLEGAL_SIGN_TYPE');
  });

  it('ILLEGAL_SIGN: wrong key, tampered value, missing sign, GBK bytes signed but utf-8 declared', async () => {
    expect(await codeOf(nopwdParams(now(), detail()), { key: { signType: 'MD5', key: OTHER_KEY } })).toBe(
      'ILLEGAL_SIGN',
    );
    const p = nopwdParams(now(), detail());
    expect(await codeOf(p, { after: { detail_data: `${trade}^2.00^test` } })).toBe('ILLEGAL_SIGN');
    expect(await codeOf(nopwdParams(now(), detail()), { drop: ['sign'] })).toBe('ILLEGAL_SIGN');
    // Signed over GBK bytes, sent as GBK, but declared utf-8: the gateway decodes utf-8 and the sign fails.
    const res = await send(h.gateway, nopwdParams(now(), `${trade}^1.00^协商退款`), { charset: 'gbk' });
    expect(await xmlOutcome(res)).toBe('ILLEGAL_SIGN');
    expect(decodeURIComponent(res.headers.get('x-sandbox-detail') ?? '')).toContain('_input_charset=utf-8');
  });

  it('HAS_NO_PRIVILEGE: service not contracted', async () => {
    expect(await codeOf(nopwdParams(now(), detail(), { partner: NOPRIV_PARTNER }))).toBe('HAS_NO_PRIVILEGE');
  });

  it('ILLEGAL_CHARSET: unsupported or missing _input_charset', async () => {
    expect(await codeOf(nopwdParams(now(), detail(), { _input_charset: 'latin1' }))).toBe('ILLEGAL_CHARSET');
    expect(await codeOf(nopwdParams(now(), detail(), { _input_charset: undefined }))).toBe('ILLEGAL_CHARSET');
  });

  it('ILLEGAL_ARGUMENT: undocumented, empty, missing, conflicting and malformed parameters', async () => {
    expect(await codeOf(nopwdParams(now(), detail(), { order_id: '123' }))).toBe('ILLEGAL_ARGUMENT');
    expect(await codeOf(nopwdParams(now(), detail(), { batch_num: undefined }))).toBe('ILLEGAL_ARGUMENT');
    expect(await codeOf(nopwdParams(now(), detail(), { detail_data: undefined, batch_num: '1' }))).toBe(
      'ILLEGAL_ARGUMENT',
    );
    expect(await codeOf(nopwdParams(now(), detail(), { batch_no: undefined }))).toBe('ILLEGAL_ARGUMENT');
    expect(
      await codeOf(nopwdParams(now(), detail(), { notify_url: 'http://example.com/notify?id=123' })),
    ).toBe('ILLEGAL_ARGUMENT');
    expect(await codeOf(nopwdParams(now(), detail(), { notify_url: 'notify.php' }))).toBe('ILLEGAL_ARGUMENT');
    expect(await codeOf(nopwdParams(now(), detail(), { use_freeze_amount: 'yes' }))).toBe('ILLEGAL_ARGUMENT');
    expect(await codeOf(nopwdParams(now(), detail(), { return_type: 'json' }))).toBe('ILLEGAL_ARGUMENT');
    expect(await codeOf(nopwdParams(now(), detail(), { seller_user_id: '12345' }))).toBe('ILLEGAL_ARGUMENT');
    // An empty optional parameter (dropped from the sign, but sent).
    expect(await codeOf(nopwdParams(now(), detail()), { after: { dback_notify_url: '' } })).toBe(
      'ILLEGAL_ARGUMENT',
    );
    // The same parameter twice with different values (query string vs body).
    const p = nopwdParams(now(), detail());
    const res = await send(`${h.gateway}?batch_num=2`, p, { charsetInQuery: false });
    expect(await xmlOutcome(res)).toBe('ILLEGAL_ARGUMENT');
    // pwd needs seller_user_id or seller_email.
    const page = await (
      await send(h.gateway, pwdParams(now(), detail(), { seller_user_id: undefined }))
    ).text();
    expect(page).toContain('ILLEGAL_ARGUMENT');
  });

  it('REFUND_DATE_ERROR: missing, malformed, not the batch_no date, not today', async () => {
    expect(await codeOf(nopwdParams(now(), detail(), { refund_date: undefined }))).toBe('REFUND_DATE_ERROR');
    const p = nopwdParams(now(), detail());
    expect(await codeOf({ ...p, refund_date: p['refund_date']!.replace(' ', 'T') })).toBe(
      'REFUND_DATE_ERROR',
    );
    expect(await codeOf({ ...p, refund_date: `${p['refund_date']!.slice(0, 11)}25:00:00` })).toBe(
      'REFUND_DATE_ERROR',
    );
    const yesterday = newBatchIdentity({ clock: () => now() - 86_400_000 });
    expect(await codeOf({ ...p, refund_date: yesterday.refundDate })).toBe('REFUND_DATE_ERROR');
    expect(await codeOf({ ...p, refund_date: yesterday.refundDate, batch_no: yesterday.batchNo })).toBe(
      'REFUND_DATE_ERROR',
    );
  });

  it('BATCH_NO_FORMAT_ERROR and DUPLICATE_BATCH_NO', async () => {
    const p = nopwdParams(now(), detail());
    const day = p['batch_no']!.slice(0, 8);
    expect(await codeOf({ ...p, batch_no: `${day}000` })).toBe('BATCH_NO_FORMAT_ERROR');
    expect(await codeOf({ ...p, batch_no: `${day}12` })).toBe('BATCH_NO_FORMAT_ERROR');
    expect(await codeOf({ ...p, batch_no: `${day}ab-12` })).toBe('BATCH_NO_FORMAT_ERROR');
    expect(await codeOf({ ...p, batch_no: `${day}${'1'.repeat(25)}` })).toBe('BATCH_NO_FORMAT_ERROR');
    expect(await codeOf(p)).toBe('T');
    expect(await codeOf(p)).toBe('DUPLICATE_BATCH_NO');
    // Reused through the other service too.
    const page = await (
      await send(h.gateway, { ...p, service: 'refund_fastpay_by_platform_pwd', seller_user_id: PARTNER })
    ).text();
    expect(page).toContain('DUPLICATE_BATCH_NO');
  });

  it('BATCH_NUM_ERROR, BATCH_NUM_EXCEED_LIMIT, BATCH_NUM_NOT_EQUAL_TOTAL', async () => {
    expect(await codeOf(nopwdParams(now(), detail(), { batch_num: 'one' }))).toBe('BATCH_NUM_ERROR');
    expect(await codeOf(nopwdParams(now(), detail(), { batch_num: '0' }))).toBe('BATCH_NUM_ERROR');
    expect(await codeOf(nopwdParams(now(), detail(), { batch_num: '1001' }))).toBe('BATCH_NUM_EXCEED_LIMIT');
    const many = Array.from({ length: 1001 }, (_, i) => `${String(1000000000000000 + i)}^0.01^x`).join('#');
    expect(await codeOf(nopwdParams(now(), many))).toBe('BATCH_NUM_EXCEED_LIMIT');
    expect(await codeOf(nopwdParams(now(), detail(), { batch_num: '2' }))).toBe('BATCH_NUM_NOT_EQUAL_TOTAL');
  });

  it('DETAIL_DATA_FORMAT_ERROR, BATCH_MEMO_LENGTH_EXCEED_LIMIT, DUBL_TRADE_NO_IN_SAME_BATCH, DUBL_ROYALTY_IN_DETAIL', async () => {
    expect(await codeOf(nopwdParams(now(), `${trade}^1.00`))).toBe('DETAIL_DATA_FORMAT_ERROR');
    expect(await codeOf(nopwdParams(now(), `${trade}^1.001^x`))).toBe('DETAIL_DATA_FORMAT_ERROR');
    expect(await codeOf(nopwdParams(now(), `${trade}^-1^x`))).toBe('DETAIL_DATA_FORMAT_ERROR');
    expect(await codeOf(nopwdParams(now(), `${trade}^1.00^x|13800138000^^^${PARTNER}^1.00^r`))).toBe(
      'DETAIL_DATA_FORMAT_ERROR',
    );
    // 86 Chinese characters are 258 bytes in UTF-8 but 172 in GBK.
    const long = '退'.repeat(86);
    expect(await codeOf(nopwdParams(now(), `${trade}^1.00^${long}`))).toBe('BATCH_MEMO_LENGTH_EXCEED_LIMIT');
    expect(
      await codeOf(nopwdParams(now(), `${trade}^1.00^${long}`, { _input_charset: 'gbk' }), {
        charset: 'gbk',
      }),
    ).toBe('T');
    expect(await codeOf(nopwdParams(now(), `${trade}^1.00^a#${trade}^2.00^b`))).toBe(
      'DUBL_TRADE_NO_IN_SAME_BATCH',
    );
    const royalty = `|^${AGENT_A}^^${PARTNER}^1.00^r`;
    expect(await codeOf(nopwdParams(now(), `${trade}^1.00^x${royalty}${royalty}`))).toBe(
      'DUBL_ROYALTY_IN_DETAIL',
    );
  });

  it('PWD_REFUND_NOT_ALLOW_ROYALTY on the pwd error page (调试错误 with 错误代码)', async () => {
    const res = await send(h.gateway, pwdParams(now(), `${trade}^1.00^x|^${AGENT_A}^^${PARTNER}^1.00^r`));
    const page = await res.text();
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(page).toContain('调试错误，请回到请求来源地，重新发起请求。');
    expect(page).toMatch(/错误代码 <span class="code" id="error-code">PWD_REFUND_NOT_ALLOW_ROYALTY<\/span>/);
  });

  it('SELLER_INFO_NOT_EXIST: seller_email of nobody', async () => {
    expect(await codeOf(nopwdParams(now(), detail(), { seller_email: 'nobody@example.com' }))).toBe(
      'SELLER_INFO_NOT_EXIST',
    );
  });

  it('follows the documented order when a request has several problems', async () => {
    // Unknown partner beats a bad sign type; a bad sign beats no privilege; a bad sign beats a bad charset.
    expect(
      await codeOf(nopwdParams(now(), detail(), { partner: '2088999999999999' }), {
        after: { sign_type: 'DSA' },
      }),
    ).toBe('ILLEGAL_PARTNER');
    expect(
      await codeOf(nopwdParams(now(), detail(), { partner: NOPRIV_PARTNER }), {
        key: { signType: 'MD5', key: OTHER_KEY },
      }),
    ).toBe('ILLEGAL_SIGN');
    expect(
      await codeOf(nopwdParams(now(), detail(), { partner: NOPRIV_PARTNER, _input_charset: 'latin1' })),
    ).toBe('HAS_NO_PRIVILEGE');
    // An undocumented parameter beats a bad refund_date; a bad refund_date beats a bad batch_no.
    const p = nopwdParams(now(), detail(), { foo: 'bar' });
    expect(await codeOf({ ...p, refund_date: 'yesterday' })).toBe('ILLEGAL_ARGUMENT');
    const q = nopwdParams(now(), detail());
    expect(await codeOf({ ...q, refund_date: 'yesterday', batch_no: 'x' })).toBe('REFUND_DATE_ERROR');
    // batch_no format beats batch_num; batch_num beats detail_data.
    expect(await codeOf({ ...q, batch_no: `${q['batch_no']!.slice(0, 8)}000`, batch_num: 'x' })).toBe(
      'BATCH_NO_FORMAT_ERROR',
    );
    expect(await codeOf(nopwdParams(now(), `${trade}^1.00`, { batch_num: '3' }))).toBe(
      'BATCH_NUM_NOT_EQUAL_TOTAL',
    );
  });

  it('F means nothing was stored or processed and no notification will come', async () => {
    const p = nopwdParams(now(), detail(), { notify_url: `${h.receiver.url}/notify`, batch_num: '7' });
    expect(await codeOf(p)).toBe('BATCH_NUM_NOT_EQUAL_TOTAL');
    const { status } = await api(h, `/batches/${PARTNER}/${p['batch_no']}`);
    expect(status).toBe(404);
    await h.sandbox.dispatcher.runDue();
    expect(h.receiver.received.filter((r) => r.body.includes(Buffer.from(p['batch_no']!)))).toEqual([]);
  });

  it('answers GET as well as POST, and accepts _input_charset only in the body', async () => {
    expect(await xmlOutcome(await send(h.gateway, nopwdParams(now(), detail()), { method: 'GET' }))).toBe(
      'T',
    );
    expect(
      await xmlOutcome(await send(h.gateway, nopwdParams(now(), detail()), { charsetInQuery: false })),
    ).toBe('T');
  });

  it('replies in the request charset (GBK XML for a GBK request)', async () => {
    const res = await send(
      h.gateway,
      nopwdParams(now(), `${trade}^1.00^协商退款`, { _input_charset: 'gbk' }),
      { charset: 'gbk' },
    );
    expect(res.headers.get('content-type')).toMatch(/GBK/i);
    const text = new TextDecoder('gbk').decode(await res.arrayBuffer());
    expect(text).toBe('<?xml version="1.0" encoding="GBK"?><alipay><is_success>T</is_success></alipay>');
  });

  it('keeps the partner key out of the admin API', async () => {
    const { json } = await api(h, `/partners/${PARTNER}`);
    expect(JSON.stringify(json)).not.toContain(KEY);
    expect(JSON.stringify(json)).toContain(AGENT_A);
    expect(AGENT_B).toBeDefined();
  });
});
