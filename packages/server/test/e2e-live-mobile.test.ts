/**
 * The console in Chromium (Playwright + /usr/bin/chromium), over a real socket, against the stub gateway:
 *
 * - live updates: a nopwd batch page shows 已受理 (accepted); the notification arrives; the page moves to
 *   finished by itself (no reload: a value set on `window` survives), in zh and en, under the strict CSP;
 * - on a phone (390 px wide): no page scrolls sideways (document.scrollingElement.scrollWidth <= 390), the menu
 *   is collapsed behind its toggle, tables scroll inside their card.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../testing/chromium.js';
import { ADMIN_PASSWORD, type ConsoleServer, startConsoleServer } from './console-helpers.js';
import { batchNotification, draftBatch, listen, type StubGateway, startStubGateway } from './helpers.js';

const SHOTS = resolve(process.cwd(), 'test-results');

let stub: StubGateway;
let s: ConsoleServer;
let base = '';
let close: () => Promise<void> = async () => {};
let browser: Browser;

async function signedIn(width: number, lang: 'zh-CN' | 'en'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 844 }, locale: lang });
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${base}/login?lang=${lang}`);
  await page.fill('#username', 'admin');
  await page.fill('#password', ADMIN_PASSWORD);
  await Promise.all([page.waitForURL(/\/dashboard/), page.click('#login-submit')]);
  return page;
}

async function notify(batchNo: string, trades: string[]) {
  stub.valid.add(`nid-${batchNo}`);
  const n = batchNotification({
    batchNo,
    notifyId: `nid-${batchNo}`,
    results: trades.map((tradeNo, i) =>
      i === 0 ? { tradeNo, amount: '3.00' } : { tradeNo, amount: '3.00', code: 'TRADE_HAS_CLOSED' },
    ),
  });
  const res = await fetch(`${base}/alipay/notify`, {
    method: 'POST',
    body: n.body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(await res.text()).toBe('success');
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stub = await startStubGateway();
  s = await startConsoleServer({ gateway: stub.gateway });
  const l = await listen(s.app);
  base = l.url;
  close = l.close;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await close();
  await s?.cleanup();
  await stub?.close();
});

describe('live batch and dashboard pages', () => {
  for (const [lang, accepted, finished, failedText] of [
    ['zh-CN', '已受理', '已完成', '重新退款失败的记录（1 笔）'],
    ['en', 'Accepted', 'Finished', 'Refund the failed records again (1)'],
  ] as const) {
    it(`a nopwd batch page moves from accepted to finished by itself (${lang})`, async () => {
      const page = await signedIn(1280, lang);
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      const { batchNo, trades } = await draftBatch(s.server, 2, 300, 'nopwd');
      await page.goto(`${base}/batches/${batchNo}`);
      await Promise.all([
        page.waitForURL(/msg=queued/),
        page.click('#batch-actions form[action$="/queue"] button'),
      ]);
      await expect.poll(() => page.textContent('#batch-state')).toContain(accepted);
      await page.evaluate('window.stayed = 42');

      // The dashboard in another tab, live too.
      const dash = await page.context().newPage();
      await dash.goto(`${base}/dashboard`);
      const before = await dash.getAttribute('#kpi-attention', 'data-failed');

      await notify(batchNo, trades);
      await page.waitForSelector('#batch-state [data-state="finished"]', { timeout: 15_000 });
      expect(await page.textContent('#batch-state')).toContain(finished);
      expect(await page.evaluate<number>('window.stayed')).toBe(42);
      expect(await page.textContent('#redo')).toContain(failedText);
      expect(await page.getAttribute('[data-live]', 'data-live-final')).toBe('1');

      await dash.waitForSelector(`#kpi-attention:not([data-failed="${before}"])`, { timeout: 20_000 });
      expect(Number(await dash.getAttribute('#kpi-attention', 'data-failed'))).toBe(Number(before) + 1);
      expect(errors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
      await page.context().close();
    }, 60_000);
  }
});

describe('the console on a phone (390 px)', () => {
  for (const lang of ['zh-CN', 'en'] as const) {
    it(`no page scrolls sideways; menu collapsed; tables scroll in their card (${lang})`, async () => {
      const { batchNo } = await draftBatch(s.server, 3, 300, 'nopwd');
      const page = await signedIn(390, lang);
      for (const path of [
        '/dashboard',
        '/trades',
        '/batches',
        `/batches/${batchNo}`,
        '/notifications',
        '/audit',
        '/failed',
        '/template',
        '/import',
        '/tokens',
        '/operators',
      ]) {
        await page.goto(`${base}${path}`);
        const width = await page.evaluate<number>('document.scrollingElement.scrollWidth');
        if (width > 390)
          await page.screenshot({
            path: join(SHOTS, `phone-${lang}-${path.replaceAll('/', '_')}.png`),
            fullPage: true,
          });
        expect(width, `${path} (${lang})`).toBeLessThanOrEqual(390);
      }
      await page.goto(`${base}/batches/${batchNo}`);
      await page.screenshot({ path: join(SHOTS, `phone-${lang}-batch.png`), fullPage: true });
      // The menu is collapsed behind its toggle (not a screenful), and opens on a tap.
      const navHeight = () =>
        page.evaluate<number>(`document.querySelector('.mainnav').getBoundingClientRect().height`);
      expect(await navHeight()).toBe(0);
      expect(await page.textContent('label.nav-toggle')).toContain(lang === 'en' ? 'Menu' : '菜单');
      await page.click('label.nav-toggle');
      expect(await navHeight()).toBeGreaterThan(0);
      await page.click('.mainnav a[href="/batches"]');
      await page.waitForURL(/\/batches$/);
      expect(await page.evaluate<number>('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(390);
      await page.goto(`${base}/batches/${batchNo}`);
      // The records table is wider than the screen and scrolls inside its wrapper.
      const table = await page.evaluate<{ scroll: number; client: number }>(
        `(() => { const w = document.querySelector('#records-table').closest('.table-wrap');
          return { scroll: w.scrollWidth, client: w.clientWidth }; })()`,
      );
      expect(table.client).toBeLessThanOrEqual(390);
      expect(table.scroll).toBeGreaterThan(table.client);
      await page.context().close();
    }, 60_000);
  }
});
