/**
 * Outcomes of a bulk run, per input line, taken from the server's batch records (which the notifications fill):
 * the summary (refunded / failed by code / pending), the CSV report and the JSON summary.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { formatYuan, lookupCode } from '@alirefund/protocol';
import type { BatchState } from '@alirefund/server';
import type { BulkItem, ItemList } from './items.js';

export type LineOutcome = 'refunded' | 'failed' | 'pending';

export interface LineResult {
  line: number;
  tradeNo: string;
  amountFen: number;
  reason: string;
  batchNo: string | null;
  outcome: LineOutcome;
  /** Result code for refunded/failed lines (SUCCESS, TRADE_HAS_FINISHED, …); the batch state for pending ones. */
  code: string;
  refundedFen: number;
}

export interface BatchOutcomeRow {
  batch_no: string;
  state: BatchState;
  gateway_code: string | null;
}

export interface RecordOutcomeRow {
  batch_no: string;
  seq: number;
  result_code: string | null;
  result_amount_fen: number | null;
  succeeded: number | null;
}

/** One line's result (one object shape for every line: a bulk run makes 100,000 of them). */
function lineResult(
  it: BulkItem,
  batchNo: string | null,
  outcome: LineOutcome,
  code: string,
  refundedFen: number,
): LineResult {
  return {
    line: it.line,
    tradeNo: it.tradeNo,
    amountFen: it.amountFen,
    reason: it.reason,
    batchNo,
    outcome,
    code,
    refundedFen,
  };
}

/** The outcome of one line whose batch is in `batch` (null: not created) with its record `r` (seq-matched). */
function outcomeOf(
  it: BulkItem,
  batchNo: string | null,
  b: BatchOutcomeRow | null,
  r: RecordOutcomeRow | undefined,
): LineResult {
  if (batchNo === null || !b) return lineResult(it, batchNo, 'pending', 'NOT_CREATED', 0);
  switch (b.state) {
    case 'finished':
      return r && Number(r.succeeded) === 1
        ? lineResult(
            it,
            batchNo,
            'refunded',
            r.result_code ?? 'SUCCESS',
            Number(r.result_amount_fen ?? it.amountFen),
          )
        : lineResult(it, batchNo, 'failed', r?.result_code ?? 'NO_RESULT', 0);
    case 'rejected':
      return lineResult(it, batchNo, 'failed', b.gateway_code ?? 'REJECTED', 0);
    case 'cancelled':
      return lineResult(it, batchNo, 'failed', 'BATCH_CANCELLED', 0);
    case 'resubmit_manually':
      return lineResult(it, batchNo, 'failed', 'RESUBMIT_MANUALLY', 0);
    default:
      return lineResult(it, batchNo, 'pending', b.state.toUpperCase(), 0);
  }
}

/**
 * Calls `each` with the outcome of every file item `first_item … first_item+item_count-1`, carried by batch
 * `batch_no` (null: none), in order (no array of them: a bulk run has 100,000).
 */
export function eachBatchResult(
  items: ItemList,
  m: { batch_no: string | null; first_item: number; item_count: number },
  batch: BatchOutcomeRow | null,
  records: readonly RecordOutcomeRow[],
  each: (r: LineResult) => void,
): void {
  const bySeq: Array<RecordOutcomeRow | undefined> = [];
  for (const r of records) bySeq[Number(r.seq)] = r;
  for (let k = 0; k < m.item_count; k++) {
    const it = items.at(m.first_item + k);
    if (it) each(outcomeOf(it, m.batch_no, batch, bySeq[k + 1]));
  }
}

export interface Summary {
  lines: number;
  refunded: { lines: number; amountFen: number; amount: string };
  failed: { lines: number; amountFen: number; amount: string; byCode: Record<string, number> };
  pending: { lines: number; amountFen: number; amount: string; byState: Record<string, number> };
}

/** Adds up line outcomes into a {@link Summary}. */
export function summaryAccumulator(): { add(r: LineResult): void; summary(): Summary } {
  let lines = 0;
  const refunded = { lines: 0, amountFen: 0 };
  const failed = { lines: 0, amountFen: 0, byCode: {} as Record<string, number> };
  const pending = { lines: 0, amountFen: 0, byState: {} as Record<string, number> };
  return {
    add(r) {
      lines++;
      if (r.outcome === 'refunded') {
        refunded.lines++;
        refunded.amountFen += r.refundedFen;
      } else if (r.outcome === 'failed') {
        failed.lines++;
        failed.amountFen += r.amountFen;
        failed.byCode[r.code] = (failed.byCode[r.code] ?? 0) + 1;
      } else {
        pending.lines++;
        pending.amountFen += r.amountFen;
        pending.byState[r.code] = (pending.byState[r.code] ?? 0) + 1;
      }
    },
    summary: () => ({
      lines,
      refunded: { ...refunded, amount: formatYuan(refunded.amountFen) },
      failed: { ...failed, amount: formatYuan(failed.amountFen) },
      pending: { ...pending, amount: formatYuan(pending.amountFen) },
    }),
  };
}

export function summarize(results: readonly LineResult[]): Summary {
  const acc = summaryAccumulator();
  for (const r of results) acc.add(r);
  return acc.summary();
}

/** The summary as an aligned text table. */
export function summaryTable(s: Summary): string {
  const rows: Array<[string, string, string]> = [['outcome', 'lines', 'amount (yuan)']];
  rows.push(['refunded', String(s.refunded.lines), s.refunded.amount]);
  rows.push(['failed', String(s.failed.lines), s.failed.amount]);
  for (const [code, n] of Object.entries(s.failed.byCode).sort((a, b) => b[1] - a[1]))
    rows.push([`  ${code}`, String(n), '']);
  rows.push(['pending', String(s.pending.lines), s.pending.amount]);
  for (const [state, n] of Object.entries(s.pending.byState).sort((a, b) => b[1] - a[1]))
    rows.push([`  ${state.toLowerCase()}`, String(n), '']);
  rows.push(['total', String(s.lines), '']);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padStart(w1)}  ${r[2]}`.trimEnd()).join('\n');
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The last reason written and its CSV field (bulk files often repeat one reason line after line). */
let lastReason = '';
let lastReasonField = '';
function reasonField(v: string): string {
  if (v !== lastReason) {
    lastReason = v;
    lastReasonField = csvField(v);
  }
  return lastReasonField;
}

const explained = new Map<string, string>();
function meaning(code: string): string {
  let m = explained.get(code);
  if (m === undefined) {
    m = code === 'SUCCESS' || code === 'NOT_CREATED' ? '' : lookupCode(code).en;
    explained.set(code, m);
  }
  return m;
}

/** Report bytes gathered in one reused buffer and written when it fills (no joined text per batch). */
class ReportSink {
  #buf = Buffer.allocUnsafe(256 * 1024);
  #pos = 0;
  constructor(readonly fd: number) {}

  #room(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    this.flush();
    if (bytes > this.#buf.length) this.#buf = Buffer.allocUnsafe(bytes);
  }

  /** Appends `s` (UTF-8). */
  text(s: string): void {
    this.#room(s.length * 3);
    this.#pos += this.#buf.write(s, this.#pos, 'utf8');
  }

  /** Appends bytes. */
  bytes(b: Buffer): void {
    this.#room(b.length);
    this.#pos += b.copy(this.#buf, this.#pos);
  }

  flush(): void {
    let at = 0;
    while (at < this.#pos) at += writeSync(this.fd, this.#buf, at, this.#pos - at);
    this.#pos = 0;
  }
}

/** The last reason written and its CSV field's bytes (bulk files often repeat one reason line after line). */
let lastReasonText = '';
let lastReasonBytes = Buffer.alloc(0);
function reasonBytes(v: string): Buffer {
  if (v !== lastReasonText || lastReasonBytes.length === 0) {
    lastReasonText = v;
    lastReasonBytes = Buffer.from(reasonField(v), 'utf8');
  }
  return lastReasonBytes;
}

/** One line of the report and its line break: the fields joined by commas (the reason's bytes reused). */
function reportLine(sink: ReportSink, r: LineResult): void {
  const detail = csvField(r.outcome === 'pending' ? `batch ${r.code.toLowerCase()}` : meaning(r.code));
  sink.text(`${r.line},${r.tradeNo},${formatYuan(r.amountFen)},`);
  sink.bytes(reasonBytes(r.reason));
  sink.text(`,${r.batchNo ?? ''},${r.outcome},${r.code},${formatYuan(r.refundedFen)},${detail}\n`);
}

const REPORT_HEADER = 'line,trade_no,amount,reason,batch_no,outcome,code,refunded_amount,detail';

/**
 * The report, written as results come: every input line with its final outcome (CSV, UTF-8, header row). It is
 * written to `path.tmp` and renamed at close, so a report is never half written.
 */
export function openReport(path: string): {
  /** One line's outcome (buffered: written at the latest by {@link close}). */
  line(r: LineResult): void;
  write(results: readonly LineResult[]): void;
  close(): void;
  /** Closes and removes the temporary file: the report at `path` (if any) is left as it was. */
  discard(): void;
} {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  // A UTF-8 BOM first: Excel on a Chinese Windows reads the file as UTF-8 (without it: mojibake).
  writeSync(fd, `\uFEFF${REPORT_HEADER}\n`);
  const sink = new ReportSink(fd);
  let closed = false;
  return {
    line(r) {
      reportLine(sink, r);
    },
    write(results) {
      for (const r of results) reportLine(sink, r);
    },
    close() {
      if (closed) return;
      closed = true;
      sink.flush();
      closeSync(fd);
      renameSync(tmp, path);
    },
    discard() {
      if (closed) return;
      closed = true;
      closeSync(fd);
      rmSync(tmp, { force: true });
    },
  };
}

/** Writes the whole report at once. */
export function writeReport(path: string, results: readonly LineResult[]): void {
  const r = openReport(path);
  r.write(results);
  r.close();
}
