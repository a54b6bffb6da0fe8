/**
 * Processing an accepted batch against the ledger: one batch at a time (a process-wide lock), in one database
 * transaction. The records' state is loaded (`load.ts`), each record is judged by the rules (`rules.ts`) on its
 * own, every money movement is a balanced pair of ledger entries, and the notifications the batch causes join
 * the outbox in the same transaction (`notify.ts`).
 */
import { randomInt, randomUUID } from 'node:crypto';
import {
  type Charset,
  type DetailRecord,
  type ResultRecord,
  SERVICE_PWD,
  beijingDate,
  decodeDetailData,
  encodeResultDetails,
  encodeUnfreezedDetails,
  formatYuan,
} from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Insertable } from 'kysely';
import { type Core, type SandboxTrx, chunks } from '../core.js';
import type { Enqueued, NotifyFaultUse } from '../outbox.js';
import type { BatchRecordTable, EntryTable, UnfreezeTable } from '../schema.js';
import { loadBatchState } from './load.js';
import { enqueueBatchNotifications } from './notify.js';
import { UNFREEZE_CODE, UNFREEZE_STATUS, partsJson, unfreezeRecordOf } from './records.js';
import { recordRules } from './rules.js';

/** The outcome of processing one batch. */
export interface ProcessOutcome {
  partner: string;
  batchNo: string;
  recordCount: number;
  successNum: number;
  resultDetails: string;
  notifications: Enqueued[];
  /** Where the time went (load = reads, rules = evaluation, write = inserts/updates), ms. */
  timingsMs: { load: number; rules: number; write: number };
}

/**
 * Unfreeze order numbers of one batch: the Beijing date, 12 random digits drawn once per batch and a 4-digit
 * sequence (24 digits), so they sort in the order the funds were released.
 */
function unfreezeOrderNos(now: number): () => string {
  const prefix = `${beijingDate(now)}${String(randomInt(0, 1e6)).padStart(6, '0')}${String(randomInt(0, 1e6)).padStart(6, '0')}`;
  let seq = 0;
  return () => `${prefix}${String(++seq).padStart(4, '0')}`;
}

/** Records decoded at acceptance, handed to the processing that follows (saves decoding them twice). */
const decodedCache = new Map<string, DetailRecord[]>();

/** Keeps the decoded records of a just-accepted batch for its processing (a small bounded cache). */
export function rememberDecoded(partner: string, batchNo: string, records: DetailRecord[]): void {
  if (decodedCache.size >= 64) decodedCache.delete(decodedCache.keys().next().value as string);
  decodedCache.set(`${partner}\u0000${batchNo}`, records);
}

/** Runs the batch if it is queued; returns null if it is not (already processed, unknown, awaiting confirmation). */
export async function processBatch(
  core: Core,
  partner: string,
  batchNo: string,
): Promise<ProcessOutcome | null> {
  const outcome = await core.processing.run(async () => {
    const use: FaultUse = { forced: new Map(), notify: { reorder: 0 } };
    const result = await withTransaction(core.database, (trx) => {
      use.forced.clear();
      use.notify.reorder = 0;
      return processInTransaction(core, trx, partner, batchNo, use);
    });
    if (result) {
      decodedCache.delete(`${partner}\u0000${batchNo}`);
      await commitFaultUse(core, use);
    }
    return result;
  });
  if (outcome) {
    core.log({
      event: 'batch_processed',
      partner,
      batchNo,
      records: outcome.recordCount,
      successNum: outcome.successNum,
      notifications: outcome.notifications.length,
      timingsMs: outcome.timingsMs,
    });
    core.kick();
  }
  return outcome;
}

interface FaultUse {
  /** index in faults.forceCodes → times used */
  forced: Map<number, number>;
  notify: NotifyFaultUse;
}

async function commitFaultUse(core: Core, use: FaultUse): Promise<void> {
  if (use.forced.size === 0 && use.notify.reorder === 0) return;
  const f = core.faults;
  for (const [i, n] of use.forced) {
    const fc = f.forceCodes[i];
    if (fc) fc.times -= n;
  }
  f.forceCodes = f.forceCodes.filter((fc) => fc.times > 0);
  f.notify.reorder = Math.max(0, f.notify.reorder - use.notify.reorder);
  await core.saveSettings();
}

async function processInTransaction(
  core: Core,
  trx: SandboxTrx,
  partner: string,
  batchNo: string,
  use: FaultUse,
): Promise<ProcessOutcome | null> {
  const batch = await trx
    .selectFrom('sbx_batches')
    .selectAll()
    .where('partner', '=', partner)
    .where('batch_no', '=', batchNo)
    .executeTakeFirst();
  if (batch?.status !== 'queued') return null;
  const now = core.now();
  const tStart = performance.now();
  const charset = batch.charset as Charset;
  const decoded = decodeDetailData(batch.detail_data, {
    charset,
    mode: batch.service === SERVICE_PWD ? 'pwd' : 'nopwd',
  });
  if (!decoded.ok)
    throw new Error(
      `batch ${partner}/${batchNo}: stored detail_data no longer decodes: ${decoded.issues[0]?.message}`,
    );
  const records = decoded.value;

  const state = await loadBatchState(trx, partner, batch, records);
  const tLoaded = performance.now();

  // ---- the rules, record by record (later records see earlier ones' effects)
  const rules = recordRules({ partner, batch, faults: core.faults, forced: use.forced }, state);
  const { trades, emailOf } = state;
  const recordRows: Insertable<BatchRecordTable>[] = [];
  const entryRows: Insertable<EntryTable>[] = [];
  const unfreezeRows: Insertable<UnfreezeTable>[] = [];
  const nextUnfreezeNo = unfreezeOrderNos(now);
  let successNum = 0;
  const results: ResultRecord[] = [];

  for (const [i, rec] of records.entries()) {
    const evaluated = rules.evaluate(rec);
    const { code, entries } = evaluated;
    const ok = code === 'SUCCESS';
    if (ok) successNum++;
    const result: ResultRecord = {
      tradeNo: rec.tradeNo,
      amountFen: rec.amountFen,
      amountText: rec.amountText ?? formatYuan(rec.amountFen),
      code,
      succeeded: ok,
    };
    if (evaluated.toBankCard) {
      result.toBankCard = true;
      result.bankCardStatus = 'P';
    }
    // The fee refund is computed here (Alipay computes it [C2]) and reported for every trade that carries a fee,
    // asked for or not, to the charged party: the request's `$` part if any, else the seller. Trades without a
    // fee report a requested `$` part as 0.00.
    const trade = trades.get(rec.tradeNo);
    const feeTrade = trade !== undefined && trade.partner === partner && trade.fee_fen !== null;
    if (feeTrade || rec.charge) {
      const feeFen = ok ? (evaluated.feeFen ?? 0) : 0;
      result.charge = {
        account: rec.charge ? rec.charge.account : (emailOf.get(trade!.seller_id) ?? ''),
        userId: rec.charge ? rec.charge.userId : trade!.seller_id,
        amountFen: feeFen,
        amountText: formatYuan(feeFen),
        code,
      };
    }
    if (rec.royalties) {
      result.royalties = rec.royalties.map((y) => ({
        outAccount: y.outAccount,
        outUserId: y.outUserId,
        inAccount: y.inAccount,
        inUserId: y.inUserId,
        amountFen: y.amountFen,
        amountText: y.amountText ?? formatYuan(y.amountFen),
        code,
      }));
    }
    if (rec.subTrade) {
      result.subTrade = {
        refundFen: rec.subTrade.amountFen,
        refundText: rec.subTrade.amountText ?? formatYuan(rec.subTrade.amountFen),
        refundableFen: 0,
        refundableText: '0.00',
        code,
      };
    }
    results.push(result);
    recordRows.push({
      partner,
      batch_no: batchNo,
      record_no: i + 1,
      trade_no: rec.tradeNo,
      amount_fen: rec.amountFen,
      code,
      succeeded: ok ? 1 : 0,
      amount_text: result.amountText,
      parts_json: partsJson(result),
      processed_at: now,
      dback_status: evaluated.toBankCard ? 'P' : null,
    });
    for (const u of evaluated.unfreezes ?? []) {
      unfreezeRows.push({
        unfreeze_order_no: nextUnfreezeNo(),
        freeze_order_no: u.orderNo,
        partner,
        batch_no: batchNo,
        record_no: i + 1,
        trade_no: rec.tradeNo,
        amount_fen: u.fen,
        processed_at: now,
        status: UNFREEZE_STATUS,
        code: UNFREEZE_CODE,
      });
    }
    if (entries.length > 0) {
      const txn = randomUUID();
      for (const e of entries) {
        entryRows.push({
          txn_id: txn,
          account_id: e.account,
          amount_fen: e.fen,
          kind: e.kind,
          partner,
          batch_no: batchNo,
          trade_no: rec.tradeNo,
          created_at: now,
        });
      }
    }
  }

  const tRules = performance.now();
  // ---- write
  for (const part of chunks(recordRows, 1000))
    await trx.insertInto('sbx_batch_records').values(part).execute();
  for (const part of chunks(entryRows, 2000)) await trx.insertInto('sbx_entries').values(part).execute();
  for (const part of chunks(unfreezeRows, 1000)) await trx.insertInto('sbx_unfreezes').values(part).execute();
  for (const [id, d] of rules.effects.deltas) {
    if (d === 0) continue;
    await trx
      .updateTable('sbx_accounts')
      .set((eb) => ({ balance_fen: eb('balance_fen', '+', d) }))
      .where('account_id', '=', id)
      .execute();
  }
  const resultDetails = encodeResultDetails(results);
  const unfreezedDetails =
    unfreezeRows.length > 0 ? encodeUnfreezedDetails(unfreezeRows.map(unfreezeRecordOf)) : null;
  await trx
    .updateTable('sbx_batches')
    .set({
      status: 'done',
      processed_at: now,
      success_num: successNum,
      result_details: resultDetails,
      unfreezed_details: unfreezedDetails,
    })
    .where('partner', '=', partner)
    .where('batch_no', '=', batchNo)
    .execute();

  const notifications: Enqueued[] = await enqueueBatchNotifications(core, trx, use.notify, {
    partner,
    batchNo,
    batch,
    charset,
    now,
    successNum,
    resultDetails,
    unfreezedDetails,
    refunded: rules.effects.closedOrPartial,
  });
  const tEnd = performance.now();
  return {
    partner,
    batchNo,
    recordCount: records.length,
    successNum,
    resultDetails,
    notifications,
    timingsMs: {
      load: Math.round(tLoaded - tStart),
      rules: Math.round(tRules - tLoaded),
      write: Math.round(tEnd - tRules),
    },
  };
}
