/**
 * Figures for the console's dashboard: refunds per day, success rate, open and needs-attention batches,
 * notification latency.
 */
import { beijingDate } from '@alirefund/protocol';
import { OPEN_STATES } from '../db.js';
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
  /** Batches by state (all time). */
  batchesByState: Record<string, number>;
  /** Submission → notification applied, for batches finished in the window. */
  notificationLatency: { count: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null };
  /** Deliveries received in the window by verdict. */
  notifications: { accepted: number; duplicate: number; rejected: number };
}

export interface DashboardService {
  stats(opts?: { days?: number }): Promise<DashboardStats>;
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
}

export function createDashboardService(deps: ServiceDeps): DashboardService {
  const { database, clock, config } = deps;
  return {
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
        .select(['b.batch_no', 'b.finished_at', 'b.submitted_at', 'r.succeeded', 'r.result_amount_fen'])
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
          if (r.submitted_at) latencies.push(Math.max(0, at - Date.parse(r.submitted_at)));
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
