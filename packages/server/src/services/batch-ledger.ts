/**
 * The writes every batch transition shares, inside the caller's transaction: a timeline event, releasing the
 * batch's trades and the partner's queue, and the error that explains a refused state change.
 */
import type { Kysely } from 'kysely';
import type { BatchState, ServerDB } from '../db.js';
import { ServiceError } from '../errors.js';

/** Appends a batch timeline event. */
export async function addEvent(
  db: Kysely<ServerDB>,
  e: {
    batchNo: string;
    at: string;
    kind: string;
    state?: BatchState | null;
    message: string;
    data?: unknown;
    actor: string;
  },
): Promise<void> {
  await db
    .insertInto('srv_batch_events')
    .values({
      batch_no: e.batchNo,
      at: e.at,
      kind: e.kind,
      state: e.state ?? null,
      message: e.message,
      data_json: e.data === undefined ? null : JSON.stringify(e.data),
      actor: e.actor,
    })
    .execute();
}

/**
 * The trades a batch holds, found through its records (a batch reserves exactly its records' trades): by key,
 * since `open_batch_no` has no index (decision 67).
 */
export function heldTrades(db: Kysely<ServerDB>, batchNo: string) {
  return db
    .updateTable('srv_trades')
    .where('trade_no', 'in', (eb) =>
      eb.selectFrom('srv_batch_records').select('trade_no').where('batch_no', '=', batchNo),
    )
    .where('open_batch_no', '=', batchNo);
}

/** Clears the reservations an (ending) batch holds on its trades. */
export async function releaseTrades(db: Kysely<ServerDB>, batchNo: string, at: string): Promise<void> {
  await heldTrades(db, batchNo).set({ open_batch_no: null, updated_at: at }).execute();
}

/** Frees the partner's queue if `batchNo` holds it. */
export async function releasePartnerLock(
  db: Kysely<ServerDB>,
  partner: string,
  batchNo: string,
): Promise<void> {
  await db
    .updateTable('srv_partner_locks')
    .set({ batch_no: null, since: null })
    .where('partner', '=', partner)
    .where('batch_no', '=', batchNo)
    .execute();
}

/** A batch that ended without a result: its trades are free again, and so is the partner's queue. */
export async function releaseBatch(
  db: Kysely<ServerDB>,
  partner: string,
  batchNo: string,
  at: string,
): Promise<void> {
  await releaseTrades(db, batchNo, at);
  await releasePartnerLock(db, partner, batchNo);
}

/**
 * draft → queued in `trx`, with its `queued` event: only a nopwd draft not awaiting approval (the two-person
 * rule: a batch awaiting approval is never queued). False, changing nothing, for any other batch.
 */
export async function queueDraftIn(
  trx: Kysely<ServerDB>,
  batchNo: string,
  actor: string,
  now: string,
): Promise<boolean> {
  const res = await trx
    .updateTable('srv_batches')
    .set({ state: 'queued', queued_at: now, updated_at: now })
    .where('batch_no', '=', batchNo)
    .where('state', '=', 'draft')
    .where('mode', '=', 'nopwd')
    .where((eb) => eb.or([eb('approval_status', 'is', null), eb('approval_status', '!=', 'pending')]))
    .executeTakeFirst();
  if (res.numUpdatedRows !== 1n) return false;
  await addEvent(trx, {
    batchNo,
    at: now,
    kind: 'queued',
    state: 'queued',
    message: 'queued for submission',
    actor,
  });
  return true;
}

/** Throws the right ServiceError when a conditional state change matched no row. */
export async function explainState(
  db: Kysely<ServerDB>,
  batchNo: string,
  action: string,
  allowed: readonly BatchState[],
): Promise<never> {
  const row = await db
    .selectFrom('srv_batches')
    .select(['state', 'applied_at'])
    .where('batch_no', '=', batchNo)
    .executeTakeFirst();
  if (!row) throw new ServiceError('BATCH_NOT_FOUND', `no batch ${batchNo}`, 'batchNo');
  throw new ServiceError(
    'INVALID_STATE',
    `cannot ${action} batch ${batchNo}: it is ${row.state}${row.applied_at ? ' (its notification was applied)' : ''}; allowed from ${allowed.join(', ')}`,
    'state',
  );
}
