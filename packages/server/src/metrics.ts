/**
 * The server's Prometheus metrics (prom-client), one registry per server so that several servers in one
 * process (tests, the demo) never mix their counts.
 *
 * - counted as they happen, per instance: notifications received and their verdicts (with the reason code of
 *   a rejection), notify_verify and other gateway calls (latency, failures), HTTP latency by route;
 * - read from the database at scrape time, so every instance shows the same truth: batches by state,
 *   submissions by the gateway's synchronous answer; and the database pool of this instance.
 */
import type { Database } from '@alirefund/store';
import { sql } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { NotifyOutcome } from './services/notification-types.js';

/** The metrics of one server. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** A delivery reached `/alipay/notify` (`batch`) or `/alipay/trade-notify` (`trade`). */
  notificationReceived(kind: NotificationKind): void;
  /**
   * What became of it; `error` when it failed before a verdict (answered `fail` with 500), `too_large` when
   * the body exceeded the limit (413).
   */
  notificationOutcome(kind: NotificationKind, outcome: NotifyOutcome | 'error' | 'too_large'): void;
  /** One HTTP request answered. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** `fetch` towards the gateway, timed and counted by service (notify_verify, nopwd, query). */
  meterFetch(inner: typeof fetch): typeof fetch;
  /** A text GET towards the gateway (notify_verify without `fetch`), timed and counted as {@link meterFetch}. */
  meterGet(
    inner: (url: string, timeoutMs: number) => Promise<{ status: number; text: string }>,
  ): (url: string, timeoutMs: number) => Promise<string>;
  /** The exposition text (`text/plain; version=0.0.4`). */
  render(): Promise<string>;
  readonly contentType: string;
}

export type NotificationKind = 'batch' | 'trade';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The gateway service a request URL or form body names, bounded to the ones we call. */
function gatewayService(input: string | URL | Request, init?: RequestInit): string {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const body = typeof init?.body === 'string' ? init.body : '';
  const m = /[?&]service=([a-z_]+)/.exec(url) ?? /(?:^|&)service=([a-z_]+)/.exec(body);
  const name = m?.[1] ?? 'other';
  return ['notify_verify', 'refund_fastpay_by_platform_nopwd', 'refund_fastpay_query'].includes(name)
    ? name
    : 'other';
}

export function createMetrics(
  // biome-ignore lint/suspicious/noExplicitAny: the server's schema; only srv_batches is read here.
  database: Database<any>,
  opts: { defaultMetrics?: boolean } = {},
): ServerMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'alirefund_' });

  const received = new Counter({
    name: 'alirefund_notifications_received_total',
    help: 'Notification deliveries received, by kind (batch = batch_refund_notify, trade = trade_status_sync).',
    labelNames: ['kind'],
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'alirefund_notifications_total',
    help: 'Notification deliveries by verdict (accepted = applied, duplicate, rejected, error) and rejection reason.',
    labelNames: ['kind', 'verdict', 'reason'],
    registers: [registry],
  });
  const gatewaySeconds = new Histogram({
    name: 'alirefund_gateway_request_duration_seconds',
    help: 'Calls to the gateway by service (notify_verify, refund_fastpay_by_platform_nopwd, refund_fastpay_query).',
    labelNames: ['service'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const gatewayFailures = new Counter({
    name: 'alirefund_gateway_request_failures_total',
    help: 'Gateway calls that failed (network error, timeout, HTTP status >= 400), by service and reason.',
    labelNames: ['service', 'reason'],
    registers: [registry],
  });
  const httpSeconds = new Histogram({
    name: 'alirefund_http_request_duration_seconds',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  registerCollectedGauges(registry, database);

  /** Times one gateway call and counts its failure (http status ≥ 400, timeout or network) by service. */
  async function metered<R extends { status: number }>(service: string, call: () => Promise<R>): Promise<R> {
    const end = gatewaySeconds.startTimer({ service });
    try {
      const res = await call();
      if (res.status >= 400) gatewayFailures.inc({ service, reason: `http_${res.status}` });
      return res;
    } catch (err) {
      const name = err instanceof Error ? err.name : 'error';
      gatewayFailures.inc({
        service,
        reason: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network',
      });
      throw err;
    } finally {
      end();
    }
  }
  return {
    registry,
    contentType: registry.contentType,
    notificationReceived(kind) {
      received.inc({ kind });
    },
    notificationOutcome(kind, outcome) {
      if (outcome === 'error') outcomes.inc({ kind, verdict: 'error', reason: '' });
      else if (outcome === 'too_large') outcomes.inc({ kind, verdict: 'rejected', reason: 'BODY_TOO_LARGE' });
      else outcomes.inc({ kind, verdict: outcome.verdict, reason: outcome.reasonCode ?? '' });
    },
    httpRequest(method, route, status, seconds) {
      httpSeconds.observe({ method, route, status: String(status) }, seconds);
    },
    meterFetch(inner) {
      return (input, init) => metered(gatewayService(input, init), () => inner(input, init));
    },
    meterGet(inner) {
      return (url, timeoutMs) =>
        metered(gatewayService(url), () => inner(url, timeoutMs)).then((r) => r.text);
    },
    render: () => registry.metrics(),
  };
}

/**
 * The gauges read when `/metrics` is scraped (batches by state and submissions by answer from the database, the
 * connection pool): registered on `registry`, which keeps them; nothing else refers to them.
 */
// biome-ignore lint/suspicious/noExplicitAny: the server's schema; only srv_batches is read here.
function registerCollectedGauges(registry: Registry, database: Database<any>): void {
  new Gauge({
    name: 'alirefund_batches',
    help: 'Refund batches in the database by state (all instances).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const rows = await sql<{ state: string; n: number | string }>`
        select state, count(*) as n from srv_batches group by state`.execute(database.db);
      this.reset();
      for (const r of rows.rows) this.set({ state: r.state }, Number(r.n));
    },
  });
  new Gauge({
    name: 'alirefund_submissions',
    help: "Batches submitted, by the gateway's answer: T (accepted), an error code, or no_answer yet (all instances).",
    labelNames: ['gateway_code'],
    registers: [registry],
    async collect() {
      const rows = await sql<{ code: string; n: number | string }>`
        select coalesce(gateway_code, case when accepted_at is not null then 'T' else 'no_answer' end) as code,
          count(*) as n
        from srv_batches where submitted_at is not null group by 1`.execute(database.db);
      this.reset();
      for (const r of rows.rows) this.set({ gateway_code: r.code }, Number(r.n));
    },
  });
  new Gauge({
    name: 'alirefund_db_pool_connections',
    help: "This instance's database connections: total, idle, waiting (queries queued), max.",
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = database.poolStats();
      this.set({ state: 'total' }, s.total);
      this.set({ state: 'idle' }, s.idle);
      this.set({ state: 'waiting' }, s.waiting);
      this.set({ state: 'max' }, s.max);
    },
  });
}
