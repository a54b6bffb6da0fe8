/**
 * The one test harness of the sandbox: a sandbox on a real socket (port 0), a real node:http notification
 * receiver, signed request builders that use the SDK (never a private signer), the admin API, and
 * `refundSuite`, the merchant side that the refund suites share (SDK-verified notifications, nopwd batches,
 * waiting for a batch, the ledger invariant after each test).
 */
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AlipayConfig,
  type AlipayConfigInput,
  type BatchRefundNotification,
  type Charset,
  type DetailRecord,
  type RefundRequestInput,
  type SignedRequest,
  type SigningKey,
  beijingDate,
  buildRefundRequest,
  createConfig,
  formEncodePairs,
  formatBeijing,
  newBatchIdentity,
  sendNopwdRequest,
  signParams,
  verifyNotification,
} from '@alirefund/protocol';
import type { Dialect } from '@alirefund/store';
import { type TestDatabase, openTestDatabase } from '@alirefund/store/testing';
import { serve } from '@hono/node-server';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type Sandbox, type SandboxDeps, createSandbox } from '../src/index.js';

export const PARTNER = '2088101122136241';
export const KEY = '760bdzec6y9goq7ctyx96ezkz78287de';
export const EMAIL = 'seller@example.com';
export const PASSWORD = 'pay-123456';
export const OTHER_PARTNER = '2088202233347352';
export const OTHER_KEY = 'abcdefghijklmnopqrstuvwxyz012345';
export const NOPRIV_PARTNER = '2088303344458463';
export const AGENT_A = '2088102000000011';
export const AGENT_B = '2088102000000022';
export const UNSIGNED = '2088102000000033';

/** The MD5 key of a seeded partner. */
export function keyOf(partner: string): string {
  return partner === OTHER_PARTNER ? OTHER_KEY : KEY;
}

/** 8 sends, 200 ms apart: the short schedule of the issue. */
export const SHORT_SCHEDULE = [0, 200, 200, 200, 200, 200, 200, 200];

export const ALL_SERVICES = [
  'refund_fastpay_by_platform_pwd',
  'refund_fastpay_by_platform_nopwd',
  'refund_fastpay_query',
];

let tradeCounter = 0;
/** A fresh 28-digit trade number. */
export function tradeNo(): string {
  tradeCounter++;
  return `20260115210010041${String(Date.now() % 1e6).padStart(6, '0')}${String(tradeCounter).padStart(5, '0')}`;
}

/** The seed most tests start from. */
export function baseSeed(extra: { rsaPublicKey?: string } = {}) {
  return {
    partners: [
      {
        partner: PARTNER,
        key: KEY,
        email: EMAIL,
        paymentPassword: PASSWORD,
        balance: '10000.00',
        services: ALL_SERVICES,
        ...(extra.rsaPublicKey ? { rsaPublicKey: extra.rsaPublicKey } : {}),
      },
      {
        partner: OTHER_PARTNER,
        key: OTHER_KEY,
        email: 'other@example.com',
        paymentPassword: 'other-pass',
        balance: '100.00',
        services: ALL_SERVICES,
      },
      {
        partner: NOPRIV_PARTNER,
        key: KEY,
        email: 'nopriv@example.com',
        paymentPassword: 'nopriv-pass',
        balance: '100.00',
        services: ['refund_fastpay_query'],
      },
    ],
    accounts: [
      { userId: AGENT_A, email: 'agent.a@example.com', balance: '500.00' },
      { userId: AGENT_B, email: 'agent.b@example.com', balance: '5.00' },
      { userId: UNSIGNED, email: 'unsigned@example.com', balance: '500.00', signedWith: [] },
    ],
    trades: [],
  };
}

// ------------------------------------------------------------------ receiver

export interface Received {
  path: string;
  body: Buffer;
  contentType: string | undefined;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Decides the reply; default `success`. */
  respond: (
    r: Received,
    index: number,
  ) => Promise<{ status?: number; body: string }> | { status?: number; body: string };
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** A real HTTP server that records notifications and answers as `respond` says. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Receiver = {
    url: '',
    received,
    respond: () => ({ body: 'success' }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    readBody(req)
      .then(async (body) => {
        const r: Received = {
          path: req.url ?? '',
          body,
          contentType: req.headers['content-type'],
          at: Date.now(),
        };
        received.push(r);
        const reply = await receiver.respond(r, received.length - 1);
        res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain' });
        res.end(reply.body);
      })
      .catch((e: unknown) => {
        res.writeHead(500);
        res.end(String(e));
      });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

/** Parses a received form body in `charset` into a record (via the SDK's parser). */
export async function formOf(r: Received, charset: Charset = 'utf-8'): Promise<Record<string, string>> {
  const { parseFormBody } = await import('@alirefund/protocol');
  return Object.fromEntries(parseFormBody(r.body, charset));
}

// ------------------------------------------------------------------ sandbox on a socket

export interface Harness {
  database: TestDatabase;
  sandbox: Sandbox;
  base: string;
  gateway: string;
  receiver: Receiver;
  /** Starts another sandbox on the same database (a restart); the old one must be stopped first. */
  restart(deps?: Partial<SandboxDeps>): Promise<void>;
  close(): Promise<void>;
}

async function listen(sandbox: Sandbox): Promise<{ base: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: sandbox.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        base: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((r) => {
            (server as Server).closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

export async function startHarness(
  dialect: Dialect,
  deps: Partial<SandboxDeps> = {},
  seed: unknown = baseSeed(),
): Promise<Harness> {
  const database = await openTestDatabase(dialect);
  const receiver = await startReceiver();
  let sandbox = await createSandbox({ database, notifySchedule: SHORT_SCHEDULE, pollMs: 20, ...deps });
  await sandbox.seed(seed);
  let http = await listen(sandbox);
  const h: Harness = {
    database,
    sandbox,
    base: http.base,
    gateway: `${http.base}/gateway.do`,
    receiver,
    async restart(more: Partial<SandboxDeps> = {}) {
      await sandbox.close();
      await http.close();
      sandbox = await createSandbox({
        database,
        notifySchedule: SHORT_SCHEDULE,
        pollMs: 20,
        ...deps,
        ...more,
      });
      http = await listen(sandbox);
      h.sandbox = sandbox;
      h.base = http.base;
      h.gateway = `${http.base}/gateway.do`;
    },
    async close() {
      await sandbox.close();
      await http.close();
      await receiver.close();
      await database.cleanup();
    },
  };
  return h;
}

// ------------------------------------------------------------------ requests

export interface RequestOptions {
  key?: SigningKey;
  charset?: Charset;
  /** Put `_input_charset` in the query string too (the form rule). Default true. */
  charsetInQuery?: boolean;
  method?: 'GET' | 'POST';
  /** Remove these params after signing. */
  drop?: string[];
  /** Set these after signing (break the sign, or sign_type). */
  after?: Record<string, string>;
  /** Don't sign at all. */
  unsigned?: boolean;
}

/** Signs `params` with the SDK and sends them to the gateway; returns the response. */
export async function send(
  gateway: string,
  params: Record<string, string>,
  opts: RequestOptions = {},
): Promise<Response> {
  const charset = opts.charset ?? 'utf-8';
  const p: Record<string, string> = { ...params };
  const key = opts.key ?? { signType: 'MD5', key: KEY };
  if (!opts.unsigned) {
    p['sign'] = signParams(p, key, charset);
    p['sign_type'] = key.signType;
  }
  for (const k of opts.drop ?? []) delete p[k];
  Object.assign(p, opts.after ?? {});
  const body = formEncodePairs(Object.entries(p), charset);
  const cs = p['_input_charset'];
  const url =
    opts.charsetInQuery === false || cs === undefined
      ? gateway
      : `${gateway}?_input_charset=${encodeURIComponent(cs)}`;
  if (opts.method === 'GET') return fetch(`${gateway}?${body}`);
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': `application/x-www-form-urlencoded; charset=${charset}` },
    body,
  });
}

/** A valid nopwd request (today's batch) for `detail`; override anything. */
export function nopwdParams(
  now: number,
  detail: string,
  over: Record<string, string | undefined> = {},
): Record<string, string> {
  const id = newBatchIdentity({ clock: () => now });
  const p: Record<string, string | undefined> = {
    service: 'refund_fastpay_by_platform_nopwd',
    partner: PARTNER,
    _input_charset: 'utf-8',
    batch_no: id.batchNo,
    refund_date: id.refundDate,
    batch_num: String(detail.split('#').length),
    detail_data: detail,
    ...over,
  };
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

export function pwdParams(
  now: number,
  detail: string,
  over: Record<string, string | undefined> = {},
): Record<string, string> {
  return nopwdParams(now, detail, {
    service: 'refund_fastpay_by_platform_pwd',
    seller_user_id: PARTNER,
    ...over,
  });
}

/** The `<error>` (or T) of a nopwd XML reply. */
export async function xmlOutcome(res: Response, charset: Charset = 'utf-8'): Promise<string> {
  const text = new TextDecoder(charset === 'gbk' ? 'gbk' : 'utf-8').decode(await res.arrayBuffer());
  const flag = /<is_success>([TFP])<\/is_success>/.exec(text)?.[1];
  if (flag === 'T') return 'T';
  return /<error>([A-Z_]+)<\/error>/.exec(text)?.[1] ?? `unparsed: ${text}`;
}

export async function api<T = Record<string, unknown>>(
  h: Harness,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${h.base}/sandbox/api${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    // every admin change is application/json, even a body-less one (admin/guard.ts)
    ...((init.method ?? 'GET') === 'GET' && init.body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' } }),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, json: (await res.json()) as T };
}

export async function createTrade(h: Harness, over: Record<string, unknown> = {}): Promise<string> {
  const no = (over['tradeNo'] as string | undefined) ?? tradeNo();
  const res = await api(h, '/trades', {
    body: { tradeNo: no, partner: PARTNER, amount: '100.00', status: 'TRADE_SUCCESS', ...over },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return no;
}

/** Polls `fn` until it returns a truthy value (no timing assertions: only a generous limit). */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 8000,
): Promise<NonNullable<T>> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** The ledger invariant: all entries sum to zero, every txn balances, cached balances match entries. */
export async function expectLedgerBalanced(h: Harness): Promise<void> {
  const { json } = await api<{ sumFen: number; unbalancedTxns: string[]; balancesMatchEntries: boolean }>(
    h,
    '/ledger',
  );
  expect(json.sumFen).toBe(0);
  expect(json.unbalancedTxns).toEqual([]);
  expect(json.balancesMatchEntries).toBe(true);
}

export async function balanceOf(h: Harness, account: string): Promise<number> {
  const { json } = await api<{ balanceFen: number }>(h, `/accounts/${account}`);
  return json.balanceFen;
}

export function today(h: Harness): string {
  return beijingDate(h.sandbox.now());
}
export function nowText(h: Harness): string {
  return formatBeijing(h.sandbox.now());
}

/**
 * For a describe whose tests share one harness: the ledger invariant after each test, and the harness closed after
 * all of them. `harness` is read when the hooks run.
 */
export function checkLedgerAfterEachAndClose(harness: () => Harness): void {
  afterEach(async () => {
    await expectLedgerBalanced(harness());
  });
  afterAll(async () => {
    await harness().close();
  });
}

// ------------------------------------------------------------------ a merchant refunding through the SDK

export interface RefundSuiteOptions {
  deps?: Partial<SandboxDeps>;
  seed?: unknown;
  /** Runs for each verified batch notification, after it is recorded in `notified`. */
  onVerified?: (n: BatchRefundNotification, r: Received) => Promise<void> | void;
  /** Runs for each notification outside `/batch/` before `success` is answered (default: none). */
  onOther?: (r: Received) => Promise<void> | void;
}

export interface BatchRequestOptions extends Pick<RefundRequestInput, 'dbackNotifyUrl' | 'useFreezeAmount'> {
  /** The requesting partner (default PARTNER), signing with its MD5 key. */
  partner?: string;
  /** Where its batch_refund_notify goes (default the next `/batch/[partner/]n`). */
  path?: string;
  /** More of the SDK config (e.g. `inputCharset`). */
  config?: Partial<AlipayConfigInput>;
}

/** What a batch view must show for {@link RefundSuite.batch} to consider it finished. */
interface FinishedBatch {
  status: string;
  notifications: Array<{ status: string }>;
}

export interface RefundSuite {
  /** The harness, started before the suite's first test (closed after its last). */
  readonly h: Harness;
  /** batch_refund_notify by batch_no, each verified by the SDK (sign, notify_verify) before `success`. */
  readonly notified: Map<string, BatchRefundNotification>;
  /** The SDK config of `partner` (default PARTNER, MD5) with its notifications going to `path`. */
  config(path: string, over?: Partial<AlipayConfigInput>): AlipayConfig;
  /** Builds and signs a nopwd request (today's batch) with the SDK; nothing is sent. */
  request(records: readonly DetailRecord[], opts?: BatchRequestOptions): SignedRequest;
  /** Sends a request, expects it accepted, returns its batch_no. */
  send(req: SignedRequest): Promise<string>;
  /** {@link request} then {@link send}. */
  submit(records: readonly DetailRecord[], opts?: BatchRequestOptions): Promise<string>;
  /** The verified notification of a batch, once it came. */
  notification(batchNo: string): Promise<BatchRefundNotification>;
  /** The admin view of a batch once it is processed and all its notifications are delivered. */
  batch<T extends FinishedBatch>(batchNo: string, partner?: string): Promise<T>;
}

/**
 * For a describe whose tests refund as a merchant would: one harness for all of them (the ledger invariant
 * checked after each), a receiver that verifies every notification under `/batch/[partner/]n` with the SDK
 * (the partner's key; GBK when the path has a `gbk` segment) and records it, and request helpers.
 */
export function refundSuite(dialect: Dialect, opts: RefundSuiteOptions = {}): RefundSuite {
  let harness: Harness | undefined;
  let seq = 0;
  const notified = new Map<string, BatchRefundNotification>();
  const h = (): Harness => {
    if (!harness) throw new Error('refundSuite: the harness starts in beforeAll');
    return harness;
  };
  const suite: RefundSuite = {
    get h() {
      return h();
    },
    notified,
    config(path, over = {}) {
      const partner = over.partner ?? PARTNER;
      return createConfig({
        partner,
        key: keyOf(partner),
        gateway: h().gateway,
        notifyUrl: `${h().receiver.url}${path}`,
        ...over,
      });
    },
    request(records, o = {}) {
      const partner = o.partner ?? PARTNER;
      const path = o.path ?? `/batch/${partner === PARTNER ? '' : `${partner}/`}${++seq}`;
      const id = newBatchIdentity({ clock: () => h().sandbox.now() });
      const input: RefundRequestInput = { mode: 'nopwd', ...id, detail: records };
      if (o.dbackNotifyUrl !== undefined) input.dbackNotifyUrl = o.dbackNotifyUrl;
      if (o.useFreezeAmount !== undefined) input.useFreezeAmount = o.useFreezeAmount;
      return buildRefundRequest(suite.config(path, { ...o.config, partner }), input);
    },
    async send(req) {
      expect((await sendNopwdRequest(req)).status).toBe('accepted');
      return req.params['batch_no']!;
    },
    submit: (records, o) => suite.send(suite.request(records, o)),
    notification: (batchNo) => waitFor(() => notified.get(batchNo), `notification of ${batchNo}`),
    batch: <T extends FinishedBatch>(batchNo: string, partner = PARTNER) =>
      waitFor(async () => {
        const { json } = await api<T>(h(), `/batches/${partner}/${batchNo}`);
        return json.status === 'done' &&
          json.notifications.length > 0 &&
          json.notifications.every((n) => n.status === 'delivered')
          ? json
          : null;
      }, `batch ${batchNo} processed and notified`),
  };

  beforeAll(async () => {
    harness = await startHarness(dialect, opts.deps, opts.seed);
    harness.receiver.respond = async (r) => {
      if (!r.path.startsWith('/batch/')) {
        await opts.onOther?.(r);
        return { body: 'success' };
      }
      const segments = r.path.split('/');
      const partner = segments.find((s) => /^2088\d{12}$/.test(s)) ?? PARTNER;
      const charset: Charset = segments.includes('gbk') ? 'gbk' : 'utf-8';
      const config = createConfig({ partner, key: keyOf(partner), gateway: h().gateway });
      // Sign, notify_verify and content, all by the SDK; a bad notification throws and is not acknowledged.
      const n = await verifyNotification(r.body, { charset, config });
      notified.set(n.batchNo, n);
      await opts.onVerified?.(n, r);
      return { body: 'success' };
    };
  });
  checkLedgerAfterEachAndClose(() => h());
  return suite;
}
