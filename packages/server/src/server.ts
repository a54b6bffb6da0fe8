/**
 * `createServer(deps)`: migrations, bootstrap credentials, services, and the Hono app with the notify
 * endpoints, the JSON API and the console.
 */
import { type Clock, systemClock } from '@alirefund/protocol';
import { migrate, openDatabase } from '@alirefund/store';
import { Hono } from 'hono';
import type { ServerSettings } from './config.js';
import type { ConsoleContext, ServiceDeps } from './context.js';
import type { ServerDatabase, ServerDB } from './db.js';
import { mountApi } from './http/api.js';
import { mountResponseHeaders } from './http/client.js';
import { createNotifyEndpoint, mountNotify } from './http/notify.js';
import { createNotifyNodeRoute, type NodeRoute } from './http/notify-node.js';
import { mountOps, mountRequestTracking, readiness, type Traffic } from './http/ops.js';
import { type Logger, silentLogger } from './log.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { withRequestIds } from './request-context.js';
import { gatewayFetch, gatewayGet } from './services/notify-http.js';
import { MIGRATION_NAMESPACE, serverMigrations } from './schema.js';
import { createServices, type ServerServices } from './services/index.js';

export interface CreateServerDeps {
  settings: ServerSettings;
  /** An open database; when absent `settings.databaseUrl` is opened (and closed by `close()`). */
  database?: ServerDatabase | undefined;
  clock?: Clock | undefined;
  /** fetch used towards the gateway (nopwd, notify_verify). */
  fetch?: typeof fetch | undefined;
  log?: Logger | undefined;
  /**
   * How to mount the console: default `mountConsole` from `./console/index.js`; `false` for none; or your own
   * function.
   */
  console?: false | ((app: Hono, ctx: ConsoleContext) => void) | undefined;
  /** Start the queue/reconcile timer (default true). Tests turn it off and call `services.submission.tick()`. */
  background?: boolean | undefined;
  /** Node's process metrics (CPU, memory, event loop) in `/metrics` (default true). */
  processMetrics?: boolean | undefined;
}

export interface AlirefundServer {
  app: Hono;
  services: ServerServices;
  settings: ServerSettings;
  database: ServerDatabase;
  metrics: ServerMetrics;
  /**
   * The notification endpoints on node:http, without Hono's Request/Response objects: call it first in a
   * `node:http` request listener and hand the request to `app.fetch` when it returns false.
   */
  nodeRoute: NodeRoute;
  /** Requests being handled now, and whether {@link AlirefundServer.drain} was called. */
  readonly traffic: Readonly<Traffic>;
  /** The checks of `GET /readyz`. */
  readiness(): ReturnType<typeof readiness>;
  /**
   * Starts a shutdown: `/readyz` answers 503 (the load balancer takes this instance out) and the background
   * queue stops picking new batches. Requests in flight go on; stop the listener, wait for them, then `close()`.
   */
  drain(): void;
  /** Stops the background work (waiting for a submission in flight) and closes the database if createServer opened it. */
  close(): Promise<void>;
}

/**
 * Builds the merchant server.
 * @example
 * const server = await createServer({ settings: parseServerEnv(process.env) });
 * serve({ fetch: server.app.fetch, port: 3000 });
 */
export async function createServer(deps: CreateServerDeps): Promise<AlirefundServer> {
  const { settings } = deps;
  const ownDatabase = deps.database === undefined;
  const database = deps.database ?? (await openDatabase<ServerDB>(settings.databaseUrl));
  try {
    await migrate(database, MIGRATION_NAMESPACE, serverMigrations);
    const log = withRequestIds(deps.log ?? silentLogger);
    const clock = deps.clock ?? systemClock;
    const metrics = createMetrics(database, { defaultMetrics: deps.processMetrics !== false });
    const traffic: Traffic = { inFlight: 0, draining: false };
    const serviceDeps: ServiceDeps = {
      database,
      settings,
      config: settings.alipay,
      clock,
      log,
      fetch: metrics.meterFetch(deps.fetch ?? gatewayFetch),
      ...(deps.fetch === undefined ? { getText: metrics.meterGet(gatewayGet) } : {}),
    };
    const services = createServices(serviceDeps);
    if (settings.apiToken !== undefined) await services.tokens.ensureBootstrap(settings.apiToken);
    if (settings.adminPassword !== undefined)
      await services.operators.ensureBootstrapAdmin(settings.adminPassword);

    const app = new Hono();
    const ops = { database, settings, metrics, log, traffic };
    mountResponseHeaders(app, settings);
    mountRequestTracking(app, ops);
    mountOps(app, ops);
    const notifyEndpoint = createNotifyEndpoint(services.notifications, log, metrics);
    mountNotify(app, notifyEndpoint);
    mountApi(app, services, log);
    // Loaded only when used, so that the API and notify endpoints never depend on the console's modules.
    const mount =
      deps.console === undefined ? (await import('./console/index.js')).mountConsole : deps.console;
    if (mount !== false) mount(app, { services, settings, clock, log });

    if (deps.background !== false) services.submission.start();
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      settings,
      database,
      metrics,
      nodeRoute: createNotifyNodeRoute(notifyEndpoint, ops, settings),
      traffic,
      readiness: () => readiness(ops),
      drain() {
        traffic.draining = true;
        // stopped at once (no new batch is picked); close() waits for the submission in flight
        void services.submission.stop();
      },
      close() {
        closing ??= (async () => {
          await services.submission.stop();
          if (ownDatabase) await database.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    if (ownDatabase) await database.close().catch(() => {});
    throw err;
  }
}
