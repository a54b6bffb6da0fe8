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
import { resolve } from 'node:path';
import { formatYuan } from '@alirefund/protocol';
import { createServer, ServiceError } from '@alirefund/server';
import { createRunBatches, recoverMapping } from '../bulk/batches.js';
import { checkFile } from '../bulk/check.js';
import { drive } from '../bulk/drive.js';
import { type NotifyEndpoint, serveNotifications } from '../bulk/endpoint.js';
import {
  EXIT,
  loadSettings,
  parseOptions,
  type RefundOptions,
  readInputFile,
  serveAddress,
} from '../bulk/options.js';
import { printDryRun, printIssues, printOutcome } from '../bulk/output.js';
import { ownerAlive, processOwner } from '../bulk/owner.js';
import { Progress } from '../bulk/progress.js';
import { summaryTable } from '../bulk/report.js';
import {
  currentSummary,
  failedInputFromReport,
  type ReportWriter,
  reportWriter,
} from '../bulk/report-writer.js';
import { claimRun, findRun, migrateBulk, releaseRun, retireRun, saveRun, setRunState } from '../bulk/runs.js';
import { boundHeapGrowth } from '../heap.js';
import { CliError, type Io } from '../io.js';
import { createLogger } from '../runtime.js';

export { EXIT, type RefundOptions } from '../bulk/options.js';
/** The part of `alirefund refund --help` after the options (its own module, so that --help loads no command code). */
export { REFUND_HELP } from './refund-help.js';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function runRefund(opts: RefundOptions, io: Io): Promise<number> {
  boundHeapGrowth();
  const { mode, batchSize, timeoutMs } = parseOptions(opts);
  const json = opts.json === true;
  const file = resolve(io.cwd, opts.file);
  let bytes: Buffer | null = readInputFile(file);
  if (opts.failedOnly) bytes = failedInputFromReport(bytes, opts.file);
  const settings = loadSettings(opts, io);
  const runId = sha256(bytes);
  const reportPath = resolve(io.cwd, opts.report ?? `${opts.file}.report.csv`);

  // 1. The file (read once, checked a chunk of rows at a time; the bytes are dropped once the items exist).
  const t0 = performance.now();
  const timings: Record<string, number> = {};

  const log = createLogger(io.env['ALIREFUND_LOG_LEVEL'] ?? 'warn');
  // No process metrics (CPU, event loop, GC observers): nothing scrapes a CLI run.
  const server = await createServer({
    settings,
    log,
    console: false,
    background: false,
    processMetrics: false,
  });
  let endpoint: NotifyEndpoint | undefined;
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
  const owner = processOwner();
  let claimedAt: number | null = null;
  let writer: ReportWriter | undefined;
  try {
    // Order numbers resolved through the store; every problem, format and business, in one pass.
    const checked = await checkFile(server, file, bytes, {
      charset: settings.alipay.inputCharset,
      mode,
      partner: settings.alipay.partner,
    });
    bytes = null;
    const { items, issues } = checked;
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
    if (run && opts.newRun && !opts.dryRun) {
      // After fixing what made the earlier run fail (a wrong key: ILLEGAL_SIGN), start afresh.
      const retired = await retireRun(server, runId, actor, Date.now());
      progress.line(
        `new run: the earlier run ${runId.slice(0, 12)} of this file (started ${run.created_at}) is set aside as ${retired}; its unsent batches were cancelled`,
      );
      run = undefined;
    }
    if (run && run.mode !== mode)
      throw new CliError(
        `this file was already run with --mode ${run.mode} (run ${runId.slice(0, 12)}); run it again with --mode ${run.mode} to resume it, or change the file for a new run`,
      );
    const mapping = run ? await recoverMapping(server, run, items) : [];
    const resuming = mapping.length > 0;

    if (!resuming) {
      timings.validateMs = Math.round(performance.now() - t0);
      if (issues.length > 0) {
        printIssues(io, opts.file, issues, json);
        return EXIT.invalid;
      }
      const totalFen = items.totalFen;
      if (opts.dryRun) {
        printDryRun(
          io,
          {
            file: opts.file,
            run: runId,
            format: checked.format,
            mode,
            lines: items.length,
            totalFen,
            batchSize,
            charset: settings.alipay.inputCharset,
            partner: settings.alipay.partner,
          },
          json,
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
        `resuming run ${runId.slice(0, 12)} (${mapping.length} batch(es), started ${run?.created_at ?? '?'}); to start over instead (e.g. after fixing a wrong key that was answered ILLEGAL_SIGN), add --new-run`,
      );
    }

    if (opts.dryRun) {
      const res = await currentSummary(server, items, mapping, reportPath);
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
      const createIssues = await createRunBatches(server, run, items, mapping, { mode, actor });
      if (createIssues.length > 0) {
        printIssues(io, opts.file, createIssues, json);
        if (mapping.length > 0)
          io.stderr(
            `${mapping.length} batch(es) of this run were already created (drafts, nothing sent); cancel them in the console to free their trades, or fix the database and run the same command again\n`,
          );
        return EXIT.invalid;
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
      endpoint = await serveNotifications(server, forms, serveAddress(settings, opts), () => wake());
      progress.line(`receiving notifications at ${settings.notifyUrl} (listening on ${endpoint.url})`);
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
      formUrl: endpoint ? `${endpoint.url}/bulk/pwd/` : null,
      setWake: (w) => {
        wake = w;
      },
      notified: endpoint !== undefined,
      whileWaiting: (byNo) => reporting.advance(mapping, byNo, 2),
    });
    progress.finish();
    timings.submitMs = Math.round(performance.now() - ts);
    const tr = performance.now();
    const res = await reporting.finish(mapping);
    timings.reportMs = Math.round(performance.now() - tr);
    if (end.kind === 'complete')
      await setRunState(server.database, runId, 'complete', new Date().toISOString());
    return printOutcome(
      io,
      {
        end,
        summary: res.summary,
        file: opts.file,
        run: runId,
        mode,
        batches: mapping.length,
        report: reportPath,
        timings,
        notifyUrl: settings.notifyUrl,
      },
      json,
    );
  } catch (e) {
    if (e instanceof ServiceError) throw new CliError(`${e.code}: ${e.message}`);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    writer?.discard();
    progress.finish();
    if (claimedAt !== null) await releaseRun(server.database, runId, owner).catch(() => {});
    await endpoint?.close();
    await server.close();
  }
}
