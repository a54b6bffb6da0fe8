/**
 * `alirefund serve`: the merchant refund server, configured by environment variables.
 *
 * On SIGTERM or SIGINT it shuts down cleanly: `/readyz` turns 503 and the queue picks no new batch, the
 * listener stops accepting, requests in flight (a notification being applied, a submission being sent) finish,
 * the database closes, exit 0; whatever is still running after ALIREFUND_SHUTDOWN_TIMEOUT (default 20 s) is cut
 * (a cut notification was never answered `success`, so the gateway sends it again).
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, parseServerEnv, ServerConfigError } from '@alirefund/server';
import { CliError, type Io } from '../io.js';
import { createLogger, listen, parsePort, untilSignal } from '../runtime.js';

export interface ServeOptions {
  port: string;
  host: string;
  db?: string;
}

export async function runServe(opts: ServeOptions, io: Io): Promise<number> {
  const port = parsePort(opts.port);
  let settings: ReturnType<typeof parseServerEnv>;
  try {
    // Flags win over the environment; the public URL defaults to where we listen.
    const env = { ...io.env, ...(opts.db !== undefined ? { ALIREFUND_DATABASE_URL: opts.db } : {}) };
    settings = parseServerEnv(env, { defaults: { ALIREFUND_PUBLIC_URL: `http://${opts.host}:${port}` } });
  } catch (e) {
    if (e instanceof ServerConfigError) throw new CliError(e.message);
    throw e;
  }
  const log = createLogger();
  const server = await createServer({ settings, log });
  try {
    const http = await listen(server.app, port, opts.host, server.nodeRoute);
    const metricsHttp =
      settings.metricsPort === undefined
        ? undefined
        : await listenMetrics(server, settings.metricsPort, opts.host);
    io.stdout(`listening: ${http.url}\n`);
    io.stdout(`console: ${http.url}/\n`);
    io.stdout(`notify_url: ${settings.notifyUrl}\n`);
    io.stdout(`gateway: ${settings.alipay.gateway}\n`);
    io.stdout(`database: ${server.database.url}\n`);
    if (metricsHttp) io.stdout(`metrics: ${metricsHttp.url}/metrics\n`);
    log.info({ url: http.url, database: server.database.url }, 'server started');

    const signal = await untilSignal();
    const started = Date.now();
    log.info({ signal, inFlight: server.traffic.inFlight }, 'shutting down: draining');
    server.drain();
    const clean = await http.drain(settings.shutdownTimeoutMs);
    if (!clean) {
      log.warn(
        { timeoutMs: settings.shutdownTimeoutMs },
        'shutdown timeout: requests still in flight were cut (the gateway resends unanswered notifications)',
      );
    }
    await server.close();
    await metricsHttp?.close();
    log.info({ signal, ms: Date.now() - started, clean }, 'stopped');
    return 0;
  } finally {
    await server.close();
  }
}

/** `/metrics` without a token on a port of its own (bind it where only the monitoring system reaches). */
async function listenMetrics(
  server: Awaited<ReturnType<typeof createServer>>,
  port: number,
  host: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const http = createHttpServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    server.metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': server.metrics.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new CliError(`ALIREFUND_METRICS_PORT: cannot listen on ${host}:${port}: ${e.code ?? e.message}`),
      ),
    );
    http.listen(port, host, () => resolve());
  });
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((r) => {
        http.closeAllConnections();
        http.close(() => r());
      }),
  };
}
