/**
 * The dispatcher: one loop that processes queued batches and sends due notifications, on a timer, when kicked,
 * or on demand (`runDue`, the admin API's `/dispatch` and redeliver).
 */
import type { Core } from './core.js';
import { deliverDue } from './delivery.js';
import { processBatch } from './processing/process.js';

/** Processes queued batches (unless paused), oldest first. */
export async function processQueued(core: Core): Promise<number> {
  if (core.faults.pauseProcessing) return 0;
  const queued = await core.db
    .selectFrom('sbx_batches')
    .select(['partner', 'batch_no'])
    .where('status', '=', 'queued')
    .orderBy('accepted_at', 'asc')
    .limit(100)
    .execute();
  let n = 0;
  for (const b of queued) {
    if (core.faults.pauseProcessing) break;
    if (await processBatch(core, b.partner, b.batch_no)) n++;
  }
  return n;
}

export interface Dispatcher {
  /** Starts polling (every `pollMs`) and reacting to kicks. */
  start(): void;
  /** Stops polling and waits for the run in progress. */
  stop(): Promise<void>;
  /** Processes queued batches and sends due notifications once; returns how many it handled. */
  runDue(): Promise<number>;
  /** Asks for a run soon (when started). */
  kick(): void;
  readonly running: boolean;
}

export function createDispatcher(core: Core, opts: { pollMs?: number } = {}): Dispatcher {
  const pollMs = opts.pollMs ?? 50;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let current: Promise<number> | undefined;
  let again = false;

  const runDue = async (): Promise<number> => {
    if (current) {
      // One run at a time; a caller arriving meanwhile waits for it and then runs once more.
      await current.catch(() => 0);
      return runDue();
    }
    current = (async () => {
      let total = 0;
      for (let round = 0; round < 20; round++) {
        const n = (await processQueued(core)) + (await deliverDue(core));
        total += n;
        if (n === 0) break;
      }
      return total;
    })();
    try {
      return await current;
    } finally {
      current = undefined;
    }
  };

  const tick = () => {
    if (!started) return;
    if (current) {
      again = true;
      return;
    }
    runDue()
      .catch((e: unknown) => core.log({ event: 'dispatcher_error', error: (e as Error).message }))
      .finally(() => {
        if (again && started) {
          again = false;
          setImmediate(tick);
        }
      });
  };

  return {
    start() {
      if (started) return;
      started = true;
      timer = setInterval(tick, pollMs);
      timer.unref();
      setImmediate(tick);
    },
    async stop() {
      started = false;
      if (timer) clearInterval(timer);
      timer = undefined;
      await current?.catch(() => 0);
    },
    runDue,
    kick() {
      if (started) setImmediate(tick);
    },
    get running() {
      return started;
    },
  };
}
