/**
 * Roles and the two-person rule in a real browser (Playwright + Debian's Chromium) against the real server on a
 * real socket: every console route walked by an operator of every role (pages by navigation, actions as form
 * POSTs with the page's CSRF token from the same browser context), checked against the one table
 * (src/auth/roles.ts); then an operator's batch awaits approval, and an approver approves one batch and rejects
 * another with a reason by clicking through the pages.
 */
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../testing/chromium.js';
import { allows, ROLES, ROUTE_ROLES, type Role, routeKey } from '../src/auth/roles.js';
import { tradeNo } from './helpers.js';
import { concretePath, passwordOf, type RolesServer, startRolesServer, USERS } from './roles-helpers.js';

describe('roles and approval in Chromium', () => {
  let s: RolesServer;
  let browser: Browser;
  let base = '';
  let closeHttp: () => Promise<void> = async () => {};

  beforeAll(async () => {
    // The server's public URL is only known once it listens: answer 503 until it exists.
    let app: RolesServer['server']['app'] | undefined;
    await new Promise<void>((done) => {
      const srv = serve(
        {
          fetch: (req, env) => (app ? app.fetch(req, env) : new Response('starting', { status: 503 })),
          port: 0,
          hostname: '127.0.0.1',
        },
        (info) => {
          base = `http://127.0.0.1:${info.port}`;
          closeHttp = () =>
            new Promise<void>((r) => {
              (srv as Server).closeAllConnections?.();
              srv.close(() => r());
            });
          done();
        },
      );
    });
    s = await startRolesServer({ approvalThresholdFen: 50_00, publicUrl: base });
    app = s.server.app;
    browser = await launchChromium({ quiet: false });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await closeHttp();
    await s?.cleanup();
  });

  async function signIn(role: Role): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${base}/login`);
    await page.fill('#username', USERS[role]);
    await page.fill('#password', passwordOf(role));
    await Promise.all([page.waitForURL(/\/dashboard$/), page.click('#login-submit')]);
    return { context, page };
  }

  it.each(ROLES)(
    'walks every console route as %s in the browser: 403 exactly where the table says no',
    async (role) => {
      const { context, page } = await signIn(role);
      const csrf = await page.locator('input[name=_csrf]').first().getAttribute('value');
      expect(csrf).toBeTruthy();
      const wrong: string[] = [];
      for (const r of s.server.app.routes) {
        if (r.method === 'ALL' || r.path.startsWith('/api/')) continue;
        const key = routeKey(r.method, r.path);
        if (ROUTE_ROLES[key] === 'public') continue;
        const url = `${base}${concretePath(r.path, s.targetId)}`;
        let status: number;
        let forbidden: boolean;
        if (r.method === 'GET') {
          // Pages are navigated to; files (CSV, Excel) would start a download, so they are fetched instead.
          if (/\.(?:csv|xlsx)$/.test(url)) {
            const res = await page.request.get(url, { maxRedirects: 0 });
            status = res.status();
            forbidden = (await res.text()).includes('id="forbidden"');
          } else {
            const res = await page.goto(url);
            status = res?.status() ?? 0;
            forbidden = (await page.locator('#forbidden').count()) > 0;
          }
        } else {
          const res = await page.request.post(url, { form: { _csrf: csrf! }, maxRedirects: 0 });
          status = res.status();
          forbidden = (await res.text()).includes('id="forbidden"');
        }
        const allowed = allows(key, role);
        if (allowed ? status === 403 : status !== 403 || !forbidden)
          wrong.push(`${key} → ${status} (${allowed ? 'allowed' : 'denied'})`);
      }
      expect(wrong).toEqual([]);
      await context.close();
    },
    120_000,
  );

  it('an operator’s batch waits; the approver approves one and rejects another with a reason', async () => {
    const [t1, t2] = [tradeNo(), tradeNo()];
    await s.server.services.trades.register(
      [
        { tradeNo: t1, amountFen: 100_00 },
        { tradeNo: t2, amountFen: 100_00 },
      ],
      'test',
    );
    const make = async (t: string) =>
      (
        await s.server.services.refunds.createBatches(
          [{ tradeNo: t, amountFen: 60_00, reason: '双人复核' }],
          {
            mode: 'pwd',
            actor: `operator:${USERS.operator}`,
          },
        )
      ).batches[0]!.batchNo;
    const first = await make(t1);
    const second = await make(t2);

    // The operator who prepared them: waiting, no submit button, no approve button.
    const olga = await signIn('operator');
    await olga.page.goto(`${base}/batches/${first}`);
    await expect(olga.page.locator('#batch-state [data-state]').getAttribute('data-state')).resolves.toBe(
      'awaiting_approval',
    );
    expect(await olga.page.locator('#submit-pwd').count()).toBe(0);
    expect(await olga.page.locator('#approve-batch').count()).toBe(0);

    // The approver: the dashboard counts them; approve the first from its page.
    const anna = await signIn('approver');
    await expect(anna.page.locator('#kpi-approval').textContent()).resolves.toBe('2');
    await Promise.all([
      anna.page.waitForURL(new RegExp(`/batches/${first}$`)),
      anna.page.click(`#awaiting-approval li[data-batch="${first}"] a`),
    ]);
    await Promise.all([anna.page.waitForURL(/msg=approved/), anna.page.click('#approve-batch')]);
    await expect(anna.page.locator('#batch-approval').getAttribute('data-approval')).resolves.toBe(
      'approved',
    );
    await expect(anna.page.locator('#decided-by').textContent()).resolves.toBe(`operator:${USERS.approver}`);

    // Reject the second with a reason.
    await anna.page.goto(`${base}/batches/${second}`);
    await anna.page.fill('#reject-reason', '金额与工单不符');
    await Promise.all([anna.page.waitForURL(/msg=rejected/), anna.page.click('#reject-batch')]);
    await expect(anna.page.locator('#batch-state [data-state]').getAttribute('data-state')).resolves.toBe(
      'cancelled',
    );
    await expect(anna.page.locator('#reject-reason-shown').textContent()).resolves.toBe('金额与工单不符');
    await expect(anna.page.locator('#kpi-approval').count()).resolves.toBe(0);

    // The operator can now submit the approved one (its button is back).
    await olga.page.goto(`${base}/batches/${first}`);
    expect(await olga.page.locator('#submit-pwd').count()).toBe(1);
    const audit = await s.server.services.audit.list({ limit: 20 });
    const decided = audit.items
      .filter((e) => e.action === 'batch.approve' || e.action === 'batch.reject')
      .map((e) => [e.action, e.actor, (e.details as { preparedBy: string }).preparedBy]);
    expect(decided.sort()).toEqual([
      ['batch.approve', 'operator:anna', 'operator:olga'],
      ['batch.reject', 'operator:anna', 'operator:olga'],
    ]);
    await olga.context.close();
    await anna.context.close();
  }, 120_000);
});
