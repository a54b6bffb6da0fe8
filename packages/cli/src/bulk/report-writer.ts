/**
 * The report of a bulk run, written batch by batch in run order (memory stays flat) from the server's batch
 * records, with the summary accumulated on the way.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { formatYuan } from '@alirefund/protocol';
import type { AlirefundServer } from '@alirefund/server';
import { CliError } from '../io.js';
import {
  type BatchOutcomeRow,
  eachBatchResult,
  type LineResult,
  openReport,
  type Summary,
  summaryAccumulator,
} from './report.js';
import type { RunBatch } from './runs.js';
import type { ItemList } from './items.js';

export type ReportWriter = ReturnType<typeof reportWriter>;

/**
 * Outcomes per line, batch by batch in run order (memory stays flat), written to the report as they come.
 * A `finished` batch (its notification applied) never changes again, so the drive loop reports the leading
 * finished batches while it waits for the gateway ({@link advance}); {@link finish} reports the rest as they
 * are at the end. The report and summary are the same as if every batch were read at the end.
 */
export function reportWriter(server: AlirefundServer, items: ItemList, reportPath: string, write: boolean) {
  const report = write ? openReport(reportPath) : null;
  const failedFile = write ? openFailedLines(failedLinesPath(reportPath)) : null;
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
    eachBatchResult(items, m, batch, records, (r) => {
      acc.add(r);
      report?.line(r);
      failedFile?.line(r);
    });
    covered = Math.max(covered, m.first_item + m.item_count);
    next++;
  }
  return {
    /** Reports up to `max` leading batches of `mapping` that are `finished` in `byNo`. */
    async advance(mapping: readonly RunBatch[], byNo: ReadonlyMap<string, BatchOutcomeRow>, max: number) {
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
        eachBatchResult(
          items,
          { batch_no: null, first_item: covered, item_count: items.length - covered },
          null,
          [],
          (r) => {
            acc.add(r);
            report?.line(r);
          },
        );
      } finally {
        report?.close();
        failedFile?.close();
      }
      return { summary: acc.summary() };
    },
    /** Drops a report that will not be finished (the run failed). */
    discard() {
      if (done) return;
      done = true;
      report?.discard();
      failedFile?.discard();
    },
  };
}

/** The summary of the run's batches as they are now (a dry run of a run that exists writes no report). */
export async function currentSummary(
  server: AlirefundServer,
  items: ItemList,
  mapping: readonly RunBatch[],
  reportPath: string,
): Promise<{ summary: Summary }> {
  return reportWriter(server, items, reportPath, false).finish(mapping);
}

/** Where the failed lines of a report go: beside it, `<report without .csv>.failed.csv`. */
export function failedLinesPath(reportPath: string): string {
  return `${reportPath.replace(/\.csv$/i, '')}.failed.csv`;
}

const FAILED_HEADER = 'trade_no,amount,reason';

function field(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * The failed lines of a run as a refund file of their own (UTF-8 with a BOM, `trade_no,amount,reason`): after
 * fixing what the codes say, `alirefund refund --file <it>` refunds them again. Written beside the report when
 * some line failed; a stale one from an earlier run is removed otherwise.
 */
function openFailedLines(path: string) {
  const tmp = `${path}.tmp`;
  let fd: number | null = null;
  let count = 0;
  let closed = false;
  return {
    line(r: LineResult) {
      if (r.outcome !== 'failed') return;
      if (fd === null) {
        fd = openSync(tmp, 'w');
        writeSync(fd, `\uFEFF${FAILED_HEADER}\n`);
      }
      writeSync(fd, `${r.tradeNo},${formatYuan(r.amountFen)},${field(r.reason)}\n`);
      count++;
    },
    close() {
      if (closed) return;
      closed = true;
      if (fd === null) {
        rmSync(path, { force: true });
        return;
      }
      closeSync(fd);
      renameSync(tmp, path);
    },
    discard() {
      if (closed) return;
      closed = true;
      if (fd !== null) closeSync(fd);
      rmSync(tmp, { force: true });
    },
    get count() {
      return count;
    },
  };
}

/** Splits CSV text (RFC 4180 quotes) into rows of fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cur);
      cur = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cur);
      cur = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else cur += ch;
  }
  row.push(cur);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

/**
 * `--failed-only`: the refund file made of a report's failed lines (`outcome` = failed), in the order of the
 * report. A file that is not a report, or a report without a failed line, is refused with a message.
 */
export function failedInputFromReport(bytes: Uint8Array, file: string): Buffer {
  const text = Buffer.from(bytes)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  const [head, ...rows] = parseCsv(text);
  const col = (name: string) => head?.indexOf(name) ?? -1;
  const [iTrade, iAmount, iReason, iOutcome] = ['trade_no', 'amount', 'reason', 'outcome'].map(col);
  if (iTrade === undefined || iTrade < 0 || iAmount! < 0 || iReason! < 0 || iOutcome! < 0)
    throw new CliError(
      `--failed-only reads a report of alirefund refund (columns line,trade_no,amount,reason,batch_no,outcome,…); ${file} is not one`,
    );
  const failed = rows.filter((r) => r[iOutcome!] === 'failed');
  if (failed.length === 0)
    throw new CliError(`${file}: no failed line in this report; nothing to refund again`);
  const lines = failed.map((r) => `${r[iTrade]},${r[iAmount!]},${field(r[iReason!] ?? '')}`);
  return Buffer.from(`\uFEFF${FAILED_HEADER}\n${lines.join('\n')}\n`, 'utf8');
}
