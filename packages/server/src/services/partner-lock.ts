/**
 * The partner's queue: one batch of a partner in flight at a time (the gateway answers BATCH_REFUND_LOCK_ERROR
 * otherwise), recorded in `srv_partner_locks` and claimed with one conditional UPDATE, so two server instances on
 * one database never both submit. Released when the batch ends (batch-ledger.ts), or taken over once
 * ALIREFUND_NEXT_BATCH_WAIT has passed since it was claimed.
 */
import type { Kysely } from 'kysely';
import type { BatchState, ServerDB } from '../db.js';

/** States after which a batch no longer holds the partner's queue. */
export const CLOSED_STATES: readonly BatchState[] = [
  'finished',
  'rejected',
  'resubmit_manually',
  'cancelled',
];

/** Creates the partner's (free) lock row if there is none yet. */
export async function ensureLockRow(db: Kysely<ServerDB>, partner: string): Promise<void> {
  await db
    .insertInto('srv_partner_locks')
    .values({ partner, batch_no: null, since: null })
    .onConflict((oc) => oc.column('partner').doNothing())
    .execute();
}

/**
 * Claims the partner's queue for `batchNo` inside `trx`: free, already held by it, held longer than `waitMs`, or
 * held by a batch that has ended. True when claimed.
 */
export async function claimLock(
  trx: Kysely<ServerDB>,
  partner: string,
  batchNo: string,
  now: string,
  waitMs: number,
): Promise<boolean> {
  const cutoff = new Date(Date.parse(now) - waitMs).toISOString();
  const res = await trx
    .updateTable('srv_partner_locks')
    .set({ batch_no: batchNo, since: now })
    .where('partner', '=', partner)
    .where((eb) =>
      eb.or([
        eb('batch_no', 'is', null),
        eb('batch_no', '=', batchNo),
        eb('since', '<', cutoff),
        eb(
          'batch_no',
          'in',
          eb
            .selectFrom('srv_batches')
            .select('batch_no')
            .where('state', 'in', [...CLOSED_STATES]),
        ),
      ]),
    )
    .executeTakeFirst();
  return res.numUpdatedRows === 1n;
}

/** Hands the held queue over to `batchNo` (the holder was given a new batch_no), keeping its `since`. */
export async function moveLock(trx: Kysely<ServerDB>, partner: string, batchNo: string): Promise<void> {
  await trx
    .updateTable('srv_partner_locks')
    .set({ batch_no: batchNo })
    .where('partner', '=', partner)
    .execute();
}

/** Which batch holds the partner's queue, and since when. */
export async function readLock(
  db: Kysely<ServerDB>,
  partner: string,
): Promise<{ batchNo: string | null; since: string | null }> {
  const lock = await db
    .selectFrom('srv_partner_locks')
    .select(['batch_no', 'since'])
    .where('partner', '=', partner)
    .executeTakeFirst();
  return { batchNo: lock?.batch_no ?? null, since: lock?.since ?? null };
}
