/**
 * The sandbox gateway under load (issue 3's benchmark).
 *
 *   npx tsx bench/sandbox.bench.ts                     # SQLite (+ PostgreSQL when its binaries are installed)
 *   BENCH_PG=off BENCH_BATCHES=10 npx tsx bench/sandbox.bench.ts   # a quick SQLite-only run
 *
 * Per database, a sandbox runs in this process on a real socket. The merchant runs in a child process (so that its
 * clock is not held up by the sandbox's work): it submits with the SDK's sendNopwdRequest and receives the
 * notifications on its own node:http server, answering `success`. Phases:
 * 1. latency — BENCH_BATCHES (default 30) nopwd batches of 1000 records, one after another: the synchronous reply
 *    time (HTTP included) and the time from submission until the merchant has answered `success` to the batch's
 *    notification;
 * 2. sustained — 4 partners submit concurrently for BENCH_SECONDS (default 8), each waiting for its previous
 *    batch's acknowledgement (the batch lock allows one batch at a time per partner): batches/s and records/s;
 * 3. DB only — the statements one 1000-record batch costs (accept, load, record results, ledger entries,
 *    balances, outbox row, delivery row), replayed with precomputed rows and no HTTP, rules or signing:
 *    the ratio of (2)'s acknowledgement time to this is the overhead of everything that is not the database.
 *
 * Targets (issue 3): reply p50 < 25 ms and acknowledgement < 150 ms on SQLite on the 2-core machine.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AlipayConfig,
  buildRefundRequest,
  createConfig,
  encodeDetailData,
  newBatchIdentity,
  sendNopwdRequest,
} from '@alirefund/protocol';
import { createSandbox } from '@alirefund/sandbox';
import { type Database, openDatabase, withTransaction } from '@alirefund/store';
import { findPostgresBinDir, startThrowawayPostgres } from '@alirefund/store/testing';
import { serve } from '@hono/node-server';

const BATCHES = Number(process.env['BENCH_BATCHES'] ?? 30);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const RECORDS = 1000;
const PARTNERS = 4;
const SELF = fileURLToPath(import.meta.url);

// ------------------------------------------------------------------------------------------ receiver child

interface MerchantInit {
  gateway: string;
  partners: string[];
  key: string;
}

/** Starts the merchant child; `ask` sends it a command and resolves with its answer. */
function startMerchant(): Promise<{ url: string; child: ChildProcess; ask<T>(msg: object): Promise<T> }> {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, ['merchant'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ask = <T>(msg: object) =>
      new Promise<T>((res) => {
        child.once('message', (m) => res(m as T));
        child.send(msg);
      });
    child.once('message', (m: { url: string }) => resolve({ url: m.url, child, ask }));
    child.once('error', reject);
  });
}

const tradesOf = (p: number) =>
  Array.from(
    { length: RECORDS },
    (_, i) => `2026${String(p + 1).padStart(2, '0')}${String(i + 1).padStart(10, '0')}`,
  );

/** The merchant: submits batches and acknowledges their notifications; timings on its own (idle) event loop. */
async function merchantMain(): Promise<void> {
  const waiting = new Map<string, (t: number) => void>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const batchNo = /(?:^|&)batch_no=(\w+)/.exec(Buffer.concat(parts).toString('latin1'))?.[1];
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('success', () => {
        if (batchNo) waiting.get(batchNo)?.(performance.now());
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  const url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  let configs: AlipayConfig[] = [];
  let details: string[] = [];
  async function oneBatch(p: number): Promise<{ reply: number; ack: number }> {
    const id = newBatchIdentity();
    const req = buildRefundRequest(configs[p]!, { mode: 'nopwd', ...id, detail: details[p]! });
    const ack = new Promise<number>((resolve) => waiting.set(id.batchNo, resolve));
    const start = performance.now();
    const answer = await sendNopwdRequest(req);
    const replied = performance.now();
    if (answer.status !== 'accepted') throw new Error(`refused: ${JSON.stringify(answer)}`);
    const done = await ack;
    waiting.delete(id.batchNo);
    return { reply: replied - start, ack: done - start };
  }
  process.on('message', (m: { cmd: string } & Record<string, unknown>) => {
    void (async () => {
      if (m.cmd === 'init') {
        const init = m as unknown as MerchantInit;
        configs = init.partners.map((partner) =>
          createConfig({ partner, key: init.key, gateway: init.gateway, notifyUrl: `${url}/notify` }),
        );
        details = init.partners.map((_, p) =>
          encodeDetailData(tradesOf(p).map((tradeNo) => ({ tradeNo, amountFen: 1, reason: '协商退款' }))),
        );
        process.send?.({ ok: true });
      } else if (m.cmd === 'latency') {
        const replies: number[] = [];
        const acks: number[] = [];
        for (let i = 0; i < (m['n'] as number) + 2; i++) {
          const r = await oneBatch(0);
          if (i >= 2) {
            replies.push(r.reply);
            acks.push(r.ack);
          }
        }
        process.send?.({ replies, acks });
      } else if (m.cmd === 'sustained') {
        const stopAt = performance.now() + (m['seconds'] as number) * 1000;
        const skip = m['skip'] as number;
        const t0 = performance.now();
        let done = 0;
        await Promise.all(
          configs.map(async (_, p) => {
            // Each trade takes at most 99 refunds: a partner has 99 batches in it.
            for (let n = p === 0 ? skip : 0; performance.now() < stopAt && n < 99; n++) {
              await oneBatch(p);
              done++;
            }
          }),
        );
        process.send?.({ done, seconds: (performance.now() - t0) / 1000 });
      } else if (m.cmd === 'exit') {
        server.close();
        process.exit(0);
      }
    })();
  });
  process.send?.({ url });
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))] ?? Number.NaN;
}
const ms = (v: number) => `${v.toFixed(1)} ms`;

interface PhaseResult {
  dialect: string;
  replyP50: number;
  replyP95: number;
  ackP50: number;
  ackP95: number;
  batchesPerSecond: number;
  recordsPerSecond: number;
  dbOnlyP50: number;
}

async function runOn(
  dialect: string,
  url: string,
  merchant: Awaited<ReturnType<typeof startMerchant>>,
): Promise<PhaseResult> {
  const database = await openDatabase(url);
  const sandbox = await createSandbox({ database });
  const http = await new Promise<{ url: string; close(): void }>((resolve) => {
    const s = serve({ fetch: sandbox.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({ url: `http://127.0.0.1:${info.port}`, close: () => s.close() }),
    );
  });
  const partners = Array.from({ length: PARTNERS }, (_, i) => `20880000000000${String(10 + i)}`);
  const key = 'abcdefghijklmnopqrstuvwxyz012345';
  const t0 = performance.now();
  await sandbox.seed({
    partners: partners.map((partner, i) => ({
      partner,
      key,
      email: `bench${i}@example.com`,
      paymentPassword: 'bench-pass',
      balance: '100000000.00',
      services: ['refund_fastpay_by_platform_nopwd'],
    })),
    accounts: [],
    trades: partners.flatMap((partner, p) =>
      tradesOf(p).map((tradeNo) => ({ tradeNo, partner, amount: '100.00', status: 'TRADE_SUCCESS' })),
    ),
  });
  console.log(`[${dialect}] seeded ${PARTNERS * RECORDS} trades in ${ms(performance.now() - t0)}`);
  await merchant.ask({ cmd: 'init', gateway: `${http.url}/gateway.do`, partners, key });

  // 1. latency, one batch at a time (partner 0); the first two are warm-up.
  const { replies, acks } = await merchant.ask<{ replies: number[]; acks: number[] }>({
    cmd: 'latency',
    n: BATCHES,
  });
  console.log(
    `[${dialect}] latency over ${BATCHES} batches of ${RECORDS}: reply p50 ${ms(pct(replies, 0.5))} p95 ${ms(pct(replies, 0.95))}; ` +
      `acknowledged p50 ${ms(pct(acks, 0.5))} p95 ${ms(pct(acks, 0.95))}`,
  );

  // 3. DB only (measured here, on the database as the latency phase left it): the same statements, precomputed
  // rows, no HTTP, rules or signing.
  const dbOnly = await dbOnlyTimes(database, partners[0]!, tradesOf(0), 12);
  console.log(`[${dialect}] DB only per 1000-record batch: p50 ${ms(pct(dbOnly, 0.5))}`);

  // 2. sustained, PARTNERS partners in parallel.
  const { done, seconds } = await merchant.ask<{ done: number; seconds: number }>({
    cmd: 'sustained',
    seconds: SECONDS,
    skip: BATCHES + 2,
  });
  console.log(
    `[${dialect}] sustained: ${done} batches in ${seconds.toFixed(1)} s with ${PARTNERS} partners = ${(done / seconds).toFixed(2)} batches/s (${((done * RECORDS) / seconds).toFixed(0)} records/s)`,
  );
  const ledger = (await (await sandbox.app.request('/sandbox/api/ledger')).json()) as {
    sumFen: number;
    balancesMatchEntries: boolean;
  };
  if (ledger.sumFen !== 0 || !ledger.balancesMatchEntries)
    throw new Error(`ledger out of balance: ${JSON.stringify(ledger).slice(0, 200)}`);

  await sandbox.close();
  http.close();

  await database.close();
  return {
    dialect,
    replyP50: pct(replies, 0.5),
    replyP95: pct(replies, 0.95),
    ackP50: pct(acks, 0.5),
    ackP95: pct(acks, 0.95),
    batchesPerSecond: done / seconds,
    recordsPerSecond: (done * RECORDS) / seconds,
    dbOnlyP50: pct(dbOnly, 0.5),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the sandbox's tables, written directly as its processing does.
type AnyDatabase = Database<any>;

async function dbOnlyTimes(
  database: AnyDatabase,
  partner: string,
  trades: string[],
  rounds: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const batchNo = `20260101DBONLY${String(r).padStart(6, '0')}${randomUUID().slice(0, 6)}`;
    const now = Date.now();
    const records = trades.map((tradeNo, i) => ({
      partner,
      batch_no: batchNo,
      record_no: i + 1,
      trade_no: tradeNo,
      amount_fen: 1,
      code: 'SUCCESS',
      succeeded: 1,
      amount_text: '0.01',
      parts_json: null,
      processed_at: now,
    }));
    const entries = trades.flatMap((tradeNo) => {
      const txn = randomUUID();
      const base = {
        txn_id: txn,
        kind: 'trade_refund',
        partner,
        batch_no: batchNo,
        trade_no: tradeNo,
        created_at: now,
      };
      return [
        { ...base, account_id: partner, amount_fen: -1 },
        { ...base, account_id: 'SYS:BUYERS', amount_fen: 1 },
      ];
    });
    const resultDetails = trades.map((t) => `${t}^0.01^SUCCESS`).join('#');
    const t0 = performance.now();
    await withTransaction(database, async (trx) => {
      await trx
        .insertInto('sbx_batches')
        .values({
          partner,
          batch_no: batchNo,
          service: 'refund_fastpay_by_platform_nopwd',
          charset: 'utf-8',
          sign_type: 'MD5',
          notify_url: 'http://127.0.0.1:1/notify',
          seller_id: null,
          use_freeze: 0,
          detail_data: resultDetails,
          record_count: RECORDS,
          status: 'queued',
          locked: 0,
          confirm_token_hash: null,
          wrong_passwords: 0,
          created_at: now,
          accepted_at: now,
          processed_at: null,
          success_num: null,
          result_details: null,
        })
        .execute();
    });
    await withTransaction(database, async (trx) => {
      for (let i = 0; i < trades.length; i += 1000) {
        const part = trades.slice(i, i + 1000);
        await trx.selectFrom('sbx_trades').selectAll().where('trade_no', 'in', part).execute();
        await trx
          .selectFrom('sbx_batch_records')
          .select((eb) => ['trade_no', eb.fn.sum('amount_fen').as('fen'), eb.fn.countAll().as('n')])
          .where('trade_no', 'in', part)
          .where('succeeded', '=', 1)
          .groupBy('trade_no')
          .execute();
      }
      for (let i = 0; i < records.length; i += 1000)
        await trx
          .insertInto('sbx_batch_records')
          .values(records.slice(i, i + 1000))
          .execute();
      for (let i = 0; i < entries.length; i += 2000)
        await trx
          .insertInto('sbx_entries')
          .values(entries.slice(i, i + 2000))
          .execute();
      for (const [id, d] of [
        [partner, -RECORDS],
        ['SYS:BUYERS', RECORDS],
      ] as const) {
        await trx
          .updateTable('sbx_accounts')
          .set((eb) => ({ balance_fen: eb('balance_fen', '+', d) }))
          .where('account_id', '=', id)
          .execute();
      }
      await trx
        .updateTable('sbx_batches')
        .set({ status: 'done', processed_at: now, success_num: RECORDS, result_details: resultDetails })
        .where('partner', '=', partner)
        .where('batch_no', '=', batchNo)
        .execute();
      await trx
        .insertInto('sbx_notifications')
        .values({
          partner,
          batch_no: batchNo,
          trade_no: null,
          kind: 'batch_refund_notify',
          notify_id: randomUUID().replace(/-/g, ''),
          url: 'http://127.0.0.1:1/notify',
          charset: 'utf-8',
          sign_type: 'MD5',
          params_json: JSON.stringify({
            notify_type: 'batch_refund_notify',
            batch_no: batchNo,
            success_num: String(RECORDS),
            result_details: resultDetails,
          }),
          status: 'pending',
          attempts: 0,
          max_attempts: 8,
          next_attempt_at: now + 86_400_000 * 365,
          last_attempt_at: null,
          created_at: now,
          delivered_at: null,
        })
        .execute();
    });
    await withTransaction(database, async (trx) => {
      await trx
        .insertInto('sbx_deliveries')
        .values({
          notification_id: 0,
          attempt: 1,
          started_at: now,
          outcome: 'acknowledged',
          http_status: 200,
          request_body: resultDetails,
          response_body: 'success',
          latency_ms: 1,
          error: null,
        })
        .execute();
    });
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const merchant = await startMerchant();
  const dir = mkdtempSync(join(tmpdir(), 'alirefund-bench-sandbox-'));
  const results: PhaseResult[] = [];
  try {
    results.push(await runOn('sqlite', join(dir, 'sandbox.db'), merchant));
    if (process.env['BENCH_PG'] !== 'off' && findPostgresBinDir() !== undefined) {
      const pg = await startThrowawayPostgres();
      try {
        results.push(await runOn('postgres', pg.url, merchant));
      } finally {
        await pg.stop();
      }
    }
  } finally {
    merchant.child.send({ cmd: 'exit' });
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n### sandbox: nopwd batches of 1000 records\n');
  console.log(
    '| database | reply p50 | reply p95 | acknowledged p50 | acknowledged p95 | sustained batches/s | records/s | DB only p50 | ack ÷ DB only |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.dialect} | ${ms(r.replyP50)} | ${ms(r.replyP95)} | ${ms(r.ackP50)} | ${ms(r.ackP95)} | ${r.batchesPerSecond.toFixed(2)} | ${r.recordsPerSecond.toFixed(0)} | ${ms(r.dbOnlyP50)} | ${(r.ackP50 / r.dbOnlyP50).toFixed(2)}× |`,
    );
  }
  const sqlite = results[0]!;
  console.log(
    `\ntargets on SQLite: reply p50 < 25 ms: ${sqlite.replyP50 < 25 ? 'met' : 'NOT met'}; acknowledged < 150 ms (p50): ${sqlite.ackP50 < 150 ? 'met' : 'NOT met'}`,
  );
}

if (process.argv[2] === 'merchant') {
  await merchantMain();
} else {
  await main();
}
