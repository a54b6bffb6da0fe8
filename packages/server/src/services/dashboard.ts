/**
 * Figures for the console's dashboard: refunds per day, success rate, open and needs-attention batches,
 * notification latency.
 */
import { beijingDate } from '@alirefund/protocol';
import type { ExpressionBuilder } from 'kysely';
import { type BatchesTable, type BatchRecordsTable, OPEN_STATES, type ServerDB } from '../db.js';
import { type BatchDelay, batchDelay, delayFacts } from './batch-delay.js';
import { nowMs } from './clock.js';
import type { ServiceDeps } from './deps.js';

export interface DayStats {
  /** Beijing date, yyyy-MM-dd. */
  day: string;
  batches: number;
  records: number;
  succeeded: number;
  failed: number;
  refundedFen: number;
}

export interface DashboardStats {
  /** One entry per day of the window, oldest first (days without refunds included, with zeros). */
  refundsPerDay: DayStats[];
  /** Succeeded / (succeeded + failed) records finished in the window; null when none finished. */
  successRate: number | null;
  openBatches: number;
  needsAttention: number;
  /** Failed records of finished batches that no later batch retried. */
  failedOutstanding: number;
  /** Batches by state (all time). */
  batchesByState: Record<string, number>;
  /** Notification delays of the batches finished in the window (batch-delay.ts: pwd from notify_time). */
  notificationLatency: { count: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null };
  /** Deliveries received in the window by verdict. */
  notifications: { accepted: number; duplicate: number; rejected: number };
}

/** A failed record of a finished batch (what the gateway said, for the operator to act on). */
export interface FailedRecord {
  batchNo: string;
  mode: 'pwd' | 'nopwd';
  seq: number;
  tradeNo: string;
  amountFen: number;
  reason: string;
  resultCode: string | null;
  resultText: string | null;
  finishedAt: string | null;
  /** false once a later batch (not cancelled or rejected) holds the same trade: it is being or was retried. */
  outstanding: boolean;
}

export interface FailedRecordQuery {
  batchNo?: string;
  /** Only the records no later batch retried (default: all failed records). */
  outstandingOnly?: boolean;
  limit?: number;
  offset?: number;
}

export interface DashboardService {
  stats(opts?: { days?: number }): Promise<DashboardStats>;
  /** Failed records of finished batches, newest batch first. */
  failedRecords(query?: FailedRecordQuery): Promise<{ items: FailedRecord[]; total: number }>;
  /** Changes whenever a batch or a notification changes (the live pages poll it). */
  version(): Promise<string>;
  /** A batch's notification delay (batch-delay.ts), or null. */
  batchDelay(batchNo: string): Promise<BatchDelay | null>;
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
}

export function createDashboardService(deps: ServiceDeps): DashboardService {
  const { database, clock, config } = deps;
  const failedQuery = (query: FailedRecordQuery) => {
    let q = database.db
      .selectFrom('srv_batch_records as r')
      .innerJoin('srv_batches as b', 'b.batch_no', 'r.batch_no')
      .where('b.partner', '=', config.partner)
      .where('b.state', '=', 'finished')
      .where('r.succeeded', '=', 0);
    if (query.batchNo) q = q.where('b.batch_no', '=', query.batchNo);
    return q;
  };
  // A later batch (created after this one, not cancelled or rejected) with the same trade: retried.
  const retried = (eb: ExpressionBuilder<ServerDB & { r: BatchRecordsTable; b: BatchesTable }, 'r' | 'b'>) =>
    eb.exists(
      eb
        .selectFrom('srv_batch_records as r2')
        .innerJoin('srv_batches as b2', 'b2.batch_no', 'r2.batch_no')
        .select('r2.seq')
        .whereRef('r2.trade_no', '=', 'r.trade_no')
        .whereRef('b2.created_at', '>', 'b.created_at')
        .where('b2.partner', '=', config.partner)
        .where('b2.state', 'not in', ['cancelled', 'rejected']),
    );
  return {
    async failedRecords(query = {}) {
      const base = query.outstandingOnly
        ? failedQuery(query).where((eb) => eb.not(retried(eb as never)))
        : failedQuery(query);
      const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await base
        .select((eb) => [
          'b.batch_no',
          'b.mode',
          'b.finished_at',
          'r.seq',
          'r.trade_no',
          'r.amount_fen',
          'r.reason',
          'r.result_code',
          'r.result_text',
          retried(eb as never).as('retried'),
        ])
        .orderBy('b.finished_at', 'desc')
        .orderBy('b.batch_no', 'desc')
        .orderBy('r.seq', 'asc')
        .limit(Math.min(1000, Math.max(1, query.limit ?? 100)))
        .offset(Math.max(0, query.offset ?? 0))
        .execute();
      return {
        total: Number(total.n),
        items: rows.map((r) => ({
          batchNo: r.batch_no,
          mode: r.mode,
          seq: Number(r.seq),
          tradeNo: r.trade_no,
          amountFen: Number(r.amount_fen),
          reason: r.reason,
          resultCode: r.result_code,
          resultText: r.result_text,
          finishedAt: r.finished_at,
          outstanding: !Number(r.retried),
        })),
      };
    },
    async batchDelay(batchNo) {
      const [f] = await delayFacts(database.db, { batchNo, partner: config.partner });
      return f === undefined ? null : batchDelay(f);
    },
    async version() {
      const b = await database.db
        .selectFrom('srv_batches')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('updated_at').as('at')])
        .where('partner', '=', config.partner)
        .executeTakeFirstOrThrow();
      const n = await database.db
        .selectFrom('srv_notifications')
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirstOrThrow();
      return `${Number(b.n)}|${String(b.at ?? '')}|${String(n.id ?? 0)}`;
    },
    async stats(opts = {}) {
      const days = Math.min(366, Math.max(1, Math.floor(opts.days ?? 14)));
      const now = nowMs(clock);
      const dayKeys: string[] = [];
      for (let i = days - 1; i >= 0; i--) {
        const d = beijingDate(now - i * 86_400_000);
        dayKeys.push(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`);
      }
      // Window start: Beijing midnight of the first day, as UTC.
      const since = new Date(Date.parse(`${dayKeys[0]}T00:00:00+08:00`)).toISOString();
      const finished = await database.db
        .selectFrom('srv_batches as b')
        .innerJoin('srv_batch_records as r', 'r.batch_no', 'b.batch_no')
        .select(['b.batch_no', 'b.finished_at', 'r.succeeded', 'r.result_amount_fen'])
        .where('b.partner', '=', config.partner)
        .where('b.state', '=', 'finished')
        .where('b.finished_at', '>=', since)
        .execute();
      const perDay = new Map<string, DayStats>(
        dayKeys.map((day) => [day, { day, batches: 0, records: 0, succeeded: 0, failed: 0, refundedFen: 0 }]),
      );
      const batchesSeen = new Set<string>();
      const latencies: number[] = [];
      let ok = 0;
      let ko = 0;
      for (const r of finished) {
        const at = Date.parse(r.finished_at ?? '');
        const d = beijingDate(at);
        const s = perDay.get(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`);
        if (!s) continue;
        if (!batchesSeen.has(r.batch_no)) {
          batchesSeen.add(r.batch_no);
          s.batches++;
        }
        s.records++;
        if (Number(r.succeeded) === 1) {
          s.succeeded++;
          ok++;
          s.refundedFen += Number(r.result_amount_fen ?? 0);
        } else {
          s.failed++;
          ko++;
        }
      }
      for (const f of await delayFacts(database.db, { partner: config.partner, finishedSince: since })) {
        const d = batchDelay(f);
        if (d !== null) latencies.push(d.ms);
      }
      latencies.sort((a, b) => a - b);
      const states = await database.db
        .selectFrom('srv_batches')
        .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('partner', '=', config.partner)
        .groupBy('state')
        .execute();
      const batchesByState: Record<string, number> = {};
      for (const s of states) batchesByState[s.state] = Number(s.n);
      const verdicts = await database.db
        .selectFrom('srv_notifications')
        .select(['verdict', (eb) => eb.fn.countAll<number>().as('n')])
        .where('received_at', '>=', since)
        .groupBy('verdict')
        .execute();
      const notifications = { accepted: 0, duplicate: 0, rejected: 0 };
      for (const v of verdicts) notifications[v.verdict] = Number(v.n);
      return {
        refundsPerDay: [...perDay.values()],
        successRate: ok + ko === 0 ? null : ok / (ok + ko),
        openBatches: OPEN_STATES.reduce((s, st) => s + (batchesByState[st] ?? 0), 0),
        needsAttention: batchesByState['needs_attention'] ?? 0,
        failedOutstanding: (await this.failedRecords({ outstandingOnly: true, limit: 1 })).total,
        batchesByState,
        notificationLatency: {
          count: latencies.length,
          p50Ms: quantile(latencies, 0.5),
          p95Ms: quantile(latencies, 0.95),
          maxMs: latencies.at(-1) ?? null,
        },
        notifications,
      };
    },
  };
}
