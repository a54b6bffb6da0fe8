/**
 * Notification throughput of the merchant server (issues 4 and 11).
 *
 *   npx tsx bench/server.bench.ts            # 2,000 batches × 50 records, each delivered 3 times, concurrency 64
 *   BENCH_BATCHES=200 npx tsx bench/server.bench.ts   # a quick run (BENCH_QUICK=1 is the same)
 *   BENCH_PG=off …                                     # SQLite only (BENCH_SQLITE=off: PostgreSQL only)
 *   BENCH_PROF=dir …                                   # write a .cpuprofile of every server process into dir
 *   BENCH_CHECKPOINTS=off …                            # SQLite checkpoints inline (no background worker), to compare
 *   BENCH_NODE_ROUTE=off …                             # every request through Hono (no server.nodeRoute), to compare
 *   BENCH_MEM=1 …                                      # print each server's memory (V8 spaces, RssAnon/File) at its peak
 *   BENCH_FLOOR=off …                                  # skip the apply floor (second SQLite baseline)
 *
 * Per phase: a real sandbox (in this process, its own SQLite file) accepts 2,000 nopwd batches of 50 records that
 * the server created, processes them and puts their batch_refund_notify in its outbox (not sent: the first send is
 * due in 24 h). The bench signs each outbox notification exactly as the sandbox's dispatcher does and delivers it
 * 3 times, shuffled, 64 at a time, to the server running in a child process (its own RSS); the server verifies
 * every first copy with the sandbox's notify_verify over loopback. Afterwards the database is checked for double
 * applications. The same deliveries go first to a bare node:http server (the ceiling; BENCH_BARE=off skips it)
 * and to the minimal server of issue 11 (the baseline: node:http, URLSearchParams, MD5 sign check, one
 * better-sqlite3 row per delivery in a WAL transaction), each a child process of this one. In the SQLite phase a
 * second baseline, the apply floor, runs right after the minimal server: a plain node:http + better-sqlite3 server
 * doing only the unavoidable work of applying a batch notification (sign check, notify_verify for a batch not yet
 * applied, one transaction with the exactly-once guard, the notification row and one UPDATE per record and trade)
 * on a byte copy of the server's prepared database, checked like the server's. The last tables give each server
 * row's ratios to the minimal server measured right before it and, for SQLite, to the apply floor (CPU per
 * applied notification, applied/s, p99, peak RSS). Children run with plain node on the compiled packages
 * (bench/server-child.mjs): build first (`npm run build`).
 *
 * Phases: bare node:http; SQLite (one server); PostgreSQL (two server processes on one throwaway cluster,
 * deliveries alternating between them). Set BENCH_PG=off to skip PostgreSQL.
 *
 * Every row also gives the CPU time the server process(es) and this process (load generator, and the sandbox
 * answering notify_verify) spent during the load: on a small machine they compete for the same cores.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildRefundRequest,
  type Charset,
  createConfig,
  formatBeijing,
  sendNopwdRequest,
  signNotification,
} from '@alirefund/protocol';
import { createSandbox } from '@alirefund/sandbox';
import { type Database, openDatabase } from '@alirefund/store';
import { startThrowawayPostgres } from '@alirefund/store/testing';
import { createServer, makeSettings, type ServerDB } from '@alirefund/server';
import { serve } from '@hono/node-server';
import Sqlite from 'better-sqlite3';

const BATCHES = Number(process.env['BENCH_BATCHES'] ?? (process.env['BENCH_QUICK'] ? 200 : 2000));
const RECORDS = 50;
const COPIES = 3;
const CONCURRENCY = 64;
const PARTNER = '2088101122136241';
const KEY = 'abcdefghijklmnopqrstuvwxyz012345';

// ---------------------------------------------------------------------------------------------- children

/** The child roles (bare, minimal, apply-floor, server) live in server-child.mjs, run with plain node on dist/. */
const CHILD = fileURLToPath(new URL('./server-child.mjs', import.meta.url));

interface Child {
  url: string;
  proc: ChildProcess;
  ask<T>(cmd: string, key: string): Promise<T>;
}

async function startChild(role: string, env: Record<string, string> = {}): Promise<Child> {
  const proc = fork(CHILD, [], {
    execArgv: [
      ...(process.env['BENCH_PROF'] && role !== 'bare'
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROF']}/${role}`]
        : []),
    ],
    env: { ...process.env, BENCH_ROLE: role, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('message', (m: { port: number }) => resolve(m.port));
    proc.once('exit', (code) => reject(new Error(`${role} child exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/alipay/notify`,
    proc,
    ask<T>(cmd: string, key: string) {
      return new Promise<T>((resolve) => {
        const on = (m: Record<string, unknown>) => {
          if (key in m) {
            proc.off('message', on);
            resolve(m[key] as T);
          }
        };
        proc.on('message', on);
        proc.send({ cmd });
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------- load

interface LoadResult {
  elapsedMs: number;
  /** CPU time of this process (load generator + sandbox) during the load. */
  benchCpuMs: number;
  latencies: number[];
  /** Latencies of the deliveries after the first 2 × CONCURRENCY (those also wait for connections to be set up). */
  steadyLatencies: number[];
  answers: Record<string, number>;
}

/**
 * The load generator's client: node:http with keep-alive sockets (one per worker). It costs about a quarter of the
 * CPU of undici's `fetch` per request, and this process shares the two cores with the server under test.
 */
const loadAgent = new HttpAgent({ keepAlive: true, maxSockets: CONCURRENCY });
function post(url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent: loadAgent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve(text));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function load(urls: string[], bodies: string[]): Promise<LoadResult> {
  const latencies: number[] = [];
  const steadyLatencies: number[] = [];
  const answers: Record<string, number> = {};
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= bodies.length) return;
      const started = performance.now();
      let text: string;
      try {
        text = await post(urls[i % urls.length]!, bodies[i]!);
      } catch (e) {
        text = `error: ${(e as Error).message}`;
      }
      latencies.push(performance.now() - started);
      if (i >= 2 * CONCURRENCY) steadyLatencies.push(performance.now() - started);
      answers[text] = (answers[text] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { elapsedMs, benchCpuMs: (cpu.user + cpu.system) / 1000, latencies, steadyLatencies, answers };
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** Deterministic shuffle (mulberry32), so runs are comparable. */
function shuffle<T>(items: T[], seed = 42): T[] {
  let a = seed;
  const rand = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

// ---------------------------------------------------------------------------------------------- preparation

interface Prepared {
  bodies: string[];
  gateway: string;
  close(): Promise<void>;
}

/**
 * Creates BATCHES×RECORDS trades on both sides, the server's batches, submits them to the sandbox (which
 * processes them and queues their notifications), and builds the signed notification bodies.
 */
async function prepare(serverDb: Database<ServerDB>, dir: string, label: string): Promise<Prepared> {
  const t0 = performance.now();
  const sandboxDb = await openDatabase(join(dir, `sandbox-${label}.db`));
  const sandbox = await createSandbox({
    database: sandboxDb,
    notifySchedule: [86_400_000],
    autoDispatch: false,
  });
  const sHttp = await new Promise<{ url: string; server: Server }>((resolve) => {
    const s = serve({ fetch: sandbox.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({ url: `http://127.0.0.1:${info.port}`, server: s as Server }),
    );
  });
  const gateway = `${sHttp.url}/gateway.do`;
  const config = createConfig({ partner: PARTNER, key: KEY, gateway });
  const server = await createServer({
    settings: makeSettings({ alipay: config, publicUrl: 'http://127.0.0.1:1' }),
    database: serverDb,
    background: false,
    console: false,
  });
  const partner = {
    partner: PARTNER,
    key: KEY,
    email: 'seller@example.com',
    paymentPassword: 'pay-123456',
    balance: '100000000.00',
    services: ['refund_fastpay_by_platform_nopwd'],
  };
  const total = BATCHES * RECORDS;
  const tradeNos = Array.from({ length: total }, (_, i) => `2025${String(i + 1).padStart(12, '0')}`);
  for (let i = 0; i < total; i += 5000) {
    const chunk = tradeNos.slice(i, i + 5000);
    await sandbox.seed({
      partners: [partner],
      accounts: [],
      trades: chunk.map((tradeNo) => ({
        tradeNo,
        partner: PARTNER,
        amount: '10.00',
        status: 'TRADE_SUCCESS',
      })),
    });
    const reg = await server.services.trades.register(
      chunk.map((tradeNo) => ({ tradeNo, amountFen: 1000 })),
      'bench',
    );
    if (reg.issues.length > 0) throw new Error(`register: ${reg.issues[0]!.message}`);
  }
  const batches: Array<{ batchNo: string; refundDate: string; detailData: string }> = [];
  for (let i = 0; i < total; i += 2500) {
    const res = await server.services.refunds.createBatches(
      tradeNos.slice(i, i + 2500).map((tradeNo) => ({ tradeNo, amountFen: 100, reason: '协商退款' })),
      { mode: 'nopwd', actor: 'bench', queue: false, batchSize: RECORDS },
    );
    if (res.issues.length > 0) throw new Error(`createBatches: ${res.issues[0]!.message}`);
    batches.push(...res.batches);
  }
  const tSubmit = performance.now();
  for (const b of batches) {
    const req = buildRefundRequest(config, {
      mode: 'nopwd',
      batchNo: b.batchNo,
      refundDate: b.refundDate,
      detail: b.detailData,
      notifyUrl: server.settings.notifyUrl,
    });
    const answer = await sendNopwdRequest(req);
    if (answer.status !== 'accepted')
      throw new Error(`sandbox refused ${b.batchNo}: ${JSON.stringify(answer)}`);
    await sandbox.dispatcher.runDue(); // process it now, so that the next one does not meet the batch lock
  }
  await serverDb.db
    .updateTable('srv_batches')
    .set({ state: 'accepted' })
    .where('state', '=', 'draft')
    .execute();
  await server.close();
  // biome-ignore lint/suspicious/noExplicitAny: the sandbox's outbox table, read as the dispatcher does.
  const outbox = await (sandboxDb.db as any)
    .selectFrom('sbx_notifications')
    .select(['notify_id', 'params_json', 'charset'])
    .where('kind', '=', 'batch_refund_notify')
    .execute();
  if (outbox.length !== BATCHES)
    throw new Error(`expected ${BATCHES} notifications in the outbox, got ${outbox.length}`);
  const notes = (outbox as Array<{ notify_id: string; params_json: string; charset: string }>).map((n) => {
    const params = {
      notify_time: formatBeijing(Date.now()),
      notify_id: n.notify_id,
      ...JSON.parse(n.params_json),
    };
    return signNotification(params, { signType: 'MD5', key: KEY }, n.charset as Charset).body;
  });
  const bodies = shuffle(notes.flatMap((b) => Array.from({ length: COPIES }, () => b)));
  console.log(
    `  prepared ${label}: ${total} trades, ${BATCHES} batches accepted and processed by the sandbox ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s, of which submission ${((performance.now() - tSubmit) / 1000).toFixed(1)} s)`,
  );
  return {
    bodies,
    gateway,
    async close() {
      sHttp.server.closeAllConnections();
      await new Promise<void>((r) => sHttp.server.close(() => r()));
      await sandbox.close();
      await sandboxDb.close();
    },
  };
}

interface Verified {
  applied: number;
  doubleApplications: number;
  tradesRefundedTwice: number;
  refundedFen: number;
  expectedFen: number;
  verdicts: Record<string, number>;
}

async function verify(db: Database<ServerDB>): Promise<Verified> {
  const doubles = await db.db
    .selectFrom('srv_notifications')
    .select('batch_no')
    .where('verdict', '=', 'accepted')
    .where('kind', '=', 'batch_refund_notify')
    .groupBy('batch_no')
    .having((eb) => eb.fn.countAll(), '>', 1)
    .execute();
  const applied = await db.db
    .selectFrom('srv_batches')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('applied_at', 'is not', null)
    .executeTakeFirstOrThrow();
  const twice = await db.db
    .selectFrom('srv_trades')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('refund_count', '>', 1)
    .executeTakeFirstOrThrow();
  const sum = await db.db
    .selectFrom('srv_trades')
    .select((eb) => eb.fn.sum<number>('refunded_fen').as('s'))
    .executeTakeFirstOrThrow();
  const verdicts: Record<string, number> = {};
  for (const v of await db.db
    .selectFrom('srv_notifications')
    .select(['verdict', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('verdict')
    .execute()) {
    verdicts[v.verdict] = Number(v.n);
  }
  return {
    applied: Number(applied.n),
    doubleApplications: doubles.length,
    tradesRefundedTwice: Number(twice.n),
    refundedFen: Number(sum.s ?? 0),
    expectedFen: BATCHES * RECORDS * 100,
    verdicts,
  };
}

interface Row {
  name: string;
  deliveries: number;
  elapsedMs: number;
  appliedPerSec: number | null;
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  /** p99 and maximum without the first 2 × CONCURRENCY deliveries. */
  steadyP99: number;
  maxMs: number;
  peakRssMb: number;
  /** CPU seconds of the server process(es) and of this process during the load. */
  serverCpuS: number;
  benchCpuS: number;
  answers: Record<string, number>;
  verified?: Verified;
  /** Notifications applied (distinct ones stored, for the minimal server). */
  applied?: number;
}

/** Server CPU per applied notification, in ms. */
function cpuPerApplied(r: Row): number {
  const applied = r.verified?.applied ?? r.applied ?? 0;
  return applied > 0 ? (r.serverCpuS * 1000) / applied : Number.NaN;
}

/**
 * Each server row against a baseline measured right before it (the minimal server, or the apply floor), with the
 * issue 11 targets.
 */
function printRatios(pairs: Array<[Row, Row]>, against = 'minimal server'): void {
  if (pairs.length === 0) return;
  console.log(`\n| vs ${against} | CPU/applied (ms) | applied/s | p99 (ms) | peak RSS (MB) |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const [r, base] of pairs) {
    const cpu = cpuPerApplied(r);
    const baseCpu = cpuPerApplied(base);
    console.log(
      `| ${r.name} | ${cpu.toFixed(2)} vs ${baseCpu.toFixed(2)} = **${(cpu / baseCpu).toFixed(2)}×** (≤ 1.5×) | ${(r.appliedPerSec ?? 0).toFixed(0)} vs ${(base.appliedPerSec ?? 0).toFixed(0)} = **${((r.appliedPerSec ?? 0) / (base.appliedPerSec ?? 1)).toFixed(2)}×** (≥ 0.7×) | ${r.p99.toFixed(0)} vs ${base.p99.toFixed(0)} = **${(r.p99 / base.p99).toFixed(2)}×** (≤ 1.5×) | ${r.peakRssMb.toFixed(0)} vs ${base.peakRssMb.toFixed(0)} (≤ 120) |`,
    );
  }
}

/** Peak RSS (max over processes) and CPU time (sum) of the children, then stops them. */
async function finish(children: Child[]): Promise<{ peakRss: number; cpuMs: number }> {
  let peakRss = 0;
  let cpuMs = 0;
  for (const c of children) {
    peakRss = Math.max(peakRss, await c.ask<number>('stats', 'peakRss'));
    cpuMs += await c.ask<number>('cpu', 'cpuMs');
  }
  for (const c of children) await c.ask('stop', 'stopped');
  return { peakRss, cpuMs };
}

function row(
  name: string,
  r: LoadResult,
  children: { peakRss: number; cpuMs: number },
  verified?: Verified,
): Row {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  return {
    name,
    deliveries: r.latencies.length,
    elapsedMs: r.elapsedMs,
    appliedPerSec: verified ? verified.applied / (r.elapsedMs / 1000) : null,
    deliveriesPerSec: r.latencies.length / (r.elapsedMs / 1000),
    p50: pct(sorted, 0.5),
    p99: pct(sorted, 0.99),
    steadyP99: pct(
      [...r.steadyLatencies].sort((a, b) => a - b),
      0.99,
    ),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    peakRssMb: children.peakRss / 1048576,
    serverCpuS: children.cpuMs / 1000,
    benchCpuS: r.benchCpuMs / 1000,
    answers: r.answers,
    ...(verified ? { verified } : {}),
  };
}

function print(rows: Row[]): void {
  console.log(
    '\n| run | deliveries | time (s) | applied/s | deliveries/s | p50 (ms) | p99 (ms) | double applications | peak RSS per process (MB) | CPU s: server(s) / bench |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.deliveries} | ${(r.elapsedMs / 1000).toFixed(2)} | ${r.appliedPerSec === null ? '—' : r.appliedPerSec.toFixed(0)} | ${r.deliveriesPerSec.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.verified ? r.verified.doubleApplications : '—'} | ${r.peakRssMb.toFixed(0)} | ${r.serverCpuS.toFixed(1)} / ${r.benchCpuS.toFixed(1)} |`,
    );
  }
  for (const r of rows) {
    console.log(
      `  ${r.name}: p99 without the first ${2 * CONCURRENCY} deliveries ${r.steadyP99.toFixed(1)} ms; slowest ${r.maxMs.toFixed(1)} ms`,
    );
  }
  for (const r of rows) {
    if (!r.verified) continue;
    const v = r.verified;
    console.log(
      `  ${r.name}: answers ${JSON.stringify(r.answers)}; verdicts ${JSON.stringify(v.verdicts)}; batches applied ${v.applied}/${BATCHES}; trades refunded twice ${v.tradesRefundedTwice}; refunded ${v.refundedFen} fen (expected ${v.expectedFen})`,
    );
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const ratios: Array<[Row, Row]> = [];
  const floorRatios: Array<[Row, Row]> = [];
  const dir = mkdtempSync(join(tmpdir(), 'alirefund-bench-'));
  console.log(
    `server notification benchmark: ${BATCHES} batches × ${RECORDS} records, ${COPIES} deliveries each, concurrency ${CONCURRENCY}`,
  );
  try {
    let ceilingDone = false;
    /**
     * The ceiling (a bare node:http child answering the same bodies) and the baseline (the minimal server), each
     * run right before the server under test with the same bodies.
     */
    const ceiling = async (bodies: string[]) => {
      if (!ceilingDone && process.env['BENCH_BARE'] !== 'off') {
        const bare = await startChild('bare');
        const bareRun = await load([bare.url], bodies);
        rows.push(row('bare node:http (ceiling)', bareRun, await finish([bare])));
      }
      ceilingDone = true;
      const minUrl = join(dir, `minimal-${rows.length}.db`);
      const min = await startChild('minimal', { BENCH_DB_URL: minUrl });
      const minRun = await load([min.url], bodies);
      const stats = await finish([min]);
      const check = new Sqlite(minUrl, { readonly: true });
      const applied = (check.prepare('select count(*) as n from min_notifications').get() as { n: number }).n;
      check.close();
      const minRow = row('minimal server (baseline)', minRun, stats);
      minRow.appliedPerSec = applied / (minRun.elapsedMs / 1000);
      minRow.applied = applied;
      rows.push(minRow);
      return minRow;
    };

    // ---- SQLite, one instance
    if (process.env['BENCH_SQLITE'] !== 'off') {
      const sqliteUrl = join(dir, 'server.db');
      const sqliteDb = await openDatabase<ServerDB>(sqliteUrl);
      const prepSqlite = await prepare(sqliteDb, dir, 'sqlite');
      await sqliteDb.close();
      // The apply floor works on a byte copy of the prepared database, taken before the server touches it.
      const floorUrl = join(dir, 'apply-floor.db');
      const runFloor = process.env['BENCH_FLOOR'] !== 'off';
      if (runFloor) {
        copyFileSync(sqliteUrl, floorUrl);
        // Closing checkpoints and removes the WAL; should one be left with frames in it, it goes along.
        const wal = `${sqliteUrl}-wal`;
        if (existsSync(wal) && statSync(wal).size > 0) {
          console.log(`  ${wal} left with ${statSync(wal).size} bytes: copied along`);
          copyFileSync(wal, `${floorUrl}-wal`);
        }
      }
      const baseSqlite = await ceiling(prepSqlite.bodies);
      let floorRow: Row | undefined;
      if (runFloor) {
        const floor = await startChild('apply-floor', {
          BENCH_DB_URL: floorUrl,
          BENCH_GATEWAY: prepSqlite.gateway,
        });
        const floorRun = await load([floor.url], prepSqlite.bodies);
        const floorStats = await finish([floor]);
        const floorCheck = await openDatabase<ServerDB>(floorUrl);
        floorRow = row('apply floor (baseline)', floorRun, floorStats, await verify(floorCheck));
        rows.push(floorRow);
        await floorCheck.close();
      }
      const one = await startChild('server', { BENCH_DB_URL: sqliteUrl, BENCH_GATEWAY: prepSqlite.gateway });
      const sqliteRun = await load([one.url], prepSqlite.bodies);
      const stats = await finish([one]);
      const check = await openDatabase<ServerDB>(sqliteUrl);
      const sqliteRow = row('SQLite, 1 server', sqliteRun, stats, await verify(check));
      rows.push(sqliteRow);
      ratios.push([sqliteRow, baseSqlite]);
      if (floorRow) floorRatios.push([sqliteRow, floorRow]);
      await check.close();
      await prepSqlite.close();
    }

    // ---- PostgreSQL, two instances
    if (process.env['BENCH_PG'] !== 'off') {
      const cluster = await startThrowawayPostgres();
      try {
        const pgDb = await openDatabase<ServerDB>(cluster.url);
        const prepPg = await prepare(pgDb, dir, 'postgres');
        await pgDb.close();
        const basePg = await ceiling(prepPg.bodies);
        const env = { BENCH_DB_URL: cluster.url, BENCH_GATEWAY: prepPg.gateway };
        const a = await startChild('server', env);
        const b = await startChild('server', env);
        const pgRun = await load([a.url, b.url], prepPg.bodies);
        const stats = await finish([a, b]);
        const pgCheck = await openDatabase<ServerDB>(cluster.url);
        const pgRow = row('PostgreSQL, 2 servers', pgRun, stats, await verify(pgCheck));
        rows.push(pgRow);
        ratios.push([pgRow, basePg]);
        await pgCheck.close();
        await prepPg.close();
      } finally {
        await cluster.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  print(rows);
  printRatios(ratios);
  printRatios(floorRatios, 'apply floor');
  const bad = rows.filter(
    (r) => r.verified && (r.verified.doubleApplications > 0 || r.verified.tradesRefundedTwice > 0),
  );
  if (bad.length > 0) {
    console.error('DOUBLE APPLICATIONS FOUND');
    process.exitCode = 1;
  }
}

await main();
