/**
 * The whole pwd story in a real browser (Playwright + Debian's Chromium) against a real sandbox and the real
 * server, both on real sockets, each on its own SQLite file:
 *
 * log in → import the paid orders from CSV → pick them → preview → submit (pwd) → the sandbox's password page
 * (email + payment password from the seed) → the sandbox notifies /alipay/notify → the orders show as refunded.
 *
 * Screenshots go to test-results/console-*.png (gitignored). The Chinese text is checked to be drawn with a CJK
 * font (Chromium reports the platform fonts used for a node: without a CJK font installed this fails).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSandbox, type Sandbox } from '@alirefund/sandbox';
import { openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import type { Hono } from 'hono';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../testing/chromium.js';
import { type AlirefundServer, createServer, makeSettings, type ServerDB } from '../src/index.js';
import { KEY, listen, makeConfig, PARTNER } from './helpers.js';

const SELLER_EMAIL = 'seller@example.com';
const PAYMENT_PASSWORD = 'pay-123456';
const ADMIN_PASSWORD = 'e2e-admin-password';
const SHOTS = resolve(process.cwd(), 'test-results');

const ORDERS = [
  {
    tradeNo: '2026011521001004180000101117',
    order: 'E2E-ORDER-0001',
    amount: '10.00',
    subject: '纯棉T恤 白色 L',
  },
  {
    tradeNo: '2026011521001004180000102234',
    order: 'E2E-ORDER-0002',
    amount: '25.50',
    subject: '帆布托特包',
  },
  {
    tradeNo: '2026011521001004180000103351',
    order: 'E2E-ORDER-0003',
    amount: '99.00',
    subject: '跑步鞋 42码',
  },
];
/** A paid order that is not refunded, to see both statuses side by side. */
const OTHER = {
  tradeNo: '2026011521001004180000104468',
  order: 'E2E-ORDER-0004',
  amount: '8.80',
  subject: '马克杯',
};
/** Imported in the second test (after a refused file). */
const LATE = {
  tradeNo: '2026011521001004180000105585',
  order: 'E2E-ORDER-0005',
  amount: '66.00',
  subject: '保温杯',
};

function seed() {
  return {
    partners: [
      {
        partner: PARTNER,
        key: KEY,
        email: SELLER_EMAIL,
        paymentPassword: PAYMENT_PASSWORD,
        balance: '10000.00',
        services: [
          'refund_fastpay_by_platform_pwd',
          'refund_fastpay_by_platform_nopwd',
          'refund_fastpay_query',
        ],
      },
    ],
    accounts: [],
    trades: [...ORDERS, OTHER, LATE].map((o, i) => ({
      tradeNo: o.tradeNo,
      partner: PARTNER,
      outTradeNo: o.order,
      amount: o.amount,
      status: 'TRADE_SUCCESS',
      buyerEmail: `buyer0${i + 1}@example.com`,
    })),
  };
}

/** The platform fonts Chromium used to draw the text of `selector`. */
async function fontsOf(page: Page, selector: string): Promise<{ familyName: string; glyphCount: number }[]> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  await cdp.detach();
  return fonts;
}

describe('pwd refund story in Chromium (real sandbox, real server, real sockets)', () => {
  let sandboxDb: TestDatabase;
  let serverDb: TestDatabase<ServerDB>;
  let sandbox: Sandbox;
  let server: AlirefundServer;
  let browser: Browser;
  let page: Page;
  let base = '';
  let gatewayBase = '';
  const closers: (() => Promise<void>)[] = [];
  const shot = (name: string) =>
    page.screenshot({ path: join(SHOTS, `console-${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    sandboxDb = await openTestDatabase('sqlite');
    serverDb = await openTestDatabase<ServerDB>('sqlite');
    sandbox = await createSandbox({
      database: sandboxDb,
      notifySchedule: [0, 300, 600, 1000, 1000, 2000, 2000, 4000],
      pollMs: 25,
    });
    await sandbox.seed(seed());
    const gw = await listen(sandbox.app);
    closers.push(gw.close);
    gatewayBase = gw.url;

    let app: Hono | undefined;
    const srv = await listen({
      fetch: (req, env) => (app ? app.fetch(req, env) : new Response('starting', { status: 503 })),
    });
    closers.push(srv.close);
    base = srv.url;
    server = await createServer({
      settings: makeSettings({
        alipay: makeConfig(`${gw.url}/gateway.do`, { sellerEmail: SELLER_EMAIL }),
        publicUrl: srv.url,
        adminPassword: ADMIN_PASSWORD,
      }),
      database: serverDb,
      background: false,
    });
    app = server.app;

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: 'zh-CN' });
    page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const close of closers.reverse()) await close().catch(() => {});
    await server?.close();
    await sandbox?.close();
    await serverDb?.cleanup();
    await sandboxDb?.cleanup();
  });

  it('logs in, imports, refunds three orders through the password page, and shows them refunded', async () => {
    const errors: string[] = [];
    page.on('console', (m) => {
      // Pages that refuse input answer 422 by design; the sandbox's pages are not ours.
      const from = m.location().url;
      if (m.type() !== 'error' || !from.startsWith(base) || /status of 422/.test(m.text())) return;
      errors.push(`${m.text()} (${from})`);
    });

    // Without a session every page leads to the login page.
    await page.goto(`${base}/trades`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await expect(page.locator('h1').textContent()).resolves.toBe('登录');

    // Chinese text is drawn with a CJK font (fails when none is installed).
    const fonts = await fontsOf(page, 'h1');
    const cjk = fonts.filter((f) =>
      /WenQuanYi|Noto Sans CJK|Source Han|PingFang|YaHei|Hiragino/i.test(f.familyName),
    );
    expect(cjk.length, `fonts used for the heading: ${JSON.stringify(fonts)}`).toBeGreaterThan(0);
    expect(cjk.reduce((s, f) => s + f.glyphCount, 0)).toBeGreaterThanOrEqual(2);
    // …and a CJK glyph is about as wide as it is tall (a missing glyph would be drawn as a narrow box or not at all).
    const width = await page.evaluate<number>(
      `(() => { const c = document.createElement('canvas').getContext('2d');
        c.font = '20px ' + getComputedStyle(document.body).fontFamily;
        return c.measureText('退款批次').width; })()`,
    );
    expect(width).toBeGreaterThan(70);
    await shot('login');

    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await Promise.all([page.waitForURL(/\/trades$/), page.click('#login-submit')]);

    // Import the paid orders from a CSV file.
    await page.goto(`${base}/import`);
    const csv = [
      '支付宝交易号,金额,商户订单号,商品名称',
      ...[...ORDERS, OTHER].map((o) => `${o.tradeNo},${o.amount},${o.order},${o.subject}`),
    ].join('\n');
    await page.setInputFiles('#file', {
      name: 'orders.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv, 'utf8'),
    });
    await Promise.all([page.waitForLoadState('load'), page.click('#import-submit')]);
    await expect(page.locator('.flash-ok').textContent()).resolves.toContain('新增 4 笔交易');
    expect(await page.locator('#imported tbody tr').count()).toBe(4);
    await shot('import');

    // Pick the three orders.
    await page.goto(`${base}/trades?q=E2E-ORDER`);
    for (const o of ORDERS) await page.check(`tr[data-trade="${o.tradeNo}"] input[name=t]`);
    await expect(page.locator('[data-selected-count]').first().textContent()).resolves.toBe('3');
    await page.fill('#reason_all', '协商退款');
    await shot('trades');
    // Enter in the reason field previews (the form's first button is the search).
    await Promise.all([page.waitForURL(/\/refunds\/preview$/), page.press('#reason_all', 'Enter')]);

    // The preview: one batch, no issues, detail_data with the three records.
    await expect(page.locator('#preview-batches').textContent()).resolves.toBe('1');
    await expect(page.locator('#preview-issue-count').textContent()).resolves.toBe('0');
    const detail = await page.locator('pre.detail-data').textContent();
    expect(detail?.split('#').sort()).toEqual(ORDERS.map((o) => `${o.tradeNo}^${o.amount}^协商退款`).sort());
    await shot('preview');

    // Submit (pwd): the browser goes to the gateway's password page.
    await Promise.all([page.waitForURL(/\/gateway\.do/), page.click('#submit-refund')]);
    await page.waitForSelector('#refund-details');
    expect(await page.locator('#refund-details tbody tr').count()).toBe(3);
    const batchNo = (await page.locator('#batch-no').textContent())?.trim() ?? '';
    expect(batchNo).toMatch(/^\d{11,32}$/);
    await page.fill('#email', SELLER_EMAIL);
    await page.fill('#password', PAYMENT_PASSWORD);
    await shot('alipay-confirm');
    await Promise.all([page.waitForLoadState('load'), page.click('#confirm')]);
    await expect(page.locator('#result-title').textContent()).resolves.toContain('退款申请已提交');

    // The notification arrives at /alipay/notify and is applied.
    await expect
      .poll(async () => (await server.services.refunds.getBatch(batchNo))?.state, {
        timeout: 20_000,
        interval: 100,
      })
      .toBe('finished');

    // The batch page: finished, three successful records, the notification with its verdict.
    await page.goto(`${base}/batches/${batchNo}`);
    await expect(page.locator('#batch-state [data-state]').getAttribute('data-state')).resolves.toBe(
      'finished',
    );
    await expect(page.locator('#success-num').textContent()).resolves.toContain('3 / 3');
    expect(await page.locator('#records-table tr[data-result="SUCCESS"]').count()).toBe(3);
    await expect(
      page.locator('#batch-notifications [data-verdict]').first().getAttribute('data-verdict'),
    ).resolves.toBe('accepted');
    await shot('batch');

    // The orders show as fully refunded.
    await page.goto(`${base}/trades?q=E2E-ORDER`);
    for (const o of ORDERS) {
      await expect(
        page.locator(`tr[data-trade="${o.tradeNo}"] [data-status]`).getAttribute('data-status'),
      ).resolves.toBe('fully_refunded');
    }
    await expect(
      page.locator(`tr[data-trade="${OTHER.tradeNo}"] [data-status]`).getAttribute('data-status'),
    ).resolves.toBe('paid');
    await shot('trades-refunded');

    // The dashboard, the notification log and the English batch page.
    await page.goto(`${base}/dashboard`);
    await expect(page.locator('#kpi-success').textContent()).resolves.toBe('100.0%');
    await shot('dashboard');
    await page.goto(`${base}/notifications`);
    expect(
      await page.locator('#notifications-table tr[data-verdict="accepted"]').count(),
    ).toBeGreaterThanOrEqual(1);
    await shot('notifications');
    await page.goto(`${base}/batches/${batchNo}?lang=en`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Batch');
    await shot('batch-en');

    // The refund template page refuses a bad detail_data with the record number.
    await page.goto(`${base}/template?lang=zh-CN`);
    await page.fill('#batch_num', '2');
    await page.fill(
      '#detail_data',
      `${OTHER.tradeNo}^8.80^整单退款#${OTHER.tradeNo.slice(0, -1)}9^1.234^备注`,
    );
    await Promise.all([page.waitForLoadState('load'), page.click('#template-validate')]);
    expect(await page.locator('#template-issues li[data-record="2"]').count()).toBeGreaterThan(0);
    await shot('template');

    expect(errors, 'no console errors (CSP violations, missing assets)').toEqual([]);
  }, 120_000);

  it('shows problems clearly: a refused import, preview issues, an outcome-unknown batch, a failed record', async () => {
    // A file with a bad line is refused as a whole, naming the line and the field.
    await page.goto(`${base}/import`);
    const bad = [
      'trade_no,amount,out_trade_no',
      `${LATE.tradeNo},${LATE.amount},${LATE.order}`,
      '123,abc,X',
    ].join('\n');
    await page.setInputFiles('#file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await Promise.all([page.waitForLoadState('load'), page.click('#import-submit')]);
    expect(await page.locator('#import-problems tr[data-line="3"]').count()).toBeGreaterThanOrEqual(2);
    expect((await server.services.trades.get(LATE.tradeNo)) ?? null).toBeNull();
    await shot('import-errors');
    const good = [
      'trade_no,amount,out_trade_no,subject',
      `${LATE.tradeNo},${LATE.amount},${LATE.order},${LATE.subject}`,
    ].join('\n');
    await page.setInputFiles('#file', { name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await Promise.all([page.waitForLoadState('load'), page.click('#import-submit')]);
    expect(await page.locator('#imported tbody tr').count()).toBe(1);

    // The preview flags an amount above the refundable one, by record, and refuses to submit.
    // Select-all (the console's one script, allowed by the CSP) ticks every pickable trade of the page.
    await page.goto(`${base}/trades`);
    await page.check('input[data-select-all]');
    const pickable = await page.locator('input[name=t]:not([disabled])').count();
    expect(pickable).toBe(2);
    await expect(page.locator('[data-selected-count]').first().textContent()).resolves.toBe(String(pickable));
    await page.uncheck('input[data-select-all]');
    await page.goto(`${base}/trades?status=refundable`);
    await page.check(`tr[data-trade="${OTHER.tradeNo}"] input[name=t]`);
    // Picks survive a search: OTHER stays picked while the list shows LATE only, and the counter says so.
    await page.fill('#q', LATE.order);
    await Promise.all([page.waitForURL(/\/trades\?q=/), page.click('#search-button')]);
    expect(await page.locator('#trades-table tr[data-trade]').count()).toBe(1);
    await expect(page.locator('[data-selected-count]').first().textContent()).resolves.toBe('1');
    await page.check(`tr[data-trade="${LATE.tradeNo}"] input[name=t]`);
    await expect(page.locator('[data-selected-count]').first().textContent()).resolves.toBe('2');
    await shot('trades-picks');
    await Promise.all([page.waitForURL(/\/refunds\/preview$/), page.click('#preview-button')]);
    expect(await page.locator('#preview-items tr[data-trade]').count()).toBe(2);
    await page.fill(`input[name="amount.${OTHER.tradeNo}"]`, '9.99');
    await page.fill(`input[name="reason.${LATE.tradeNo}"]`, '商品破损');
    await page.check('input[name=mode][value=nopwd]');
    await Promise.all([page.waitForLoadState('load'), page.click('#update-preview')]);
    expect(await page.locator('#preview-issues li[data-code="EXCEEDS_REFUNDABLE"]').count()).toBe(1);
    expect(await page.locator('#submit-refund').isDisabled()).toBe(true);
    await shot('preview-issues');

    // nopwd with an answer of SYSTEM_ERROR (the sandbox accepted it anyway) and one record that fails.
    const faults = await fetch(`${gatewayBase}/sandbox/api/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        systemErrorAfterAccept: 1,
        pauseProcessing: true,
        forceCodes: [{ tradeNo: LATE.tradeNo, code: 'TRADE_HAS_CLOSED', times: 1 }],
      }),
    });
    expect(faults.status).toBe(200);
    await page.fill(`input[name="amount.${OTHER.tradeNo}"]`, '8.80');
    await Promise.all([page.waitForLoadState('load'), page.click('#update-preview')]);
    await Promise.all([page.waitForURL(/\/batches\/\w+/), page.click('#submit-refund')]);
    const batchNo = new URL(page.url()).pathname.split('/')[2]!;
    await expect(page.locator('#batch-state [data-state]').getAttribute('data-state')).resolves.toBe(
      'needs_attention',
    );
    await expect(page.locator('#gateway-code').textContent()).resolves.toContain('SYSTEM_ERROR');
    expect(await page.locator('.resolve-form input[name=outcome]').count()).toBe(3);
    await shot('batch-attention');

    // The sandbox goes on; its notification settles the batch: one refunded, one failed with the code explained.
    await fetch(`${gatewayBase}/sandbox/api/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pauseProcessing: false }),
    });
    await expect
      .poll(async () => (await server.services.refunds.getBatch(batchNo))?.state, {
        timeout: 20_000,
        interval: 100,
      })
      .toBe('finished');
    await page.goto(`${base}/batches/${batchNo}`);
    await expect(
      page.locator(`#records-table tr[data-trade="${LATE.tradeNo}"]`).getAttribute('data-result'),
    ).resolves.toBe('TRADE_HAS_CLOSED');
    await expect(
      page.locator(`#records-table tr[data-trade="${LATE.tradeNo}"] .meaning`).textContent(),
    ).resolves.toMatch(/关闭/);
    await shot('batch-partial');

    // API tokens: a new one is shown once.
    await page.goto(`${base}/tokens`);
    await page.fill('#name', '订单系统');
    await Promise.all([page.waitForLoadState('load'), page.click('#create-token')]);
    await expect(page.locator('#new-token-value').textContent()).resolves.toMatch(/^alr_/);
    await shot('tokens');
    // Operators: create one through the form, then disable them (the confirmation is accepted).
    await page.goto(`${base}/operators`);
    await page.fill('#op-username', 'zhang.san');
    await page.fill('#op-display', '张三');
    await page.fill('#op-password', 'zhangsan-pw-1');
    await Promise.all([page.waitForURL(/\/operators\?msg=created/), page.click('#create-operator-submit')]);
    const status = page.locator('tr[data-operator="zhang.san"] [data-operator-status]');
    await expect(status.getAttribute('data-operator-status')).resolves.toBe('enabled');
    await Promise.all([
      page.waitForURL(/msg=disabled/),
      page.click('tr[data-operator="zhang.san"] button.btn-danger'),
    ]);
    await expect(status.getAttribute('data-operator-status')).resolves.toBe('disabled');
    await shot('operators');
    await page.goto(`${base}/dashboard`);
    await shot('dashboard-2');
    await page.goto(`${base}/dashboard?lang=en`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Dashboard');
    await shot('dashboard-en');
    await page.goto(`${base}/trades`);
    await shot('trades-en');
    await page.goto(`${base}/notifications/1`);
    await shot('notification-en');
    await page.goto(`${base}/dashboard?lang=zh-CN`);
  }, 120_000);
});
