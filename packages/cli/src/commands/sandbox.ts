/**
 * `alirefund sandbox`: the sandbox gateway alone. Bound beyond loopback (`--host 0.0.0.0`), its admin API and
 * state page need an admin token (random, printed at start; or ALIREFUND_SANDBOX_ADMIN_TOKEN), and answer only
 * to the Host names allowed (loopback names, the bound host, `--allowed-hosts`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  LOOPBACK_HOSTS,
  ScheduleError,
  SeedError,
  createSandbox,
  formatSchedule,
  isLoopbackHost,
  parseScheduleList,
} from '@alirefund/sandbox';
import { openDatabase } from '@alirefund/store';
import { CliError, type Io } from '../io.js';
import { createLogger, listen, parsePort, untilSignal } from '../runtime.js';

export interface SandboxOptions {
  port: string;
  host: string;
  seed?: string;
  db?: string;
  notifySchedule?: string;
  allowedHosts?: string;
}

/** Host names the admin API answers to: loopback, the bound host (unless a wildcard address), `--allowed-hosts`. */
export function sandboxAllowedHosts(host: string, extra: string | undefined): string[] {
  const out = new Set(LOOPBACK_HOSTS);
  const bound = host.trim().toLowerCase();
  if (bound !== '' && bound !== '0.0.0.0' && bound !== '::' && bound !== '[::]') out.add(bound);
  for (const h of (extra ?? '').split(',')) {
    const v = h.trim().toLowerCase();
    if (v === '') continue;
    if (v !== '*' && !/^(?:[a-z0-9-_.]+|\[?[0-9a-f:.]+\]?)$/.test(v)) {
      throw new CliError(
        `--allowed-hosts: "${v.slice(0, 100)}" is not a host name or IP address (list names without port or scheme, e.g. sandbox.internal,10.0.0.5; * allows any)`,
      );
    }
    out.add(v.replace(/^\[|\]$/g, ''));
  }
  return [...out];
}

/** Reads and validates a seed file; errors name the file and the JSON path of each bad field. */
export function readSeedFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CliError(`--seed: cannot read ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`--seed: ${path} is not valid JSON (${(e as Error).message})`);
  }
}

/** Runs until SIGINT/SIGTERM (or until `stop` settles: tests). */
export async function runSandbox(opts: SandboxOptions, io: Io, stop?: Promise<unknown>): Promise<number> {
  const port = parsePort(opts.port);
  let schedule: number[] | undefined;
  const scheduleText = opts.notifySchedule ?? io.env['ALIREFUND_NOTIFY_SCHEDULE'];
  if (scheduleText !== undefined) {
    try {
      schedule = parseScheduleList(scheduleText);
    } catch (e) {
      if (e instanceof ScheduleError) throw new CliError(`--notify-schedule: ${e.message}`);
      throw e;
    }
  }
  const dbUrl = opts.db ?? io.env['ALIREFUND_SANDBOX_DATABASE_URL'] ?? ':memory:';
  const seedJson = opts.seed === undefined ? undefined : readSeedFile(opts.seed);
  const allowedHosts = sandboxAllowedHosts(opts.host, opts.allowedHosts);
  // Beyond loopback, anyone who can reach the port could drive the admin API: a token is required.
  const envToken = io.env['ALIREFUND_SANDBOX_ADMIN_TOKEN']?.trim();
  if (envToken !== undefined && envToken !== '' && !/^[\x21-\x7e]{16,}$/.test(envToken)) {
    throw new CliError(
      'ALIREFUND_SANDBOX_ADMIN_TOKEN must be at least 16 printable ASCII characters without spaces (e.g. openssl rand -hex 24), or unset for a random one',
    );
  }
  const adminToken = isLoopbackHost(opts.host)
    ? undefined
    : envToken || randomBytes(24).toString('base64url');
  const log = createLogger();
  const database = await openDatabase(dbUrl);
  const sandbox = await createSandbox({
    database,
    ...(schedule ? { notifySchedule: schedule } : {}),
    log: (event) => log.info(event),
    allowedHosts,
    ...(adminToken !== undefined ? { adminToken } : {}),
  });
  try {
    if (seedJson !== undefined) {
      try {
        const summary = await sandbox.seed(seedJson);
        for (const p of summary.partners)
          io.stdout(`partner: ${p.partner} (${p.email}; ${p.services.join(', ')})\n`);
        io.stdout(
          `seeded: ${summary.accounts.created} accounts, ${summary.trades.created} trades (${summary.trades.existing} already there)\n`,
        );
      } catch (e) {
        if (e instanceof SeedError) {
          throw new CliError(
            `--seed ${opts.seed}: ${e.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
          );
        }
        throw e;
      }
    }
    const server = await listen(sandbox.app, port, opts.host);
    io.stdout(`gateway: ${server.url}/gateway.do\n`);
    io.stdout(`state page: ${server.url}/sandbox\n`);
    io.stdout(`admin API: ${server.url}/sandbox/api/ (Host: ${allowedHosts.join(', ')})\n`);
    if (adminToken !== undefined) {
      // Printed once, on purpose: it is how the operator of this sandbox learns it (never logged).
      io.stdout(
        `admin token: ${adminToken}  (send Authorization: Bearer <token> to /sandbox and /sandbox/api/)\n`,
      );
    }
    io.stdout(
      `notify schedule: ${formatSchedule(schedule ?? [])}\n`.replace(
        'notify schedule: \n',
        'notify schedule: default\n',
      ),
    );
    io.stdout(`database: ${database.url}\n`);
    await (stop ?? untilSignal());
    await server.close();
    return 0;
  } finally {
    await sandbox.close();
    await database.close();
  }
}
