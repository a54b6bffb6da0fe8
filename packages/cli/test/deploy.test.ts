/**
 * docs/deploy.md, followed: the environment block of that page (and nothing else) configures two
 * `alirefund serve` processes from the built CLI, started at the same moment on an empty PostgreSQL database,
 * behind a round-robin reverse proxy that is ALIREFUND_PUBLIC_URL. A refund batch goes through both: created
 * through the proxy, notified by the sandbox through the proxy, redelivered to both instances, applied once.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dialectsUnderTest, openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BulkHarness,
  type CliProcess,
  freePort,
  KEY,
  PARTNER,
  EMAIL,
  spawnCli,
  startBulkHarness,
  tradeNos,
  waitFor,
} from './refund-harness.js';

const doc = readFileSync(new URL('../../../docs/deploy.md', import.meta.url), 'utf8');

/** The variables of the page's environment block, in order. */
function documentedEnv(): string[] {
  const block = /<!-- deploy-env -->\s*```sh\n([\s\S]*?)```\s*<!-- \/deploy-env -->/.exec(doc)?.[1];
  if (!block) throw new Error('docs/deploy.md has no <!-- deploy-env --> block');
  return block
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.slice(0, l.indexOf('=')));
}

/** A round-robin reverse proxy that adds the headers the page asks for; counts what each upstream got. */
interface Proxy {
  url: string;
  hits: number[];
  close(): Promise<void>;
}

async function roundRobin(upstreams: number[]): Promise<Proxy> {
  let next = 0;
  const hits = upstreams.map(() => 0);
  const server: Server = createServer((req: IncomingMessage, res) => {
    const i = next++ % upstreams.length;
    hits[i]!++;
    const up = request(
      {
        host: '127.0.0.1',
        port: upstreams[i],
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          'x-forwarded-for': req.socket.remoteAddress ?? '',
          'x-forwarded-proto': 'http',
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end('bad gateway'));
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const API_TOKEN = 'deploy-api-token-0123456789';

describe.skipIf(!dialectsUnderTest().includes('postgres'))(
  'docs/deploy.md: two instances on PostgreSQL',
  () => {
    let database: TestDatabase;
    let h: BulkHarness;
    let proxy: Proxy;
    const instances: CliProcess[] = [];
    const trades = tradeNos('2026120412', 3);

    beforeAll(async () => {
      database = await openTestDatabase('postgres'); // empty: no table at all
      h = await startBulkHarness({ schedule: [0, 300, 300, 300, 300, 300, 300, 300] });
      const ports = [await freePort(), await freePort()];
      proxy = await roundRobin(ports);
      const values: Record<string, string> = {
        ALIPAY_PARTNER: PARTNER,
        ALIPAY_KEY: KEY,
        ALIPAY_INPUT_CHARSET: 'utf-8',
        ALIPAY_GATEWAY: `${h.sandboxUrl}/gateway.do`,
        ALIPAY_SELLER_EMAIL: EMAIL,
        ALIREFUND_PUBLIC_URL: proxy.url,
        ALIREFUND_DATABASE_URL: database.url,
        ALIREFUND_API_TOKEN: API_TOKEN,
        ALIREFUND_ADMIN_PASSWORD: 'deploy-admin-password',
        ALIREFUND_METRICS_TOKEN: 'deploy-metrics-token-0123456789',
        ALIREFUND_SHUTDOWN_TIMEOUT: '20s',
        ALIREFUND_LOG_LEVEL: 'info',
      };
      const documented = documentedEnv();
      // the page's block is exactly what the instances get: nothing missing, nothing extra
      expect(Object.keys(values).sort()).toEqual([...documented].sort());
      // the harness's own variables must not leak in: start from a clean slate for every documented one
      const env: Record<string, string> = {};
      for (const name of Object.keys(h.env)) env[name] = '';
      for (const name of documented) env[name] = values[name]!;
      // two instances at the same moment on the empty database: both migrate
      for (const port of ports)
        instances.push(spawnCli(['serve', '--host', '127.0.0.1', '--port', String(port)], env));
      await Promise.all(instances.map((p) => p.waitForOut(/^listening: /m, 30_000)));
      await h.sandbox.seed({
        trades: trades.map((tradeNo) => ({
          tradeNo,
          partner: PARTNER,
          amount: '50.00',
          status: 'TRADE_SUCCESS',
        })),
      });
    }, 90_000);

    afterAll(async () => {
      for (const p of instances) await p.kill();
      await proxy?.close();
      await h?.close();
      await database?.cleanup();
    });

    async function api(path: string, init: RequestInit = {}): Promise<Response> {
      return fetch(`${proxy.url}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${API_TOKEN}`,
          'content-type': 'application/json',
          ...init.headers,
        },
      });
    }

    it('applied every migration exactly once although both instances migrated at the same moment', async () => {
      const rows = await sql<{ name: string; n: number | string }>`
      select name, count(*) as n from alirefund_migrations where namespace = 'server' group by name`.execute(
        database.db,
      );
      expect(rows.rows.length).toBeGreaterThan(3);
      for (const r of rows.rows) expect(Number(r.n)).toBe(1);
      // both report ready through the proxy (round robin: two calls, one each)
      for (let i = 0; i < 2; i++) expect((await fetch(`${proxy.url}/readyz`)).status).toBe(200);
    });

    it('drives a batch through both instances and applies its notification once', async () => {
      const registered = await api('/api/trades', {
        method: 'POST',
        body: JSON.stringify(trades.map((tradeNo) => ({ tradeNo, amount: '50.00' }))),
      });
      expect(registered.status).toBe(201);
      const created = await api('/api/refunds', {
        method: 'POST',
        body: JSON.stringify({
          mode: 'nopwd',
          queue: true,
          items: trades.map((tradeNo) => ({ tradeNo, amount: '12.34', reason: '协商退款' })),
        }),
      });
      expect(created.status).toBe(201);
      const { batches } = (await created.json()) as { batches: Array<{ batchNo: string }> };
      const batchNo = batches[0]!.batchNo;
      const state = async () =>
        ((await (await api(`/api/batches/${batchNo}`)).json()) as { state: string }).state;
      await waitFor(
        async () => (await state()) === 'finished',
        () => `batch ${batchNo} finished`,
        30_000,
      );

      // the gateway sends it again, four times: through the proxy, both instances get repeats
      const sent = await sql<{ id: number }>`
      select id from sbx_notifications where batch_no = ${batchNo} and kind = 'batch_refund_notify'`.execute(
        h.sandboxDb.db,
      );
      const id = sent.rows[0]!.id;
      for (let i = 0; i < 4; i++) {
        const r = await fetch(`${h.sandboxUrl}/sandbox/api/notifications/${id}/redeliver`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(r.status).toBeLessThan(300);
      }
      const verdicts = async () =>
        Object.fromEntries(
          (
            await sql<{ verdict: string; n: number | string }>`
          select verdict, count(*) as n from srv_notifications where batch_no = ${batchNo} group by verdict`.execute(
              database.db,
            )
          ).rows.map((r) => [r.verdict, Number(r.n)]),
        ) as Record<string, number>;
      await waitFor(
        async () => (await verdicts())['duplicate'] === 4,
        () => 'four duplicates recorded',
        20_000,
      );
      expect(await verdicts()).toEqual({ accepted: 1, duplicate: 4 });

      // applied once: each trade refunded 12.34 once, on both instances' view
      for (let i = 0; i < 2; i++) {
        const t = (await (await api(`/api/trades/${trades[0]}`)).json()) as {
          trade: { refundedFen: number };
          refunds: Array<{ batchNo: string; succeeded: boolean | null }>;
        };
        expect(t.trade.refundedFen).toBe(1234);
        expect(t.refunds).toEqual([expect.objectContaining({ batchNo, succeeded: true })]);
      }
      expect(Math.min(...proxy.hits)).toBeGreaterThan(2);
    }, 60_000);
  },
);
