/**
 * The pwd service over HTTP: confirmation page (escaped, unframeable), wrong password refused without losing
 * the batch, CSRF-safe confirm, processing and notification; the error page; the state page.
 */
import { checkNotificationSignature } from '@alirefund/protocol';
import { dialectsUnderTest } from '@alirefund/store/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EMAIL,
  type Harness,
  KEY,
  OTHER_KEY,
  PARTNER,
  PASSWORD,
  api,
  checkLedgerAfterEachAndClose,
  createTrade,
  pwdParams,
  send,
  startHarness,
  waitFor,
} from './helpers.js';

function tokenOf(page: string): string {
  const m = /name="token" value="([^"]+)"/.exec(page);
  expect(m).not.toBeNull();
  return m![1]!;
}

describe.each(dialectsUnderTest())('pwd (%s)', (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(dialect);
  });
  checkLedgerAfterEachAndClose(() => h);

  /** Posts the confirmation form; the body is always read (an unread body would hold the connection). */
  const confirm = async (fields: Record<string, string>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${h.base}/pwd/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
    const body = await res.text();
    return { status: res.status, text: async () => body };
  };
  const batchStatus = async (batchNo: string) =>
    (
      await api<{ status: string; wrongPasswords: number; successNum: number | null }>(
        h,
        `/batches/${PARTNER}/${batchNo}`,
      )
    ).json;

  it('form → confirmation page → wrong password → right password → result page → notification', async () => {
    const trade = await createTrade(h, { amount: '0.50', buyerEmail: 'alice.buyer@example.com' });
    const p = pwdParams(h.sandbox.now(), `${trade}^0.01^备注说明一 <b>&"x"</b>`, {
      notify_url: `${h.receiver.url}/pwd`,
    });
    const res = await send(h.gateway, p);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const page = await res.text();
    for (const text of [
      '批量退款申请',
      '确认批量退款信息',
      '交易号',
      '收款人 email',
      '退款金额 (元)',
      '退款类型',
      '退款理由',
      '交易退款',
      'Email地址:',
      '支付密码',
    ]) {
      expect(page).toContain(text);
    }
    expect(page).toContain(
      `<td>${trade}</td><td>al***@example.com</td><td class="amount">0.01</td><td>交易退款</td>`,
    );
    expect(page).toContain('备注说明一 &lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;');
    expect(page).not.toContain('<b>&');
    const token = tokenOf(page);

    const wrong = await confirm({
      partner: PARTNER,
      batch_no: p['batch_no']!,
      token,
      email: EMAIL,
      password: 'nope',
    });
    expect(wrong.status).toBe(200);
    expect(await wrong.text()).toContain('支付密码不正确');
    expect(await batchStatus(p['batch_no']!)).toMatchObject({
      status: 'awaiting_confirmation',
      wrongPasswords: 1,
    });
    const wrongEmail = await confirm({
      partner: PARTNER,
      batch_no: p['batch_no']!,
      token,
      email: 'x@example.com',
      password: PASSWORD,
    });
    expect(await wrongEmail.text()).toContain('Email地址与签约账号不符');
    expect(h.receiver.received.filter((r) => r.path === '/pwd')).toHaveLength(0);

    const ok = await confirm({
      partner: PARTNER,
      batch_no: p['batch_no']!,
      token,
      email: EMAIL.toUpperCase(),
      password: PASSWORD,
    });
    const result = await ok.text();
    expect(ok.status).toBe(200);
    expect(result).toContain('退款申请已提交');
    expect(result).toContain('<span id="success-num">1</span>');
    const got = await waitFor(() => h.receiver.received.find((r) => r.path === '/pwd'), 'pwd notification');
    const n = checkNotificationSignature(got.body, 'utf-8', { signType: 'MD5', key: KEY });
    expect(n).toMatchObject({
      notify_type: 'batch_refund_notify',
      batch_no: p['batch_no'],
      success_num: '1',
      result_details: `${trade}^0.01^SUCCESS`,
    });
    expect(await batchStatus(p['batch_no']!)).toMatchObject({ status: 'done', successNum: 1 });
    // Confirming twice does nothing.
    const twice = await confirm({
      partner: PARTNER,
      batch_no: p['batch_no']!,
      token,
      email: EMAIL,
      password: PASSWORD,
    });
    expect(twice.status).toBe(409);
  });

  it('the confirm step is CSRF-safe: token required, cross-site posts refused, the batch survives', async () => {
    const trade = await createTrade(h);
    const p = pwdParams(h.sandbox.now(), `${trade}^1.00^x`);
    const token = tokenOf(await (await send(h.gateway, p)).text());
    const fields = { partner: PARTNER, batch_no: p['batch_no']!, email: EMAIL, password: PASSWORD };
    expect((await confirm({ ...fields, token: '' })).status).toBe(403);
    expect((await confirm({ ...fields, token: `${token}x` })).status).toBe(403);
    expect((await confirm({ ...fields, token }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await confirm({ ...fields, token }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await batchStatus(p['batch_no']!)).status).toBe('awaiting_confirmation');
    // The same form sent again shows the page again with a new token; the old one is dead.
    const token2 = tokenOf(await (await send(h.gateway, p)).text());
    expect(token2).not.toBe(token);
    expect((await confirm({ ...fields, token })).status).toBe(403);
    expect((await confirm({ ...fields, token: token2 }, { origin: h.base })).status).toBe(200);
    // A different request under the same batch_no is a duplicate.
    expect(await (await send(h.gateway, { ...p, detail_data: `${trade}^2.00^x` })).text()).toContain(
      'DUPLICATE_BATCH_NO',
    );
  });

  it('error page in Alipay style for request errors (ILLEGAL_SIGN)', async () => {
    const trade = await createTrade(h);
    const res = await send(h.gateway, pwdParams(h.sandbox.now(), `${trade}^1.00^x`), {
      key: { signType: 'MD5', key: OTHER_KEY },
    });
    const page = await res.text();
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(page).toContain('调试错误，请回到请求来源地，重新发起请求。');
    expect(page).toContain('错误代码 <span class="code" id="error-code">ILLEGAL_SIGN</span>');
    expect(page).toContain('签名不正确');
  });

  it('the state page shows the state, escaped and unframeable', async () => {
    await createTrade(h, { outTradeNo: '<script>alert(1)</script>' });
    const res = await fetch(`${h.base}/sandbox`);
    const page = await res.text();
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>alert(1)');
    for (const section of ['Partners', 'Accounts', 'Trades', 'Batches', 'Notifications', 'Delivery attempts'])
      expect(page).toContain(section);
    expect(page).toContain(PARTNER);
  });

  it('the admin API refuses bodies that are not JSON (no cross-site form posts)', async () => {
    const res = await fetch(`${h.base}/sandbox/api/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'pauseProcessing=true',
    });
    expect(res.status).toBe(415);
    await res.text();
    const bad = await api<{ problems: Array<{ path: string }> }>(h, '/trades', {
      body: { tradeNo: 'abc', partner: PARTNER, amount: '1.001', status: 'PAID' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.problems.map((p) => p.path).sort()).toEqual(['amount', 'status', 'tradeNo']);
  });
});
