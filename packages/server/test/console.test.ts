/**
 * The operator console in-process (`app.request`): authentication and sessions, CSRF on every POST, escaping,
 * security headers, the language switch, the refund flow (preview, pwd form, nopwd), the template page, the
 * CSV import and API tokens.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ConsoleClient, type ConsoleServer, startConsoleServer } from './console-helpers.js';
import { KEY, type StubGateway, startStubGateway } from './helpers.js';

const T1 = '2026011521001004180000201117';
const T2 = '2026011521001004180000202234';
const T3 = '2026011521001004180000203351';

let s: ConsoleServer;
let b: ConsoleClient;

async function register(
  ...trades: { tradeNo: string; amountFen: number; outTradeNo?: string; subject?: string }[]
) {
  const res = await s.server.services.trades.register(trades, 'test');
  expect(res.issues).toEqual([]);
}

describe('console without a session', () => {
  beforeAll(async () => {
    s = await startConsoleServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });
  beforeEach(() => {
    b = new ConsoleClient(s.app);
  });

  it.each([
    '/',
    '/dashboard',
    '/trades',
    `/trades/${T1}`,
    '/batches',
    '/batches/2026010112345678',
    '/template',
    '/notifications',
    '/notifications/1',
    '/import',
    '/tokens',
    '/audit',
    '/no-such-page',
  ])('GET %s redirects to the login page', async (path) => {
    const res = await b.get(path);
    expect(res.status).toBe(303);
    const loc = new URL(res.location ?? '', 'http://x');
    expect(loc.pathname).toBe('/login');
    if (path !== '/') expect(loc.searchParams.get('next')).toBe(path);
  });

  it.each([
    '/refunds',
    '/refunds/preview',
    '/template',
    '/import',
    '/tokens',
    '/batches/1/cancel',
    '/logout',
  ])('POST %s is refused (403) and does nothing', async (path) => {
    const res = await b.post(path, { name: 'x', t: T1 }, { csrf: 'whatever' });
    expect(res.status).toBe(403);
    expect(await s.server.services.tokens.list()).toEqual([]);
  });

  it('serves the login page and the assets without a session', async () => {
    const login = await b.get('/login');
    expect(login.status).toBe(200);
    expect(login.html).toContain('<html lang="zh-CN">');
    expect(login.html).toContain('登录');
    const css = await s.app.request('/assets/console.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).toContain('WenQuanYi Zen Hei');
    expect((await s.app.request('/assets/console.js')).status).toBe(200);
  });

  it('refuses a wrong password (401) and sets no session', async () => {
    await b.get('/login');
    const res = await b.post('/login', { username: 'admin', password: 'wrong-password', next: '/trades' });
    expect(res.status).toBe(401);
    expect(res.html).toContain('用户名或密码错误');
    expect(b.cookies.has('alirefund_session')).toBe(false);
    const unknown = await b.post('/login', { username: 'nobody', password: ADMIN_PASSWORD });
    expect(unknown.status).toBe(401);
    expect((await b.get('/trades')).status).toBe(303);
  });

  it('refuses a login without its CSRF token (403), even with the right password', async () => {
    await b.get('/login');
    const res = await b.post('/login', { username: 'admin', password: ADMIN_PASSWORD }, { csrf: null });
    expect(res.status).toBe(403);
    expect(b.cookies.has('alirefund_session')).toBe(false);
  });

  it('logs in with HttpOnly SameSite=Lax cookies, Secure over https, and goes to `next`', async () => {
    await b.get('/login?next=/batches');
    const res = await b.post('/login', { username: 'admin', password: ADMIN_PASSWORD, next: '/batches' });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/batches');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('alirefund_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i);
    expect((await b.get('/batches')).status).toBe(200);

    // Over https (directly, or behind a proxy that says so) the cookie is Secure.
    const login = await s.app.request('https://console.example/login');
    const csrfCookie = login.headers.getSetCookie().find((c) => c.startsWith('alirefund_login_csrf='))!;
    expect(csrfCookie).toMatch(/Secure/);
    const token = /alirefund_login_csrf=([^;]+)/.exec(csrfCookie)![1]!;
    const secure = await s.app.request('https://console.example/login', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `alirefund_login_csrf=${token}`,
      },
      body: new URLSearchParams({ _csrf: token, username: 'admin', password: ADMIN_PASSWORD }).toString(),
    });
    expect(secure.status).toBe(303);
    expect(secure.headers.getSetCookie().find((c) => c.startsWith('alirefund_session='))).toMatch(/; Secure/);
  });

  it('makes a user wait after 5 failed logins (429), even with the right password (login-throttle.test.ts)', async () => {
    const local = await startConsoleServer();
    try {
      const c = new ConsoleClient(local.app);
      await c.get('/login');
      for (let i = 0; i < 5; i++) {
        expect((await c.post('/login', { username: 'admin', password: `wrong-${i}` })).status).toBe(401);
      }
      const paused = await c.post('/login', { username: 'admin', password: ADMIN_PASSWORD });
      expect(paused.status).toBe(429);
      expect(paused.headers.get('retry-after')).toBe('1');
      expect(c.cookies.has('alirefund_session')).toBe(false);
    } finally {
      await local.cleanup();
    }
  });

  it('never redirects to another site after login', async () => {
    await b.get('/login');
    const res = await b.post('/login', {
      username: 'admin',
      password: ADMIN_PASSWORD,
      next: '//evil.example/x',
    });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/dashboard');
  });

  it('leaves the JSON API and the notify endpoint alone', async () => {
    const api = await s.app.request('/api/trades');
    expect(api.status).toBe(401);
    expect(api.headers.get('content-type')).toMatch(/json/);
    const notify = await s.app.request('/alipay/notify', { method: 'POST', body: 'a=b' });
    expect(await notify.text()).toBe('fail');
    expect(notify.headers.get('set-cookie')).toBeNull();
    expect(notify.headers.get('location')).toBeNull();
  });
});

describe('console with a session', () => {
  let stub: StubGateway;
  beforeAll(async () => {
    stub = await startStubGateway();
  });
  afterAll(async () => {
    await stub.close();
  });
  beforeEach(async () => {
    s = await startConsoleServer({ gateway: stub.gateway });
    b = new ConsoleClient(s.app);
    const res = await b.login();
    expect(res.status).toBe(303);
  });
  afterEach(async () => {
    await s.cleanup();
  });

  it('renders every page with security headers and no inline-script CSP', async () => {
    await register({ tradeNo: T1, amountFen: 1000 });
    for (const path of [
      '/dashboard',
      '/trades',
      `/trades/${T1}`,
      '/batches',
      '/template',
      '/notifications',
      '/import',
      '/tokens',
      '/audit',
    ]) {
      const res = await b.get(path);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.html).not.toMatch(/<script(?![^>]*\bsrc=)/);
      expect(res.html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
      // Secrets are never rendered.
      expect(res.html).not.toContain(KEY);
      expect(res.html).not.toContain(ADMIN_PASSWORD);
      expect(res.html).not.toContain(b.cookies.get('alirefund_session')!);
    }
  });

  it('refuses a POST without or with a wrong CSRF token (403), and does nothing', async () => {
    const missing = await b.post('/tokens', { name: 'ci' }, { csrf: null });
    expect(missing.status).toBe(403);
    const wrong = await b.post('/tokens', { name: 'ci' }, { csrf: `${b.csrf.slice(0, -2)}xx` });
    expect(wrong.status).toBe(403);
    const other = await b.post('/tokens', { name: 'ci' }, { csrf: '' });
    expect(other.status).toBe(403);
    expect(await s.server.services.tokens.list()).toEqual([]);
    const form = new FormData();
    form.set('csv', `trade_no,amount\n${T1},1.00\n`);
    form.set('_csrf', 'nope');
    expect((await b.postMultipart('/import', form)).status).toBe(403);
    expect((await s.server.services.trades.list()).total).toBe(0);
    const logout = await b.post('/logout', {}, { csrf: 'nope' });
    expect(logout.status).toBe(403);
    expect((await b.get('/dashboard')).status).toBe(200);
    // With the right token it works.
    const ok = await b.post('/tokens', { name: 'ci' });
    expect(ok.status).toBe(201);
  });

  it('escapes order ids, subjects and reasons (<script> renders as text)', async () => {
    const evil = '<script>alert("x")</script>';
    await register({ tradeNo: T1, amountFen: 1000, outTradeNo: `O-${evil}`, subject: `${evil}&` });
    const list = await b.get('/trades');
    expect(list.html).toContain('O-&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(list.html).not.toContain(evil);
    const search = await b.get(`/trades?q=${encodeURIComponent('"><script>alert(1)</script>')}`);
    expect(search.html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(search.html).not.toContain('<script>alert(1)');

    const preview = await b.post('/refunds/preview', { t: T1, reason_all: `退款${evil}` });
    expect(preview.status).toBe(200);
    expect(preview.html).not.toContain(evil);
    expect(preview.html).toContain('退款&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    const created = await b.post('/refunds', { t: T1, reason_all: `退款${evil}`, mode: 'nopwd' });
    expect(created.status).toBe(303);
    const batch = await b.get(created.location!);
    expect(batch.html).not.toContain(evil);
    expect(batch.html).toContain('&lt;script&gt;');
  });

  it('switches to English with ?lang=en, remembers it, and switches back', async () => {
    const en = await b.get('/batches?lang=en');
    expect(en.html).toContain('<html lang="en">');
    expect(en.html).toContain('<h1>Batches</h1>');
    expect(en.headers.getSetCookie().some((c) => /^lang=en;/.test(c))).toBe(true);
    const still = await b.get('/trades');
    expect(still.html).toContain('<h1>Trades</h1>');
    expect(still.html).toContain('href="/trades?lang=zh-CN"');
    const zh = await b.get('/trades?lang=zh-CN');
    expect(zh.html).toContain('<html lang="zh-CN">');
    expect(zh.html).toContain('<h1>交易</h1>');
    const bogus = await b.get('/trades?lang=xx');
    expect(bogus.html).toContain('<h1>交易</h1>');
  });

  it('previews a selection: detail_data, the split, and issues by record with the code explained', async () => {
    await register(
      { tradeNo: T1, amountFen: 1000 },
      { tradeNo: T2, amountFen: 2550 },
      { tradeNo: T3, amountFen: 500 },
    );
    const pv = await b.post('/refunds/preview', [
      ['t', T1],
      ['t', T2],
      ['t', T3],
      ['amount.' + T1, '10.00'],
      ['amount.' + T2, '30.00'],
      ['amount.' + T3, 'abc'],
      ['reason.' + T1, '协商退款'],
      ['batch_size', '2'],
    ]);
    expect(pv.status).toBe(200);
    expect(pv.html).toContain('id="preview-batches">2<');
    expect(pv.html).toContain(`<pre class="detail-data">${T1}^10.00^协商退款#${T2}^30.00^</pre>`);
    expect(pv.html).toMatch(/data-record="2" data-code="EXCEEDS_REFUNDABLE"/);
    expect(pv.html).toMatch(/data-record="3" data-code="INVALID_AMOUNT"/);
    expect(pv.html).toContain('退款金额超过可退金额');
    expect(pv.html).toMatch(/id="submit-refund" disabled/);
    // Submitting anyway creates nothing.
    const post = await b.post('/refunds', [
      ['t', T1],
      ['t', T2],
      ['amount.' + T2, '30.00'],
    ]);
    expect(post.status).toBe(422);
    expect((await s.server.services.refunds.listBatches()).total).toBe(0);
  });

  it('pwd: answers the signed auto-submit form with a nonce CSP that lets the form go to the gateway', async () => {
    await register({ tradeNo: T1, amountFen: 1000 });
    const res = await b.post('/refunds', { t: T1, reason_all: '协商退款', mode: 'pwd' });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain(`form-action 'self' ${new URL(stub.gateway).origin}`);
    expect(res.html).toContain(`<script nonce="${nonce}">`);
    expect(res.html).toContain('name="service" value="refund_fastpay_by_platform_pwd"');
    expect(res.html).toContain(`action="${stub.gateway}?_input_charset=utf-8"`);
    const batches = await s.server.services.refunds.listBatches();
    expect(batches.items.map((x) => x.state)).toEqual(['submitted']);
    // A second pwd batch waits for the first one's notification (one batch at a time per partner).
    await register({ tradeNo: T2, amountFen: 1000 });
    const busy = await b.post('/refunds', { t: T2, mode: 'pwd' });
    expect(busy.status).toBe(409);
    expect(busy.html).toContain('still in flight');
    expect(busy.html).toContain('id="submit-pwd"');
  });

  it('nopwd: the server sends the batch, then the batch page', async () => {
    await register({ tradeNo: T1, amountFen: 1000 }, { tradeNo: T2, amountFen: 2000 });
    const res = await b.post('/refunds', [
      ['t', T1],
      ['t', T2],
      ['amount.' + T2, '5.00'],
      ['reason_all', '质量问题'],
      ['mode', 'nopwd'],
    ]);
    expect(res.status).toBe(303);
    const batchNo = /^\/batches\/(\w+)\?msg=created$/.exec(res.location ?? '')?.[1];
    expect(batchNo).toBeTruthy();
    expect(stub.nopwdBatches).toContain(batchNo);
    const page = await b.get(res.location!);
    expect(page.html).toContain('data-state="accepted"');
    expect(page.html).toContain(`${T1}^10.00^质量问题#${T2}^5.00^质量问题`);
  });

  it('the template page rejects bad detail_data with the record number and creates nothing', async () => {
    await register({ tradeNo: T1, amountFen: 1000 }, { tradeNo: T2, amountFen: 1000 });
    const bad = await b.post('/template', {
      batch_num: '2',
      detail_data: `${T1}^1.00^备注说明一#${T2}^1.234^备注`,
      mode: 'pwd',
      action: 'submit',
    });
    expect(bad.status).toBe(422);
    expect(bad.html).toMatch(/<li class="issue" data-record="2" data-code="DETAIL_DATA_FORMAT_ERROR">/);
    expect(bad.html).toContain('第 2 笔');
    // batch_num that does not match the records.
    const count = await b.post('/template', {
      batch_num: '3',
      detail_data: `${T1}^1.00^备注说明一`,
      action: 'validate',
    });
    expect(count.status).toBe(422);
    expect(count.html).toMatch(/<li class="issue" data-record="" data-code="BATCH_NUM_NOT_EQUAL_TOTAL">/);
    expect(count.html).toContain('整个请求');
    // Local state: an unregistered trade, record 2.
    const unknown = await b.post('/template', {
      batch_num: '2',
      detail_data: `${T1}^1.00^备注说明一#${T3}^1.00^备注`,
      action: 'validate',
    });
    expect(unknown.status).toBe(422);
    expect(unknown.html).toMatch(/data-record="2" data-code="TRADE_NOT_FOUND"/);
    expect((await s.server.services.refunds.listBatches()).total).toBe(0);
    // A good one (records on separate lines after the #) is submitted like any batch: the auto-submit form.
    const good = await b.post('/template', {
      batch_num: '2',
      detail_data: `${T1}^1.00^备注说明一#\r\n${T2}^2.00^备注说明二\n`,
      action: 'submit',
    });
    expect(good.status).toBe(200);
    expect(good.html).toContain(`name="detail_data" value="${T1}^1.00^备注说明一#${T2}^2.00^备注说明二"`);
    expect(good.html).toContain('name="batch_num" value="2"');
  });

  it('CSV import with a bad line imports nothing and names the line and the field', async () => {
    const csv = [
      '支付宝交易号,金额,商户订单号',
      `${T1},10.00,ORDER-1`,
      '',
      `${T2},12.345,ORDER-2`,
      `${T3},5.00,ORDER-3`,
    ].join('\n');
    const form = new FormData();
    form.set('file', new File([csv], 'orders.csv', { type: 'text/csv' }));
    const res = await b.postMultipart('/import', form);
    expect(res.status).toBe(422);
    expect(res.html).toMatch(/<tr data-line="4"><td class="num">4<\/td><td class="mono">amount<\/td>/);
    expect(res.html).toContain('没有导入任何交易');
    expect((await s.server.services.trades.list()).total).toBe(0);

    // Unknown columns are refused too (line 1).
    const form2 = new FormData();
    form2.set('csv', `trade_no,amount,royality\n${T1},1.00,x\n`);
    const cols = await b.postMultipart('/import', form2);
    expect(cols.status).toBe(422);
    expect(cols.html).toMatch(/data-line="1".*UNKNOWN_COLUMN/s);

    // A good file (GBK, as Excel saves it) is imported.
    const gbk = new Uint8Array([
      ...Buffer.from('trade_no,amount,subject\n', 'latin1'),
      ...Buffer.from(`${T1},10.00,`, 'latin1'),
      0xb2,
      0xe2,
      0xca,
      0xd4, // 测试 in GBK
      0x0a,
    ]);
    const form3 = new FormData();
    form3.set('file', new File([gbk], 'gbk.csv', { type: 'text/csv' }));
    const ok = await b.postMultipart('/import', form3);
    expect(ok.status).toBe(200);
    expect(ok.html).toContain('文件编码：gbk');
    expect((await s.server.services.trades.get(T1))?.subject).toBe('测试');
  });

  it('API tokens: a new token is shown once, then only its prefix; revoke works', async () => {
    const created = await b.post('/tokens', { name: '订单系统' });
    expect(created.status).toBe(201);
    const token = /id="new-token-value">([^<]+)</.exec(created.html)?.[1];
    expect(token).toMatch(/^alr_/);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const api = await s.app.request('/api/batches', { headers: { authorization: `Bearer ${token}` } });
    expect(api.status).toBe(200);
    const list = await b.get('/tokens');
    expect(list.html).not.toContain(token!);
    expect(list.html).toContain(`${token!.slice(0, 8)}…`);
    const id = (await s.server.services.tokens.list())[0]!.id;
    const revoked = await b.post(`/tokens/${id}/revoke`);
    expect(revoked.status).toBe(303);
    expect(
      (await s.app.request('/api/batches', { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(401);
  });

  it('logout ends the session server-side', async () => {
    const cookie = b.cookies.get('alirefund_session')!;
    const res = await b.post('/logout');
    expect(res.status).toBe(303);
    expect(res.location).toBe('/login');
    const replay = await s.app.request('/dashboard', { headers: { cookie: `alirefund_session=${cookie}` } });
    expect(replay.status).toBe(303);
  });

  it('a batch page explains result codes and lists notifications with their verdicts', async () => {
    await register({ tradeNo: T1, amountFen: 1000 }, { tradeNo: T2, amountFen: 1000 });
    const res = await b.post('/refunds', [
      ['t', T1],
      ['t', T2],
      ['mode', 'nopwd'],
    ]);
    const batchNo = /^\/batches\/(\w+)/.exec(res.location ?? '')![1]!;
    const { batchNotification, postNotify } = await import('./helpers.js');
    stub.valid.add(`nid-${batchNo}`);
    const n = batchNotification({
      batchNo,
      notifyId: `nid-${batchNo}`,
      results: [
        { tradeNo: T1, amount: '10.00' },
        { tradeNo: T2, amount: '10.00', code: 'TRADE_HAS_CLOSED' },
      ],
    });
    expect((await postNotify(s.app, n.body)).text).toBe('success');
    expect((await postNotify(s.app, n.body)).text).toBe('success');
    const page = await b.get(`/batches/${batchNo}`);
    expect(page.html).toContain('data-state="finished"');
    expect(page.html).toContain(`data-trade="${T2}" data-result="TRADE_HAS_CLOSED"`);
    expect(page.html).toMatch(/TRADE_HAS_CLOSED<\/span> <span class="meaning">[^<]*交易已关闭/);
    expect(page.html).toContain('data-verdict="accepted"');
    expect(page.html).toContain('data-verdict="duplicate"');
    const en = await b.get(`/batches/${batchNo}?lang=en`);
    expect(en.html).toMatch(/TRADE_HAS_CLOSED<\/span> <span class="meaning">[A-Z]/);
    const log = await b.get(`/notifications?batch_no=${batchNo}&verdict=duplicate`);
    expect(log.html.match(/<tr data-verdict="duplicate">/g)?.length).toBe(1);
    const dash = await b.get('/dashboard');
    expect(dash.html).toContain('id="kpi-success">50.0%<');
    expect(dash.html).toContain('<svg class="chart"');
  });

  it('pwd over several batches: lists them with a submit button each, one at a time', async () => {
    await register({ tradeNo: T1, amountFen: 1000 }, { tradeNo: T2, amountFen: 1000 });
    const res = await b.post('/refunds', [
      ['t', T1],
      ['t', T2],
      ['mode', 'pwd'],
      ['batch_size', '1'],
    ]);
    expect(res.status).toBe(303);
    const created = new URL(res.location!, 'http://x').searchParams.get('created')!.split(',');
    expect(created).toHaveLength(2);
    const list = await b.get(res.location!);
    expect(list.html).toContain('id="created-batches"');
    for (const bn of created) expect(list.html).toContain(`action="/batches/${bn}/submit"`);
    const first = await b.post(`/batches/${created[0]}/submit`);
    expect(first.status).toBe(200);
    expect(first.html).toContain(`name="batch_no" value="${created[0]}"`);
    const second = await b.post(`/batches/${created[1]}/submit`);
    expect(second.status).toBe(409);
    expect(second.html).toContain('BATCH_REFUND_LOCK_ERROR');
  });

  it('cancels a draft and resolves an outcome-unknown batch by hand', async () => {
    await register({ tradeNo: T1, amountFen: 1000 }, { tradeNo: T2, amountFen: 1000 });
    // A pwd draft (the partner is busy with nothing; cancel before submitting).
    const created = await s.server.services.refunds.createBatches(
      [{ tradeNo: T1, amountFen: 100, reason: '' }],
      {
        mode: 'pwd',
        actor: 'test',
      },
    );
    const draft = created.batches[0]!.batchNo;
    const page = await b.get(`/batches/${draft}`);
    expect(page.html).toContain(`action="/batches/${draft}/cancel"`);
    const cancel = await b.post(`/batches/${draft}/cancel`);
    expect(cancel.status).toBe(303);
    expect((await b.get(cancel.location!)).html).toContain('data-state="cancelled"');
    expect((await s.server.services.trades.get(T1))?.openBatchNo).toBeNull();

    // nopwd answered SYSTEM_ERROR: needs attention, resolved as rejected by the operator.
    const { xmlF } = await import('./helpers.js');
    stub.nopwd = () => ({ body: xmlF('SYSTEM_ERROR') });
    const res = await b.post('/refunds', { t: T2, mode: 'nopwd' });
    stub.nopwd = () => ({ body: '<?xml version="1.0"?><alipay><is_success>T</is_success></alipay>' });
    const bn = /^\/batches\/(\w+)/.exec(res.location ?? '')![1]!;
    const attention = await b.get(`/batches/${bn}`);
    expect(attention.html).toContain('data-state="needs_attention"');
    expect(attention.html).toContain('name="outcome" value="rejected"');
    const none = await b.post(`/batches/${bn}/resolve`, { note: 'x' });
    expect(none.status).toBe(422);
    const resolved = await b.post(`/batches/${bn}/resolve`, { outcome: 'rejected', note: '查询确认未受理' });
    expect(resolved.status).toBe(303);
    const after = await b.get(resolved.location!);
    expect(after.html).toContain('data-state="rejected"');
    expect(after.html).toContain('查询确认未受理');
    const audit = await b.get('/audit');
    expect(audit.html).toContain('batch.resolve.rejected');
  });
});
