/**
 * `alirefund serve`: the merchant refund server, configured by environment variables.
 */
import { ServerConfigError, createServer, parseServerEnv } from '@alirefund/server';
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
    const http = await listen(server.app, port, opts.host);
    io.stdout(`listening: ${http.url}\n`);
    io.stdout(`console: ${http.url}/\n`);
    io.stdout(`notify_url: ${settings.notifyUrl}\n`);
    io.stdout(`gateway: ${settings.alipay.gateway}\n`);
    io.stdout(`database: ${server.database.url}\n`);
    await untilSignal();
    await http.close();
    return 0;
  } finally {
    await server.close();
  }
}
