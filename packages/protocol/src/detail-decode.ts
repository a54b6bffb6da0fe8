/** `detail_data` text → records: the parser, which reports every problem instead of throwing. */
import { parseYuan } from './amount.js';
import { q, splitKeep } from './codec-text.js';
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
import type { ChargeItem, DetailOptions, DetailRecord, RoyaltyItem, SubTradeItem } from './detail-record.js';
import type { Decoded } from './issues.js';

/** Decoder side: wire token → fen, reporting a bad token. */
function amountFromToken(ctx: Ctx, rec: number, field: string, what: string, token: string): number | null {
  const fen = parseYuan(token);
  if (fen === null) ctx.issues.add(FORMAT, rec, field, badAmountMessage(what, token));
  return fen;
}

function fieldCountMessage(part: string, expected: string, n: number, text: string): string {
  return `the ${part} part ${q(text)} has ${n} field${n === 1 ? '' : 's'}; expected ${expected} separated by "^" (empty fields keep their "^")`;
}

function parseRecord(ctx: Ctx, rec: number, text: string): PRecord | null {
  if (text === '') {
    ctx.issues.add(
      FORMAT,
      rec,
      'detail_data',
      'record is empty; look for "##" or a "#" at the start or end of detail_data',
    );
    return null;
  }
  const r: PRecord = { trade: null, charge: undefined, royalties: [], sub: undefined };

  // Fast paths: most records are a bare trade part, so skip the scans and arrays they do not need.
  const anyDollar = text.indexOf('$') >= 0;
  let main = text;
  let subText: string | undefined;
  const dd = anyDollar ? text.indexOf('$$') : -1;
  if (dd >= 0) {
    main = text.slice(0, dd);
    subText = text.slice(dd + 2);
  }

  const items = main.indexOf('|') >= 0 ? splitKeep(main, '|') : [main];
  let tradeText = items[0]!;
  const dollar = anyDollar ? tradeText.indexOf('$') : -1;
  let chargeText: string | undefined;
  if (dollar >= 0) {
    chargeText = tradeText.slice(dollar + 1);
    tradeText = tradeText.slice(0, dollar);
  }

  const tf = splitKeep(tradeText, '^');
  if (tf.length !== 3) {
    const hint =
      tf.length === 2 ? ' — the reason is missing; it may be empty but its "^" must be written' : '';
    ctx.issues.add(
      FORMAT,
      rec,
      'detail_data',
      fieldCountMessage('trade', '3 (trade_no^amount^reason)', tf.length, tradeText) + hint,
    );
  } else {
    const token = tf[1]!;
    r.trade = {
      tradeNo: tf[0]!,
      fen: amountFromToken(ctx, rec, 'amount', 'refund amount', token),
      text: token,
      reason: tf[2]!,
    };
  }

  if (chargeText !== undefined) {
    const f = splitKeep(chargeText, '^');
    if (chargeText.includes('$')) {
      ctx.issues.add(
        FORMAT,
        rec,
        'charge',
        'more than one "$" after the trade part; a record has at most one "$" charge part, and "$$" only before the sub-trade part at the end',
      );
      r.charge = null;
    } else if (f.length !== 4) {
      ctx.issues.add(
        FORMAT,
        rec,
        'charge',
        fieldCountMessage('"$" charge', '4 (email^user_id^amount^reason)', f.length, chargeText),
      );
      r.charge = null;
    } else {
      const token = f[2]!;
      r.charge = {
        account: f[0]!,
        userId: f[1]!,
        fen: amountFromToken(ctx, rec, 'charge.amount', 'charge refund amount', token),
        text: token,
        reason: f[3]!,
      };
    }
  }

  for (let i = 1; i < items.length; i++) {
    const item = items[i]!;
    const p = `royalties[${i - 1}]`;
    if (item.includes('$')) {
      ctx.issues.add(
        FORMAT,
        rec,
        p,
        `royalty item ${i} contains "$"; the "$" charge part must come right after the trade part (before any "|"), and "$$" sub-trade last`,
      );
      r.royalties.push(null);
      continue;
    }
    const f = splitKeep(item, '^');
    if (f.length !== 6) {
      ctx.issues.add(
        FORMAT,
        rec,
        p,
        fieldCountMessage(
          `"|" royalty ${i}`,
          '6 (out_email^out_user_id^in_email^in_user_id^amount^reason)',
          f.length,
          item,
        ),
      );
      r.royalties.push(null);
      continue;
    }
    const token = f[4]!;
    r.royalties.push({
      outAccount: f[0]!,
      outUserId: f[1]!,
      inAccount: f[2]!,
      inUserId: f[3]!,
      fen: amountFromToken(ctx, rec, `${p}.amount`, `royalty ${i} amount`, token),
      text: token,
      reason: f[5]!,
    });
  }

  if (subText !== undefined) {
    const f = splitKeep(subText, '^');
    if (f.length !== 2) {
      ctx.issues.add(
        FORMAT,
        rec,
        'subTrade',
        fieldCountMessage('"$$" sub-trade', '2 (amount^reason)', f.length, subText),
      );
      r.sub = null;
    } else {
      const token = f[0]!;
      r.sub = {
        fen: amountFromToken(ctx, rec, 'subTrade.amount', 'sub-trade refund amount', token),
        text: token,
        reason: f[1]!,
      };
    }
  }
  return r;
}

/**
 * Keeps `amountText` only when the wire spelling is not the canonical `formatYuan` one. The token has
 * passed parseYuan (no sign, no leading zeros), so it is canonical exactly when it has two decimals.
 */
function withText<T extends { amountText?: string }>(obj: T, text: string): T {
  if (text.length < 4 || text.charCodeAt(text.length - 3) !== 0x2e) obj.amountText = text;
  return obj;
}

/** Only called when no issue was reported, so every part is present-and-valid or absent. */
function toDetailRecord(r: PRecord): DetailRecord {
  const t = r.trade!;
  const out: DetailRecord = withText<DetailRecord>(
    { tradeNo: t.tradeNo, amountFen: t.fen!, reason: t.reason },
    t.text,
  );
  if (r.charge) {
    const c = r.charge;
    out.charge = withText<ChargeItem>(
      { account: c.account, userId: c.userId, amountFen: c.fen!, reason: c.reason },
      c.text,
    );
  }
  if (r.royalties.length > 0) {
    out.royalties = r.royalties.map((y) =>
      withText<RoyaltyItem>(
        {
          outAccount: y!.outAccount,
          outUserId: y!.outUserId,
          inAccount: y!.inAccount,
          inUserId: y!.inUserId,
          amountFen: y!.fen!,
          reason: y!.reason,
        },
        y!.text,
      ),
    );
  }
  if (r.sub)
    out.subTrade = withText<SubTradeItem>({ amountFen: r.sub.fen!, reason: r.sub.reason }, r.sub.text);
  return out;
}

/**
 * Parses and validates a `detail_data` string: every rule of protocol.md §3 / §9 step 10–11, each
 * reported with the gateway error code it would cause. Never throws; collects all issues (up to
 * `MAX_ISSUES`).
 *
 * On success, `amountText` is set only where the wire spelling differs from `formatYuan(amountFen)`,
 * so `encodeDetailData(value)` reproduces `text` exactly.
 * @example decodeDetailData('2011011201037066^5.00^协商退款', { charset: 'utf-8', mode: 'nopwd' })
 */
export function decodeDetailData(text: string, opts: DetailOptions): Decoded<DetailRecord[]> {
  const ctx = newCtx(opts);
  if (typeof text !== 'string' || text === '') {
    ctx.issues.add(
      FORMAT,
      null,
      'detail_data',
      'detail_data is empty; give at least one record trade_no^amount^reason',
    );
    checkEmptyCount(ctx, opts.batchNum);
    return { ok: false, issues: ctx.issues.items };
  }
  const texts = text.split('#');
  checkCount(ctx, texts.length, opts.batchNum);
  const records: Array<PRecord | null> = [];
  for (let i = 0; i < texts.length && !ctx.issues.full; i++) {
    const r = parseRecord(ctx, i + 1, texts[i]!);
    records.push(r);
    if (r) checkRecord(ctx, i + 1, r);
  }
  if (ctx.issues.items.length > 0) return { ok: false, issues: ctx.issues.items };
  return { ok: true, value: records.map((r) => toDetailRecord(r!)) };
}
