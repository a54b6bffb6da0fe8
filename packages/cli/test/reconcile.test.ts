/**
 * `alirefund reconcile` against the real sandbox on a loopback socket and a server database in a SQLite file:
 * a batch whose notifications the sandbox dropped is applied from refund_fastpay_query, once; a pwd batch the
 * operator never confirmed needs an operator (exit 2); flags are checked.
 */
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createSandbox, type Sandbox } from '@alirefund/sandbox';
import { type AlirefundServer, createServer, parseServerEnv, type ReconcileReport } from '@alirefund/server';
import { openDatabase } from '@alirefund/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';

const PARTNER = '2088101122136241';
const KEY = 'abcdefghijklmnopqrstuvwxyz012345';
const EMAIL = 'seller@example.com';

let n = 0;
const tradeNo = () =>
  `20260315210010041${String(Date.now() % 1e6).padStart(6, '0')}${String(++n).padStart(5, '0')}`;

async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('alirefund reconcile (sandbox on loopback, server database in a SQLite file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alirefund-reconcile-'));
  const dbPath = join(dir, 'server.sqlite');
  let sandbox: Sandbox;
  let sandboxDb: Awaited<ReturnType<typeof openDatabase>>;
  let http: Server;
  let sandboxUrl: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    sandboxDb = await openDatabase(':memory:');
    sandbox = await createSandbox({
      database: sandboxDb,
      notifySchedule: [0, 200, 200, 200, 200, 200, 200, 200],
    });
    await new Promise<void>((resolve) => {
      http = serve({ fetch: sandbox.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
        sandboxUrl = `http://127.0.0.1:${info.port}`;
        resolve();
      }) as Server;
    });
    env = {
      ALIPAY_PARTNER: PARTNER,
      ALIPAY_KEY: KEY,
      ALIPAY_GATEWAY: `${sandboxUrl}/gateway.do`,
      ALIPAY_SELLER_EMAIL: EMAIL,
      // Nothing listens there: the sandbox's notifications fail, as when a notify_url is broken.
      ALIREFUND_PUBLIC_URL: 'http://127.0.0.1:9',
      ALIREFUND_DATABASE_URL: join(dir, 'ignored.sqlite'),
    };
  });

  afterAll(async () => {
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
    await sandbox.close();
    await sandboxDb.close();
  });

  async function admin(path: string, method = 'GET', body?: unknown): Promise<unknown> {
    const res = await fetch(`${sandboxUrl}/sandbox/api${path}`, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
        : {}),
    });
    return res.json();
  }

  /** Opens the merchant server on the SQLite file, runs `fn`, closes it (the CLI opens the file afterwards). */
  async function withServer<T>(fn: (s: AlirefundServer) => Promise<T>): Promise<T> {
    const s = await createServer({
      settings: parseServerEnv({ ...env, ALIREFUND_DATABASE_URL: dbPath }),
      console: false,
      background: false,
    });
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  }

  async function seed(nos: string[]): Promise<void> {
    await sandbox.seed({
      partners: [
        {
          partner: PARTNER,
          key: KEY,
          email: EMAIL,
          paymentPassword: 'pay-123456',
          balance: '100000.00',
          services: [
            'refund_fastpay_by_platform_pwd',
            'refund_fastpay_by_platform_nopwd',
            'refund_fastpay_query',
          ],
        },
      ],
      accounts: [],
      trades: nos.map((t) => ({ tradeNo: t, partner: PARTNER, amount: '20.00', status: 'TRADE_SUCCESS' })),
    });
  }

  it('applies a batch whose notifications the sandbox dropped, once, and prints what happened', async () => {
    const nos = [tradeNo(), tradeNo()];
    await seed(nos);
    await admin('/faults', 'PUT', { notify: { drop: 1000 } });
    const batchNo = await withServer(async (s) => {
      await s.services.trades.register(
        nos.map((t) => ({ tradeNo: t, amountFen: 2000 })),
        'test',
      );
      const res = await s.services.refunds.createBatches(
        nos.map((t) => ({ tradeNo: t, amountFen: 500, reason: '演出取消' })),
        { mode: 'nopwd', actor: 'test' },
      );
      await s.services.submission.idle();
      await s.services.submission.tick();
      return res.batches[0]!.batchNo;
    });
    await waitFor('the sandbox processed the batch', async () => {
      const r = (await admin(`/notifications?batchNo=${batchNo}`)) as { notifications: unknown[] };
      return r.notifications.length > 0;
    });

    // Younger than the default 2h: nothing to do.
    const young = memoryIo({ env });
    expect(await main(['reconcile', '--db', dbPath], young)).toBe(0);
    expect(young.out).toMatch(/^no batch without a notification older than 2\.0h/);

    const io = memoryIo({ env });
    expect(await main(['reconcile', '--older-than', '0s', '--db', dbPath, '--json'], io)).toBe(0);
    const report = JSON.parse(io.out) as ReconcileReport & { ok: boolean };
    expect(report.ok).toBe(true);
    expect(report.items).toHaveLength(1);
    expect(report.items[0]).toMatchObject({
      batchNo,
      stateBefore: 'accepted',
      stateAfter: 'finished',
      outcome: 'applied',
      successNum: 2,
    });

    // The table form, and the second run finds nothing: applied once.
    const again = memoryIo({ env });
    expect(await main(['reconcile', '--older-than', '0', '--db', dbPath], again)).toBe(0);
    expect(again.out).toMatch(/^no batch without a notification/);
    const one = memoryIo({ env });
    expect(await main(['reconcile', '--batch', batchNo, '--db', dbPath], one)).toBe(0);
    expect(one.out).toMatch(/batch_no\s+mode\s+age\s+before\s+after\s+outcome/);
    expect(one.out).toMatch(new RegExp(`${batchNo}\\s+nopwd\\s+\\S+\\s+finished\\s+finished\\s+not_open`));
    await withServer(async (s) => {
      for (const t of nos)
        expect(await s.services.trades.get(t)).toMatchObject({
          refundedFen: 500,
          refundCount: 1,
          openBatchNo: null,
        });
    });
    await admin('/faults', 'DELETE');
  });

  it('exits 2 when a batch needs an operator (a pwd batch never confirmed on the password page)', async () => {
    const t = tradeNo();
    await seed([t]);
    const batchNo = await withServer(async (s) => {
      await s.services.trades.register([{ tradeNo: t, amountFen: 2000 }], 'test');
      const res = await s.services.refunds.createBatches([{ tradeNo: t, amountFen: 100, reason: 'x' }], {
        mode: 'pwd',
        actor: 'test',
      });
      await s.services.submission.preparePwd(res.batches[0]!.batchNo, 'operator:alice');
      return res.batches[0]!.batchNo;
    });
    const io = memoryIo({ env: { ...env, ALIREFUND_DATABASE_URL: dbPath } });
    expect(await main(['reconcile', '--batch', batchNo], io)).toBe(2);
    expect(io.out).toMatch(
      new RegExp(
        `${batchNo}\\s+pwd\\s+\\S+\\s+submitted\\s+submitted\\s+not_at_gateway\\s+REFUND_NOT_EXIST\\s+YES`,
      ),
    );
    expect(io.out).toMatch(/never accepted: the operator probably never confirmed it on the password page/);
    expect(io.out).toMatch(/1 need an operator/);
  });

  it('checks its flags and the configuration', async () => {
    const bad = memoryIo({ env });
    expect(await main(['reconcile', '--older-than', 'soon', '--db', dbPath], bad)).toBe(1);
    expect(bad.err).toMatch(/--older-than: "soon" is not a duration/);
    const unknown = memoryIo({ env });
    expect(await main(['reconcile', '--batch', '20260101999', '--db', dbPath], unknown)).toBe(1);
    expect(unknown.err).toMatch(/no batch 20260101999/);
    const noKey = memoryIo({ env: { ...env, ALIPAY_KEY: '' } });
    expect(await main(['reconcile', '--db', dbPath], noKey)).toBe(1);
    expect(noKey.err).toMatch(/ALIPAY_KEY/);
    const help = memoryIo();
    await main(['reconcile', '--help'], help);
    expect(help.out).toMatch(
      /--older-than <duration>[\s\S]*--batch <batch_no>[\s\S]*--db <url>[\s\S]*--json/,
    );
    expect(help.out).toMatch(/Example:\n\s+ALIPAY_PARTNER=/);
  });
});
