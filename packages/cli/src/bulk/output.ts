/**
 * What `alirefund refund` prints on stdout and stderr: the problems of an invalid file, the plan of a dry run,
 * and the outcome of a run (the summary table, or JSON with --json) with its exit code.
 */
import { formatYuan, type RefundMode } from '@alirefund/protocol';
import type { Io } from '../io.js';
import type { RunEnd } from './drive.js';
import type { InputFormat, LineIssue } from './input.js';
import { EXIT } from './options.js';
import { type Summary, summaryTable } from './report.js';
import { failedLinesPath } from './report-writer.js';

export function printIssues(io: Io, file: string, issues: readonly LineIssue[], json: boolean): void {
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

export interface DryRunPlan {
  file: string;
  run: string;
  format: InputFormat;
  mode: RefundMode;
  lines: number;
  totalFen: number;
  batchSize: number;
  charset: string;
  partner: string;
}

/** A dry run of a valid file that has no run yet: what would be created. */
export function printDryRun(io: Io, p: DryRunPlan, json: boolean): void {
  const batchCount = Math.ceil(p.lines / p.batchSize);
  if (json) {
    const plan = {
      ok: true,
      state: 'dry_run',
      file: p.file,
      run: p.run,
      format: p.format,
      mode: p.mode,
      lines: p.lines,
      amount: formatYuan(p.totalFen),
      batches: batchCount,
      batchSize: p.batchSize,
      charset: p.charset,
      partner: p.partner,
    };
    io.stdout(`${JSON.stringify(plan, null, 2)}\n`);
  } else
    io.stdout(
      `${p.file}: ${p.lines} refund line(s), ${formatYuan(p.totalFen)} yuan, all valid.\n` +
        `dry run: would create ${batchCount} ${p.mode} batch(es) of up to ${p.batchSize} for partner ${p.partner} (charset ${p.charset}); nothing was written or sent.\n`,
    );
}

export interface RunOutcome {
  end: RunEnd;
  summary: Summary;
  file: string;
  run: string;
  mode: RefundMode;
  batches: number;
  report: string;
  timings: Record<string, number>;
  notifyUrl: string;
}

/** The exit code of a run that ended with `end` (documented in --help). */
export function exitCodeOf(end: RunEnd, summary: Summary): number {
  return end.kind === 'complete'
    ? summary.failed.lines > 0
      ? EXIT.someFailed
      : EXIT.ok
    : end.kind === 'outcome_unknown'
      ? EXIT.outcomeUnknown
      : end.kind === 'awaiting_approval'
        ? EXIT.awaitingApproval
        : end.kind === 'interrupted'
          ? EXIT.interrupted
          : EXIT.pending;
}

/**
 * The final state wins: a timeout whose batch finished before the report was written (no line pending) is a
 * complete run, not STOPPED (issue 13 point 10).
 */
export function finalEnd(end: RunEnd, summary: Summary): RunEnd {
  return end.kind === 'timeout' && summary.pending.lines === 0 ? { kind: 'complete' } : end;
}

/** Prints the outcome of a run and returns its exit code. */
export function printOutcome(io: Io, o: RunOutcome, json: boolean): number {
  const { summary } = o;
  const end = finalEnd(o.end, summary);
  const exitCode = exitCodeOf(end, summary);
  const next =
    end.kind === 'outcome_unknown'
      ? `alirefund reconcile --batch ${end.batchNo}`
      : end.kind === 'complete'
        ? null
        : end.kind === 'awaiting_approval'
          ? 'have an approver (or admin) other than you approve them in the console or with POST /api/batches/<batchNo>/approve, then run the same command again'
          : 'run the same command again to resume';
  if (json) {
    io.stdout(
      `${JSON.stringify(
        {
          ok: exitCode === EXIT.ok,
          state: end.kind,
          exitCode,
          file: o.file,
          run: o.run,
          mode: o.mode,
          batches: o.batches,
          ...summary,
          report: o.report,
          ...(summary.failed.lines > 0 ? { failedLines: failedLinesPath(o.report) } : {}),
          timings: o.timings,
          ...(end.kind === 'outcome_unknown'
            ? { attention: { batchNo: end.batchNo, code: end.code, message: end.message, command: next } }
            : {}),
          ...(end.kind === 'timeout' ? { waitingFor: { batchNo: end.batchNo, state: end.state } } : {}),
          ...(end.kind === 'awaiting_approval'
            ? { awaitingApproval: { batchNos: end.batchNos, command: next } }
            : {}),
        },
        null,
        2,
      )}\n`,
    );
    return exitCode;
  }
  io.stdout(`\n${summaryTable(summary)}\n\nreport: ${o.report}\n`);
  if (summary.failed.lines > 0 && end.kind === 'complete')
    io.stdout(
      `failed lines: ${failedLinesPath(o.report)} (fix what the codes say, then refund them again with\n` +
        `  alirefund refund --file ${o.report} --failed-only)\n`,
    );
  if (end.kind === 'outcome_unknown') {
    io.stdout(
      `\nSTOPPED: batch ${end.batchNo} has an unknown outcome (${end.code}: ${end.message}).\n` +
        `The gateway may have accepted it, so nothing more is sent until an operator decides. Look it up with:\n\n` +
        `  ${next}\n\nthen run the same command again to continue with the remaining batches.\n`,
    );
  } else if (end.kind === 'timeout') {
    io.stdout(
      `\nSTOPPED: no result for batch ${end.batchNo} (${end.state}) within --timeout; ${summary.pending.lines} line(s) pending.\n` +
        (o.mode === 'pwd' && end.state === 'submitted' && end.confirmed === false
          ? `The batch was never confirmed on Alipay's page (the password form): confirm it there, then run the same command again to resume.\n`
          : `It was ${o.mode === 'pwd' ? (end.confirmed === true || end.state === 'accepted' ? "confirmed on Alipay's page" : "sent (confirmed on Alipay's page or not: the gateway could not be asked)") : end.state === 'submitted' ? 'sent' : 'accepted'} but no notification came: is the notify endpoint (${o.notifyUrl}) served? Run the same command again (with --serve, or with \`alirefund serve\` running) to resume.\n`),
    );
  } else if (end.kind === 'awaiting_approval') {
    io.stdout(
      `\nSTOPPED: ${end.batchNos.length} batch(es) await approval by a second person (two-person rule): ${end.batchNos.join(', ')}.\n` +
        `Nothing of them was sent. To continue, ${next}.\nA rejected batch is cancelled and its lines are reported as not refunded.\n`,
    );
  } else if (end.kind === 'interrupted') {
    io.stdout('\nInterrupted: no new batch was sent. Run the same command again to resume.\n');
  }
  return exitCode;
}
