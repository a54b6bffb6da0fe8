/**
 * Step 2 of a bulk run: the run's batches. {@link recoverMapping} rebuilds them from the database when the run
 * resumes; {@link createRunBatches} persists the missing ones (all of them, before anything is sent) through the
 * server's createBatches and records which file items each one carries.
 */
import type { RefundMode } from '@alirefund/protocol';
import type { AlirefundServer } from '@alirefund/server';
import { CliError } from '../io.js';
import type { LineIssue } from './input.js';
import type { BulkItems } from './items.js';
import { type Run, type RunBatch, runBatches, saveRunBatches } from './runs.js';

/**
 * The run's batches, in file order, rebuilt from srv_batches (created_by = the run's actor; each batch found by
 * its first record's trade), so that batches persisted just before a crash, whose mapping row was not written
 * yet, are found and never re-created. A batch re-created under a fresh batch_no replaces the old one.
 */
export async function recoverMapping(
  server: AlirefundServer,
  run: Run,
  items: BulkItems,
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
  const indexOf = items.indexByTrade();
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
      first_line: first < items.length ? items.line(first) : 0,
      last_line: first + b.count - 1 < items.length ? items.line(first + b.count - 1) : 0,
    });
    next = first + b.count;
  }
  await saveRunBatches(server.database, mapping.slice(saved.length));
  return mapping;
}

/**
 * Creates the batches of the items that `mapping` does not cover yet, a few at a time so that memory stays
 * flat, appending each to `mapping` (and to the run's record) as it is persisted. The file's check has just read
 * every trade, so createBatches does not read them again (`tradesChecked`; its reservation still takes a trade
 * only if it is free and has the balance). Returns the issues createBatches found (with the file's lines and
 * columns), or none.
 */
export async function createRunBatches(
  server: AlirefundServer,
  run: Run,
  items: BulkItems,
  mapping: RunBatch[],
  opts: { mode: RefundMode; actor: string },
): Promise<LineIssue[]> {
  const covered = mapping.reduce((n, m) => n + m.item_count, 0);
  const perCall = Math.max(1, Math.floor(1_000 / run.batch_size)) * run.batch_size;
  for (let start = covered; start < items.length; start += perCall) {
    const created = await server.services.refunds.createBatches(items.refundItems(start, start + perCall), {
      mode: opts.mode,
      batchSize: run.batch_size,
      actor: opts.actor,
      queue: false,
      tradesChecked: true,
    });
    if (created.issues.length > 0)
      return created.issues.map((i) => ({
        line: i.index === null || start + i.index >= items.length ? 0 : items.line(start + i.index),
        field: i.field === 'tradeNo' ? 'trade_no' : i.field,
        code: i.code,
        message: i.message,
      }));
    let first = start;
    const rows = created.batches.map((b) => {
      const row: RunBatch = {
        run_id: run.run_id,
        idx: mapping.length,
        batch_no: b.batchNo,
        first_item: first,
        item_count: b.recordCount,
        first_line: items.line(first),
        last_line: items.line(first + b.recordCount - 1),
      };
      mapping.push(row);
      first += b.recordCount;
      return row;
    });
    await saveRunBatches(server.database, rows);
  }
  return [];
}
