/**
 * Test fixtures: a stub gateway on a real socket (notify_verify + nopwd), signed notifications, servers over the
 * store's test databases, and the real sandbox with a server on real sockets ({@link useSandboxServer}).
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import {
  type AlipayConfig,
  type Charset,
  createConfig,
  formatBeijing,
  parseFormBody,
  signNotification,
} from '@alirefund/protocol';
import { createSandbox, type Sandbox } from '@alirefund/sandbox';
import type { Dialect } from '@alirefund/store';
import { openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import {
  type AlirefundServer,
  createServer,
  makeSettings,
  type NodeRoute,
  type ServerDB,
} from '../src/index.js';

export const PARTNER = '2088101122136241';
export const KEY = 'abcdefghijklmnopqrstuvwxyz012345';
export const API_TOKEN = 'test-api-token-0123456789abcdef';

/** A nopwd answer the stub gives: XML body, or 'hang' (no answer: the client times out), or 'drop' (socket closed). */
export type NopwdBehaviour = { body: string } | 'drop';

export interface StubGateway {
  /** http://127.0.0.1:PORT/gateway.do */
  gateway: string;
  /** notify_ids notify_verify answers `true` for. */
  valid: Set<string>;
  verifyCalls: number;
  /** batch_nos received by the nopwd service, in order. */
  nopwdBatches: string[];
  /** Parameters of each nopwd request. */
  nopwdParams: Record<string, string>[];
  /** What the next nopwd requests get (default: T). */
  nopwd: (params: Record<string, string>) => NopwdBehaviour;
  close(): Promise<void>;
}

export const XML_T = '<?xml version="1.0" encoding="utf-8"?><alipay><is_success>T</is_success></alipay>';
export const xmlF = (code: string) =>
  `<?xml version="1.0" encoding="utf-8"?><alipay><is_success>F</is_success><error>${code}</error></alipay>`;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function blankStubGateway(): StubGateway {
  return {
    gateway: '',
    valid: new Set(),
    verifyCalls: 0,
    nopwdBatches: [],
    nopwdParams: [],
    nopwd: () => ({ body: XML_T }),
    close: async () => {},
  };
}

/** A gateway stub on a real node:http socket (port 0); fills in and returns `stub` (a blank one by default). */
export async function startStubGateway(stub: StubGateway = blankStubGateway()): Promise<StubGateway> {
  const server: Server = createHttpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = await readBody(req);
    const charset = (url.searchParams.get('_input_charset') ?? 'utf-8') as Charset;
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    for (const [k, v] of parseFormBody(body, charset === 'gbk' ? 'gbk' : 'utf-8')) params[k] = v;
    if (params['service'] === 'notify_verify') {
      stub.verifyCalls++;
      const ok = params['partner'] === PARTNER && stub.valid.has(params['notify_id'] ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(ok ? 'true' : 'false');
      return;
    }
    if (params['service'] === 'refund_fastpay_by_platform_nopwd') {
      stub.nopwdBatches.push(params['batch_no'] ?? '');
      stub.nopwdParams.push(params);
      const b = stub.nopwd(params);
      if (b === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' }).end(b.body);
      return;
    }
    res.writeHead(404).end('unknown service');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  stub.gateway = `http://127.0.0.1:${port}/gateway.do`;
  stub.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return stub;
}

export function makeConfig(gateway: string, extra: Record<string, unknown> = {}): AlipayConfig {
  return createConfig({ partner: PARTNER, key: KEY, gateway, ...extra });
}

export interface TestServer {
  server: AlirefundServer;
  database: TestDatabase<ServerDB>;
  app: Hono;
  cleanup(): Promise<void>;
}

/** A server over a fresh test database of `dialect`, background work off. */
export async function startTestServer(
  dialect: Dialect,
  config: AlipayConfig,
  opts: {
    database?: TestDatabase<ServerDB>;
    batchSize?: number;
    nextBatchWaitMs?: number;
    clock?: () => number;
  } = {},
): Promise<TestServer> {
  const database = opts.database ?? (await openTestDatabase<ServerDB>(dialect));
  const server = await createServer({
    settings: makeSettings({
      alipay: config,
      publicUrl: 'http://127.0.0.1:1',
      apiToken: API_TOKEN,
      adminPassword: 'admin-password',
      ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      ...(opts.nextBatchWaitMs !== undefined ? { nextBatchWaitMs: opts.nextBatchWaitMs } : {}),
    }),
    database,
    background: false,
    console: false,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return {
    server,
    database,
    app: server.app,
    async cleanup() {
      await server.close();
      if (!opts.database) await database.cleanup();
    },
  };
}

/**
 * The stub gateway of a whole test file: listening from beforeAll, closed in afterAll. Call at the file's top level;
 * `gateway` is set once the file's tests run.
 */
export function useStubGateway(): StubGateway {
  const stub = blankStubGateway();
  beforeAll(async () => {
    await startStubGateway(stub);
  });
  afterAll(async () => {
    await stub.close();
  });
  return stub;
}

/**
 * A fresh test server over `dialect` for each test of the enclosing describe (beforeEach/afterEach), configured
 * for `stub`. The returned object is refilled for each test.
 */
export function useTestServer(
  dialect: Dialect,
  stub: StubGateway,
  opts: Parameters<typeof startTestServer>[2] = {},
): TestServer {
  const t = {} as TestServer;
  beforeEach(async () => {
    Object.assign(t, await startTestServer(dialect, makeConfig(stub.gateway), opts));
  });
  afterEach(async () => {
    await t.cleanup();
  });
  return t;
}

/**
 * Serves a Hono app (or any `{ fetch }`) on a real socket (port 0); `route` (the server's `nodeRoute`, as `alirefund serve` has it)
 * sees each request first.
 */
export async function listen(
  app: { fetch: (req: Request, env: unknown) => Response | Promise<Response> },
  route?: NodeRoute,
): Promise<{ url: string; close(): Promise<void> }> {
  const createServer =
    route === undefined
      ? {}
      : {
          createServer: ((options: object, listener: (req: IncomingMessage, res: ServerResponse) => void) =>
            createHttpServer(options, (req, res) => {
              if (!route(req, res)) listener(req, res);
            })) as unknown as typeof createHttpServer,
        };
  return new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', ...createServer }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((r) => {
            (s as Server).closeAllConnections?.();
            s.close(() => r());
          }),
      });
    });
  });
}

let seq = 0;
/** A fresh 16-digit trade number. */
export function tradeNo(): string {
  seq++;
  return `2024${String(Date.now() % 1e8).padStart(8, '0')}${String(seq).padStart(4, '0')}`;
}

/**
 * Registers `n` trades of 10.00 yuan and creates one draft batch (not queued) refunding `amountFen` of each.
 * Fails the test when registration or creation reports an issue.
 */
export async function draftBatch(
  server: AlirefundServer,
  n: number,
  amountFen = 300,
  mode: 'pwd' | 'nopwd' = 'nopwd',
): Promise<{ batchNo: string; trades: string[] }> {
  const trades = Array.from({ length: n }, () => tradeNo());
  const reg = await server.services.trades.register(
    trades.map((no) => ({ tradeNo: no, amountFen: 1000 })),
    'test',
  );
  if (reg.issues.length > 0) throw new Error(`register: ${JSON.stringify(reg.issues)}`);
  const res = await server.services.refunds.createBatches(
    trades.map((no) => ({ tradeNo: no, amountFen, reason: '协商退款' })),
    { mode, actor: 'test', queue: false, batchSize: 1000 },
  );
  if (res.issues.length > 0 || res.batches.length !== 1) {
    throw new Error(`createBatches: ${JSON.stringify(res.issues)} (${res.batches.length} batches)`);
  }
  return { batchNo: res.batches[0]!.batchNo, trades };
}

/** A signed batch_refund_notify body. */
export function batchNotification(input: {
  batchNo: string;
  notifyId: string;
  results: Array<{ tradeNo: string; amount: string; code?: string }>;
  successNum?: number;
  charset?: Charset;
  key?: string;
  extra?: Record<string, string>;
}): { body: string; params: Record<string, string> } {
  const charset = input.charset ?? 'utf-8';
  const resultDetails = input.results.map((r) => `${r.tradeNo}^${r.amount}^${r.code ?? 'SUCCESS'}`).join('#');
  const successNum =
    input.successNum ?? input.results.filter((r) => (r.code ?? 'SUCCESS') === 'SUCCESS').length;
  return signNotification(
    {
      notify_time: formatBeijing(Date.now()),
      notify_type: 'batch_refund_notify',
      notify_id: input.notifyId,
      batch_no: input.batchNo,
      success_num: String(successNum),
      result_details: resultDetails,
      ...input.extra,
    },
    { signType: 'MD5', key: input.key ?? KEY },
    charset,
  );
}

/** POSTs a notification body in-process. */
export async function postNotify(
  app: Hono,
  body: string,
  path = '/alipay/notify',
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await app.request(path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export function authHeaders(token = API_TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

/** Polls `check` until it returns a value (not a timing assertion: only a bound on waiting). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The sandbox seller's login and payment password (the pwd confirmation page asks for them). */
export const SELLER_EMAIL = 'seller@example.com';
export const PAY_PASSWORD = 'pay-123456';

let sandboxSeq = 0;
/** A fresh 28-digit trade number, shaped like the gateway's. */
export function sandboxTradeNo(): string {
  sandboxSeq++;
  return `20260115210010041${String(Date.now() % 1e6).padStart(6, '0')}${String(sandboxSeq).padStart(5, '0')}`;
}

/** A paid trade as {@link SandboxServer.seed} puts it in the sandbox and registers it with the server. */
export interface SandboxTrade {
  tradeNo: string;
  /** Yuan, e.g. `10.00`. */
  amount: string;
  /** Default TRADE_SUCCESS. */
  status?: string;
}

export interface SandboxServer {
  database: TestDatabase<ServerDB>;
  sandbox: Sandbox;
  server: AlirefundServer;
  sandboxUrl: string;
  serverUrl: string;
  /** What the server's clock is ahead of the real one (with `shiftClock`); 0 at the start of each test. */
  offsetMs: number;
  /**
   * Seeds the sandbox with {@link PARTNER} (all three refund services) and `trades`, and registers the trades with
   * the server. With `tradeNotify`, the sandbox sends each trade's trade_status_sync to the server.
   */
  seed(trades: readonly SandboxTrade[], opts?: { tradeNotify?: boolean }): Promise<void>;
}

/**
 * For each test of the enclosing describe: the real sandbox and a server on real sockets, sharing one fresh test
 * database of `dialect` as in the demo (beforeEach/afterEach). The sandbox notifies fast; the server's settings
 * carry its real URL. The returned object is refilled for each test.
 */
export function useSandboxServer(
  dialect: Dialect,
  opts: { batchSize?: number; background?: boolean; shiftClock?: boolean } = {},
): SandboxServer {
  const t = { offsetMs: 0 } as SandboxServer;
  let closers: Array<() => Promise<void>> = [];
  beforeEach(async () => {
    closers = [];
    t.offsetMs = 0;
    const database = await openTestDatabase<ServerDB>(dialect);
    const sandbox = await createSandbox({
      database,
      notifySchedule: [0, 200, 200, 200, 200, 200, 200, 200],
      pollMs: 20,
    });
    const sHttp = await listen(sandbox.app);
    // The server's URL is needed in its settings: reserve it by listening on a proxy app first.
    let app: AlirefundServer['app'] | undefined;
    const front = new Hono();
    front.all('*', (c) => (app ? app.fetch(c.req.raw) : c.text('starting', 503)));
    const vHttp = await listen(front);
    const server = await createServer({
      settings: makeSettings({
        alipay: makeConfig(`${sHttp.url}/gateway.do`, { sellerEmail: SELLER_EMAIL }),
        publicUrl: vHttp.url,
        apiToken: API_TOKEN,
        ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      }),
      database,
      console: false,
      ...(opts.background !== undefined ? { background: opts.background } : {}),
      ...(opts.shiftClock ? { clock: () => Date.now() + t.offsetMs } : {}),
    });
    app = server.app;
    closers.push(
      () => vHttp.close(),
      () => server.close(),
      () => sandbox.close(),
      () => sHttp.close(),
      () => database.cleanup(),
    );
    Object.assign(t, { database, sandbox, server, sandboxUrl: sHttp.url, serverUrl: vHttp.url });
  });
  afterEach(async () => {
    for (const c of closers) await c().catch(() => {});
  });
  t.seed = async (trades, seedOpts = {}) => {
    await t.sandbox.seed({
      partners: [
        {
          partner: PARTNER,
          key: KEY,
          email: SELLER_EMAIL,
          paymentPassword: PAY_PASSWORD,
          balance: '100000.00',
          services: [
            'refund_fastpay_by_platform_pwd',
            'refund_fastpay_by_platform_nopwd',
            'refund_fastpay_query',
          ],
        },
      ],
      accounts: [],
      trades: trades.map((tr) => ({
        tradeNo: tr.tradeNo,
        partner: PARTNER,
        amount: tr.amount,
        status: tr.status ?? 'TRADE_SUCCESS',
        ...(seedOpts.tradeNotify ? { notifyUrl: `${t.serverUrl}/alipay/trade-notify` } : {}),
      })),
    });
    const reg = await t.server.services.trades.register(
      trades.map((tr) => ({ tradeNo: tr.tradeNo, amountFen: Math.round(Number(tr.amount) * 100) })),
      'test',
    );
    if (reg.issues.length > 0) throw new Error(`register: ${JSON.stringify(reg.issues)}`);
  };
  return t;
}
