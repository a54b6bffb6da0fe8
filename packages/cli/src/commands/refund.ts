/**
 * `alirefund refund --file refunds.csv`: bulk refunds from a file, composed of the server's services.
 *
 * 1. The file (CSV or JSON Lines) is read and validated as a whole: the SDK's rules, duplicates, the charset, and
 *    each trade's refundable balance in the merchant database. A bad file prints every problem and sends nothing.
 * 2. The run (identified by the SHA-256 of the file) is recorded, and the server's createBatches persists every
 *    batch with its batch_no and trade reservations as drafts, before anything leaves the process.
 * 3. Batches go one at a time: nopwd through the server's queue (one batch per partner in flight, the next after
 *    the previous notification was applied), pwd as the signed form for the operator's browser.
 * 4. Results come from the notifications, received either by `alirefund serve` on the same database or by the
 *    notify endpoint this command runs with --serve. The report lists every line's final outcome.
 *
 * Running the same command again resumes the run: created batches are never re-created, and a batch left
 * `submitted` without an answer is looked up with refund_fastpay_query before anything else.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resolve } from 'node:path';
import { buildRefundQuery, formatYuan, lookupCode, sendRefundQuery } from '@alirefund/protocol';
import {
  type AlirefundServer,
  type BatchState,
  createBulkService,
  createServer,
  GATEWAY_TIMEOUT_MS,
  MAX_BATCH_SIZE,
  parseDuration,
  parseServerEnv,
  ServerConfigError,
  ServiceError,
  type ServerSettings,
} from '@alirefund/server';
import { Hono } from 'hono';
import { type LineIssue, parseInput } from '../bulk/input.js';
import { Progress } from '../bulk/progress.js';
import {
  type BatchOutcomeRow,
  batchResults,
  openReport,
  type Summary,
  summaryAccumulator,
  summaryTable,
} from '../bulk/report.js';
import {
  claimRun,
  findRun,
  heartbeat,
  migrateBulk,
  releaseRun,
  type Run,
  type RunBatch,
  runBatches,
  saveRun,
  saveRunBatches,
  setRunState,
  updateRunBatchNo,
} from '../bulk/runs.js';
import { type BulkItem, checkAgainstTrades, validateRows } from '../bulk/validate.js';
import { CliError, type Io } from '../io.js';
import { createLogger, type Listening, listen, parsePort } from '../runtime.js';

export interface RefundOptions {
  file: string;
  mode?: string;
  batchSize?: string;
  db?: string;
  dryRun?: boolean;
  serve?: boolean;
  report?: string;
  json?: boolean;
  timeout?: string;
  port?: string;
  host?: string;
}

/** Exit codes (documented in --help). */
export const EXIT = {
  ok: 0,
  invalid: 1,
  someFailed: 2,
  outcomeUnknown: 3,
  pending: 4,
  interrupted: 130,
} as const;

const TERMINAL: ReadonlySet<BatchState> = new Set(['finished', 'rejected', 'cancelled', 'resubmit_manually']);

type RunEnd =
  | { kind: 'complete' }
  | { kind: 'outcome_unknown'; batchNo: string; code: string; message: string }
  | { kind: 'timeout'; batchNo: string; state: BatchState }
  | { kind: 'interrupted' };

interface BatchRow {
  batch_no: string;
  state: BatchState;
  mode: 'pwd' | 'nopwd';
  record_count: number;
  success_num: number | null;
  gateway_code: string | null;
  gateway_message: string | null;
  submitted_at: string | null;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function parseOptions(opts: RefundOptions) {
  const mode = opts.mode ?? 'nopwd';
  if (mode !== 'nopwd' && mode !== 'pwd') throw new CliError(`--mode: "${mode}" is not nopwd or pwd`);
  const batchSize = Number(opts.batchSize ?? '50');
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE)
    throw new CliError(
      `--batch-size: "${opts.batchSize}" must be a whole number from 1 to ${MAX_BATCH_SIZE}`,
    );
  const timeoutMs = parseDuration(opts.timeout ?? '10m');
  if (timeoutMs === null || timeoutMs <= 0)
    throw new CliError(`--timeout: "${opts.timeout}" is not a duration such as 30s, 10m or 2h`);
  return { mode: mode as 'nopwd' | 'pwd', batchSize, timeoutMs };
}

function loadSettings(opts: RefundOptions, io: Io): ServerSettings {
  try {
    const env = { ...io.env, ...(opts.db !== undefined ? { ALIREFUND_DATABASE_URL: opts.db } : {}) };
    return parseServerEnv(env);
  } catch (e) {
    if (e instanceof ServerConfigError) throw new CliError(e.message);
    throw e;
  }
}

function printIssues(io: Io, file: string, issues: readonly LineIssue[], json: boolean): void {
  if (json) {
    io.stdout(`${JSON.stringify({ ok: false, state: 'invalid', file, sent: 0, issues }, null, 2)}\n`);
    return;
  }
  const lines = issues.map(
    (i) => `${file}:${i.line === 0 ? '-' : i.line}: ${i.field}: ${i.code}: ${i.message}`,
  );
  io.stderr(
    `${lines.join('\n')}\n\n${issues.length} problem${issues.length === 1 ? '' : 's'} in ${file}; nothing was sent. Fix the file and run the command again.\n`,
  );
}

/** Where --serve listens: the port of ALIREFUND_PUBLIC_URL, on loopback when the URL is local. */
function serveAddress(settings: ServerSettings, opts: RefundOptions): { port: number; host: string } {
  const url = new URL(settings.publicUrl);
  const port =
    opts.port !== undefined
      ? parsePort(opts.port)
      : Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return { port, host: opts.host ?? (local ? '127.0.0.1' : '0.0.0.0') };
}

export async function runRefund(opts: RefundOptions, io: Io): Promise<number> {
  const { mode, batchSize, timeoutMs } = parseOptions(opts);
  const json = opts.json === true;
  const file = resolve(io.cwd, opts.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      `--file: cannot read ${file} (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`,
    );
  }
  const settings = loadSettings(opts, io);
  const runId = sha256(bytes);
  const reportPath = resolve(io.cwd, opts.report ?? `${opts.file}.report.csv`);

  // 1. The file on its own.
  let text: string;
  const fileIssues: LineIssue[] = [];
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = '';
    fileIssues.push({
      line: 0,
      field: 'file',
      code: 'NOT_UTF8',
      message:
        'the file is not valid UTF-8 (saved as GBK?); save it as UTF-8 — the charset sent to Alipay is ALIPAY_INPUT_CHARSET',
    });
  }
  const t0 = performance.now();
  const gc0 = gcStats.ms;
  const timings: Record<string, number> = {};
  const parsed = parseInput(file, text);
  const checked = validateRows(parsed.rows, { charset: settings.alipay.inputCharset, mode });
  const items = checked.items;
  const issues = [...fileIssues, ...parsed.issues, ...checked.issues].sort((a, b) => a.line - b.line);

  const log = createLogger(io.env['ALIREFUND_LOG_LEVEL'] ?? 'warn');
  const server = await createServer({ settings, log, console: false, background: false });
  let http: Listening | undefined;
  // Requests being handled by the --serve endpoint: waited for before the database is closed, so that a
  // notification arriving during shutdown (e.g. after Ctrl-C) is applied and answered instead of failing mid-way.
  const inflight = new Set<Promise<Response>>();
  const drain = async () => {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  };
  const progress = new Progress((t) => io.stderr(t), io.stdoutIsTty && !json);
  const onSigint = () => {
    if (stop.requested) {
      io.stderr('\nalirefund: second Ctrl-C: exiting now; run the same command again to resume\n');
      process.exit(EXIT.interrupted);
    }
    stop.requested = true;
    progress.line('Ctrl-C: stopping after the batch in flight (Ctrl-C again to exit at once)…');
    stop.wake();
  };
  const stop = { requested: false, wake: () => {} };
  const owner = `${hostname()}:${process.pid}`;
  let claimedAt: number | null = null;
  let writer: ReturnType<typeof reportWriter> | undefined;
  try {
    await migrateBulk(server.database);
    const actor = `cli:refund:${runId.slice(0, 16)}`;
    const claim = async () => {
      if (claimedAt !== null) return;
      const c = await claimRun(server.database, runId, owner, Date.now(), ownerAlive);
      if (!c.ok)
        throw new CliError(
          `run ${runId.slice(0, 12)} of this file is being driven by ${c.owner}${c.heartbeatAt === null ? '' : ` (seen ${Math.round((Date.now() - c.heartbeatAt) / 1000)} s ago)`}; wait for it to finish or stop it, then run the command again`,
        );
      claimedAt = Date.now();
    };
    let run = await findRun(server.database, runId);
    if (run && run.mode !== mode)
      throw new CliError(
        `this file was already run with --mode ${run.mode} (run ${runId.slice(0, 12)}); run it again with --mode ${run.mode} to resume it, or change the file for a new run`,
      );
    const mapping = run ? await recoverMapping(server, run, items) : [];
    const resuming = mapping.length > 0;

    if (!resuming) {
      if (issues.length === 0) {
        for (let i = 0; i < items.length; i += 5000) {
          const chunk = items.slice(i, i + 5000);
          const trades = await server.services.trades.getMany(chunk.map((c) => c.tradeNo));
          issues.push(...checkAgainstTrades(chunk, trades, settings.alipay.partner));
        }
      }
      timings.validateMs = Math.round(performance.now() - t0);
      collectGarbage();
      if (issues.length > 0) {
        printIssues(io, opts.file, issues, json);
        return EXIT.invalid;
      }
      const totalFen = items.reduce((s, i) => s + i.amountFen, 0);
      const batchCount = Math.ceil(items.length / batchSize);
      if (opts.dryRun) {
        const plan = {
          ok: true,
          state: 'dry_run',
          file: opts.file,
          run: runId,
          format: parsed.format,
          mode,
          lines: items.length,
          amount: formatYuan(totalFen),
          batches: batchCount,
          batchSize,
          charset: settings.alipay.inputCharset,
          partner: settings.alipay.partner,
        };
        if (json) io.stdout(`${JSON.stringify(plan, null, 2)}\n`);
        else
          io.stdout(
            `${opts.file}: ${items.length} refund line(s), ${formatYuan(totalFen)} yuan, all valid.\n` +
              `dry run: would create ${batchCount} ${mode} batch(es) of up to ${batchSize} for partner ${settings.alipay.partner} (charset ${settings.alipay.inputCharset}); nothing was written or sent.\n`,
          );
        return EXIT.ok;
      }
      const now = new Date().toISOString();
      run ??= {
        run_id: runId,
        file,
        mode,
        batch_size: batchSize,
        item_count: items.length,
        total_fen: totalFen,
        actor,
        created_at: now,
        updated_at: now,
        state: 'validated',
        owner: null,
        heartbeat_at: null,
      };
      await saveRun(server.database, run);
    } else {
      if (opts.batchSize !== undefined && run && batchSize !== run.batch_size)
        progress.line(
          `note: this run was split into batches of ${run.batch_size}; --batch-size ${batchSize} is ignored when resuming`,
        );
      progress.line(
        `resuming run ${runId.slice(0, 12)} (${mapping.length} batch(es), started ${run?.created_at ?? '?'})`,
      );
    }

    if (opts.dryRun) {
      const res = await finish(server, items, mapping, reportPath, false);
      io.stdout(
        `dry run: run ${runId.slice(0, 12)} exists; nothing was sent.\n${summaryTable(res.summary)}\n`,
      );
      return EXIT.ok;
    }
    await claim();

    // 2. Persist the batches (all of them, before anything is sent), a few at a time so that memory stays flat.
    const covered = mapping.reduce((n, m) => n + m.item_count, 0);
    if (covered < items.length && run) {
      const tc = performance.now();
      const perCall = Math.max(1, Math.floor(10_000 / run.batch_size)) * run.batch_size;
      for (let start = covered; start < items.length; start += perCall) {
        const slice = items.slice(start, start + perCall);
        const created = await server.services.refunds.createBatches(
          slice.map(({ line: _line, ...item }) => item),
          { mode, batchSize: run.batch_size, actor, queue: false },
        );
        if (created.issues.length > 0) {
          printIssues(
            io,
            opts.file,
            created.issues.map((i) => ({
              line: i.index === null ? 0 : (slice[i.index]?.line ?? 0),
              field: i.field === 'tradeNo' ? 'trade_no' : i.field,
              code: i.code,
              message: i.message,
            })),
            json,
          );
          if (mapping.length > 0)
            io.stderr(
              `${mapping.length} batch(es) of this run were already created (drafts, nothing sent); cancel them in the console to free their trades, or fix the database and run the same command again\n`,
            );
          return EXIT.invalid;
        }
        let first = start;
        const rows = created.batches.map((b) => {
          const row: RunBatch = {
            run_id: runId,
            idx: mapping.length,
            batch_no: b.batchNo,
            first_item: first,
            item_count: b.recordCount,
            first_line: items[first]!.line,
            last_line: items[first + b.recordCount - 1]!.line,
          };
          mapping.push(row);
          first += b.recordCount;
          return row;
        });
        await saveRunBatches(server.database, rows);
        collectGarbage();
      }
      await setRunState(server.database, runId, 'created', new Date().toISOString());
      timings.createMs = Math.round(performance.now() - tc);
      progress.line(
        `run ${runId.slice(0, 12)}: ${items.length} line(s), ${formatYuan(run.total_fen)} yuan in ${mapping.length} ${mode} batch(es) of up to ${run.batch_size}; persisted before sending`,
      );
    }

    // 3. Results: our own notify endpoint with --serve, else `alirefund serve` on the same database.
    const forms = new Map<string, string>();
    let wake: () => void = () => {};
    if (opts.serve) {
      const outer = new Hono();
      outer.get('/bulk/pwd/:batchNo', (c) => {
        const html = forms.get(c.req.param('batchNo'));
        return html === undefined ? c.text('no such form', 404) : c.html(html);
      });
      outer.all('*', async (c) => {
        const handled = Promise.resolve(server.app.fetch(c.req.raw));
        inflight.add(handled);
        try {
          const res = await handled;
          if (c.req.path.startsWith('/alipay/')) wake();
          return res;
        } finally {
          inflight.delete(handled);
        }
      });
      const where = serveAddress(settings, opts);
      http = await listen(outer, where.port, where.host);
      progress.line(`receiving notifications at ${settings.notifyUrl} (listening on ${http.url})`);
    } else {
      progress.line(
        `notifications go to ${settings.notifyUrl}: \`alirefund serve\` must be running on this database (or use --serve)`,
      );
    }

    process.on('SIGINT', onSigint);
    const ts = performance.now();
    writer = reportWriter(server, items, reportPath, true);
    const reporting = writer;
    const end = await drive({
      server,
      settings,
      mapping,
      runId,
      actor,
      mode,
      timeoutMs,
      owner,
      claimedAt: claimedAt ?? Date.now(),
      progress,
      stop,
      forms,
      formDir: opts.serve ? null : `${file}`,
      formUrl: http ? `${http.url}/bulk/pwd/` : null,
      setWake: (w) => {
        wake = w;
      },
      whileWaiting: (byNo) => reporting.advance(mapping, byNo, 2),
    });
    progress.finish();
    timings.submitMs = Math.round(performance.now() - ts);
    const tr = performance.now();
    const res = await reporting.finish(mapping);
    timings.reportMs = Math.round(performance.now() - tr);
    timings.gcMs = Math.round(gcStats.ms - gc0);
    if (end.kind === 'complete')
      await setRunState(server.database, runId, 'complete', new Date().toISOString());
    const exitCode =
      end.kind === 'complete'
        ? res.summary.failed.lines > 0
          ? EXIT.someFailed
          : EXIT.ok
        : end.kind === 'outcome_unknown'
          ? EXIT.outcomeUnknown
          : end.kind === 'interrupted'
            ? EXIT.interrupted
            : EXIT.pending;
    const next =
      end.kind === 'outcome_unknown'
        ? `alirefund reconcile --batch ${end.batchNo}`
        : end.kind === 'complete'
          ? null
          : 'run the same command again to resume';
    if (json) {
      io.stdout(
        `${JSON.stringify(
          {
            ok: exitCode === EXIT.ok,
            state: end.kind,
            exitCode,
            file: opts.file,
            run: runId,
            mode,
            batches: mapping.length,
            ...res.summary,
            report: reportPath,
            timings,
            ...(end.kind === 'outcome_unknown'
              ? { attention: { batchNo: end.batchNo, code: end.code, message: end.message, command: next } }
              : {}),
            ...(end.kind === 'timeout' ? { waitingFor: { batchNo: end.batchNo, state: end.state } } : {}),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      io.stdout(`\n${summaryTable(res.summary)}\n\nreport: ${reportPath}\n`);
      if (end.kind === 'outcome_unknown') {
        io.stdout(
          `\nSTOPPED: batch ${end.batchNo} has an unknown outcome (${end.code}: ${end.message}).\n` +
            `The gateway may have accepted it, so nothing more is sent until an operator decides. Look it up with:\n\n` +
            `  ${next}\n\nthen run the same command again to continue with the remaining batches.\n`,
        );
      } else if (end.kind === 'timeout') {
        io.stdout(
          `\nSTOPPED: no result for batch ${end.batchNo} (${end.state}) within --timeout; ${res.summary.pending.lines} line(s) pending.\n` +
            `Is the notify endpoint (${settings.notifyUrl}) served? Run the same command again (with --serve, or with \`alirefund serve\` running) to resume.\n`,
        );
      } else if (end.kind === 'interrupted') {
        io.stdout('\nInterrupted: no new batch was sent. Run the same command again to resume.\n');
      }
    }
    return exitCode;
  } catch (e) {
    if (e instanceof ServiceError) throw new CliError(`${e.code}: ${e.message}`);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    writer?.discard();
    progress.finish();
    if (claimedAt !== null) await releaseRun(server.database, runId, owner).catch(() => {});
    await drain();
    await http?.close();
    await drain();
    await server.close();
  }
}

/**
 * The run's batches, in file order, rebuilt from srv_batches (created_by = the run's actor; each batch found by
 * its first record's trade), so that batches persisted just before a crash, whose mapping row was not written
 * yet, are found and never re-created. A batch re-created under a fresh batch_no replaces the old one.
 */
async function recoverMapping(
  server: AlirefundServer,
  run: Run,
  items: readonly BulkItem[],
): Promise<RunBatch[]> {
  const saved = await runBatches(server.database, run.run_id);
  const rows = await server.database.db
    .selectFrom('srv_batches as b')
    .innerJoin('srv_batch_records as r', (j) => j.onRef('r.batch_no', '=', 'b.batch_no').on('r.seq', '=', 1))
    .select(['b.batch_no', 'b.record_count', 'b.created_at', 'r.trade_no'])
    .where('b.created_by', '=', run.actor)
    .orderBy('b.created_at')
    .execute();
  if (rows.length === 0) return saved;
  const indexOf = new Map(items.map((it, i) => [it.tradeNo, i]));
  const byFirst = new Map<number, { batchNo: string; count: number }>();
  for (const r of rows) {
    const at = indexOf.get(r.trade_no);
    if (at === undefined) continue;
    byFirst.set(at, { batchNo: r.batch_no, count: Number(r.record_count) }); // the latest wins (re-created)
  }
  const mapping: RunBatch[] = [];
  let next = 0;
  for (const [first, b] of [...byFirst.entries()].sort((x, y) => x[0] - y[0])) {
    if (first !== next)
      throw new CliError(
        `run ${run.run_id.slice(0, 12)}: its batches in the database do not line up with the file (expected one starting at item ${next + 1}, found one at ${first + 1}); look at the batches created by ${run.actor} in the console`,
      );
    mapping.push({
      run_id: run.run_id,
      idx: mapping.length,
      batch_no: saved[mapping.length]?.batch_no ?? b.batchNo,
      first_item: first,
      item_count: b.count,
      first_line: items[first]?.line ?? 0,
      last_line: items[first + b.count - 1]?.line ?? 0,
    });
    next = first + b.count;
  }
  await saveRunBatches(server.database, mapping.slice(saved.length));
  return mapping;
}

interface DriveContext {
  server: AlirefundServer;
  settings: ServerSettings;
  mapping: RunBatch[];
  runId: string;
  actor: string;
  mode: 'pwd' | 'nopwd';
  timeoutMs: number;
  /** This process (`host:pid`), the run's owner since `claimedAt`. */
  owner: string;
  claimedAt: number;
  progress: Progress;
  stop: { requested: boolean; wake: () => void };
  forms: Map<string, string>;
  /** Without --serve, pwd forms are written next to the input file (`<file>.<batch_no>.pwd.html`). */
  formDir: string | null;
  formUrl: string | null;
  setWake(w: () => void): void;
  /** Called while the gateway has the current batch (waiting for its notification), with the batches' rows. */
  whileWaiting(byNo: ReadonlyMap<string, BatchRow>): Promise<void>;
}

/** Follows a batch re-created under a fresh batch_no (its date passed before it was sent). */
async function replacementOf(server: AlirefundServer, batchNo: string): Promise<string | null> {
  const ev = await server.database.db
    .selectFrom('srv_batch_events')
    .select('data_json')
    .where('batch_no', '=', batchNo)
    .where('kind', '=', 'superseded')
    .executeTakeFirst();
  if (!ev?.data_json) return null;
  const to = (JSON.parse(ev.data_json) as { replacedBy?: string }).replacedBy;
  return typeof to === 'string' ? to : null;
}

async function drive(ctx: DriveContext): Promise<RunEnd> {
  const { server, mapping, progress, stop, mode } = ctx;
  const bulk = createBulkService({ database: server.database, clock: Date.now });
  const totalRecords = mapping.reduce((s, m) => s + m.item_count, 0);
  const reported = new Set<string>();
  const rendered = new Set<string>();
  /** Batches seen `finished`: their notification was applied, so neither they nor their records change again. */
  const finished = new Map<string, BatchRow>();
  let lastSignature = '';
  let lastChange = Date.now();
  let pollMs = 20;
  let beat = Date.now();
  let gcDue = false;
  // A wake-up (a notification handled, Ctrl-C) that comes while the loop is busy is kept for its next wait.
  let woken = false;
  let endWait: (() => void) | null = null;
  const wakeUp = () => {
    woken = true;
    endWait?.();
  };
  ctx.setWake(wakeUp);
  stop.wake = wakeUp;

  for (;;) {
    woken = false;
    if (Date.now() - beat > 1000) {
      beat = Date.now();
      await heartbeat(server.database, ctx.runId, ctx.owner, beat);
    }
    const open = mapping.filter((m) => !finished.has(m.batch_no)).map((m) => m.batch_no);
    const rows =
      open.length === 0
        ? []
        : await server.database.db
            .selectFrom('srv_batches')
            .select([
              'batch_no',
              'state',
              'mode',
              'record_count',
              'success_num',
              'gateway_code',
              'gateway_message',
              'submitted_at',
            ])
            .where('batch_no', 'in', open)
            .execute();
    const byNo = new Map<string, BatchRow>(finished);
    for (const r of rows) {
      byNo.set(r.batch_no, r as BatchRow);
      if (r.state === 'finished') finished.set(r.batch_no, r as BatchRow);
    }

    // A batch re-created after midnight: follow it.
    let moved = false;
    for (const m of mapping) {
      if (byNo.get(m.batch_no)?.state !== 'cancelled') continue;
      const to = await replacementOf(server, m.batch_no);
      if (to !== null) {
        await updateRunBatchNo(server.database, ctx.runId, m.idx, to);
        progress.line(
          `batch ${m.batch_no} was re-created as ${to} (its batch_no date had passed before it was sent)`,
        );
        m.batch_no = to;
        moved = true;
      }
    }
    if (moved) continue;

    // Progress.
    let recordsDone = 0;
    let batchesDone = 0;
    let failed = 0;
    for (const m of mapping) {
      const b = byNo.get(m.batch_no);
      if (!b || !TERMINAL.has(b.state)) continue;
      batchesDone++;
      recordsDone += m.item_count;
      const bad = b.state === 'finished' ? m.item_count - Number(b.success_num ?? 0) : m.item_count;
      failed += bad;
      if (!reported.has(m.batch_no)) {
        reported.add(m.batch_no);
        if (reported.size % 10 === 0) gcDue = true;
        progress.update({
          recordsDone,
          recordsTotal: totalRecords,
          batchesDone,
          batchesTotal: mapping.length,
          failed,
        });
        progress.step(
          `batch ${m.idx + 1}/${mapping.length} ${m.batch_no} (lines ${m.first_line}-${m.last_line}): ${b.state}${
            b.state === 'finished'
              ? `, ${Number(b.success_num ?? 0)} refunded, ${bad} failed`
              : b.gateway_code
                ? ` (${b.gateway_code})`
                : ''
          }`,
        );
      }
    }
    const counts = {
      recordsDone,
      recordsTotal: totalRecords,
      batchesDone,
      batchesTotal: mapping.length,
      failed,
    };

    const signature = mapping.map((m) => `${m.batch_no}:${byNo.get(m.batch_no)?.state}`).join(',');
    if (signature !== lastSignature) {
      lastSignature = signature;
      lastChange = Date.now();
    }

    // Outcome unknown anywhere in the run: stop for an operator.
    for (const m of mapping) {
      const b = byNo.get(m.batch_no);
      if (b?.state === 'needs_attention') {
        progress.update(counts, 'stopped');
        return {
          kind: 'outcome_unknown',
          batchNo: b.batch_no,
          code: b.gateway_code ?? 'UNKNOWN',
          message: b.gateway_message ?? lookupCode(b.gateway_code ?? 'UNKNOWN_EXCEPTION').en,
        };
      }
    }

    const current = mapping.find((m) => {
      const b = byNo.get(m.batch_no);
      return !b || !TERMINAL.has(b.state);
    });
    if (!current) {
      progress.update(counts, 'done');
      return { kind: 'complete' };
    }
    const b = byNo.get(current.batch_no);
    if (!b) throw new CliError(`batch ${current.batch_no} of this run is missing from the database`);
    const label = `batch ${current.idx + 1}/${mapping.length} ${b.batch_no}`;

    if (b.state === 'draft') {
      if (stop.requested) return { kind: 'interrupted' };
      if (mode === 'nopwd') {
        await server.services.submission.enqueue(b.batch_no, ctx.actor);
        progress.update(counts, `sending ${b.batch_no}`);
        progress.step(`${label}: sending ${current.item_count} record(s)`);
        await server.services.submission.tick();
        continue;
      }
      await presentPwd(ctx, b.batch_no, label, rendered);
    } else if (b.state === 'queued') {
      if (stop.requested) return { kind: 'interrupted' };
      const outcomes = await server.services.submission.tick();
      const busy = outcomes.find((o) => o.kind === 'busy');
      if (
        busy &&
        busy.kind === 'busy' &&
        busy.heldBy !== null &&
        !mapping.some((m) => m.batch_no === busy.heldBy)
      )
        progress.update(counts, `waiting: partner busy with batch ${busy.heldBy}`);
    } else if (b.state === 'submitted') {
      const submittedAt = Date.parse(b.submitted_at ?? new Date().toISOString());
      const age = Date.now() - submittedAt;
      // Sent before this process took the run: by a process that is gone (or by \`alirefund serve\`'s queue, whose
      // request takes at most GATEWAY_TIMEOUT_MS). Either way the same batch_no protects against a double refund.
      const patience = submittedAt < ctx.claimedAt ? 3_000 : GATEWAY_TIMEOUT_MS + 5_000;
      if (mode === 'pwd') {
        if (!rendered.has(b.batch_no)) {
          // From an earlier process: was it confirmed? The notification will say; else show the form again.
          const q = await queryBatch(ctx, b.batch_no);
          if (q === 'not-found') await presentPwd(ctx, b.batch_no, label, rendered);
          else rendered.add(b.batch_no);
        } else if (stop.requested) return { kind: 'interrupted' };
      } else if (age > patience) {
        // Left `submitted` by a process that stopped mid-send: ask the gateway before anything else.
        progress.step(
          `${label}: submitted without a recorded answer; asking the gateway (refund_fastpay_query)`,
        );
        const q = await queryBatch(ctx, b.batch_no);
        if (q === 'not-found') {
          await bulk.requeueUnsent(
            b.batch_no,
            ctx.actor,
            `(alirefund refund, run ${ctx.runId.slice(0, 12)})`,
          );
          progress.line(
            `${label}: the gateway never got it (REFUND_NOT_EXIST); sending it again under the same batch_no`,
          );
        } else if (q === 'found') {
          await bulk.markAccepted(b.batch_no, ctx.actor, `(alirefund refund, run ${ctx.runId.slice(0, 12)})`);
          progress.line(`${label}: the gateway has it (accepted); waiting for its notification`);
        } else {
          return {
            kind: 'outcome_unknown',
            batchNo: b.batch_no,
            code: 'TRANSPORT_ERROR',
            message: q.message,
          };
        }
        continue;
      }
    } else if (b.state === 'accepted') {
      if (stop.requested) return { kind: 'interrupted' };
      progress.update(counts, `waiting for the notification of ${b.batch_no}`);
    }

    if (Date.now() - lastChange > ctx.timeoutMs)
      return { kind: 'timeout', batchNo: b.batch_no, state: b.state };
    if (b.state === 'accepted' || b.state === 'submitted') {
      // The gateway has the batch: until its notification, this process has nothing to send. Do the work that
      // is off the critical path now (report lines of finished batches, a collection), while the gateway works.
      await ctx.whileWaiting(byNo);
      if (gcDue) {
        gcDue = false;
        collectGarbage();
      }
    }
    if (!woken) {
      await new Promise<void>((r) => {
        const t = setTimeout(done, pollMs);
        function done() {
          clearTimeout(t);
          endWait = null;
          r();
        }
        endWait = done;
      });
    }
    // Poll quickly right after a change, then back off (a notification wakes the loop at once with --serve).
    pollMs = Date.now() - lastChange < 2_000 ? 20 : Math.min(500, pollMs * 2);
  }
}

async function queryBatch(
  ctx: DriveContext,
  batchNo: string,
): Promise<'found' | 'not-found' | { message: string }> {
  const config = ctx.settings.alipay;
  const res = await sendRefundQuery(buildRefundQuery(config, { batchNo }), config, {
    timeoutMs: GATEWAY_TIMEOUT_MS,
  });
  if (res.status === 'found') return 'found';
  if (res.status === 'not-found') return 'not-found';
  return {
    message: `refund_fastpay_query could not tell: ${res.status === 'error' ? `${res.code} (${res.info.en})` : res.message}`,
  };
}

/** pwd: the signed form for the operator's browser (served with --serve, else written next to the file). */
async function presentPwd(
  ctx: DriveContext,
  batchNo: string,
  label: string,
  rendered: Set<string>,
): Promise<void> {
  let form: Awaited<ReturnType<AlirefundServer['services']['submission']['preparePwd']>>;
  try {
    form = await ctx.server.services.submission.preparePwd(batchNo, ctx.actor, { lang: 'en' });
  } catch (e) {
    if (e instanceof ServiceError && e.code === 'PARTNER_BUSY') return; // wait for the partner's batch in flight
    throw e;
  }
  rendered.add(form.batchNo);
  ctx.forms.set(form.batchNo, form.html);
  if (ctx.formUrl !== null) {
    ctx.progress.line(
      `${label}: open ${ctx.formUrl}${form.batchNo} in a browser and confirm on Alipay's page with the payment password`,
    );
  } else {
    const path = `${ctx.formDir}.${form.batchNo}.pwd.html`;
    writeFileSync(path, form.html);
    ctx.progress.line(
      `${label}: open ${path} in a browser and confirm on Alipay's page with the payment password`,
    );
  }
}

/**
 * Outcomes per line, batch by batch in run order (memory stays flat), written to the report as they come.
 * A `finished` batch (its notification applied) never changes again, so the drive loop reports the leading
 * finished batches while it waits for the gateway ({@link advance}); {@link finish} reports the rest as they
 * are at the end. The report and summary are the same as if every batch were read at the end.
 */
function reportWriter(
  server: AlirefundServer,
  items: readonly BulkItem[],
  reportPath: string,
  write: boolean,
) {
  const report = write ? openReport(reportPath) : null;
  const acc = summaryAccumulator();
  /** Index in the mapping of the next batch to report. */
  let next = 0;
  let covered = 0;
  let done = false;
  async function add(m: RunBatch, batch: BatchOutcomeRow | null): Promise<void> {
    const records = await server.database.db
      .selectFrom('srv_batch_records')
      .select(['batch_no', 'seq', 'result_code', 'result_amount_fen', 'succeeded'])
      .where('batch_no', '=', m.batch_no)
      .execute();
    const results = batchResults(items, m, batch, records);
    for (const r of results) acc.add(r);
    report?.write(results);
    covered = Math.max(covered, m.first_item + m.item_count);
    next++;
  }
  return {
    /** Reports up to `max` leading batches of `mapping` that are `finished` in `byNo`. */
    async advance(mapping: readonly RunBatch[], byNo: ReadonlyMap<string, BatchRow>, max: number) {
      for (let n = 0; n < max && !done && next < mapping.length; n++) {
        const m = mapping[next]!;
        const b = byNo.get(m.batch_no);
        if (b?.state !== 'finished') return;
        await add(m, { batch_no: b.batch_no, state: b.state, gateway_code: b.gateway_code });
      }
    },
    /** Reports the remaining batches as they are now, then the lines of batches not created yet. */
    async finish(mapping: readonly RunBatch[]): Promise<{ summary: Summary }> {
      done = true;
      try {
        while (next < mapping.length) {
          const m = mapping[next]!;
          const batch = await server.database.db
            .selectFrom('srv_batches')
            .select(['batch_no', 'state', 'gateway_code'])
            .where('batch_no', '=', m.batch_no)
            .executeTakeFirst();
          await add(m, batch ?? null);
        }
        const rest = batchResults(
          items,
          { batch_no: null, first_item: covered, item_count: items.length - covered },
          null,
          [],
        );
        for (const r of rest) acc.add(r);
        report?.write(rest);
      } finally {
        report?.close();
      }
      return { summary: acc.summary() };
    },
    /** Drops a report that will not be finished (the run failed). */
    discard() {
      if (done) return;
      done = true;
      report?.discard();
    },
  };
}

async function finish(
  server: AlirefundServer,
  items: readonly BulkItem[],
  mapping: readonly RunBatch[],
  reportPath: string,
  write: boolean,
): Promise<{ summary: Summary }> {
  return reportWriter(server, items, reportPath, write).finish(mapping);
}

/** The part of `alirefund refund --help` after the options. */
export const REFUND_HELP = `
Input (UTF-8; the format is taken from the extension, .csv or .jsonl/.ndjson/.json, else from the content):
  CSV with a header row: trade_no,amount,reason  (amount in yuan, e.g. 12.50; quote a reason with a comma)
    optional royalty (分润, nopwd only) columns: royalty_from,royalty_to,royalty_amount[,royalty_reason]
    royalty_from gives the royalty back to royalty_to (each an email or a 2088… user id); several parts
    on one line are separated by ";" in each column.
  JSON Lines: {"trade_no":"2026…","amount":"12.50","reason":"协商退款","royalties":[{"from","to","amount","reason"}]}

The whole file is checked before anything is sent: the SDK's rules in ALIPAY_INPUT_CHARSET (amounts, reason
length and characters), duplicates, and each trade in the merchant database (registered, free, refundable
balance). A bad file prints every problem as FILE:LINE: FIELD: CODE: message, and nothing is sent.

Configuration: the same variables as \`alirefund serve\` (ALIPAY_PARTNER, ALIPAY_KEY, ALIPAY_GATEWAY,
ALIREFUND_PUBLIC_URL, ALIREFUND_DATABASE_URL, …); --db overrides ALIREFUND_DATABASE_URL.

Batches are persisted (batch_no, records, reservations) before they are sent, one at a time per partner.
Running the same command on the same file RESUMES the run (it is identified by the file's SHA-256): created
batches are never re-created, no batch_no is sent twice, and a batch left "submitted" by a crash is looked up
with refund_fastpay_query first. Ctrl-C stops after the batch in flight. A batch whose outcome is unknown
(SYSTEM_ERROR, timeout) stops the run and prints the command to look it up (alirefund reconcile --batch NO).

Results come from Alipay's notifications, received either
  - by \`alirefund serve\` running on the same database (its notify_url is ALIREFUND_PUBLIC_URL/alipay/notify), or
  - with --serve, by this command itself: it listens on the port of ALIREFUND_PUBLIC_URL until every batch
    has its notification (or nothing moves for --timeout). Do not run both on the same port.
pwd mode: each batch's signed form must be confirmed in a browser with the payment password; with --serve the
form is at http://…/bulk/pwd/BATCH_NO, otherwise it is written to FILE.BATCH_NO.pwd.html.

Output: progress on stderr (a live bar on a TTY, plain lines otherwise); a summary table (refunded / failed by
code / pending) on stdout, or JSON with --json; the report FILE.report.csv lists every line's final outcome.
Exit codes: 0 all refunded · 1 invalid file or configuration (nothing sent) · 2 done, some lines failed ·
3 stopped on an outcome-unknown batch · 4 stopped waiting (pending; resume later) · 130 interrupted.

Examples:
  alirefund refund --file refunds.csv --dry-run
  ALIREFUND_PUBLIC_URL=http://shop.example.com:3000 alirefund refund --file refunds.csv --serve --batch-size 200
  alirefund refund --file refunds.jsonl --mode pwd --serve --json`;

/**
 * A full garbage collection, when the runtime lets us have one. A bulk run allocates a lot of short-lived
 * objects per batch (records, SQL, notification bodies); collecting between batches keeps the peak RSS flat
 * (issue 5: < 300 MB for 100,000 lines) for a few milliseconds per call.
 */
const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function')
      return () => {
        const t = performance.now();
        (gc as () => void)();
        gcStats.ms += performance.now() - t;
        gcStats.count++;
      };
  } catch {
    // not available: V8 collects on its own schedule
  }
  return () => {};
})();

/** Time spent in {@link collectGarbage} (reported in --json timings). */
const gcStats = { ms: 0, count: 0 };

/** Whether the owner of a run (`host:pid`) may still be running: false only for a process of this host that is gone. */
function ownerAlive(owner: string): boolean {
  const at = owner.lastIndexOf(':');
  if (owner.slice(0, at) !== hostname()) return true;
  const pid = Number(owner.slice(at + 1));
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
