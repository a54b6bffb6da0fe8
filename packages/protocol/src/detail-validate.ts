/** Structured records → the issues they would cause: the same rules as the decoder, before encoding. */
import { MAX_FEN, formatYuan, parseYuan } from './amount.js';
import { q } from './codec-text.js';
import {
  type Ctx,
  FORMAT,
  type PRecord,
  badAmountMessage,
  checkCount,
  checkEmptyCount,
  checkRecord,
  newCtx,
} from './detail-check.js';
import type { DetailOptions, DetailRecord } from './detail-record.js';
import type { CodecIssue } from './issues.js';

/** Validator side: `amountFen` (+ optional `amountText`) → fen, reporting inconsistencies. */
function amountFromStruct(
  ctx: Ctx,
  rec: number,
  field: string,
  what: string,
  fen: number,
  text: string | undefined,
): { fen: number | null; text: string } {
  if (text !== undefined) {
    const parsed = parseYuan(text);
    if (parsed === null) {
      ctx.issues.add(FORMAT, rec, field, badAmountMessage(`${what} (amountText)`, text));
      return { fen: null, text };
    }
    if (parsed !== fen) {
      ctx.issues.add(
        FORMAT,
        rec,
        field,
        `${what}: amountText ${q(text)} is ${parsed} fen but amountFen is ${String(fen)}; make them agree or drop amountText`,
      );
      return { fen: null, text };
    }
    return { fen: parsed, text };
  }
  if (!Number.isSafeInteger(fen) || fen < 0 || fen > MAX_FEN) {
    const why = typeof fen === 'number' && fen < 0 ? 'is negative' : 'is not a whole number of fen';
    ctx.issues.add(
      FORMAT,
      rec,
      field,
      `${what}: amountFen ${String(fen)} ${why}; amounts are non-negative integers of fen (1 yuan = 100 fen)`,
    );
    return { fen: null, text: '' };
  }
  return { fen, text: formatYuan(fen) };
}

/**
 * Applies the same rules as {@link decodeDetailData} to structured records (e.g. before encoding a
 * request). Also reports `amountText` that disagrees with `amountFen`. Returns `[]` when valid.
 */
export function validateDetailRecords(records: readonly DetailRecord[], opts: DetailOptions): CodecIssue[] {
  const ctx = newCtx(opts);
  if (records.length === 0) {
    ctx.issues.add(FORMAT, null, 'detail_data', 'no records; a batch needs at least one record');
    checkEmptyCount(ctx, opts.batchNum);
    return ctx.issues.items;
  }
  checkCount(ctx, records.length, opts.batchNum);
  for (let i = 0; i < records.length && !ctx.issues.full; i++) {
    const d = records[i]!;
    const rec = i + 1;
    const a = amountFromStruct(ctx, rec, 'amount', 'refund amount', d.amountFen, d.amountText);
    const r: PRecord = {
      trade: { tradeNo: d.tradeNo, fen: a.fen, text: a.text, reason: d.reason },
      charge: undefined,
      royalties: [],
      sub: undefined,
    };
    if (d.charge) {
      const c = d.charge;
      const ca = amountFromStruct(
        ctx,
        rec,
        'charge.amount',
        'charge refund amount',
        c.amountFen,
        c.amountText,
      );
      r.charge = { account: c.account, userId: c.userId, fen: ca.fen, text: ca.text, reason: c.reason };
    }
    const ys = d.royalties ?? [];
    for (let j = 0; j < ys.length; j++) {
      const y = ys[j]!;
      const ya = amountFromStruct(
        ctx,
        rec,
        `royalties[${j}].amount`,
        `royalty ${j + 1} amount`,
        y.amountFen,
        y.amountText,
      );
      r.royalties.push({
        outAccount: y.outAccount,
        outUserId: y.outUserId,
        inAccount: y.inAccount,
        inUserId: y.inUserId,
        fen: ya.fen,
        text: ya.text,
        reason: y.reason,
      });
    }
    if (d.subTrade) {
      const s = d.subTrade;
      const sa = amountFromStruct(
        ctx,
        rec,
        'subTrade.amount',
        'sub-trade refund amount',
        s.amountFen,
        s.amountText,
      );
      r.sub = { fen: sa.fen, text: sa.text, reason: s.reason };
    }
    checkRecord(ctx, rec, r);
  }
  return ctx.issues.items;
}
