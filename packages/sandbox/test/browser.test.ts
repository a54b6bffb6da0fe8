/**
 * A real browser (Chromium via playwright-core) through the pwd flow: the merchant's auto-submit form (the
 * SDK's renderRefundForm) → the 批量退款申请 page → a wrong password → the right one → the result page.
 * Screenshots go to test-results/ (gitignored).
 */
import { mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  buildRefundRequest,
  checkNotificationSignature,
  createConfig,
  newBatchIdentity,
  renderRefundForm,
} from '@alirefund/protocol';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../../../testing/chromium.js';
import {
  EMAIL,
  type Harness,
  KEY,
  PARTNER,
  PASSWORD,
  createTrade,
  expectLedgerBalanced,
  startHarness,
  waitFor,
} from './helpers.js';

const OUT = join(process.cwd(), 'test-results');

describe.skipIf(!hasChromium)('pwd in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  beforeAll(async () => {
    h = await startHarness('sqlite');
    browser = await launchChromium();
    mkdirSync(OUT, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('goes from the merchant form through the password page to the result, and the notification comes', async () => {
    const trade = await createTrade(h, { amount: '0.01', buyerEmail: 'zhang.san@example.com' });
    // The merchant site: serves the SDK's auto-submit form.
    const config = createConfig({
      partner: PARTNER,
      key: KEY,
      gateway: h.gateway,
      notifyUrl: `${h.receiver.url}/browser`,
    });
    const id = newBatchIdentity({ clock: () => h.sandbox.now() });
    const req = buildRefundRequest(config, {
      mode: 'pwd',
      ...id,
      detail: [{ tradeNo: trade, amountFen: 1, reason: '备注说明一' }],
    });
    const merchant = createServer((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderRefundForm(req));
    });
    await new Promise<void>((r) => merchant.listen(0, '127.0.0.1', () => r()));
    try {
      const page = await browser.newPage({ locale: 'zh-CN', viewport: { width: 1000, height: 720 } });
      await page.goto(`http://127.0.0.1:${(merchant.address() as AddressInfo).port}/refund`);
      await page.waitForSelector('#refund-details');
      expect(await page.locator('h1').textContent()).toBe('批量退款申请');
      expect(await page.locator('body').textContent()).toContain('确认批量退款信息');
      expect(await page.locator('#refund-details tbody td').allTextContents()).toEqual([
        trade,
        'zh***@example.com',
        '0.01',
        '交易退款',
        '备注说明一',
      ]);
      const shot = join(OUT, 'sandbox-pwd-confirm.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(5000);

      await page.fill('#email', EMAIL);
      await page.fill('#password', 'wrong-password');
      await Promise.all([page.waitForNavigation(), page.click('#confirm')]);
      expect(await page.locator('#confirm-error').textContent()).toContain('支付密码不正确');
      await page.screenshot({ path: join(OUT, 'sandbox-pwd-wrong-password.png'), fullPage: true });

      await page.fill('#email', EMAIL);
      await page.fill('#password', PASSWORD);
      await Promise.all([page.waitForNavigation(), page.click('#confirm')]);
      expect(await page.locator('#result-title').textContent()).toBe('退款申请已提交');
      expect(await page.locator('#success-num').textContent()).toBe('1');
      await page.screenshot({ path: join(OUT, 'sandbox-pwd-result.png'), fullPage: true });

      const got = await waitFor(() => h.receiver.received.find((r) => r.path === '/browser'), 'notification');
      expect(
        checkNotificationSignature(got.body, 'utf-8', { signType: 'MD5', key: KEY })['result_details'],
      ).toBe(`${trade}^0.01^SUCCESS`);
      await expectLedgerBalanced(h);
    } finally {
      merchant.close();
    }
  });

  it('cannot be framed', async () => {
    const page = await browser.newPage();
    // setContent waits for the load event, which waits for the iframe (loaded or refused).
    await page.setContent(`<iframe id="f" src="${h.base}/sandbox"></iframe>`, { waitUntil: 'load' });
    expect(page.frames()).toHaveLength(2);
    const frame = page.frames()[1]!;
    const text =
      (await frame
        .locator('body')
        .textContent({ timeout: 2000 })
        .catch(() => '')) ?? '';
    expect(text).not.toContain('alirefund sandbox');
    // Control: the same page opened directly does render.
    await page.goto(`${h.base}/sandbox`);
    expect(await page.locator('h1').textContent()).toContain('alirefund sandbox');
  });
});
