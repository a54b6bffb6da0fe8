/**
 * What every part of the sandbox shares: the database, the clock (with its offset), the fault settings,
 * Alipay's own RSA key, logging, and the processing lock.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '@alirefund/protocol';
import type { Database } from '@alirefund/store';
import type { Kysely, Transaction } from 'kysely';
import type { SandboxDB } from './schema.js';

/** Fault injection settings (admin API `/sandbox/api/faults`). Counters count down as faults fire. */
export interface Faults {
  notify: {
    /** The next N notification sends are each made twice, back to back. */
    duplicate: number;
    /** The next N notification sends are dropped (recorded as `dropped`, never sent; retried on schedule). */
    drop: number;
    /** Extra delay before the first send of every new notification, ms. */
    delayMs: number;
    /** The next N new notifications are held, then released together in reverse order. */
    reorder: number;
  };
  /** Forced per-record result codes: the next `times` records refunding `tradeNo` fail with `code`. */
  forceCodes: Array<{ tradeNo: string; code: string; times: number }>;
  /** The next N accepted refund requests are answered SYSTEM_ERROR although they were accepted and run. */
  systemErrorAfterAccept: number;
  /** Every gateway reply is delayed by this many ms (the work is done first). */
  slowResponseMs: number;
  /** Accepted batches stay queued (unprocessed) while true: holds the partner's batch lock open. */
  pauseProcessing: boolean;
}

export function noFaults(): Faults {
  return {
    notify: { duplicate: 0, drop: 0, delayMs: 0, reorder: 0 },
    forceCodes: [],
    systemErrorAfterAccept: 0,
    slowResponseMs: 0,
    pauseProcessing: false,
  };
}

/** A FIFO async lock: one batch is processed at a time in this process. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn, fn);
    this.#tail = next.catch(() => {});
    return next;
  }
}

export type SandboxTrx = Transaction<SandboxDB>;

export interface Core {
  readonly database: Database<SandboxDB>;
  readonly db: Kysely<SandboxDB>;
  /** Sandbox time: the injected clock plus the offset set through the admin API. */
  now(): number;
  clockOffsetMs: number;
  readonly schedule: readonly number[];
  readonly fetch: typeof fetch;
  readonly log: (event: Record<string, unknown>) => void;
  readonly notifyVerifyTtlMs: number | undefined;
  readonly notifyTimeoutMs: number;
  faults: Faults;
  /** Alipay's (the sandbox's) RSA key pair: signs notifications of RSA batches. */
  readonly alipayKey: { privateKey: KeyObject; publicKeyPem: string };
  readonly processing: Mutex;
  /** Wakes the dispatcher (no-op when it is not started). */
  kick(): void;
  /** Persists `faults` and `clockOffsetMs`. */
  saveSettings(): Promise<void>;
}

/** Reads a clock as epoch ms. */
export function readClock(clock: Clock): number {
  const v = clock();
  return typeof v === 'number' ? v : v.getTime();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Splits `items` into runs of at most `size` (the statements' `in (…)` lists and multi-row inserts). */
export function chunks<T>(items: readonly T[], size = 1000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
