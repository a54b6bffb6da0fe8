/**
 * The state page's fault buttons in Chromium (issue 13): each sends JSON to the admin API from the page's static
 * script (the page keeps a CSP without inline script), and the page shows the faults in force.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../testing/chromium.js';
import { type Harness, startHarness } from './helpers.js';

let h: Harness;
let browser: Browser;
let page: Page;

async function faults(): Promise<Record<string, unknown>> {
  return (await (await fetch(`${h.base}/sandbox/api/faults`)).json()) as Record<string, unknown>;
}

beforeAll(async () => {
  h = await startHarness('sqlite');
  browser = await launchChromium();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('sandbox state page: fault buttons', () => {
  it('drop, duplicate, SYSTEM_ERROR, pause, a forced code, then clear — each through the admin API', async () => {
    const errors: string[] = [];
    page.on('console', (m) => {
      // the sandbox has no favicon
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico'))
        errors.push(`${m.text()} ${m.location().url}`);
    });
    const res = await page.goto(`${h.base}/sandbox`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(await page.content()).not.toMatch(/<script(?![^>]*\bsrc=)/);

    const click = async (id: string) => {
      await Promise.all([page.waitForEvent('load'), page.click(`button[data-fault="${id}"]`)]);
    };
    await click('drop');
    expect(await faults()).toMatchObject({ notify: { drop: 1 } });
    expect(await page.textContent('#faults')).toContain('"drop":1');
    await click('duplicate');
    await click('system-error');
    await click('pause');
    expect(await faults()).toMatchObject({
      notify: { drop: 1, duplicate: 1 },
      systemErrorAfterAccept: 1,
      pauseProcessing: true,
    });

    await page.fill('#force-code input[name=tradeNo]', '2026011521001004180000999999');
    await page.selectOption('#force-code select[name=code]', 'SELLER_BALANCE_NOT_ENOUGH');
    await Promise.all([page.waitForEvent('load'), page.click('#force-code button[type=submit]')]);
    expect((await faults())['forceCodes']).toEqual([
      { tradeNo: '2026011521001004180000999999', code: 'SELLER_BALANCE_NOT_ENOUGH', times: 1 },
    ]);

    await click('clear');
    expect(await faults()).toMatchObject({
      notify: { drop: 0, duplicate: 0 },
      forceCodes: [],
      systemErrorAfterAccept: 0,
      pauseProcessing: false,
    });
    expect(errors, errors.join('\n')).toEqual([]);
  }, 60_000);
});
