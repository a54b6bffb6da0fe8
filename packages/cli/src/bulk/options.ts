/**
 * The flags and configuration of `alirefund refund`: checked before anything is read from the database, so a
 * bad flag or a bad environment exits 1 with one line and nothing else happens.
 */
import { readFileSync } from 'node:fs';
import type { RefundMode } from '@alirefund/protocol';
import {
  MAX_BATCH_SIZE,
  parseDuration,
  parseServerEnv,
  ServerConfigError,
  type ServerSettings,
} from '@alirefund/server';
import { CliError, type Io } from '../io.js';
import { parsePort } from '../runtime.js';

export interface RefundOptions {
  file: string;
  mode?: string;
  batchSize?: string;
  db?: string;
  dryRun?: boolean;
  /** Set the file's earlier run aside and start a fresh one (runs.ts retireRun). */
  newRun?: boolean;
  /** --file is a report: refund its failed lines again. */
  failedOnly?: boolean;
  serve?: boolean;
  report?: string;
  json?: boolean;
  timeout?: string;
  port?: string;
  host?: string;
}

/** Exit codes (documented in --help). */
export const EXIT = {
  ok: 0,
  invalid: 1,
  someFailed: 2,
  outcomeUnknown: 3,
  pending: 4,
  /** Batches of the run await approval by a second person (ALIREFUND_APPROVAL_THRESHOLD / _ALL). */
  awaitingApproval: 5,
  interrupted: 130,
} as const;

export function parseOptions(opts: RefundOptions): {
  mode: RefundMode;
  batchSize: number;
  timeoutMs: number;
} {
  const mode = opts.mode ?? 'nopwd';
  if (mode !== 'nopwd' && mode !== 'pwd') throw new CliError(`--mode: "${mode}" is not nopwd or pwd`);
  const batchSize = Number(opts.batchSize ?? '50');
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE)
    throw new CliError(
      `--batch-size: "${opts.batchSize}" must be a whole number from 1 to ${MAX_BATCH_SIZE}`,
    );
  const timeoutMs = parseDuration(opts.timeout ?? '10m');
  if (timeoutMs === null || timeoutMs <= 0)
    throw new CliError(`--timeout: "${opts.timeout}" is not a duration such as 30s, 10m or 2h`);
  return { mode, batchSize, timeoutMs };
}

/** The bytes of --file (resolved against the working directory by the caller). */
export function readInputFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      `--file: cannot read ${file} (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`,
    );
  }
}

/** The same variables as `alirefund serve`; --db overrides ALIREFUND_DATABASE_URL. */
export function loadSettings(opts: RefundOptions, io: Io): ServerSettings {
  try {
    const env = { ...io.env, ...(opts.db !== undefined ? { ALIREFUND_DATABASE_URL: opts.db } : {}) };
    return parseServerEnv(env);
  } catch (e) {
    if (e instanceof ServerConfigError) throw new CliError(e.message);
    throw e;
  }
}

/** Where --serve listens: the port of ALIREFUND_PUBLIC_URL, on loopback when the URL is local. */
export function serveAddress(settings: ServerSettings, opts: RefundOptions): { port: number; host: string } {
  const url = new URL(settings.publicUrl);
  const port =
    opts.port !== undefined
      ? parsePort(opts.port)
      : Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return { port, host: opts.host ?? (local ? '127.0.0.1' : '0.0.0.0') };
}
