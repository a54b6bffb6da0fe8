/**
 * Applying a batch's result exactly once (a verified batch_refund_notify, or the reconciler's
 * refund_fastpay_query answer).
 *
 * Exactly-once: the apply transaction starts with
 * `UPDATE srv_batches SET applied_at = … WHERE batch_no = ? AND applied_at IS NULL`. Only one transaction can
 * change that row from NULL: on PostgreSQL a concurrent one waits for the row lock and then matches nothing; on
 * SQLite write transactions are serialised (BEGIN IMMEDIATE). The loser gets null (and records a `duplicate`). A
 * partial unique index (one `accepted` batch_refund_notify per batch_no) backs this up: its violation counts as
 * null too.
 */
import { type BatchRefundNotification, type Charset, formatYuan } from '@alirefund/protocol';
import {
  type Dialect,
  isRetryableTransactionError,
  isUniqueViolation,
  type SyncSqlite,
  withTransaction,
} from '@alirefund/store';
import type { Kysely } from 'kysely';
import type { ServerDB } from '../db.js';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import type { AppliedSource, IncomingNotification } from './notification-types.js';
import { type NotificationRecorder, rowFor } from './notify-record.js';
import { CHUNK, compiled, valuesText } from './sql-text.js';

/** Applies committed together at most (SQLite group commit). */
const MAX_APPLY_GROUP = 32;
/**
 * Result records per group at most (SQLite group commit): a group runs synchronously, ≈ 20 µs per record, so
 * this keeps the event loop blocked for tens of milliseconds, not seconds (32 batches of 1,000 records). A
 * group always takes at least one apply, whatever its size.
 */
const MAX_GROUP_RECORDS = 2000;
/** Tries of a group whose transaction met SQLITE_BUSY (another process writing) before its callers fail. */
const MAX_GROUP_ATTEMPTS = 3;

/** The exactly-once guard: only one transaction moves applied_at from NULL. */
const CLAIM_BATCH =
  "update srv_batches set state = 'finished', finished_at = ?, applied_at = ?, applied_notify_id = ?, " +
  'success_num = ?, updated_at = ? where batch_no = ? and applied_at is null';
const SELECT_RECORDS =
  'select seq, trade_no, amount_fen from srv_batch_records where batch_no = ? order by seq';
const RECORD_ROW =
  '(cast(? as integer), cast(? as text), cast(? as bigint), cast(? as integer), cast(? as text), cast(? as text))';
const TRADE_ROW = '(cast(? as text), cast(? as bigint), cast(? as integer))';
const RELEASE_PARTNER_LOCK =
  'update srv_partner_locks set batch_no = null, since = null where partner = ? and batch_no = ?';
const FINISH_BATCH = 'update srv_batches set success_fen = ?, applied_notification_id = ? where batch_no = ?';
const EVENT_ROW = '(?, ?, ?, ?, ?, ?, ?)';
/**
 * SQLite's planner turns `UPDATE srv_trades … FROM v WHERE trade_no = v.trade_no` into a scan of every trade once v
 * has a few hundred rows (500 rows at 100,000 trades: 17 ms instead of 1.8 ms). The `IN` matches the same rows
 * and makes it look the trades up by key. PostgreSQL plans the join by key without it.
 */
const TRADES_FROM_V_HINT: Readonly<Record<Dialect, string>> = {
  sqlite: ' and srv_trades.trade_no in (select trade_no from v)',
  postgres: '',
};

/**
 * The apply's one statement for a chunk of the batch's trades: amounts, counts and statuses of the refunded ones
 * (a 0-amount royalty-only refund counts as a refund but leaves the status alone), and the batch's reservations.
 * Parameters: `count` × (trade_no, fen, n), then the batch_no, then the time.
 */
export function tradesApplySql(dialect: Dialect, count: number): string {
  const key = `${dialect}:${count}`;
  let text = tradesApplyTexts.get(key);
  if (text === undefined) {
    text = `with v(trade_no, fen, n) as (values ${valuesText(TRADE_ROW, count)})
        update srv_trades set
          refunded_fen = srv_trades.refunded_fen + v.fen,
          refund_count = srv_trades.refund_count + v.n,
          status = case
            when v.fen = 0 then srv_trades.status
            when srv_trades.refunded_fen + v.fen >= srv_trades.paid_fen then 'fully_refunded'
            else 'partially_refunded' end,
          open_batch_no = case when srv_trades.open_batch_no = ? then null else srv_trades.open_batch_no end,
          updated_at = ?
        from v
        where srv_trades.trade_no = v.trade_no${TRADES_FROM_V_HINT[dialect]}`;
    tradesApplyTexts.set(key, text);
  }
  return text;
}
const tradesApplyTexts = new Map<string, string>();

/**
 * The records' results for `count` records: parameters `count` × (seq, code, amount_fen, succeeded,
 * result_text, parts_json), then the batch_no. The text is kept per count: built afresh per apply, each ≈ 5 KB
 * string was hashed and compared again by the statement cache.
 */
function recordsApplySql(count: number): string {
  let text = recordsApplyTexts.get(count);
  if (text === undefined) {
    text = `with v(seq, code, amount_fen, succeeded, result_text, parts_json) as (values ${valuesText(RECORD_ROW, count)})
        update srv_batch_records set
          result_code = v.code,
          result_amount_fen = v.amount_fen,
          succeeded = v.succeeded,
          result_text = v.result_text,
          result_parts_json = v.parts_json
        from v
        where srv_batch_records.batch_no = ? and srv_batch_records.seq = v.seq`;
    recordsApplyTexts.set(count, text);
  }
  return text;
}
const recordsApplyTexts = new Map<number, string>();

/** `rows[from … from+count)` flattened into one parameter array, followed by `tail`. */
function flatRows(
  rows: ReadonlyArray<readonly unknown[]>,
  from: number,
  count: number,
  tail: unknown[],
): unknown[] {
  const out: unknown[] = [];
  for (let i = from; i < from + count; i++) {
    const row = rows[i]!;
    for (let j = 0; j < row.length; j++) out.push(row[j]);
  }
  for (const v of tail) out.push(v);
  return out;
}

/**
 * How many of the queued applies (their result records, in queue order) the next SQLite group takes: at most
 * {@link MAX_APPLY_GROUP} applies and {@link MAX_GROUP_RECORDS} records, at least one apply when any is queued.
 */
export function groupSize(records: readonly number[]): number {
  let size = 0;
  let total = 0;
  while (size < records.length && size < MAX_APPLY_GROUP) {
    total += records[size]!;
    if (size > 0 && total > MAX_GROUP_RECORDS) break;
    size++;
  }
  return size;
}

/**
 * The apply is written once as a sequence of statements (a generator yielding each statement and receiving its
 * result) and run by two drivers: synchronously on SQLite's one connection (`runSync`, inside the group's
 * transaction) and statement by statement through Kysely on PostgreSQL (`runAsync`).
 */
type Row = Record<string, unknown>;
interface Step {
  text: string;
  parameters: unknown[];
}
interface StepResult {
  rows: Row[];
  changes: number;
}
type Steps<T> = Generator<Step, T, StepResult>;

function step(text: string, parameters: unknown[]): Step {
  return { text, parameters };
}

/** Runs the steps on SQLite's connection, synchronously (inside a transaction the caller holds). */
function runSync<T>(s: SyncSqlite, steps: Steps<T>): T {
  let next = steps.next();
  while (!next.done) next = steps.next(s.query<Row>(next.value.text, next.value.parameters));
  return next.value;
}

/**
 * Applies `n` to its batch in one transaction. Returns the recorded notification's id, or null when another
 * delivery (or another server instance, or the reconciler) applied the batch first: nothing changed then.
 */
export type ApplyBatch = (
  incoming: IncomingNotification,
  receivedAt: string,
  n: BatchRefundNotification,
  charset: Charset,
  source?: AppliedSource,
) => Promise<number | null>;

export function createBatchApply(
  deps: Pick<ServiceDeps, 'database' | 'clock' | 'config'>,
  recorder: NotificationRecorder,
): ApplyBatch {
  const { database, clock, config } = deps;
  const dialect = database.dialect;

  /** Runs the steps on PostgreSQL (or any Kysely handle): each statement awaited in turn. */
  async function runAsync<T>(db: Kysely<ServerDB>, steps: Steps<T>): Promise<T> {
    let next = steps.next();
    while (!next.done) {
      const res = await db.executeQuery(compiled(dialect, next.value.text, next.value.parameters));
      next = steps.next({ rows: res.rows as Row[], changes: Number(res.numAffectedRows ?? 0n) });
    }
    return next.value;
  }

  /**
   * The apply transaction. Returns the notification id, or null when another delivery applied it first.
   *
   * Statements: the guard (conditional UPDATE of applied_at), the notification row, the batch's records (read),
   * their results (one UPDATE … FROM (VALUES …)), their trades' refunded amounts, counts, statuses and
   * reservations (one UPDATE … FROM (VALUES …), every record's trade, so every reservation the batch holds), the
   * partner lock, the batch's totals and the timeline events
   * (one INSERT). Larger batches are chunked by {@link CHUNK} rows.
   */
  async function apply(
    incoming: IncomingNotification,
    receivedAt: string,
    n: BatchRefundNotification,
    charset: Charset,
    source?: AppliedSource,
  ): Promise<number | null> {
    const steps = () => applySteps(incoming, receivedAt, n, charset, source);
    return database.withSyncSqlite !== undefined
      ? grouped(steps, n.resultDetails.length)
      : withTransaction(database, (trx) => runAsync(trx, steps()));
  }

  /**
   * The apply's statements, in order (one transaction around them is the caller's); returns the notification id,
   * or null when the batch had already been applied.
   */
  function* applySteps(
    incoming: IncomingNotification,
    receivedAt: string,
    n: BatchRefundNotification,
    charset: Charset,
    source?: AppliedSource,
  ): Steps<number | null> {
    const batchNo = n.batchNo;
    const now = nowIso(clock);
    const won = yield step(CLAIM_BATCH, [now, now, n.notifyId, n.successNum, now, batchNo]);
    if (won.changes !== 1) return null;
    const inserted = yield recorder.insertStep(
      rowFor(incoming, receivedAt, {
        kind: source?.kind ?? 'batch_refund_notify',
        verdict: 'accepted',
        reasonCode: source?.reasonCode ?? null,
        reason: source?.reason ?? null,
        batchNo,
        notifyId: n.notifyId,
        notifyTime: n.notifyTime,
        charset,
        appliedAt: now,
      }),
    );
    const notificationId = Number(inserted.rows[0]!['id']);
    // applyResults releases the batch's trades: one row per record, and a batch reserves only its records' trades.
    const { successFen, anomalies, failed } = yield* resultSteps(batchNo, n, now);
    yield step(RELEASE_PARTNER_LOCK, [config.partner, batchNo]);
    yield step(FINISH_BATCH, [successFen, notificationId, batchNo]);
    const events: unknown[][] = [
      [
        batchNo,
        now,
        'notification',
        'finished',
        `${source ? `${source.kind} answer` : `notification ${n.notifyId}`} applied: ${n.successNum} record(s) refunded (${formatYuan(successFen)} yuan), ${failed} failed`,
        JSON.stringify({
          notificationId,
          notifyId: n.notifyId,
          successNum: n.successNum,
          successFen: formatYuan(successFen),
          failed,
          ...(source ? { via: source.kind } : {}),
        }),
        'gateway',
      ],
    ];
    if (anomalies.length > 0) {
      events.push([
        batchNo,
        now,
        'anomaly',
        null,
        anomalies.slice(0, 20).join('; '),
        JSON.stringify({ anomalies }),
        'gateway',
      ]);
    }
    yield step(
      `insert into srv_batch_events (batch_no, at, kind, state, message, data_json, actor) values ${valuesText(EVENT_ROW, events.length)}`,
      events.flat(),
    );
    return notificationId;
  }

  /**
   * Group commit (SQLite): applies queue up while the event loop is busy, and the next group runs them all in one
   * synchronous `BEGIN IMMEDIATE … COMMIT` on the one connection (`withSyncSqlite`: no await between its
   * statements, no other query in between), each inside a savepoint of its own, so that one apply's failure (or
   * a unique violation of the exactly-once index) rolls back only that apply. Every caller is answered after
   * its group committed: `success` still means durable. SQLite serialises write transactions anyway (one
   * connection per process, BEGIN IMMEDIATE across processes), so grouping only saves the per-transaction cost
   * (BEGIN, COMMIT's WAL frames for pages several applies share). PostgreSQL keeps one transaction per apply: a
   * group would hold row locks longer and two instances could deadlock on each other's groups.
   */
  const queue: Array<{
    steps: () => Steps<number | null>;
    /** Result records of the apply (its share of {@link MAX_GROUP_RECORDS}). */
    records: number;
    done: (id: number | null) => void;
    fail: (err: unknown) => void;
  }> = [];
  let running = false;

  function grouped(steps: () => Steps<number | null>, records: number): Promise<number | null> {
    return new Promise((done, fail) => {
      queue.push({ steps, records, done, fail });
      if (!running) {
        running = true;
        setImmediate(runGroups);
      }
    });
  }

  type Outcome = { ok: true; id: number | null } | { ok: false; err: unknown };

  /** One group in one transaction, each apply in a savepoint. */
  function commitGroup(s: SyncSqlite, group: typeof queue): Outcome[] {
    return s.transaction(() =>
      group.map((job): Outcome => {
        try {
          return { ok: true, id: s.transaction(() => runSync(s, job.steps())) };
        } catch (err) {
          return { ok: false, err };
        }
      }),
    );
  }

  async function runGroups(): Promise<void> {
    while (queue.length > 0) {
      const group = queue.splice(0, groupSize(queue.map((job) => job.records)));
      let outcomes: Outcome[] | undefined;
      for (let attempt = 1; outcomes === undefined; attempt++) {
        try {
          outcomes = await database.withSyncSqlite!((s) => commitGroup(s, group));
        } catch (err) {
          // SQLITE_BUSY past busy_timeout (another process holds the write lock): the group is tried again,
          // as withTransaction does; any other error fails the group's callers (answered `fail`, retried).
          if (attempt < MAX_GROUP_ATTEMPTS && isRetryableTransactionError(err)) continue;
          for (const job of group) job.fail(err);
          break;
        }
      }
      if (outcomes === undefined) continue;
      for (const [i, job] of group.entries()) {
        const o = outcomes[i]!;
        if (o.ok) job.done(o.id);
        else job.fail(o.err);
      }
    }
    running = false;
  }

  /**
   * Applies result_details to the batch records and trades (inside the apply transaction), set-based: one
   * UPDATE … FROM (VALUES …) for the records' results and one for their trades (refunded amounts, counts,
   * statuses, and the batch's reservations released), whatever the batch size (chunked by {@link CHUNK}).
   */
  function* resultSteps(
    batchNo: string,
    n: BatchRefundNotification,
    now: string,
  ): Steps<{ successFen: number; anomalies: string[]; failed: number }> {
    const records = (yield step(SELECT_RECORDS, [batchNo])).rows as Array<{
      seq: number;
      trade_no: string;
      amount_fen: number;
    }>;
    const byTrade = new Map(records.map((r) => [r.trade_no, r]));
    const seen = new Set<string>();
    const texts = n.resultDetailsText.split('#');
    const anomalies: string[] = [];
    /** [seq, result_code, result_amount_fen, succeeded, result_text, result_parts_json] */
    const recordRows: unknown[][] = [];
    /** [trade_no, refunded fen, refund count]: every record's trade (to release it), 0/0 when not refunded. */
    const tradeRows: Array<[string, number, number]> = [];
    const refunded = new Set<string>();
    let successFen = 0;
    let failed = 0;
    for (const [i, res] of n.resultDetails.entries()) {
      const rec = byTrade.get(res.tradeNo);
      if (!rec) {
        anomalies.push(`result for trade ${res.tradeNo} (${res.code}), which is not in this batch`);
        continue;
      }
      if (seen.has(res.tradeNo)) {
        anomalies.push(`trade ${res.tradeNo} has two results; the first was applied`);
        continue;
      }
      seen.add(res.tradeNo);
      const parts: Record<string, unknown> = {};
      if (res.charge) parts['charge'] = res.charge;
      if (res.royalties) parts['royalties'] = res.royalties;
      if (res.subTrade) parts['subTrade'] = res.subTrade;
      if (res.toBankCard !== undefined) parts['toBankCard'] = res.toBankCard;
      if (res.bankCardStatus !== undefined) parts['bankCardStatus'] = res.bankCardStatus;
      recordRows.push([
        Number(rec.seq),
        res.code,
        res.amountFen,
        res.succeeded ? 1 : 0,
        texts[i] ?? null,
        Object.keys(parts).length > 0 ? JSON.stringify(parts) : null,
      ]);
      if (!res.succeeded) {
        failed++;
        tradeRows.push([res.tradeNo, 0, 0]);
        continue;
      }
      successFen += res.amountFen;
      refunded.add(res.tradeNo);
      tradeRows.push([res.tradeNo, res.amountFen, 1]);
      if (res.amountFen !== Number(rec.amount_fen)) {
        anomalies.push(
          `trade ${res.tradeNo}: ${formatYuan(res.amountFen)} yuan refunded, ${formatYuan(Number(rec.amount_fen))} requested`,
        );
      }
    }
    const missing = records.filter((r) => !seen.has(r.trade_no));
    for (const m of missing) {
      // Result columns are NULL until the (one) apply writes them, so NULLs here change nothing else.
      recordRows.push([Number(m.seq), 'NO_RESULT', null, 0, null, null]);
      tradeRows.push([m.trade_no, 0, 0]);
    }
    if (missing.length > 0) {
      failed += missing.length;
      anomalies.push(
        `no result for ${missing.length} record(s): ${missing
          .slice(0, 10)
          .map((m) => m.trade_no)
          .join(', ')}`,
      );
    }
    for (let i = 0; i < recordRows.length; i += CHUNK) {
      const count = Math.min(CHUNK, recordRows.length - i);
      yield step(recordsApplySql(count), flatRows(recordRows, i, count, [batchNo]));
    }
    let matchedTrades = 0;
    for (let i = 0; i < tradeRows.length; i += CHUNK) {
      const count = Math.min(CHUNK, tradeRows.length - i);
      // One statement for all the batch's trades: amounts, counts and statuses of the refunded ones (a 0-amount
      // royalty-only refund counts as a refund but leaves the status alone), and the batch's reservations.
      const res = yield step(tradesApplySql(dialect, count), flatRows(tradeRows, i, count, [batchNo, now]));
      matchedTrades += res.changes;
    }
    if (matchedTrades !== tradeRows.length && refunded.size > 0) {
      // Some records' trades are not registered (never expected): count the refunded ones among them.
      const known = new Set<string>();
      const list = [...refunded];
      for (let i = 0; i < list.length; i += CHUNK) {
        const some = list.slice(i, i + CHUNK);
        const res = yield step(
          `select trade_no from srv_trades where trade_no in (${valuesText('?', some.length)})`,
          some,
        );
        for (const r of res.rows) known.add(String(r['trade_no']));
      }
      if (known.size !== refunded.size) {
        anomalies.push(`${refunded.size - known.size} refunded trade(s) are not registered here`);
      }
    }
    const successCount = refunded.size;
    if (successCount !== n.successNum) {
      anomalies.push(
        `success_num says ${n.successNum} but result_details has ${successCount} SUCCESS record(s)`,
      );
    }
    return { successFen, anomalies, failed };
  }

  return async (incoming, receivedAt, n, charset, source) => {
    try {
      return await apply(incoming, receivedAt, n, charset, source);
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  };
}
