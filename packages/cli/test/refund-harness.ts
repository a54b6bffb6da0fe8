/**
 * Harness for the `alirefund refund` tests and the bulk benchmark: a real sandbox on 127.0.0.1:0 (SQLite file,
 * fast notify schedule), the merchant database with registered trades, the environment the CLI reads, and checks
 * that compare both ledgers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatYuan } from '@alirefund/protocol';
import { createSandbox, type Sandbox } from '@alirefund/sandbox';
import { type AlirefundServer, createServer, parseServerEnv, type ServerDB } from '@alirefund/server';
import { type Database, openDatabase } from '@alirefund/store';
import { expect } from 'vitest';
import { type Listening, listen } from '../src/runtime.js';

export const PARTNER = '2088101122136241';
export const KEY = '760bdzec6y9goq7ctyx96ezkz78287de';
export const EMAIL = 'seller@example.com';
export const PASSWORD = 'pay-123456';

export async function freePort(): Promise<number> {
  return new Promise((r, j) => {
    const s = netServer();
    s.once('error', j);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
}

/** `count` trade numbers (28 digits), unique per prefix. */
export function tradeNos(prefix: string, count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `2026${prefix.padStart(6, '0')}${String(i + 1).padStart(18, '0')}`,
  );
}

/** The sandbox tables the checks read. */
interface SandboxTables {
  sbx_batch_records: { trade_no: string; amount_fen: number; succeeded: number };
  sbx_batches: { batch_no: string; status: string };
  sbx_notifications: { batch_no: string | null; kind: string; status: string };
}

export interface BulkHarness {
  dir: string;
  sandbox: Sandbox;
  sandboxDb: Database<SandboxTables>;
  sandboxUrl: string;
  env: Record<string, string>;
  serverDbUrl: string;
  /** Opens the merchant server on its database (no console, no background work), runs `fn`, closes it. */
  withServer<T>(fn: (server: AlirefundServer) => Promise<T>): Promise<T>;
  /** Seeds the sandbox and registers the same paid trades in the merchant database. */
  addTrades(trades: ReadonlyArray<{ tradeNo: string; amountFen: number; status?: string }>): Promise<void>;
  /** Refunded amount and refund count per trade, as the sandbox's ledger says. */
  sandboxRefunds(): Promise<Map<string, { fen: number; count: number }>>;
  /** Refunded amount and count per trade, as the merchant database says. */
  serverRefunds(): Promise<Map<string, { fen: number; count: number; open: string | null }>>;
  /** Batches the sandbox accepted (pwd: also awaiting confirmation). */
  sandboxBatches(): Promise<Array<{ batch_no: string; status: string }>>;
  /** Every batch in the merchant database with its state. */
  serverBatches(): Promise<Map<string, { state: string; successNum: number | null; createdBy: string }>>;
  close(): Promise<void>;
}

export async function startBulkHarness(
  opts: {
    schedule?: number[];
    balance?: string;
    dbFile?: boolean;
    /** The merchant database (e.g. a throwaway PostgreSQL database); default: a SQLite file in `dir`. */
    serverDbUrl?: string;
    /** ALIREFUND_PUBLIC_URL; default: http://127.0.0.1 on a free port (`refund --serve` listens there). */
    publicUrl?: string;
  } = {},
): Promise<BulkHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'alirefund-bulk-'));
  const sandboxDb = await openDatabase<SandboxTables>(
    opts.dbFile === false ? ':memory:' : join(dir, 'sandbox.sqlite'),
  );
  const sandbox = await createSandbox({
    database: sandboxDb,
    notifySchedule: opts.schedule ?? [0, 200, 500, 1000, 2000, 3000, 5000, 10_000],
    pollMs: 10,
  });
  const http: Listening = await listen(sandbox.app, 0);
  const publicUrl = opts.publicUrl ?? `http://127.0.0.1:${await freePort()}`;
  const serverDbUrl = opts.serverDbUrl ?? join(dir, 'server.sqlite');
  const env: Record<string, string> = {
    ALIPAY_PARTNER: PARTNER,
    ALIPAY_KEY: KEY,
    ALIPAY_GATEWAY: `${http.url}/gateway.do`,
    ALIPAY_SELLER_EMAIL: EMAIL,
    ALIPAY_INPUT_CHARSET: 'utf-8',
    ALIREFUND_PUBLIC_URL: publicUrl,
    ALIREFUND_DATABASE_URL: serverDbUrl,
    ALIREFUND_LOG_LEVEL: 'error',
  };
  await sandbox.seed({
    partners: [
      {
        partner: PARTNER,
        key: KEY,
        email: EMAIL,
        paymentPassword: PASSWORD,
        balance: opts.balance ?? '100000000.00',
        services: [
          'refund_fastpay_by_platform_pwd',
          'refund_fastpay_by_platform_nopwd',
          'refund_fastpay_query',
        ],
      },
    ],
    accounts: [],
    trades: [],
  });
  const serverDb = await openDatabase<ServerDB>(serverDbUrl);
  const sandboxRefunds = async () => {
    const rows = await sandboxDb.db
      .selectFrom('sbx_batch_records')
      .select((eb) => [
        'trade_no',
        eb.fn.sum<number>('amount_fen').as('fen'),
        eb.fn.countAll<number>().as('n'),
      ])
      .where('succeeded', '=', 1)
      .groupBy('trade_no')
      .execute();
    return new Map(rows.map((r) => [r.trade_no, { fen: Number(r.fen), count: Number(r.n) }]));
  };
  async function withServer<T>(fn: (server: AlirefundServer) => Promise<T>): Promise<T> {
    const server = await createServer({
      settings: parseServerEnv(env),
      database: serverDb,
      console: false,
      background: false,
    });
    try {
      return await fn(server);
    } finally {
      await server.close();
    }
  }
  return {
    dir,
    sandbox,
    sandboxDb,
    sandboxUrl: http.url,
    env,
    serverDbUrl,
    withServer,
    async addTrades(trades) {
      for (let i = 0; i < trades.length; i += 5000) {
        await sandbox.seed({
          trades: trades.slice(i, i + 5000).map((t) => ({
            tradeNo: t.tradeNo,
            partner: PARTNER,
            amount: formatYuan(t.amountFen),
            status: t.status ?? 'TRADE_SUCCESS',
          })),
        });
      }
      await withServer(async (server) => {
        for (let i = 0; i < trades.length; i += 5000) {
          const reg = await server.services.trades.register(
            trades.slice(i, i + 5000).map((t) => ({ tradeNo: t.tradeNo, amountFen: t.amountFen })),
            'test',
          );
          if (reg.issues.length > 0) throw new Error(`register: ${reg.issues[0]!.message}`);
        }
      });
    },
    sandboxRefunds,
    async serverRefunds() {
      const rows = await serverDb.db
        .selectFrom('srv_trades')
        .select(['trade_no', 'refunded_fen', 'refund_count', 'open_batch_no'])
        .execute();
      return new Map(
        rows.map((r) => [
          r.trade_no,
          { fen: Number(r.refunded_fen), count: Number(r.refund_count), open: r.open_batch_no },
        ]),
      );
    },
    async sandboxBatches() {
      return (await sandboxDb.db
        .selectFrom('sbx_batches')
        .select(['batch_no', 'status'])
        .execute()) as Array<{
        batch_no: string;
        status: string;
      }>;
    },
    async serverBatches() {
      const rows = await serverDb.db
        .selectFrom('srv_batches')
        .select(['batch_no', 'state', 'success_num', 'created_by'])
        .execute();
      return new Map(
        rows.map((r) => [
          r.batch_no,
          {
            state: r.state,
            successNum: r.success_num === null ? null : Number(r.success_num),
            createdBy: r.created_by,
          },
        ]),
      );
    },
    async close() {
      await http.close();
      await sandbox.close();
      await sandboxDb.close();
      await serverDb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CSV text for refunds of the given trades. */
export function refundCsv(rows: ReadonlyArray<{ tradeNo: string; amount: string; reason: string }>): string {
  return `trade_no,amount,reason\n${rows.map((r) => `${r.tradeNo},${r.amount},${r.reason}`).join('\n')}\n`;
}

/** The rows of a run's report CSV (after its BOM), by column name (the test files have no quoted fields). */
export function reportRows(path: string): Array<Record<string, string>> {
  const [head, ...lines] = readFileSync(path, 'utf8')
    .replace(/^\uFEFF/, '')
    .trimEnd()
    .split('\n');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
}

/**
 * Both ledgers, trade by trade: each trade of `nos` refunded exactly once with `fenOf(i)` fen (0: not refunded at
 * all), the same in the sandbox and in the merchant database, and none left in an open batch.
 */
export async function expectRefundedOnce(
  h: BulkHarness,
  nos: readonly string[],
  fenOf: (i: number) => number,
): Promise<void> {
  const sbx = await h.sandboxRefunds();
  const srv = await h.serverRefunds();
  for (const [i, no] of nos.entries()) {
    const fen = fenOf(i);
    const want = fen === 0 ? { fen: 0, count: 0 } : { fen, count: 1 };
    expect(sbx.get(no) ?? { fen: 0, count: 0 }).toEqual(want);
    expect(srv.get(no)).toEqual({ ...want, open: null });
  }
}

/** What a browser does with a pwd form page: posts its hidden inputs to the gateway, then confirms the password. */
export async function confirmPwdForm(formHtml: string, sandboxUrl: string): Promise<void> {
  const action = /<form[^>]*action="([^"]+)"/.exec(formHtml)?.[1]?.replace(/&amp;/g, '&');
  if (!action) throw new Error('no form action in the pwd page');
  const unhtml = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const params = new URLSearchParams();
  for (const m of formHtml.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/>/g))
    params.append(unhtml(m[1]!), unhtml(m[2]!));
  const page = await fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params.toString(),
  });
  const html = await page.text();
  const token = /name="token" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`no confirmation page: ${html.slice(0, 300)}`);
  const confirm = await fetch(`${sandboxUrl}/pwd/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: sandboxUrl, referer: action },
    body: new URLSearchParams({
      partner: PARTNER,
      batch_no: params.get('batch_no') ?? '',
      token,
      email: EMAIL,
      password: PASSWORD,
    }),
  });
  const body = await confirm.text();
  if (confirm.status !== 200) throw new Error(`confirm answered ${confirm.status}: ${body.slice(0, 300)}`);
}

/**
 * What an operator does during `refund --mode pwd --serve`: until `run` ends, opens each batch page the run
 * announces on `io.err` (`open http://…/bulk/pwd/N in a browser`), expects it served (200) and confirms its form,
 * once per batch. Resolves to the batch numbers (N) confirmed.
 */
export async function confirmServedPwdPages(
  run: Promise<unknown>,
  io: { readonly err: string },
  sandboxUrl: string,
): Promise<Set<string>> {
  let finished = false;
  void run.finally(() => {
    finished = true;
  });
  const confirmed = new Set<string>();
  while (!finished) {
    for (const m of io.err.matchAll(/open (http:\/\/\S+\/bulk\/pwd\/(\d+)) in a browser/g)) {
      if (confirmed.has(m[2]!)) continue;
      confirmed.add(m[2]!);
      const page = await fetch(m[1]!);
      expect(page.status).toBe(200);
      await confirmPwdForm(await page.text(), sandboxUrl);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return confirmed;
}

/** GET on the sandbox's admin API (`/sandbox/api` + `path`), as JSON. */
export async function sandboxApi<T>(sandboxUrl: string, path: string): Promise<T> {
  const res = await fetch(`${sandboxUrl}/sandbox/api${path}`);
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** Sets (an object) or clears (null) the sandbox's fault injection. */
export async function setFaults(sandboxUrl: string, body: object | null): Promise<void> {
  const res = await fetch(`${sandboxUrl}/sandbox/api/faults`, {
    method: body === null ? 'DELETE' : 'PUT',
    headers: { 'content-type': 'application/json' },
    ...(body === null ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`faults answered ${res.status}: ${await res.text()}`);
}

/** Polls `check` until it returns a value other than undefined/false; throws with `what()` after `ms`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: () => string,
  ms = 20_000,
): Promise<Exclude<T, false | undefined>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v as Exclude<T, false | undefined>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The CLI's bin, for tests that run `alirefund` as a real child process. */
export const CLI_BIN = resolve(fileURLToPath(import.meta.url), '../../bin/alirefund.js');

export interface CliProcess {
  child: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  readonly out: string;
  readonly err: string;
  /** Resolves with the exit code, or `signal:NAME` when a signal ended it. */
  exited: Promise<number | string>;
  /** Waits until stderr (from `from` on) matches `re`; returns the match. */
  waitForErr(re: RegExp, opts?: { from?: number; ms?: number }): Promise<RegExpExecArray>;
  /** Waits until stdout matches `re`; returns the match. */
  waitForOut(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** SIGKILL if still running, and waits for the exit. */
  kill(): Promise<void>;
}

/** Runs `alirefund ARGS` as a child process with `env` added to this process's environment. */
export function spawnCli(args: readonly string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  let done = false;
  const exited = new Promise<number | string>((r) =>
    child.once('exit', (code, signal) => {
      done = true;
      r(signal ? `signal:${signal}` : (code ?? -1));
    }),
  );
  const describe = () => `\n--- stdout:\n${out}\n--- stderr:\n${err}`;
  return {
    child,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
    exited,
    waitForErr(re, opts = {}) {
      return waitFor(
        () =>
          re.exec(err.slice(opts.from ?? 0)) ??
          (done ? Promise.reject(new Error(`exited before ${re}${describe()}`)) : undefined),
        () => `${re} on stderr${describe()}`,
        opts.ms,
      );
    },
    waitForOut(re, ms) {
      return waitFor(
        () =>
          re.exec(out) ?? (done ? Promise.reject(new Error(`exited before ${re}${describe()}`)) : undefined),
        () => `${re} on stdout${describe()}`,
        ms,
      );
    },
    async kill() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The sandbox's ledger balances: every transaction balanced, balances match the entries, no money made or lost. */
export async function expectLedgerBalanced(sandboxUrl: string): Promise<void> {
  expect(await sandboxLedger(sandboxUrl)).toMatchObject({
    sumFen: 0,
    unbalancedTxns: [],
    balancesMatchEntries: true,
  });
}

/** The sandbox's ledger check (`/sandbox/api/ledger`): every transaction balanced, balances match the entries. */
export async function sandboxLedger(
  sandboxUrl: string,
): Promise<{ sumFen: number; unbalancedTxns: unknown[]; balancesMatchEntries: boolean }> {
  const res = await fetch(`${sandboxUrl}/sandbox/api/ledger`);
  if (!res.ok) throw new Error(`ledger answered ${res.status}`);
  return (await res.json()) as { sumFen: number; unbalancedTxns: unknown[]; balancesMatchEntries: boolean };
}
