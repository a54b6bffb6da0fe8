/**
 * `alirefund sandbox`: the sandbox gateway alone.
 */
import { readFileSync } from 'node:fs';
import {
  ScheduleError,
  SeedError,
  createSandbox,
  formatSchedule,
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

export async function runSandbox(opts: SandboxOptions, io: Io): Promise<number> {
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
  const log = createLogger();
  const database = await openDatabase(dbUrl);
  const sandbox = await createSandbox({
    database,
    ...(schedule ? { notifySchedule: schedule } : {}),
    log: (event) => log.info(event),
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
    io.stdout(`admin API: ${server.url}/sandbox/api/\n`);
    io.stdout(
      `notify schedule: ${formatSchedule(schedule ?? [])}\n`.replace(
        'notify schedule: \n',
        'notify schedule: default\n',
      ),
    );
    io.stdout(`database: ${database.url}\n`);
    await untilSignal();
    await server.close();
    return 0;
  } finally {
    await sandbox.close();
    await database.close();
  }
}
