/**
 * `detail_data` of `refund_fastpay_by_platform_pwd` / `_nopwd` (protocol.md §3): grammar, decoder,
 * validator and encoder.
 *
 * ```
 * detail_data = record *( "#" record )                       ; 1..1000 records, count == batch_num
 * record      = trade [ "$" charge ] *( "|" royalty ) [ "$$" subtrade ]
 * trade       = trade_no "^" amount "^" reason
 * charge      = email "^" user_id "^" amount "^" reason
 * royalty     = out_email "^" out_user_id "^" in_email "^" in_user_id "^" amount "^" reason
 * subtrade    = amount "^" reason
 * ```
 *
 * Decisions where the spec is silent or only inferred (documented here so that SDK and simulator agree):
 * - `trade_no` must match {@link TRADE_NO_RE}, 6..64 digits. Real trade numbers are 16 (pre-2013), 17
 *   (seen in query samples) or 28 digits; the wider range tolerates sandbox/test numbers without accepting
 *   obviously wrong input (a single digit, letters, spaces). Vector C of the signing tests uses trade_no `1`
 *   as a dummy; it is a signing fixture and would not pass this validator.
 * - Reasons may be empty everywhere (the doc only says so for royalty/charge reasons; an empty trade
 *   reason is left for the gateway to judge rather than rejected here). The `^` before it is mandatory:
 *   `2013091141206212^0.01` (2 fields) is a format error.
 * - Email accounts are ASCII `local@domain.tld`; mobile-number logins are rejected (the seeds say
 *   accounts must be emails) with a hint to use the email or the 2088 user id instead.
 * - Amounts are decimal yuan, ≤ 2 decimals, no sign, no leading zeros ({@link parseYuan}). `0` is only
 *   allowed for the trade part of a record that carries royalty items (royalty-only refund).
 */
import iconv from 'iconv-lite';
import { MAX_FEN, formatYuan, parseYuan } from './amount.js';
import { type Charset, byteLength, findUnrepresentable } from './charset.js';
import { q, splitKeep } from './codec-text.js';
import { type CodecIssue, type Decoded, IssueList } from './issues.js';

/** Which gateway service the detail is for: `pwd` accepts only trade parts. */
export type RefundMode = 'pwd' | 'nopwd';

/** A royalty (分润) refund item: pulls the royalty back from `out` to `in`. Each side needs email or user id. */
export interface RoyaltyItem {
  /** Email of the account that originally received the royalty (may be empty if `outUserId` is set). */
  outAccount: string;
  /** `2088…` user id of that account (wins over `outAccount` when both are given). */
  outUserId: string;
  /** Email of the account that originally paid the royalty (may be empty if `inUserId` is set). */
  inAccount: string;
  /** `2088…` user id of that account. */
  inUserId: string;
  /** Amount in fen (> 0). */
  amountFen: number;
  /** The wire spelling of the amount, present only when it differs from `formatYuan(amountFen)` (e.g. `"80"`). */
  amountText?: string;
  /** Free text, may be empty. */
  reason: string;
}

/** A legacy charge (收费) refund item, nopwd only. One of `account`/`userId` is required. */
export interface ChargeItem {
  account: string;
  userId: string;
  amountFen: number;
  /** See {@link RoyaltyItem.amountText}. */
  amountText?: string;
  reason: string;
}

/** A sub-trade (子交易) refund item, nopwd only. */
export interface SubTradeItem {
  amountFen: number;
  /** See {@link RoyaltyItem.amountText}. */
  amountText?: string;
  reason: string;
}

/** One `#`-separated record of `detail_data`. */
export interface DetailRecord {
  /** Original Alipay trade number (digits). */
  tradeNo: string;
  /** Refund amount of the trade in fen; 0 only for a royalty-only refund. */
  amountFen: number;
  /** See {@link RoyaltyItem.amountText}. */
  amountText?: string;
  /** Refund reason, ≤ 256 bytes in the request charset, without `^ | $ #`. */
  reason: string;
  charge?: ChargeItem;
  royalties?: RoyaltyItem[];
  subTrade?: SubTradeItem;
}

/** Options of {@link decodeDetailData} and {@link validateDetailRecords}. */
export interface DetailOptions {
  /** The request's `_input_charset`: reason lengths are counted in its bytes. */
  charset: Charset;
  mode: RefundMode;
  /** The `batch_num` request parameter, when it should be checked against the record count. */
  batchNum?: string | number;
}

/** Most records one batch may carry (`batch_num` ≤ 1000). */
export const MAX_BATCH_RECORDS = 1000;
/** Longest reason, in bytes of the request charset. */
export const MAX_REASON_BYTES = 256;

/** Accepted `trade_no`: 6..64 digits (see the module comment for why). */
export const TRADE_NO_RE = /^\d{6,64}$/;
/** Alipay user id: `2088` followed by 12 digits. */
export const ALIPAY_USER_ID_RE = /^2088\d{12}$/;
/** Alipay email login (ASCII). */
export const ALIPAY_EMAIL_RE = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;

const MOBILE_RE = /^(?:\+?86)?1\d{10}$/;
const SEPARATOR_RE = /[\^|$#]/;
const NON_ASCII_RE = /[^\x00-\x7f]/;

const FORMAT = 'DETAIL_DATA_FORMAT_ERROR';
const MEMO_TOO_LONG = 'BATCH_MEMO_LENGTH_EXCEED_LIMIT';
const ENCODING = 'SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT';

// ---------------------------------------------------------------------------------------------
// Internal, partially-valid form shared by the decoder and the structured validator.
// `fen === null` means "the amount is invalid and has already been reported".

interface PTrade {
  tradeNo: string;
  fen: number | null;
  text: string;
  reason: string;
}
interface PCharge {
  account: string;
  userId: string;
  fen: number | null;
  text: string;
  reason: string;
}
interface PRoyalty {
  outAccount: string;
  outUserId: string;
  inAccount: string;
  inUserId: string;
  fen: number | null;
  text: string;
  reason: string;
}
interface PSub {
  fen: number | null;
  text: string;
  reason: string;
}
/** `null` parts are present but malformed (already reported); `undefined` parts are absent. */
interface PRecord {
  trade: PTrade | null;
  charge: PCharge | null | undefined;
  royalties: Array<PRoyalty | null>;
  sub: PSub | null | undefined;
}

type ReasonInfo = number | { character: string; index: number };

interface Ctx {
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

function newCtx(opts: DetailOptions): Ctx {
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

function badAmountMessage(what: string, token: string): string {
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

/** Decoder side: wire token → fen, reporting a bad token. */
function amountFromToken(ctx: Ctx, rec: number, field: string, what: string, token: string): number | null {
  const fen = parseYuan(token);
  if (fen === null) ctx.issues.add(FORMAT, rec, field, badAmountMessage(what, token));
  return fen;
}

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
 * GBK byte length of each BMP code unit, learnt lazily: 0 = not asked yet, 1 or 2 = bytes, 3 = not
 * representable. GBK is a stateless single/double-byte charset, so a string survives the iconv round
 * trip exactly when each of its characters does, and its length is the sum of theirs. Caching per
 * character (at most 64 KiB, shared by all calls) makes GBK checks of unique Chinese reasons cheap;
 * the test suite checks this against `findUnrepresentable` / `byteLength` for the whole BMP.
 */
const GBK_LEN = new Uint8Array(0x10000);
const GBK_BAD = 3;

/** GBK byte length of `text`, or -1 when GBK cannot represent it (surrogates never can). */
export function gbkByteLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      n++;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) return -1;
    let len = GBK_LEN[c]!;
    if (len === 0) {
      const ch = text[i]!;
      const bytes = iconv.encode(ch, 'gbk');
      len = iconv.decode(bytes, 'gbk') === ch ? bytes.length : GBK_BAD;
      GBK_LEN[c] = len;
    }
    if (len === GBK_BAD) return -1;
    n += len;
  }
  return n;
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
function checkRecord(ctx: Ctx, rec: number, r: PRecord): void {
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

function checkCount(ctx: Ctx, count: number, batchNum: string | number | undefined): void {
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
    if (opts.batchNum !== undefined && parseBatchNum(opts.batchNum) === null)
      checkCount(ctx, 0, opts.batchNum);
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

/**
 * Applies the same rules as {@link decodeDetailData} to structured records (e.g. before encoding a
 * request). Also reports `amountText` that disagrees with `amountFen`. Returns `[]` when valid.
 */
export function validateDetailRecords(records: readonly DetailRecord[], opts: DetailOptions): CodecIssue[] {
  const ctx = newCtx(opts);
  if (records.length === 0) {
    ctx.issues.add(FORMAT, null, 'detail_data', 'no records; a batch needs at least one record');
    if (opts.batchNum !== undefined && parseBatchNum(opts.batchNum) === null)
      checkCount(ctx, 0, opts.batchNum);
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

function wire(value: string, rec: number, path: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(`encodeDetailData: record ${rec} ${path} must be a string, got ${typeof value}`);
  }
  const m = SEPARATOR_RE.exec(value);
  if (m) {
    throw new TypeError(
      `encodeDetailData: record ${rec} ${path} contains the separator "${m[0]}"; ` +
        'run validateDetailRecords first (it reports this as DETAIL_DATA_FORMAT_ERROR)',
    );
  }
  return value;
}

function wireAmount(fen: number, text: string | undefined, rec: number, path: string): string {
  return text === undefined ? formatYuan(fen) : wire(text, rec, path);
}

/**
 * Serialises records into `detail_data` — the exact inverse of {@link decodeDetailData} for valid
 * records. Uses `amountText` when present, else `formatYuan(amountFen)`. Does not validate: call
 * {@link validateDetailRecords} first.
 * @throws TypeError when a field contains `^ | $ #` or an amount is not a non-negative integer of fen
 * (programming errors).
 */
export function encodeDetailData(records: readonly DetailRecord[]): string {
  const out: string[] = [];
  for (let i = 0; i < records.length; i++) {
    const d = records[i]!;
    const n = i + 1;
    let s = `${wire(d.tradeNo, n, 'tradeNo')}^${wireAmount(d.amountFen, d.amountText, n, 'amountText')}^${wire(d.reason, n, 'reason')}`;
    if (d.charge) {
      const c = d.charge;
      s += `$${wire(c.account, n, 'charge.account')}^${wire(c.userId, n, 'charge.userId')}^${wireAmount(c.amountFen, c.amountText, n, 'charge.amountText')}^${wire(c.reason, n, 'charge.reason')}`;
    }
    if (d.royalties) {
      for (let j = 0; j < d.royalties.length; j++) {
        const y = d.royalties[j]!;
        const p = `royalties[${j}]`;
        s += `|${wire(y.outAccount, n, `${p}.outAccount`)}^${wire(y.outUserId, n, `${p}.outUserId`)}^${wire(y.inAccount, n, `${p}.inAccount`)}^${wire(y.inUserId, n, `${p}.inUserId`)}^${wireAmount(y.amountFen, y.amountText, n, `${p}.amountText`)}^${wire(y.reason, n, `${p}.reason`)}`;
      }
    }
    if (d.subTrade) {
      const t = d.subTrade;
      s += `$$${wireAmount(t.amountFen, t.amountText, n, 'subTrade.amountText')}^${wire(t.reason, n, 'subTrade.reason')}`;
    }
    out.push(s);
  }
  return out.join('#');
}
