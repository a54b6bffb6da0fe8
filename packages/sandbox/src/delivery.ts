/**
 * Sending the outbox: each due notification signed (MD5 with the partner's key, RSA with Alipay's key) and
 * POSTed to its URL, every attempt recorded in `sbx_deliveries`, the next send scheduled or the notification
 * closed (`delivered` on exactly `success`, `failed` when the retries are exhausted). The duplicate and drop
 * faults act here.
 */
import { type Charset, type SigningKey, formatBeijing, signNotification } from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Core } from './core.js';

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
export async function deliverDue(core: Core): Promise<number> {
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
