/**
 * A batch_no carries the day it was made (Beijing time), and the gateway wants today's. A batch that never left
 * the process but waited past midnight is given a fresh identity before it is sent.
 */
import { beijingDate, type Clock, newBatchIdentity, parseBeijing } from '@alirefund/protocol';
import type { Kysely } from 'kysely';
import type { ServerDB } from '../db.js';
import { addEvent, heldTrades } from './batch-ledger.js';

/** True when `refundDate` is not today (Beijing) at `now`, or cannot be read. */
export function isStale(refundDate: string, now: number): boolean {
  const ms = parseBeijing(refundDate);
  return ms === null || beijingDate(ms) !== beijingDate(now);
}

/**
 * Gives a never-sent batch whose batch_no date has passed (Beijing midnight) a fresh identity: a new batch with
 * the same records and reservations; the old one is cancelled with a pointer to it. Safe because the old
 * batch_no never left the process. Returns the new batch_no.
 */
export async function rekey(
  trx: Kysely<ServerDB>,
  clock: Clock,
  batchNo: string,
  now: string,
  actor: string,
): Promise<string> {
  const b = await trx
    .selectFrom('srv_batches')
    .selectAll()
    .where('batch_no', '=', batchNo)
    .executeTakeFirstOrThrow();
  const identity = newBatchIdentity({ clock });
  await trx
    .insertInto('srv_batches')
    .values({
      ...b,
      batch_no: identity.batchNo,
      refund_date: identity.refundDate,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const records = await trx
    .selectFrom('srv_batch_records')
    .selectAll()
    .where('batch_no', '=', batchNo)
    .execute();
  await trx
    .insertInto('srv_batch_records')
    .values(records.map((r) => ({ ...r, batch_no: identity.batchNo })))
    .execute();
  await heldTrades(trx, batchNo).set({ open_batch_no: identity.batchNo, updated_at: now }).execute();
  await trx
    .updateTable('srv_batches')
    .set({ state: 'cancelled', cancelled_at: now, updated_at: now })
    .where('batch_no', '=', batchNo)
    .execute();
  await addEvent(trx, {
    batchNo,
    at: now,
    kind: 'superseded',
    state: 'cancelled',
    message: `its batch_no date passed before it was sent (batch_no must carry today's date); replaced by ${identity.batchNo}`,
    data: { replacedBy: identity.batchNo },
    actor,
  });
  await addEvent(trx, {
    batchNo: identity.batchNo,
    at: now,
    kind: 'created',
    state: b.state,
    message: `re-created from ${batchNo}, whose batch_no date had passed before it was sent`,
    data: { replaces: batchNo },
    actor,
  });
  return identity.batchNo;
}
