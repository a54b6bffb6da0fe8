/**
 * Outcomes of a bulk run, per input line, taken from the server's batch records (which the notifications fill):
 * the summary (refunded / failed by code / pending), the CSV report and the JSON summary.
 */
import { writeFileSync } from 'node:fs';
import { formatYuan, lookupCode } from '@alirefund/protocol';
import type { BatchState } from '@alirefund/server';
import type { BulkItem } from './validate.js';

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

/** Maps each file item to its outcome. `batchOf[i]` is the batch_no and 1-based seq of item i, if created. */
export function lineResults(
  items: readonly BulkItem[],
  batchOf: ReadonlyArray<{ batchNo: string; seq: number } | undefined>,
  batches: ReadonlyMap<string, BatchOutcomeRow>,
  records: ReadonlyMap<string, RecordOutcomeRow>,
): LineResult[] {
  return items.map((it, i) => {
    const base = {
      line: it.line,
      tradeNo: it.tradeNo,
      amountFen: it.amountFen,
      reason: it.reason,
      refundedFen: 0,
    };
    const at = batchOf[i];
    if (!at) return { ...base, batchNo: null, outcome: 'pending', code: 'NOT_CREATED' };
    const b = batches.get(at.batchNo);
    const state = b?.state ?? 'draft';
    const r = records.get(`${at.batchNo}#${at.seq}`);
    if (state === 'finished') {
      if (r && Number(r.succeeded) === 1)
        return {
          ...base,
          batchNo: at.batchNo,
          outcome: 'refunded',
          code: r.result_code ?? 'SUCCESS',
          refundedFen: Number(r.result_amount_fen ?? it.amountFen),
        };
      return { ...base, batchNo: at.batchNo, outcome: 'failed', code: r?.result_code ?? 'NO_RESULT' };
    }
    if (state === 'rejected')
      return { ...base, batchNo: at.batchNo, outcome: 'failed', code: b?.gateway_code ?? 'REJECTED' };
    if (state === 'cancelled')
      return { ...base, batchNo: at.batchNo, outcome: 'failed', code: 'BATCH_CANCELLED' };
    if (state === 'resubmit_manually')
      return { ...base, batchNo: at.batchNo, outcome: 'failed', code: 'RESUBMIT_MANUALLY' };
    return { ...base, batchNo: at.batchNo, outcome: 'pending', code: state.toUpperCase() };
  });
}

export interface Summary {
  lines: number;
  refunded: { lines: number; amountFen: number; amount: string };
  failed: { lines: number; amountFen: number; amount: string; byCode: Record<string, number> };
  pending: { lines: number; amountFen: number; amount: string; byState: Record<string, number> };
}

export function summarize(results: readonly LineResult[]): Summary {
  const s = {
    refunded: { lines: 0, amountFen: 0 },
    failed: { lines: 0, amountFen: 0, byCode: {} as Record<string, number> },
    pending: { lines: 0, amountFen: 0, byState: {} as Record<string, number> },
  };
  for (const r of results) {
    if (r.outcome === 'refunded') {
      s.refunded.lines++;
      s.refunded.amountFen += r.refundedFen;
    } else if (r.outcome === 'failed') {
      s.failed.lines++;
      s.failed.amountFen += r.amountFen;
      s.failed.byCode[r.code] = (s.failed.byCode[r.code] ?? 0) + 1;
    } else {
      s.pending.lines++;
      s.pending.amountFen += r.amountFen;
      s.pending.byState[r.code] = (s.pending.byState[r.code] ?? 0) + 1;
    }
  }
  return {
    lines: results.length,
    refunded: { ...s.refunded, amount: formatYuan(s.refunded.amountFen) },
    failed: { ...s.failed, amount: formatYuan(s.failed.amountFen) },
    pending: { ...s.pending, amount: formatYuan(s.pending.amountFen) },
  };
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

const explained = new Map<string, string>();
function meaning(code: string): string {
  let m = explained.get(code);
  if (m === undefined) {
    m = code === 'SUCCESS' || code === 'NOT_CREATED' ? '' : lookupCode(code).en;
    explained.set(code, m);
  }
  return m;
}

/** Writes the report: every input line with its final outcome (CSV, UTF-8, header row). */
export function writeReport(path: string, results: readonly LineResult[]): void {
  const out: string[] = ['line,trade_no,amount,reason,batch_no,outcome,code,refunded_amount,detail'];
  for (const r of results) {
    out.push(
      [
        String(r.line),
        r.tradeNo,
        formatYuan(r.amountFen),
        csvField(r.reason),
        r.batchNo ?? '',
        r.outcome,
        r.code,
        formatYuan(r.refundedFen),
        csvField(r.outcome === 'pending' ? `batch ${r.code.toLowerCase()}` : meaning(r.code)),
      ].join(','),
    );
  }
  writeFileSync(path, `${out.join('\n')}\n`);
}
