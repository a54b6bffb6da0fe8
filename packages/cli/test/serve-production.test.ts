/**
 * `alirefund serve` as production runs it: a real process from the built CLI, in front of the sandbox.
 * Health and readiness, Prometheus metrics (token and separate port), a request id on every log line of a
 * notification's handling, no secret in any output, and SIGTERM finishing a notification in flight.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BulkHarness,
  type CliProcess,
  freePort,
  spawnCli,
  startBulkHarness,
  tradeNos,
  waitFor,
} from './refund-harness.js';

const API_TOKEN = 'api-token-0123456789abcdef-secret';
const ADMIN_PASSWORD = 'admin-pass-9f8e7d6c';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/**
 * A pass-through in front of the sandbox's gateway that can hold notify_verify for a while, so that a
 * notification is provably in flight when the test sends SIGTERM.
 */
interface SlowGateway {
  url: string;
  verifyDelayMs: number;
  /** Resolves at the next notify_verify that arrives. */
  nextVerify(): Promise<void>;
  close(): Promise<void>;
}

async function slowGateway(target: string): Promise<SlowGateway> {
  let waiters: Array<() => void> = [];
  const state = { verifyDelayMs: 0 };
  const read = (req: IncomingMessage) =>
    new Promise<Buffer>((r) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => r(Buffer.concat(chunks)));
    });
  const server: Server = createServer(async (req, res) => {
    const body = await read(req);
    if ((req.url ?? '').includes('service=notify_verify')) {
      for (const w of waiters) w();
      waiters = [];
      await new Promise((r) => setTimeout(r, state.verifyDelayMs));
    }
    const headers: Record<string, string> = {};
    if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
    const answer = await fetch(`${target}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      ...(req.method === 'POST' ? { body } : {}),
    });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get verifyDelayMs() {
      return state.verifyDelayMs;
    },
    set verifyDelayMs(v: number) {
      state.verifyDelayMs = v;
    },
    nextVerify: () => new Promise<void>((r) => waiters.push(r)),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let h: BulkHarness;
let gw: SlowGateway;
let cli: CliProcess;
let base = '';
let metricsPort = 0;
const trades = tradeNos('2026120411', 4);

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', ...init.headers },
  });
}

async function refund(tradeNo: string): Promise<string> {
  const res = await api('/api/refunds', {
    method: 'POST',
    body: JSON.stringify({
      mode: 'nopwd',
      queue: true,
      items: [{ tradeNo, amount: '1.00', reason: '协商退款' }],
    }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { batches: Array<{ batchNo: string }> };
  return body.batches[0]!.batchNo;
}

async function batchState(batchNo: string): Promise<string> {
  const res = await api(`/api/batches/${batchNo}`);
  return ((await res.json()) as { state: string }).state;
}

/** The JSON lines the process wrote on stderr. */
function logLines(): Array<Record<string, unknown>> {
  return cli.err
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  h = await startBulkHarness({ schedule: [0, 300, 300, 300, 300, 300, 300, 300] });
  await h.addTrades(trades.map((tradeNo) => ({ tradeNo, amountFen: 10_000 })));
  gw = await slowGateway(h.sandboxUrl);
  metricsPort = await freePort();
  const port = Number(new URL(h.env['ALIREFUND_PUBLIC_URL']!).port);
  base = `http://127.0.0.1:${port}`;
  cli = spawnCli(['serve', '--port', String(port)], {
    ...h.env,
    ALIPAY_GATEWAY: `${gw.url}/gateway.do`,
    ALIREFUND_API_TOKEN: API_TOKEN,
    ALIREFUND_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ALIREFUND_METRICS_TOKEN: METRICS_TOKEN,
    ALIREFUND_METRICS_PORT: String(metricsPort),
    ALIREFUND_RECONCILE_INTERVAL: '200ms',
    ALIREFUND_NEXT_BATCH_WAIT: '2s',
    ALIREFUND_LOG_LEVEL: 'info',
  });
  await cli.waitForOut(/^metrics: /m, 20_000);
}, 60_000);

afterAll(async () => {
  await cli?.kill();
  await gw?.close();
  await h?.close();
});

describe('alirefund serve in production', () => {
  it('answers /healthz (alive) and /readyz (database, migrations, gateway) with the usual codes', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    expect(health.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { shutdown: 'ok', database: 'ok', migrations: 'ok', gateway: 'ok' },
    });
  });

  it('applies a batch end to end and counts it in /metrics, which needs the token on the main port', async () => {
    const batchNo = await refund(trades[0]!);
    await waitFor(
      async () => (await batchState(batchNo)) === 'finished',
      () => `batch ${batchNo} finished`,
      20_000,
    );

    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-000000000' } })).status,
    ).toBe(401);
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^alirefund_notifications_received_total\{kind="batch"\} [1-9]/m);
    expect(text).toMatch(/^alirefund_notifications_total\{kind="batch",verdict="accepted",reason=""\} 1$/m);
    expect(text).toMatch(
      /^alirefund_gateway_request_duration_seconds_count\{service="notify_verify"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^alirefund_gateway_request_duration_seconds_count\{service="refund_fastpay_by_platform_nopwd"\} 1$/m,
    );
    expect(text).toMatch(/^alirefund_batches\{state="finished"\} 1$/m);
    expect(text).toMatch(/^alirefund_submissions\{gateway_code="T"\} 1$/m);
    expect(text).toMatch(/^alirefund_db_pool_connections\{state="max"\} 1$/m);
    expect(text).toMatch(
      /^alirefund_http_request_duration_seconds_count\{method="POST",route="\/alipay\/notify",status="200"\} [1-9]/m,
    );
    expect(text).toMatch(/^alirefund_process_resident_memory_bytes \d+/m);

    // the separate port serves the same registry without a token
    const side = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(side.status).toBe(200);
    expect(await side.text()).toMatch(/^alirefund_batches\{state="finished"\} 1$/m);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
  });

  it("writes JSON logs with the notification's request id on each of its lines", async () => {
    const lines = logLines();
    const applied = lines.find((l) => l['msg'] === 'batch notification applied');
    expect(applied).toBeDefined();
    const reqId = applied!['reqId'];
    expect(reqId).toMatch(/^[0-9a-f]{16}$/);
    const access = lines.filter((l) => l['reqId'] === reqId && l['msg'] === 'request');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ method: 'POST', route: '/alipay/notify', status: 200 });
    // every line with that id belongs to that one delivery
    for (const l of lines.filter((x) => x['reqId'] === reqId)) expect(typeof l['time']).toBe('number');
  });

  it('a request id sent by the proxy is kept; a malformed one is replaced', async () => {
    const kept = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'edge-42.abc' } });
    expect(kept.headers.get('x-request-id')).toBe('edge-42.abc');
    const replaced = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'a b<script>' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('never writes a secret: key, API token, admin password, metrics token', async () => {
    // exercise the paths that handle them: a console login with the password, API calls with the token
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `username=admin&password=${encodeURIComponent(ADMIN_PASSWORD)}`,
      redirect: 'manual',
    });
    expect(login.status).toBeLessThan(500);
    expect((await api('/api/dashboard')).status).toBe(200);
    const all = cli.out + cli.err;
    for (const secret of [h.env['ALIPAY_KEY']!, API_TOKEN, ADMIN_PASSWORD, METRICS_TOKEN]) {
      expect(all).not.toContain(secret);
    }
  });

  it('SIGTERM: a notification in flight is finished and committed, then the process exits 0', async () => {
    gw.verifyDelayMs = 1500;
    const verifying = gw.nextVerify();
    const batchNo = await refund(trades[1]!);
    await verifying; // the server is now inside notify_verify for this batch's notification
    const from = cli.err.length;
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    const after = cli.err.slice(from);
    expect(after).toMatch(/"msg":"shutting down: draining"/);
    expect(after).toMatch(/"clean":true[^\n]*"msg":"stopped"|"msg":"stopped"[^\n]*"clean":true/);
    // committed before the answer: the merchant database shows the batch applied
    const batches = await h.serverBatches();
    expect(batches.get(batchNo)).toMatchObject({ state: 'finished', successNum: 1 });
    // and the gateway got `success` for it, so it will not send it again
    const sent = await sql<{ status: string }>`
      select status from sbx_notifications where batch_no = ${batchNo} and kind = 'batch_refund_notify'`.execute(
      h.sandboxDb.db,
    );
    expect(sent.rows.map((s) => s.status)).toEqual(['delivered']);
  }, 30_000);
});
