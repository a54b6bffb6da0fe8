/**
 * Bulk refunds end to end (issues 5 and 11): 100,000 refund lines through `alirefund refund` against the
 * sandbox, on SQLite.
 *
 *   npx tsx bench/bulk.bench.ts                 # 100,000 lines, batches of 1000
 *   BENCH_LINES=10000 npx tsx bench/bulk.bench.ts
 *   BENCH_CLI_STDERR=/tmp/cli.err …                     # keep the CLI's stderr (progress lines, logs)
 *   BENCH_PROF=/tmp/prof npx tsx bench/bulk.bench.ts   # .cpuprofiles in /tmp/prof/{cli,sandbox}/ (one per thread)
 *
 * Setup (not timed): the sandbox runs in a child process (SQLite file, notify schedule 0,200ms,…) seeded with the
 * paid trades; the same trades are registered in the merchant database (SQLite file); the CSV is written.
 * Timed: the CLI as a real child process (`node packages/cli/bin/alirefund.js refund --file … --serve
 * --batch-size 1000 --json`), from spawn to exit: read + validate the whole file (SDK rules, duplicates, balances
 * from the store), persist the 100 batches, submit them one at a time (nopwd), the sandbox processes each and
 * notifies, the CLI's notify endpoint verifies (notify_verify) and applies each notification, and the report is
 * written. Its peak RSS is read from the child itself (process.resourceUsage().maxRSS at exit).
 * The floor: the same 100,000 rows inserted into a SQLite table alone (better-sqlite3, one prepared statement,
 * one transaction).
 * Targets (issue 11): ≤ 10 s wall time on a quiet machine, peak RSS < 200 MB (issue 5's were < 30 s, < 300 MB);
 * the ratio to the floor is reported. The load average before and after the run is printed beside them.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatYuan } from '@alirefund/protocol';
import { createSandbox } from '@alirefund/sandbox';
import { createServer, parseServerEnv, type ServerDB } from '@alirefund/server';
import { openDatabase } from '@alirefund/store';
import { serve } from '@hono/node-server';
import Sqlite from 'better-sqlite3';

const LINES = Number(process.env['BENCH_LINES'] ?? 100_000);
/** A directory for `--cpu-prof` profiles of the CLI and sandbox processes (off by default). */
const PROF = process.env['BENCH_PROF'] ? resolve(process.env['BENCH_PROF']) : null;
const profArgs = (name: string) =>
  PROF === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(PROF, name)}`];
const BATCH = 1000;
const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(SELF, '../..');
const PARTNER = '2088101122136241';
const KEY = '760bdzec6y9goq7ctyx96ezkz78287de';
const EMAIL = 'seller@example.com';

const tradeNo = (i: number) => `2026050100000${String(i + 1).padStart(15, '0')}`;
const amountFen = (i: number) => 1000 + (i % 50) * 10;
const refundFen = (i: number) => 100 + (i % 7) * 25;

// ------------------------------------------------------------------------------------------ sandbox child

/** The sandbox tables the checks read. */
interface SandboxTables {
  sbx_batch_records: { trade_no: string; amount_fen: number; succeeded: number };
  sbx_batches: { batch_no: string };
}

async function sandboxMain(): Promise<void> {
  const dir = process.argv[3]!;
  const database = await openDatabase<SandboxTables>(join(dir, 'sandbox.sqlite'));
  const sandbox = await createSandbox({
    database,
    notifySchedule: [0, 200, 500, 1000, 2000, 5000, 10_000, 30_000],
    pollMs: 20,
  });
  await sandbox.seed({
    partners: [
      {
        partner: PARTNER,
        key: KEY,
        email: EMAIL,
        paymentPassword: 'pay-123456',
        balance: '100000000.00',
        services: [
          'refund_fastpay_by_platform_pwd',
          'refund_fastpay_by_platform_nopwd',
          'refund_fastpay_query',
        ],
      },
    ],
  });
  for (let i = 0; i < LINES; i += 5000) {
    const n = Math.min(5000, LINES - i);
    await sandbox.seed({
      trades: Array.from({ length: n }, (_, k) => ({
        tradeNo: tradeNo(i + k),
        partner: PARTNER,
        amount: formatYuan(amountFen(i + k)),
        status: 'TRADE_SUCCESS',
      })),
    });
  }
  const server = serve({ fetch: sandbox.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
    process.send!({ url: `http://127.0.0.1:${info.port}` });
  });
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd === 'ledger') {
      const rows = await database.db
        .selectFrom('sbx_batch_records')
        .select((eb) => [
          eb.fn.countAll<number>().as('n'),
          eb.fn.count<number>('trade_no').distinct().as('trades'),
          eb.fn.sum<number>('amount_fen').as('fen'),
        ])
        .where('succeeded', '=', 1)
        .executeTakeFirstOrThrow();
      const batches = await database.db
        .selectFrom('sbx_batches')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      process.send!({
        records: Number(rows.n),
        trades: Number(rows.trades),
        fen: Number(rows.fen),
        batches: Number(batches.n),
        rssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      });
    } else if (m.cmd === 'stop') {
      server.close();
      await sandbox.close();
      await database.close();
      process.exit(0);
    }
  });
}

// ------------------------------------------------------------------------------------------ bench

function ask<T>(child: ChildProcess, msg: object): Promise<T> {
  return new Promise((r) => {
    child.once('message', (m) => r(m as T));
    child.send(msg);
  });
}

async function freePort(): Promise<number> {
  const { createServer: net } = await import('node:net');
  return new Promise((r) => {
    const s = net();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
}

/** The floor: the same rows into SQLite alone. */
function sqliteFloor(dir: string): number {
  const db = new Sqlite(join(dir, 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'create table refunds (line integer primary key, trade_no text not null, amount_fen integer not null, reason text not null)',
  );
  const insert = db.prepare('insert into refunds (line, trade_no, amount_fen, reason) values (?, ?, ?, ?)');
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < LINES; i++) insert.run(i + 2, tradeNo(i), refundFen(i), '演出取消，全额退款');
  })();
  const ms = performance.now() - t0;
  db.close();
  return ms;
}

async function benchMain(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'alirefund-bulk-bench-'));
  try {
    const setup0 = performance.now();
    const sandbox = fork(SELF, ['sandbox', dir], {
      execArgv: ['--import', 'tsx', ...profArgs('sandbox')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = new Promise<{ url: string }>((r) =>
      sandbox.once('message', (m) => r(m as { url: string })),
    );
    const port = await freePort();
    const env: Record<string, string> = {
      ALIPAY_PARTNER: PARTNER,
      ALIPAY_KEY: KEY,
      ALIPAY_SELLER_EMAIL: EMAIL,
      ALIPAY_INPUT_CHARSET: 'utf-8',
      ALIREFUND_PUBLIC_URL: `http://127.0.0.1:${port}`,
      ALIREFUND_DATABASE_URL: join(dir, 'server.sqlite'),
      ALIREFUND_LOG_LEVEL: 'error',
      ALIPAY_GATEWAY: 'http://127.0.0.1:9/gateway.do',
    };
    // The merchant's paid trades.
    const serverDb = await openDatabase<ServerDB>(env['ALIREFUND_DATABASE_URL']!);
    const server = await createServer({
      settings: parseServerEnv(env),
      database: serverDb,
      console: false,
      background: false,
    });
    for (let i = 0; i < LINES; i += 5000) {
      const n = Math.min(5000, LINES - i);
      const reg = await server.services.trades.register(
        Array.from({ length: n }, (_, k) => ({ tradeNo: tradeNo(i + k), amountFen: amountFen(i + k) })),
        'bench',
      );
      if (reg.issues.length > 0) throw new Error(reg.issues[0]!.message);
    }
    await server.close();
    const file = join(dir, 'refunds.csv');
    const lines = ['trade_no,amount,reason'];
    for (let i = 0; i < LINES; i++)
      lines.push(`${tradeNo(i)},${formatYuan(refundFen(i))},演出取消，全额退款`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    // The IPC channel alone does not keep this process alive while the child seeds.
    const keepAlive = setInterval(() => {}, 1000);
    const { url } = await ready;
    env['ALIPAY_GATEWAY'] = `${url}/gateway.do`;
    const setupMs = performance.now() - setup0;

    // The timed part: the CLI, a real process.
    const rssHook = `data:text/javascript,process.on("exit",()=>process.stderr.write("\\nMAXRSS_KB "+process.resourceUsage().maxRSS+"\\n"))`;
    const load0 = loadavg()[0]!;
    const t0 = performance.now();
    const cli = spawn(
      process.execPath,
      [
        ...profArgs('cli'),
        '--import',
        rssHook,
        join(ROOT, 'packages/cli/bin/alirefund.js'),
        'refund',
        '--file',
        file,
        '--serve',
        '--batch-size',
        String(BATCH),
        '--json',
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    cli.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    cli.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((r) => cli.once('exit', (c) => r(c)));
    const wallMs = performance.now() - t0;
    const rssKb = Number(/MAXRSS_KB (\d+)/.exec(err)?.[1] ?? 0);
    if (process.env['BENCH_CLI_STDERR']) writeFileSync(process.env['BENCH_CLI_STDERR'], err);
    if (code !== 0) {
      console.error(err.slice(-4000));
      throw new Error(`the CLI exited with ${code}`);
    }
    const summary = JSON.parse(out) as {
      refunded: { lines: number; amount: string };
      batches: number;
      report: string;
      timings: Record<string, number>;
    };
    const phases = [
      ...err.matchAll(/^(run \w+: .*persisted before sending|receiving notifications .*)$/gm),
    ].map((m) => m[1]);

    // Checks: every trade refunded once on both sides.
    const sbx = await ask<{ records: number; trades: number; fen: number; batches: number; rssMb: number }>(
      sandbox,
      {
        cmd: 'ledger',
      },
    );
    const srv = await serverDb.db
      .selectFrom('srv_trades')
      .select((eb) => [
        eb.fn.sum<number>('refunded_fen').as('fen'),
        eb.fn.sum<number>('refund_count').as('refunds'),
        eb.fn.countAll<number>().as('n'),
      ])
      .executeTakeFirstOrThrow();
    await serverDb.close();
    const expectedFen = Array.from({ length: LINES }, (_, i) => refundFen(i)).reduce((a, b) => a + b, 0);
    const reportLines = readFileSync(summary.report, 'utf8').trimEnd().split('\n').length - 1;
    const gone = new Promise((r) => sandbox.once('exit', r));
    sandbox.send({ cmd: 'stop' });
    await gone;
    clearInterval(keepAlive);

    const floorMs = sqliteFloor(dir);
    const ok =
      summary.refunded.lines === LINES &&
      sbx.records === LINES &&
      sbx.trades === LINES &&
      sbx.fen === expectedFen &&
      Number(srv.fen) === expectedFen &&
      Number(srv.refunds) === LINES &&
      reportLines === LINES;
    console.log(`\n### Bulk refunds: ${LINES.toLocaleString('en')} lines end to end\n`);
    console.log(
      `setup (not timed: sandbox child seeded, trades registered, CSV written): ${(setupMs / 1000).toFixed(1)} s`,
    );
    for (const p of phases) console.log(`cli: ${p}`);
    console.log('');
    console.log('| measure | value |');
    console.log('|---|---:|');
    console.log(`| lines / batches | ${LINES} / ${summary.batches} |`);
    console.log(`| wall time, CLI spawn → exit | ${(wallMs / 1000).toFixed(2)} s |`);
    console.log(`| lines/s | ${Math.round(LINES / (wallMs / 1000))} |`);
    console.log(`| peak RSS, CLI process | ${Math.round(rssKb / 1024)} MB |`);
    console.log(`| peak RSS, sandbox process | ${sbx.rssMb} MB |`);
    const t = summary.timings;
    console.log(
      `| in the CLI: validate / persist batches / submit→notify→apply / report | ${[t['validateMs'], t['createMs'], t['submitMs'], t['reportMs']].map((ms) => `${((ms ?? 0) / 1000).toFixed(2)} s`).join(' / ')} |`,
    );
    console.log(`| floor: same rows into SQLite alone | ${floorMs.toFixed(0)} ms |`);
    console.log(`| ratio to the floor | ${(wallMs / floorMs).toFixed(0)}× |`);
    console.log(
      `| refunded (CLI / sandbox / merchant DB) | ${summary.refunded.lines} / ${sbx.records} / ${Number(srv.refunds)} (${summary.refunded.amount} yuan) |`,
    );
    console.log(`| report lines | ${reportLines} |`);
    console.log(`| every trade refunded exactly once, ledgers agree | ${ok ? 'yes' : 'NO'} |`);
    console.log(
      `| load average (1 min) before / after | ${load0.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} |`,
    );
    const fast = wallMs <= 10_000;
    const small = rssKb < 200 * 1024;
    console.log(
      `| targets (≤ 10 s on a quiet machine, < 200 MB) | ${fast && small ? 'met' : `NOT met (${[fast ? '' : 'time', small ? '' : 'RSS'].filter(Boolean).join(', ')})`} |`,
    );
    if (!ok) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'sandbox') await sandboxMain();
else await benchMain();
