/**
 * The notification outbox: rows in `sbx_notifications`, sent by the dispatcher on the retry schedule with the
 * same notify_id every time, every attempt recorded in `sbx_deliveries`. Rows survive restarts: a new sandbox
 * on the same database carries on where the old one stopped.
 */
import { randomBytes } from 'node:crypto';
import { type Charset, type SigningKey, formatBeijing, signNotification } from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Core, SandboxTrx } from './core.js';
import { processBatch } from './processing.js';
import type { NotificationTable } from './schema.js';

/** What an enqueue did with the notify faults (applied to the shared settings after commit). */
export interface NotifyFaultUse {
  reorder: number;
}

export interface Enqueued {
  notifyId: string;
  kind: NotificationTable['kind'];
  url: string;
}

/** A new notify_id: 32 lower-case hex characters, like the documented example. */
export function newNotifyId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Adds a notification to the outbox in the caller's transaction. Its first send is due after the first
 * schedule interval (normally 0) plus the `delay` fault; the `reorder` fault holds it.
 */
export async function enqueueNotification(
  core: Core,
  trx: SandboxTrx,
  use: NotifyFaultUse,
  n: {
    partner: string;
    batchNo: string | null;
    tradeNo: string | null;
    kind: NotificationTable['kind'];
    url: string;
    charset: Charset;
    signType: string;
    params: Record<string, string>;
  },
): Promise<Enqueued> {
  const now = core.now();
  const notifyId = newNotifyId();
  const holding = core.faults.notify.reorder - use.reorder > 0;
  if (holding) use.reorder++;
  await trx
    .insertInto('sbx_notifications')
    .values({
      partner: n.partner,
      batch_no: n.batchNo,
      trade_no: n.tradeNo,
      kind: n.kind,
      notify_id: notifyId,
      url: n.url,
      charset: n.charset,
      sign_type: n.signType,
      params_json: JSON.stringify(n.params),
      status: holding ? 'held' : 'pending',
      attempts: 0,
      max_attempts: core.schedule.length,
      next_attempt_at: now + (core.schedule[0] ?? 0) + core.faults.notify.delayMs,
      last_attempt_at: null,
      created_at: now,
      delivered_at: null,
    })
    .execute();
  if (holding && core.faults.notify.reorder - use.reorder === 0) {
    // The group is complete: release it, newest first.
    const held = await trx
      .selectFrom('sbx_notifications')
      .select('id')
      .where('status', '=', 'held')
      .orderBy('id', 'asc')
      .execute();
    for (const [i, h] of held.entries()) {
      await trx
        .updateTable('sbx_notifications')
        .set({ status: 'pending', next_attempt_at: now - (i + 1) })
        .where('id', '=', Number(h.id))
        .execute();
    }
  }
  return { notifyId, kind: n.kind, url: n.url };
}

/**
 * Whether `notifyId` was issued by this gateway to `partner` and is still live: not yet acknowledged with
 * `success`, retries not exhausted, and (when a TTL is configured) its latest send less than TTL ago.
 */
export async function isNotifyIdLive(core: Core, partner: string, notifyId: string): Promise<boolean> {
  const row = await core.db
    .selectFrom('sbx_notifications')
    .select(['partner', 'status', 'last_attempt_at', 'created_at'])
    .where('notify_id', '=', notifyId)
    .executeTakeFirst();
  if (!row || row.partner !== partner) return false;
  if (row.status !== 'pending' && row.status !== 'held') return false;
  if (core.notifyVerifyTtlMs !== undefined) {
    const since = Number(row.last_attempt_at ?? row.created_at);
    if (core.now() - since > core.notifyVerifyTtlMs) return false;
  }
  return true;
}

type NotificationRow = {
  id: number;
  partner: string;
  notify_id: string;
  url: string;
  charset: string;
  sign_type: string;
  params_json: string;
  attempts: number;
  max_attempts: number;
  kind: string;
  batch_no: string | null;
};

const MAX_BODY_KEPT = 2000;

async function signingKey(core: Core, partner: string, signType: string): Promise<SigningKey> {
  if (signType === 'RSA') return { signType: 'RSA', privateKey: core.alipayKey.privateKey };
  const p = await core.db
    .selectFrom('sbx_partners')
    .select('md5_key')
    .where('partner', '=', partner)
    .executeTakeFirstOrThrow();
  return { signType: 'MD5', key: p.md5_key };
}

interface AttemptResult {
  outcome: 'acknowledged' | 'rejected' | 'http_error' | 'timeout' | 'network_error' | 'dropped';
  httpStatus: number | null;
  responseBody: string | null;
  latencyMs: number | null;
  error: string | null;
  startedAt: number;
  requestBody: string;
}

async function post(
  core: Core,
  url: string,
  body: string,
  charset: string,
): Promise<Omit<AttemptResult, 'requestBody'>> {
  const startedAt = core.now();
  const t0 = performance.now();
  try {
    const res = await core.fetch(url, {
      method: 'POST',
      headers: {
        'content-type': `application/x-www-form-urlencoded; charset=${charset}`,
        'user-agent': 'alirefund-sandbox',
      },
      body,
      signal: AbortSignal.timeout(core.notifyTimeoutMs),
      redirect: 'manual',
    });
    const text = await res.text();
    const latencyMs = Math.round(performance.now() - t0);
    const kept = text.length > MAX_BODY_KEPT ? `${text.slice(0, MAX_BODY_KEPT)}…` : text;
    const outcome = res.status !== 200 ? 'http_error' : text === 'success' ? 'acknowledged' : 'rejected';
    return { outcome, httpStatus: res.status, responseBody: kept, latencyMs, error: null, startedAt };
  } catch (e) {
    const latencyMs = Math.round(performance.now() - t0);
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const timeout = err.name === 'TimeoutError' || err.name === 'AbortError';
    const detail = timeout
      ? `no answer within ${core.notifyTimeoutMs} ms`
      : (err.cause?.code ?? err.cause?.message ?? err.message);
    return {
      outcome: timeout ? 'timeout' : 'network_error',
      httpStatus: null,
      responseBody: null,
      latencyMs,
      error: detail,
      startedAt,
    };
  }
}

/** Makes one send of a notification (two with the duplicate fault) and records it. */
async function sendOne(core: Core, n: NotificationRow): Promise<void> {
  const attempt = n.attempts + 1;
  const results: AttemptResult[] = [];
  const faults = core.faults.notify;
  const startedAt = core.now();
  if (faults.drop > 0) {
    faults.drop--;
    await core.saveSettings();
    results.push({
      outcome: 'dropped',
      httpStatus: null,
      responseBody: null,
      latencyMs: null,
      error: 'dropped by the drop fault',
      startedAt,
      requestBody: '',
    });
  } else {
    const params = {
      notify_time: formatBeijing(startedAt),
      notify_id: n.notify_id,
      ...(JSON.parse(n.params_json) as Record<string, string>),
    };
    const key = await signingKey(core, n.partner, n.sign_type);
    const signed = signNotification(params, key, n.charset as Charset);
    let copies = 1;
    if (faults.duplicate > 0) {
      faults.duplicate--;
      await core.saveSettings();
      copies = 2;
    }
    for (let i = 0; i < copies; i++)
      results.push({ ...(await post(core, n.url, signed.body, n.charset)), requestBody: signed.body });
  }
  const acknowledged = results.some((r) => r.outcome === 'acknowledged');
  const last = results[results.length - 1]!;
  const interval = core.schedule[attempt];
  await withTransaction(core.database, async (trx) => {
    for (const r of results) {
      await trx
        .insertInto('sbx_deliveries')
        .values({
          notification_id: n.id,
          attempt,
          started_at: r.startedAt,
          outcome: r.outcome,
          http_status: r.httpStatus,
          request_body: r.requestBody,
          response_body: r.responseBody,
          latency_ms: r.latencyMs,
          error: r.error,
        })
        .execute();
    }
    const current = await trx
      .selectFrom('sbx_notifications')
      .select(['status', 'max_attempts'])
      .where('id', '=', n.id)
      .executeTakeFirst();
    const maxAttempts = Math.max(Number(current?.max_attempts ?? n.max_attempts), n.max_attempts);
    await trx
      .updateTable('sbx_notifications')
      .set(
        acknowledged
          ? { status: 'delivered', attempts: attempt, last_attempt_at: startedAt, delivered_at: core.now() }
          : attempt >= maxAttempts || interval === undefined
            ? { status: 'failed', attempts: attempt, last_attempt_at: startedAt }
            : { attempts: attempt, last_attempt_at: startedAt, next_attempt_at: startedAt + interval },
      )
      .where('id', '=', n.id)
      .execute();
  });
  core.log({
    event: 'notification_sent',
    kind: n.kind,
    partner: n.partner,
    batchNo: n.batch_no,
    notifyId: n.notify_id,
    attempt,
    outcome: last.outcome,
    httpStatus: last.httpStatus,
    latencyMs: last.latencyMs,
  });
}

function target(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url;
  }
}

/** Sends every due notification: in due order per target URL, targets in parallel (at most 16). */
async function deliverDue(core: Core): Promise<number> {
  const due = await core.db
    .selectFrom('sbx_notifications')
    .select([
      'id',
      'partner',
      'notify_id',
      'url',
      'charset',
      'sign_type',
      'params_json',
      'attempts',
      'max_attempts',
      'kind',
      'batch_no',
    ])
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', core.now())
    .orderBy('next_attempt_at', 'asc')
    .orderBy('id', 'asc')
    .limit(500)
    .execute();
  if (due.length === 0) return 0;
  const groups = new Map<string, NotificationRow[]>();
  for (const row of due) {
    const n: NotificationRow = {
      ...row,
      id: Number(row.id),
      attempts: Number(row.attempts),
      max_attempts: Number(row.max_attempts),
    };
    const key = target(n.url);
    const g = groups.get(key);
    if (g) g.push(n);
    else groups.set(key, [n]);
  }
  const queues = [...groups.values()];
  const workers = Array.from({ length: Math.min(16, queues.length) }, async () => {
    for (let q = queues.shift(); q; q = queues.shift()) {
      for (const n of q) await sendOne(core, n);
    }
  });
  await Promise.all(workers);
  return due.length;
}

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
