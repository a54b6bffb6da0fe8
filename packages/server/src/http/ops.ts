/**
 * What an orchestrator and a monitoring system ask of the server:
 * - every request: a request id (from `X-Request-Id` or new) on each log line written for it and on the answer,
 *   its latency in the metrics, and one access line in the log;
 * - `GET /healthz`: the process is alive (200 `ok`; touches nothing, so a slow database never restarts it);
 * - `GET /readyz`: may this instance take traffic: database reachable, migrations applied, gateway configured,
 *   not shutting down (200 or 503 with the failing checks as JSON);
 * - `GET /metrics`: Prometheus text, behind `Authorization: Bearer ALIREFUND_METRICS_TOKEN` (404 without a
 *   token configured); `ALIREFUND_METRICS_PORT` serves it without a token on a port of its own.
 */
import { timingSafeEqual } from 'node:crypto';
import { pendingMigrations } from '@alirefund/store';
import type { Context, Hono } from 'hono';
import { sql } from 'kysely';
import type { ServerSettings } from '../config.js';
import type { ServerDatabase } from '../db.js';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import { requestIdFrom, runWithRequestId } from '../request-context.js';
import { MIGRATION_NAMESPACE, serverMigrations } from '../schema.js';

/** Requests in flight and whether the server is shutting down, shared with `close()`. */
export interface Traffic {
  inFlight: number;
  draining: boolean;
}

export interface OpsDeps {
  database: ServerDatabase;
  settings: ServerSettings;
  metrics: ServerMetrics;
  log: Logger;
  traffic: Traffic;
}

/** How long a readiness check may wait for the database before it says "not ready". */
const READY_TIMEOUT_MS = 2000;

/** The route label of a request: its matched pattern, so that ids in paths never become label values. */
function routeOf(c: Context): string {
  const route = c.req.routePath;
  return route === '*' || route === '/*' ? 'unmatched' : route;
}

/** One request being handled: its id, and `end` to call once it is answered. */
export interface TrackedRequest {
  reqId: string;
  /** Leaves the in-flight count; records the latency metric and (except for the probes) the access line. */
  end(route: string, status: number): void;
}

/** Starts tracking a request (counted in flight until `end`); `idHeader` is its X-Request-Id, if any. */
export function trackRequest(
  deps: Pick<OpsDeps, 'metrics' | 'log' | 'traffic'>,
  method: string,
  idHeader: string | undefined | null,
): TrackedRequest {
  const { metrics, log, traffic } = deps;
  const reqId = requestIdFrom(idHeader);
  const started = performance.now();
  traffic.inFlight++;
  return {
    reqId,
    end(route, status) {
      traffic.inFlight--;
      const seconds = (performance.now() - started) / 1000;
      metrics.httpRequest(method, route, status, seconds);
      if (route !== '/healthz' && route !== '/readyz' && route !== '/metrics') {
        const line = { reqId, method, route, status, ms: Math.round(seconds * 10000) / 10 };
        if (status >= 500) log.error(line, 'request');
        else log.info(line, 'request');
      }
    },
  };
}

/** Request ids, access log, latency metrics and the in-flight count: mount before every other route. */
export function mountRequestTracking(app: Hono, deps: OpsDeps): void {
  app.use('*', async (c, next) => {
    const t = trackRequest(deps, c.req.method, c.req.header('x-request-id'));
    try {
      await runWithRequestId(t.reqId, next);
    } finally {
      t.end(routeOf(c), c.res.status);
      c.res.headers.set('x-request-id', t.reqId);
    }
  });
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Each readiness check: `ok`, or what is wrong. */
export async function readiness(deps: OpsDeps): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {};
  checks['shutdown'] = deps.traffic.draining ? 'shutting down: not taking new work' : 'ok';
  try {
    await withTimeout(sql`select 1`.execute(deps.database.db), READY_TIMEOUT_MS, 'the database');
    checks['database'] = 'ok';
    const pending = await withTimeout(
      pendingMigrations(deps.database, MIGRATION_NAMESPACE, serverMigrations),
      READY_TIMEOUT_MS,
      'the migrations table',
    );
    checks['migrations'] =
      pending.length === 0 ? 'ok' : `${pending.length} not applied yet: ${pending.join(', ')}`;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (checks['database'] === undefined) checks['database'] = `unreachable: ${message}`;
    else checks['migrations'] = `cannot read: ${message}`;
  }
  const { alipay } = deps.settings;
  checks['gateway'] =
    alipay.partner !== '' && alipay.gateway !== '' && alipay.notifyUrl !== undefined
      ? 'ok'
      : 'gateway configuration incomplete (ALIPAY_PARTNER, ALIPAY_GATEWAY, ALIREFUND_PUBLIC_URL)';
  return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
}

function sameToken(expected: string, header: string | undefined): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(m[1]!);
  return a.length === b.length && timingSafeEqual(a, b);
}

const NO_STORE = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

/** `GET /metrics` as a handler of its own, for the separate metrics port. */
export async function metricsResponse(metrics: ServerMetrics): Promise<Response> {
  return new Response(await metrics.render(), {
    headers: { 'content-type': metrics.contentType, ...NO_STORE },
  });
}

export function mountOps(app: Hono, deps: OpsDeps): void {
  app.get('/healthz', (c) => c.text('ok', 200, NO_STORE));
  app.get('/readyz', async (c) => {
    const r = await readiness(deps);
    if (!r.ready) deps.log.warn({ checks: r.checks }, 'not ready');
    return c.json(
      { status: r.ready ? 'ready' : 'not ready', checks: r.checks },
      r.ready ? 200 : 503,
      NO_STORE,
    );
  });
  app.get('/metrics', async (c) => {
    const token = deps.settings.metricsToken;
    if (token === undefined) return c.text('not found', 404, NO_STORE);
    if (!sameToken(token, c.req.header('authorization'))) {
      return c.text('metrics need Authorization: Bearer <ALIREFUND_METRICS_TOKEN>', 401, {
        ...NO_STORE,
        'www-authenticate': 'Bearer realm="metrics"',
      });
    }
    return metricsResponse(deps.metrics);
  });
}
