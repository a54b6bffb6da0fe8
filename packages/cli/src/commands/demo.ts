/**
 * `alirefund demo` (what `npm start` runs): the sandbox gateway and the merchant server in one
 * process, on embedded SQLite under ./.alirefund/, seeded with a partner, ~200 paid trades (some with
 * royalty), an operator and an API token.
 *
 * It prints, and writes to .alirefund/demo.env (mode 0600), the environment with which `alirefund refund`,
 * `reconcile` and `verify` work against it (same partner, key, gateway and database; the demo's server receives
 * the notifications), and a sample refund file (.alirefund/demo-refunds.csv). Trades imported in the console
 * (or the API) are also created in the sandbox, so that refunding them works; when that fails it says so.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { join, resolve } from 'node:path';
import { formatYuan } from '@alirefund/protocol';
import { createSandbox, type Sandbox } from '@alirefund/sandbox';
import { type AlirefundServer, createServer, parseServerEnv } from '@alirefund/server';
import { openDatabase } from '@alirefund/store';
import { DEMO_PARTNER, DEMO_SELLER_EMAIL, demoSeed, demoTrades } from '../demo-data.js';
import { CliError, type Io } from '../io.js';
import { createLogger, listen, parsePort, untilSignal } from '../runtime.js';

export interface DemoOptions {
  port: string;
  dir: string;
  reset?: boolean;
  /** For tests: return once everything listens, with a stop function, instead of waiting for a signal. */
  detach?: boolean;
}

interface DemoSecrets {
  key: string;
  adminPassword: string;
  apiToken: string;
  paymentPassword: string;
}

function randomText(bytes: number, alphabet = 'abcdefghijkmnpqrstuvwxyz23456789'): string {
  return [...randomBytes(bytes)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Secrets are made once and kept (mode 0600) so that a restart keeps the same logins. */
function loadSecrets(dir: string): DemoSecrets {
  const file = join(dir, 'demo-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoSecrets;
  const s: DemoSecrets = {
    key: randomText(32, 'abcdefghijklmnopqrstuvwxyz0123456789'),
    adminPassword: randomText(12),
    apiToken: `ar_${randomText(32)}`,
    paymentPassword: randomText(8, '0123456789'),
  };
  writeFileSync(file, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return s;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = netServer();
    s.once('error', () => r(false));
    s.listen(port, '127.0.0.1', () => s.close(() => r(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((r, j) => {
    const s = netServer();
    s.once('error', j);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
}

export interface RunningDemo {
  consoleUrl: string;
  gatewayUrl: string;
  secrets: DemoSecrets;
  /** The environment of `alirefund refund/reconcile/verify` against this demo (also in {@link envFile}). */
  env: Record<string, string>;
  envFile: string;
  /** A refund file of three demo trades. */
  sampleFile: string;
  stop(): Promise<void>;
}

export async function startDemo(opts: DemoOptions, io: Io): Promise<RunningDemo> {
  const dir = resolve(io.cwd, opts.dir);
  if (opts.reset) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const secrets = loadSecrets(dir);

  // The server's port is wanted (its URL is the notify_url); fall back to free ports when it is taken.
  const wanted = parsePort(opts.port);
  let port = wanted === 0 ? await freePort() : wanted;
  if (!(await portFree(port))) {
    const other = await freePort();
    io.stderr(`port ${port} is in use; using ${other} instead (choose one with --port)\n`);
    port = other;
  }
  let sbxPort = port + 1;
  if (sbxPort > 65535 || !(await portFree(sbxPort))) sbxPort = await freePort();
  const base = `http://127.0.0.1:${port}`;

  const log = createLogger(io.env['ALIREFUND_LOG_LEVEL'] ?? 'warn');
  const sandboxDb = await openDatabase(join(dir, 'sandbox.sqlite'));
  const serverDbUrl = join(dir, 'server.sqlite');
  const sandbox = await createSandbox({ database: sandboxDb, log: (e) => log.debug(e) });
  const trades = demoTrades();
  await sandbox.seed(
    demoSeed({
      key: secrets.key,
      paymentPassword: secrets.paymentPassword,
      tradeNotifyUrl: `${base}/alipay/trade-notify`,
      trades,
    }),
  );
  const sandboxHttp = await listen(sandbox.app, sbxPort);

  const settings = parseServerEnv({
    ALIPAY_PARTNER: DEMO_PARTNER,
    ALIPAY_KEY: secrets.key,
    ALIPAY_GATEWAY: `${sandboxHttp.url}/gateway.do`,
    ALIPAY_SELLER_EMAIL: DEMO_SELLER_EMAIL,
    ALIPAY_INPUT_CHARSET: 'utf-8',
    ALIREFUND_PUBLIC_URL: base,
    ALIREFUND_DATABASE_URL: serverDbUrl,
    ALIREFUND_API_TOKEN: secrets.apiToken,
    ALIREFUND_ADMIN_PASSWORD: secrets.adminPassword,
  });
  const server = await createServer({ settings, log });
  const reg = await server.services.trades.register(
    trades.map((t) => ({
      tradeNo: t.tradeNo,
      outTradeNo: t.outTradeNo,
      amountFen: t.amountFen,
      subject: t.subject,
      buyer: t.buyer,
      paidAt: t.paidAt,
      ...(t.royalty ? { royalties: [{ userId: t.royalty.userId, amountFen: t.royalty.amountFen }] } : {}),
    })),
    'demo',
  );
  if (reg.issues.length > 0)
    throw new CliError(`demo trades could not be registered: ${reg.issues[0]?.message ?? ''}`);
  mirrorImports(server, sandbox, io);
  const serverHttp = await listen(server.app, port, undefined, server.nodeRoute);

  const env: Record<string, string> = {
    ALIPAY_PARTNER: DEMO_PARTNER,
    ALIPAY_KEY: secrets.key,
    ALIPAY_GATEWAY: `${sandboxHttp.url}/gateway.do`,
    ALIPAY_SELLER_EMAIL: DEMO_SELLER_EMAIL,
    ALIPAY_INPUT_CHARSET: 'utf-8',
    ALIREFUND_PUBLIC_URL: base,
    ALIREFUND_DATABASE_URL: serverDbUrl,
  };
  const envFile = join(dir, 'demo.env');
  writeFileSync(envFile, envFileText(env), { mode: 0o600 });
  chmodSync(envFile, 0o600);
  const sampleFile = join(dir, 'demo-refunds.csv');
  const sample = trades.filter((t) => !t.royalty).slice(-3);
  writeFileSync(
    sampleFile,
    `trade_no,amount,reason\n${sample.map((t) => `${t.tradeNo},1.00,演示退款`).join('\n')}\n`,
  );

  return {
    consoleUrl: `${serverHttp.url}/`,
    gatewayUrl: `${sandboxHttp.url}/gateway.do`,
    secrets,
    env,
    envFile,
    sampleFile,
    async stop() {
      await serverHttp.close();
      await sandboxHttp.close();
      await server.close();
      await sandbox.close();
      await sandboxDb.close();
    },
  };
}

/** `export NAME='value'` lines, for `. .alirefund/demo.env` in sh, bash or zsh. */
export function envFileText(env: Record<string, string>): string {
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  return `# alirefund demo: the environment of alirefund refund / reconcile / verify against the running demo\n${Object.entries(
    env,
  )
    .map(([k, v]) => `export ${k}=${quote(v)}`)
    .join('\n')}\n`;
}

/**
 * Trades registered after the demo started (console import, API) are created in the sandbox too: without them
 * there, a refund fails with TRADE_NOT_EXISTS. Done by wrapping the trades service's `register` (which the CSV
 * import also goes through); a trade the sandbox refuses is reported on stderr, loudly.
 */
function mirrorImports(server: AlirefundServer, sandbox: Sandbox, io: Io): void {
  const trades = server.services.trades;
  const register = trades.register.bind(trades);
  trades.register = async (inputs, actor) => {
    const res = await register(inputs, actor);
    if (res.issues.length > 0 || res.created.length === 0) return res;
    try {
      await sandbox.seed({
        partners: [],
        accounts: [],
        trades: res.created.map((t) => ({
          tradeNo: t.tradeNo,
          partner: DEMO_PARTNER,
          ...(t.outTradeNo ? { outTradeNo: t.outTradeNo } : {}),
          amount: formatYuan(t.paidFen),
          status: 'TRADE_SUCCESS',
          ...(t.buyer?.includes('@') ? { buyerEmail: t.buyer } : {}),
        })),
      });
      io.stderr(`demo: ${res.created.length} imported trade(s) also created in the sandbox\n`);
    } catch (e) {
      const message = (e as Error).message.split('\n').slice(0, 3).join(' ');
      io.stderr(
        `\nWARNING demo: ${res.created.length} imported trade(s) are NOT in the sandbox (${message});\n` +
          `refunds of them will fail with TRADE_NOT_EXISTS. Add them with POST /sandbox/api/trades.\n\n`,
      );
      // Said on the console page (and in the API's answer) too, not only in this terminal.
      const notice = {
        code: 'SANDBOX_MIRROR_FAILED' as const,
        tradeNos: res.created.map((t) => t.tradeNo),
        message,
      };
      return { ...res, notices: [...(res.notices ?? []), notice] };
    }
    return res;
  };
}

export async function runDemo(opts: DemoOptions, io: Io): Promise<number> {
  const demo = await startDemo(opts, io);
  const lines = [
    '',
    'alirefund demo is running (sandbox gateway + merchant server, SQLite under ' + opts.dir + ')',
    '',
    `  console:   ${demo.consoleUrl}`,
    `  login:     admin / ${demo.secrets.adminPassword}`,
    `  API token: ${demo.secrets.apiToken}   (curl -H 'authorization: Bearer …' ${demo.consoleUrl}api/trades/…)`,
    `  gateway:   ${demo.gatewayUrl}   (sandbox state: ${demo.gatewayUrl.replace('/gateway.do', '/sandbox')})`,
    `  Alipay password page: email ${DEMO_SELLER_EMAIL}, payment password ${demo.secrets.paymentPassword}`,
    '',
    'Refund a few orders: log in, tick three trades, choose "pwd", submit, and confirm on the password page.',
    '',
    `From the command line (another terminal, same directory), with the environment in ${demo.envFile}:`,
    '',
    ...envFileText(demo.env)
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => `  ${l}`),
    '',
    `  . ${demo.envFile}`,
    `  alirefund refund --file ${demo.sampleFile}       # nopwd; the demo's server receives the notifications`,
    '  alirefund reconcile                 # ask the gateway about batches without an answer',
    '  alirefund verify --body captured.txt  # check a captured notification body with ALIPAY_KEY',
    '',
    `Faults (dropped notifications, SYSTEM_ERROR, a forced result code…): the buttons on ${demo.gatewayUrl.replace('/gateway.do', '/sandbox')}`,
    'Ctrl-C stops it; the data stays in ' + opts.dir + ' (--reset starts afresh).',
    '',
  ];
  io.stdout(lines.join('\n'));
  if (opts.detach) {
    await demo.stop();
    return 0;
  }
  await untilSignal();
  await demo.stop();
  return 0;
}
