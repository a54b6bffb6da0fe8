/**
 * The report of a bulk run, written batch by batch in run order (memory stays flat) from the server's batch
 * records, with the summary accumulated on the way.
 */
import type { AlirefundServer } from '@alirefund/server';
import {
  type BatchOutcomeRow,
  batchResults,
  openReport,
  type Summary,
  summaryAccumulator,
} from './report.js';
import type { RunBatch } from './runs.js';
import type { BulkItem } from './validate.js';

export type ReportWriter = ReturnType<typeof reportWriter>;

/**
 * Outcomes per line, batch by batch in run order (memory stays flat), written to the report as they come.
 * A `finished` batch (its notification applied) never changes again, so the drive loop reports the leading
 * finished batches while it waits for the gateway ({@link advance}); {@link finish} reports the rest as they
 * are at the end. The report and summary are the same as if every batch were read at the end.
 */
export function reportWriter(
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

/** The summary of the run's batches as they are now (a dry run of a run that exists writes no report). */
export async function currentSummary(
  server: AlirefundServer,
  items: readonly BulkItem[],
  mapping: readonly RunBatch[],
  reportPath: string,
): Promise<{ summary: Summary }> {
  return reportWriter(server, items, reportPath, false).finish(mapping);
}
