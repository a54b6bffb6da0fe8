/**
 * The rules of `detail_data` (protocol.md §3 / §9 steps 10–11), applied to records in a common,
 * partially-valid form that both the decoder (detail-decode.ts, from the wire text) and the validator
 * (detail-validate.ts, from structured records) build. Each problem is reported with the gateway error
 * code it would cause.
 */
import { type Charset, byteLength, findUnrepresentable } from './charset.js';
import { q } from './codec-text.js';
import {
  ALIPAY_EMAIL_RE,
  ALIPAY_USER_ID_RE,
  type DetailOptions,
  MAX_BATCH_RECORDS,
  MAX_REASON_BYTES,
  type RefundMode,
  SEPARATOR_RE,
  TRADE_NO_RE,
} from './detail-record.js';
import { gbkByteLength } from './gbk-length.js';
import { IssueList } from './issues.js';

const MOBILE_RE = /^(?:\+?86)?1\d{10}$/;
const NON_ASCII_RE = /[^\x00-\x7f]/;

/** The code of every malformed part of `detail_data`. */
export const FORMAT = 'DETAIL_DATA_FORMAT_ERROR';
const MEMO_TOO_LONG = 'BATCH_MEMO_LENGTH_EXCEED_LIMIT';
const ENCODING = 'SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT';

// ---------------------------------------------------------------------------------------------
// Internal, partially-valid form shared by the decoder and the structured validator.
// `fen === null` means "the amount is invalid and has already been reported".

export interface PTrade {
  tradeNo: string;
  fen: number | null;
  text: string;
  reason: string;
}
export interface PCharge {
  account: string;
  userId: string;
  fen: number | null;
  text: string;
  reason: string;
}
export interface PRoyalty {
  outAccount: string;
  outUserId: string;
  inAccount: string;
  inUserId: string;
  fen: number | null;
  text: string;
  reason: string;
}
export interface PSub {
  fen: number | null;
  text: string;
  reason: string;
}
/** `null` parts are present but malformed (already reported); `undefined` parts are absent. */
export interface PRecord {
  trade: PTrade | null;
  charge: PCharge | null | undefined;
  royalties: Array<PRoyalty | null>;
  sub: PSub | null | undefined;
}

type ReasonInfo = number | { character: string; index: number };

export interface Ctx {
  issues: IssueList;
  charset: Charset;
  mode: RefundMode;
  /** Valid trade_nos seen so far (one hash operation per record: duplicates are rare). */
  seenTradeNos: Set<string>;
  /** The valid trade_no of each record (index = record number), to name the first of a duplicate. */
  tradeNoOf: string[];
  /** Per-call cache: batches often repeat the same reason. */
  reasonCache: Map<string, ReasonInfo>;
}

export function newCtx(opts: DetailOptions): Ctx {
  return {
    issues: new IssueList(),
    charset: opts.charset,
    mode: opts.mode,
    seenTradeNos: new Set(),
    tradeNoOf: [],
    reasonCache: new Map(),
  };
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return `"${ch}" (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

export function badAmountMessage(what: string, token: string): string {
  if (token === '') return `${what} is empty; write the amount in yuan, e.g. "5.00"`;
  if (token.startsWith('-'))
    return `${what} ${q(token)} is negative; refund amounts are positive yuan like "5.00"`;
  if (/^\d+\.\d{3,}$/.test(token)) {
    return `${what} ${q(token)} has more than 2 decimals; amounts are yuan with at most 2 decimals (fen)`;
  }
  if (/^0\d/.test(token)) return `${what} ${q(token)} has a leading zero; write it like "5.00"`;
  if (/^\d+(?:\.\d{1,2})?$/.test(token)) return `${what} ${q(token)} is larger than the supported maximum`;
  return `${what} ${q(token)} is not a decimal yuan amount; write it like "5.00" (no sign, no spaces, ≤ 2 decimals)`;
}

function reasonInfo(ctx: Ctx, reason: string): ReasonInfo {
  // Fast path: short ASCII is 1 byte per character in both charsets and always representable.
  if (reason.length <= MAX_REASON_BYTES && !NON_ASCII_RE.test(reason)) return reason.length;
  const cached = ctx.reasonCache.get(reason);
  if (cached !== undefined) return cached;
  let info: ReasonInfo;
  if (ctx.charset === 'gbk') {
    const n = gbkByteLength(reason);
    // The per-character search (findUnrepresentable) only runs to describe a failure.
    info = n >= 0 ? n : (findUnrepresentable(reason, 'gbk') ?? byteLength(reason, 'gbk'));
  } else {
    info = findUnrepresentable(reason, 'utf-8') ?? byteLength(reason, 'utf-8');
  }
  ctx.reasonCache.set(reason, info);
  return info;
}

function checkReason(ctx: Ctx, rec: number, field: string, what: string, reason: string): void {
  const sep = SEPARATOR_RE.exec(reason);
  if (sep) {
    ctx.issues.add(
      FORMAT,
      rec,
      field,
      `${what} contains the separator "${sep[0]}" (at position ${sep.index}); reasons must not contain ^ | $ #, remove or replace it`,
    );
  }
  const info = reasonInfo(ctx, reason);
  if (typeof info !== 'number') {
    ctx.issues.add(
      ENCODING,
      rec,
      field,
      `${what} contains ${describeChar(info.character)} at position ${info.index}, which ${ctx.charset.toUpperCase()} cannot represent; ` +
        `remove or replace it${ctx.charset === 'gbk' ? ', or send the batch with _input_charset=utf-8' : ''}`,
    );
  } else if (info > MAX_REASON_BYTES) {
    ctx.issues.add(
      MEMO_TOO_LONG,
      rec,
      field,
      `${what} is ${info} bytes in ${ctx.charset.toUpperCase()}; the limit is ${MAX_REASON_BYTES} bytes ` +
        `(about ${ctx.charset === 'gbk' ? 128 : 85} Chinese characters), shorten it`,
    );
  }
}

/** One side of a charge/royalty: email or user id (or both; the user id wins). */
function checkParty(
  ctx: Ctx,
  rec: number,
  account: string,
  userId: string,
  accountField: string,
  userIdField: string,
  who: string,
): void {
  if (account === '' && userId === '') {
    ctx.issues.add(
      FORMAT,
      rec,
      userIdField,
      `${who}: both the email account and the user id are empty; fill one of them (the other stays empty, its "^" kept)`,
    );
    return;
  }
  if (userId !== '' && !ALIPAY_USER_ID_RE.test(userId)) {
    ctx.issues.add(
      FORMAT,
      rec,
      userIdField,
      `${who} user id ${q(userId)} is not an Alipay user id ("2088" followed by 12 digits)`,
    );
  }
  if (account !== '' && !ALIPAY_EMAIL_RE.test(account)) {
    let hint = 'use the email login, or leave it empty and fill the user id ("2088" + 12 digits)';
    if (MOBILE_RE.test(account)) {
      hint = `it looks like a mobile number, which Alipay does not accept here; ${hint}`;
    } else if (ALIPAY_USER_ID_RE.test(account)) {
      hint = 'it looks like a user id; move it to the user id field and leave the account empty';
    }
    ctx.issues.add(
      FORMAT,
      rec,
      accountField,
      `${who} account ${q(account)} is not an email address; ${hint}`,
    );
  }
}

function checkPositive(ctx: Ctx, rec: number, field: string, what: string, fen: number | null): void {
  if (fen === 0) ctx.issues.add(FORMAT, rec, field, `${what} is 0; it must be at least 0.01`);
}

/** All per-record rules, plus the batch-wide duplicate trade_no rule. */
export function checkRecord(ctx: Ctx, rec: number, r: PRecord): void {
  const { issues } = ctx;
  const trade = r.trade;
  const hasRoyalties = r.royalties.length > 0;
  if (trade) {
    if (!TRADE_NO_RE.test(trade.tradeNo)) {
      issues.add(
        FORMAT,
        rec,
        'tradeNo',
        trade.tradeNo === ''
          ? 'trade_no is empty; give the original Alipay trade number'
          : `trade_no ${q(trade.tradeNo)} is not an Alipay trade number (digits only, 16 or 28 in practice)`,
      );
    } else {
      const seen = ctx.seenTradeNos;
      const before = seen.size;
      seen.add(trade.tradeNo);
      ctx.tradeNoOf[rec] = trade.tradeNo;
      if (seen.size === before) {
        const first = ctx.tradeNoOf.indexOf(trade.tradeNo);
        issues.add(
          'DUBL_TRADE_NO_IN_SAME_BATCH',
          rec,
          'tradeNo',
          `trade_no ${trade.tradeNo} already appears in record ${first}; one trade may appear once per batch, ` +
            'merge the two records (sum the amounts) or move one to another batch',
        );
      }
    }
    if (trade.fen === 0 && !hasRoyalties) {
      issues.add(
        FORMAT,
        rec,
        'amount',
        'refund amount is 0; 0 is only allowed for a royalty-only refund (a record with "|" royalty items), otherwise refund at least 0.01',
      );
    }
    checkReason(ctx, rec, 'reason', 'reason', trade.reason);
  }

  if (r.charge !== undefined && ctx.mode === 'pwd') {
    issues.add(
      FORMAT,
      rec,
      'charge',
      'the pwd service accepts only trade_no^amount^reason; remove the "$" charge part (Alipay computes fee refunds itself)',
    );
  }
  if (r.charge) {
    const c = r.charge;
    checkParty(ctx, rec, c.account, c.userId, 'charge.account', 'charge.userId', 'charge payer');
    checkPositive(ctx, rec, 'charge.amount', 'charge refund amount', c.fen);
    checkReason(ctx, rec, 'charge.reason', 'charge reason', c.reason);
  }

  if (hasRoyalties && ctx.mode === 'pwd') {
    issues.add(
      'PWD_REFUND_NOT_ALLOW_ROYALTY',
      rec,
      'royalties',
      'the pwd service cannot refund royalties; remove the "|" royalty items or send the batch through the nopwd service',
    );
  }
  let pairs: Map<string, number> | undefined;
  for (let i = 0; i < r.royalties.length; i++) {
    const y = r.royalties[i];
    if (!y) continue;
    const p = `royalties[${i}]`;
    const n = i + 1;
    checkParty(
      ctx,
      rec,
      y.outAccount,
      y.outUserId,
      `${p}.outAccount`,
      `${p}.outUserId`,
      `royalty ${n} out side`,
    );
    checkParty(ctx, rec, y.inAccount, y.inUserId, `${p}.inAccount`, `${p}.inUserId`, `royalty ${n} in side`);
    checkPositive(ctx, rec, `${p}.amount`, `royalty ${n} amount`, y.fen);
    checkReason(ctx, rec, `${p}.reason`, `royalty ${n} reason`, y.reason);
    const out = y.outUserId || y.outAccount;
    const into = y.inUserId || y.inAccount;
    if (out !== '' && into !== '') {
      pairs ??= new Map();
      const key = `${out}\u0000${into}`;
      const first = pairs.get(key);
      if (first === undefined) pairs.set(key, n);
      else {
        issues.add(
          'DUBL_ROYALTY_IN_DETAIL',
          rec,
          p,
          `royalty ${n} has the same out (${out}) and in (${into}) accounts as royalty ${first}; merge them into one item`,
        );
      }
    }
  }

  if (r.sub !== undefined && ctx.mode === 'pwd') {
    issues.add(
      FORMAT,
      rec,
      'subTrade',
      'the pwd service accepts only trade_no^amount^reason; remove the "$$" sub-trade part',
    );
  }
  if (r.sub) {
    checkPositive(ctx, rec, 'subTrade.amount', 'sub-trade refund amount', r.sub.fen);
    checkReason(ctx, rec, 'subTrade.reason', 'sub-trade reason', r.sub.reason);
  }
}

function parseBatchNum(v: string | number): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : null;
  if (typeof v === 'string' && /^[1-9]\d{0,15}$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

export function checkCount(ctx: Ctx, count: number, batchNum: string | number | undefined): void {
  let exceedReported = false;
  if (batchNum !== undefined) {
    const n = parseBatchNum(batchNum);
    if (n === null) {
      ctx.issues.add(
        'BATCH_NUM_ERROR',
        null,
        'batch_num',
        `batch_num ${typeof batchNum === 'string' ? q(batchNum) : String(batchNum)} is not a positive integer; set it to the number of records (${count})`,
      );
    } else {
      if (n > MAX_BATCH_RECORDS) {
        ctx.issues.add(
          'BATCH_NUM_EXCEED_LIMIT',
          null,
          'batch_num',
          `batch_num is ${n}; a batch carries at most ${MAX_BATCH_RECORDS} records, split it into several batches`,
        );
        exceedReported = true;
      }
      if (n !== count) {
        ctx.issues.add(
          'BATCH_NUM_NOT_EQUAL_TOTAL',
          null,
          'batch_num',
          `batch_num is ${n} but detail_data has ${count} record${count === 1 ? '' : 's'} (separated by "#"); make them equal`,
        );
      }
    }
  }
  if (count > MAX_BATCH_RECORDS && !exceedReported) {
    ctx.issues.add(
      'BATCH_NUM_EXCEED_LIMIT',
      null,
      'detail_data',
      `detail_data has ${count} records; a batch carries at most ${MAX_BATCH_RECORDS}, split it into several batches`,
    );
  }
}

/** For an empty batch: reports a `batch_num` that is not even a positive integer. */
export function checkEmptyCount(ctx: Ctx, batchNum: string | number | undefined): void {
  if (batchNum !== undefined && parseBatchNum(batchNum) === null) checkCount(ctx, 0, batchNum);
}
