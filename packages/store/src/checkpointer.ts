/**
 * WAL checkpoints off the request path.
 *
 * In WAL mode SQLite appends every commit to the `-wal` file and, by default, the commit that pushes the WAL past
 * 1,000 pages copies the pages back into the database file and fsyncs both ("auto-checkpoint"). That copy and the
 * fsyncs ran inside whichever request happened to commit: a notification apply that normally takes ~2 ms took
 * tens of ms, on the event loop, blocking every other request (docs/benchmarks.md, decision 27).
 *
 * Here one worker thread per process holds its own connection to every SQLite file the process has open and runs
 * `PRAGMA wal_checkpoint(PASSIVE)` every {@link CHECKPOINT_INTERVAL_MS}. A PASSIVE checkpoint never blocks
 * writers or readers and never waits for a lock. The main connection keeps a much higher auto-checkpoint threshold
 * ({@link BACKSTOP_WAL_PAGES}) as a backstop, so the WAL stays bounded even if the worker falls behind or dies.
 *
 * The worker is unref'd (it never keeps a process alive) and stops when the last file is unregistered.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints each registered file. */
export const CHECKPOINT_INTERVAL_MS = 200;
/** The main connection's `wal_autocheckpoint` while a worker checkpoints for it (64 MiB of 4 KiB pages). */
export const BACKSTOP_WAL_PAGES = 16_384;

/** The worker, as CommonJS source (no TypeScript loader in worker threads). */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Sqlite = require(workerData.sqliteModule);
const open = new Map();
const checkpointAll = () => {
  for (const [path, db] of open) {
    try {
      const [row] = db.pragma('wal_checkpoint(PASSIVE)');
      parentPort.postMessage({ type: 'checkpointed', path, log: row.log, checkpointed: row.checkpointed });
    } catch (err) {
      parentPort.postMessage({ type: 'error', path, message: String((err && err.message) || err) });
    }
  }
};
const timer = setInterval(checkpointAll, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m.type === 'add') {
    try {
      const db = new Sqlite(m.path, { fileMustExist: true });
      db.pragma('synchronous = NORMAL');
      open.set(m.path, db);
    } catch (err) {
      parentPort.postMessage({ type: 'error', path: m.path, message: String((err && err.message) || err) });
    }
    parentPort.postMessage({ type: 'added', id: m.id });
  } else if (m.type === 'remove') {
    const db = open.get(m.path);
    open.delete(m.path);
    try {
      if (db) db.close();
    } catch {}
    parentPort.postMessage({ type: 'removed', id: m.id });
  } else if (m.type === 'stop') {
    clearInterval(timer);
    for (const db of open.values()) {
      try {
        db.close();
      } catch {}
    }
    open.clear();
    parentPort.close();
  }
});
`;

interface WorkerMessage {
  type: 'added' | 'removed' | 'checkpointed' | 'error';
  id?: number;
  path?: string;
  message?: string;
  log?: number;
  checkpointed?: number;
}

/** What the checkpointer last did for one file (tests and diagnostics). */
export interface CheckpointStats {
  /** PASSIVE checkpoints run so far. */
  runs: number;
  /** Frames in the WAL and frames copied back at the last run (`-1` when the file is not in WAL mode). */
  lastLog: number;
  lastCheckpointed: number;
  /** The last error the worker saw for this file, if any. */
  lastError: string | null;
}

let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, () => void>();
/** Registered paths with how many open connections of this process use each. */
const users = new Map<string, number>();
const stats = new Map<string, CheckpointStats>();

function ensureWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      sqliteModule: createRequire(import.meta.url).resolve('better-sqlite3'),
      intervalMs: CHECKPOINT_INTERVAL_MS,
    },
    // A small isolate: it only holds SQLite handles.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
    stdout: false,
    stderr: false,
  });
  w.unref();
  w.on('message', (m: WorkerMessage) => {
    if ((m.type === 'added' || m.type === 'removed') && m.id !== undefined) {
      waiting.get(m.id)?.();
      return;
    }
    if (m.path === undefined) return;
    const s = stats.get(m.path);
    if (!s) return;
    if (m.type === 'checkpointed') {
      s.runs++;
      s.lastLog = m.log ?? -1;
      s.lastCheckpointed = m.checkpointed ?? -1;
      s.lastError = null;
    } else if (m.type === 'error') {
      s.lastError = m.message ?? 'unknown error';
    }
  });
  const gone = () => {
    if (worker === w) worker = null;
    for (const settle of [...waiting.values()]) settle();
  };
  w.on('error', gone);
  w.on('exit', gone);
  worker = w;
  return w;
}

/**
 * Sends `add`/`remove` and waits for the worker's answer (at most 5 s). The worker is ref'd while an answer is
 * pending: otherwise a process whose last task is `database.close()` would exit before the answer came, with
 * the close still awaited (exit code 13 from a top-level await).
 */
function request(type: 'add' | 'remove', path: string): Promise<void> {
  const w = ensureWorker();
  const id = nextId++;
  w.ref();
  return new Promise<void>((resolve) => {
    const settle = () => {
      clearTimeout(timer);
      waiting.delete(id);
      if (waiting.size === 0) w.unref();
      resolve();
    };
    const timer = setTimeout(settle, 5000);
    waiting.set(id, settle);
    w.postMessage({ type, id, path });
  });
}

/**
 * Starts checkpointing `path` (an absolute path to a SQLite file in WAL mode) in the background. Returns the
 * function that stops it; call it before closing the main connection.
 */
export async function registerCheckpoints(path: string): Promise<() => Promise<void>> {
  const n = users.get(path) ?? 0;
  users.set(path, n + 1);
  if (n === 0) {
    stats.set(path, { runs: 0, lastLog: -1, lastCheckpointed: -1, lastError: null });
    await request('add', path);
  }
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    const left = (users.get(path) ?? 1) - 1;
    if (left > 0) {
      users.set(path, left);
      return;
    }
    users.delete(path);
    stats.delete(path);
    if (worker) await request('remove', path);
    if (users.size === 0 && worker) {
      const w = worker;
      worker = null;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.ref(); // until it has exited, for the same reason as in request()
      w.postMessage({ type: 'stop' });
      await exited;
    }
  };
}

/** Whether the worker thread is running (it stops when no file is registered). */
export function checkpointerRunning(): boolean {
  return worker !== null;
}

/** What the checkpointer did for `path` so far, or `undefined` when the path is not registered. */
export function checkpointStats(path: string): Readonly<CheckpointStats> | undefined {
  const s = stats.get(path);
  return s ? { ...s } : undefined;
}
