/**
 * `result_details` and `unfreezed_details` of `batch_refund_notify` (protocol.md §5.1–5.2), and the
 * `batch_no^`-prefixed variant returned by `refund_fastpay_query` (§13).
 *
 * ```
 * result_details = rrecord *( "#" rrecord )
 * rrecord  = rtrade [ "$" rcharge ] *( "|" rroyalty ) [ "$$" rsub ]
 * rtrade   = [ batch_no "^" ] trade_no "^" amount "^" code [ "^" is_dback "^" dback_status ]
 * rcharge  = fee_account "^" fee_user_id "^" fee_amount "^" code
 * rroyalty = out_email "^" out_user_id "^" in_email "^" in_user_id "^" amount "^" code
 * rsub     = sub_refund_amount "^" sub_refundable_amount "^" code
 * unfreezed_details = urecord *( "#" urecord )     ; "#" between records is inferred, like result_details
 * urecord  = unfreeze_order_no "^" freeze_order_no "^" amount "^" trade_no "^" processed_at "^" status "^" code
 * ```
 *
 * These texts are produced by Alipay (or the sandbox), so the decoders are lenient about content
 * (accounts, codes and statuses are free text; only structure, amounts and the `is_dback` /
 * `dback_status` enums are checked) and report problems with the local code
 * {@link RESULT_DETAILS_FORMAT_ERROR}. Amounts are echoed as sent (`80`, not `80.00`), so every amount
 * keeps its `…Text` and the encoders reproduce it verbatim. An empty string decodes to `[]`
 * (the doc marks both parameters as optional).
 */
import { parseYuan } from './amount.js';
import { q, splitKeep } from './codec-text.js';
import { type Decoded, IssueList } from './issues.js';

/** Local issue code for a malformed `result_details` / `unfreezed_details` (not a gateway code). */
export const RESULT_DETAILS_FORMAT_ERROR = 'RESULT_DETAILS_FORMAT_ERROR';

/** Result of one royalty refund item. */
export interface ResultRoyalty {
  outAccount: string;
  outUserId: string;
  inAccount: string;
  inUserId: string;
  amountFen: number;
  /** Amount as it appeared on the wire. */
  amountText: string;
  code: string;
}

/** Result of the (Alipay-computed) fee / charge refund. */
export interface ResultCharge {
  account: string;
  userId: string;
  amountFen: number;
  /** Amount as it appeared on the wire. */
  amountText: string;
  code: string;
}

/** Result of a sub-trade refund: refunded amount, amount still refundable, code. */
export interface ResultSubTrade {
  refundFen: number;
  refundText: string;
  refundableFen: number;
  refundableText: string;
  code: string;
}

/** One `#`-separated record of `result_details`. */
export interface ResultRecord {
  /** Only in the `refund_fastpay_query` form (`withBatchNo: true`). */
  batchNo?: string;
  tradeNo: string;
  amountFen: number;
  /** Amount as it appeared on the wire (the request token echoed, e.g. `80`). */
  amountText: string;
  /** `SUCCESS` or an error code (protocol.md §8). */
  code: string;
  /** `code === 'SUCCESS'` (derived; ignored by the encoder). */
  succeeded: boolean;
  /** `is_dback` of the 5-field form: the refund went back to a bank card (充退). Absent in the 3-field form. */
  toBankCard?: boolean;
  /** `dback_status` of the 5-field form; `null` for the literal `null`. Absent in the 3-field form. */
  bankCardStatus?: 'S' | 'F' | 'P' | null;
  charge?: ResultCharge;
  royalties?: ResultRoyalty[];
  subTrade?: ResultSubTrade;
}

/** Options of {@link decodeResultDetails} / {@link encodeResultDetails}. */
export interface ResultDetailsOptions {
  /** The `refund_fastpay_query` form: each trade part starts with `batch_no^`. Default false. */
  withBatchNo?: boolean;
}

/** One record of `unfreezed_details` (frozen funds released for a nopwd refund with `use_freeze_amount=Y`). */
export interface UnfreezeRecord {
  unfreezeOrderNo: string;
  freezeOrderNo: string;
  amountFen: number;
  /** Amount as it appeared on the wire. */
  amountText: string;
  tradeNo: string;
  /** Processing time as sent (normally `yyyy-MM-dd HH:mm:ss`, not checked). */
  processedAt: string;
  status: string;
  code: string;
}

const SEPARATOR_RE = /[\^|$#]/;
/** `unfreezed_details` has no `$`/`|` sub-structure, so only these two are separators there. */
const UNFREEZE_SEPARATOR_RE = /[\^#]/;

function fieldCount(part: string, expected: string, n: number, text: string): string {
  return `the ${part} part ${q(text)} has ${n} field${n === 1 ? '' : 's'}; expected ${expected} separated by "^"`;
}

class Parser {
  constructor(
    readonly issues: IssueList,
    readonly param: string,
  ) {}

  fail(rec: number | null, field: string, message: string): void {
    this.issues.add(RESULT_DETAILS_FORMAT_ERROR, rec, field, message);
  }

  amount(rec: number, field: string, what: string, token: string): number | null {
    const fen = parseYuan(token);
    if (fen === null) {
      this.fail(rec, field, `${what} ${q(token)} is not a decimal yuan amount (≤ 2 decimals, no sign)`);
    }
    return fen;
  }

  nonEmpty(rec: number, field: string, what: string, value: string): void {
    if (value === '') this.fail(rec, field, `${what} is empty`);
  }
}

function parseTrade(
  p: Parser,
  rec: number,
  text: string,
  withBatchNo: boolean,
): Omit<ResultRecord, 'charge' | 'royalties' | 'subTrade'> | null {
  const f = splitKeep(text, '^');
  const base = withBatchNo ? 4 : 3;
  if (f.length !== base && f.length !== base + 2) {
    let hint = '';
    if (!withBatchNo && (f.length === 4 || f.length === 6)) {
      hint =
        '; this looks like the refund_fastpay_query form (batch_no^trade_no^…), decode it with { withBatchNo: true }';
    } else if (withBatchNo && (f.length === 3 || f.length === 5)) {
      hint =
        '; this looks like the notification form without batch_no, decode it with { withBatchNo: false }';
    }
    const expected = withBatchNo
      ? '4 or 6 (batch_no^trade_no^amount^code[^is_dback^dback_status])'
      : '3 or 5 (trade_no^amount^code[^is_dback^dback_status])';
    p.fail(rec, p.param, fieldCount('trade', expected, f.length, text) + hint);
    return null;
  }
  let i = 0;
  let batchNo: string | undefined;
  if (withBatchNo) {
    batchNo = f[i++]!;
    p.nonEmpty(rec, 'batchNo', 'batch_no', batchNo);
  }
  const tradeNo = f[i++]!;
  const amountText = f[i++]!;
  const code = f[i++]!;
  p.nonEmpty(rec, 'tradeNo', 'trade_no', tradeNo);
  const amountFen = p.amount(rec, 'amount', 'refund amount', amountText);
  p.nonEmpty(rec, 'code', 'result code', code);
  const out: Omit<ResultRecord, 'charge' | 'royalties' | 'subTrade'> = {
    tradeNo,
    amountFen: amountFen ?? 0,
    amountText,
    code,
    succeeded: code === 'SUCCESS',
  };
  if (batchNo !== undefined) out.batchNo = batchNo;
  if (f.length === base + 2) {
    const dback = f[i++]!;
    const status = f[i]!;
    if (dback === 'true' || dback === 'false') out.toBankCard = dback === 'true';
    else p.fail(rec, 'toBankCard', `is_dback ${q(dback)} must be "true" or "false"`);
    if (status === 'S' || status === 'F' || status === 'P') out.bankCardStatus = status;
    else if (status === 'null') out.bankCardStatus = null;
    else p.fail(rec, 'bankCardStatus', `dback_status ${q(status)} must be S, F, P or null`);
  }
  return out;
}

function parseResultRecord(p: Parser, rec: number, text: string, withBatchNo: boolean): ResultRecord | null {
  if (text === '') {
    p.fail(rec, p.param, `record is empty; look for "##" or a "#" at the start or end of ${p.param}`);
    return null;
  }
  let main = text;
  let subText: string | undefined;
  const dd = text.indexOf('$$');
  if (dd >= 0) {
    main = text.slice(0, dd);
    subText = text.slice(dd + 2);
  }
  const items = splitKeep(main, '|');
  let tradeText = items[0]!;
  let charge: ResultCharge | undefined;
  const dollar = tradeText.indexOf('$');
  let ok = true;
  let chargeText: string | undefined;
  if (dollar >= 0) {
    chargeText = tradeText.slice(dollar + 1);
    tradeText = tradeText.slice(0, dollar);
  }
  const trade = parseTrade(p, rec, tradeText, withBatchNo);
  if (!trade) ok = false;

  if (chargeText !== undefined) {
    const f = splitKeep(chargeText, '^');
    if (chargeText.includes('$')) {
      p.fail(rec, 'charge', 'more than one "$" after the trade part');
      ok = false;
    } else if (f.length !== 4) {
      p.fail(
        rec,
        'charge',
        fieldCount('"$" charge', '4 (account^user_id^amount^code)', f.length, chargeText),
      );
      ok = false;
    } else {
      const amountText = f[2]!;
      const code = f[3]!;
      const fen = p.amount(rec, 'charge.amount', 'charge amount', amountText);
      p.nonEmpty(rec, 'charge.code', 'charge result code', code);
      charge = { account: f[0]!, userId: f[1]!, amountFen: fen ?? 0, amountText, code };
    }
  }

  const royalties: ResultRoyalty[] = [];
  for (let i = 1; i < items.length; i++) {
    const item = items[i]!;
    const path = `royalties[${i - 1}]`;
    if (item.includes('$')) {
      p.fail(
        rec,
        path,
        `royalty item ${i} contains "$"; "$" may only follow the trade part and "$$" comes last`,
      );
      ok = false;
      continue;
    }
    const f = splitKeep(item, '^');
    if (f.length !== 6) {
      p.fail(
        rec,
        path,
        fieldCount(
          `"|" royalty ${i}`,
          '6 (out_email^out_user_id^in_email^in_user_id^amount^code)',
          f.length,
          item,
        ),
      );
      ok = false;
      continue;
    }
    const amountText = f[4]!;
    const code = f[5]!;
    const fen = p.amount(rec, `${path}.amount`, `royalty ${i} amount`, amountText);
    p.nonEmpty(rec, `${path}.code`, `royalty ${i} result code`, code);
    royalties.push({
      outAccount: f[0]!,
      outUserId: f[1]!,
      inAccount: f[2]!,
      inUserId: f[3]!,
      amountFen: fen ?? 0,
      amountText,
      code,
    });
  }

  let subTrade: ResultSubTrade | undefined;
  if (subText !== undefined) {
    const f = splitKeep(subText, '^');
    const stray = /[|$]/.exec(subText);
    if (stray) {
      p.fail(
        rec,
        'subTrade',
        `the "$$" sub-trade part ${q(subText)} contains "${stray[0]}"; it must be the last part`,
      );
      ok = false;
    } else if (f.length !== 3) {
      p.fail(rec, 'subTrade', fieldCount('"$$" sub-trade', '3 (refund^refundable^code)', f.length, subText));
      ok = false;
    } else {
      const refundText = f[0]!;
      const refundableText = f[1]!;
      const code = f[2]!;
      const refundFen = p.amount(rec, 'subTrade.refund', 'sub-trade refund amount', refundText);
      const refundableFen = p.amount(
        rec,
        'subTrade.refundable',
        'sub-trade refundable amount',
        refundableText,
      );
      p.nonEmpty(rec, 'subTrade.code', 'sub-trade result code', code);
      subTrade = {
        refundFen: refundFen ?? 0,
        refundText,
        refundableFen: refundableFen ?? 0,
        refundableText,
        code,
      };
    }
  }

  if (!ok || !trade) return null;
  const out: ResultRecord = trade;
  if (charge) out.charge = charge;
  if (royalties.length > 0) out.royalties = royalties;
  if (subTrade) out.subTrade = subTrade;
  return out;
}

/**
 * Parses `result_details` of a `batch_refund_notify` (or, with `withBatchNo`, of a
 * `refund_fastpay_query` reply). Accepts the 3- and 5-field trade parts. Never throws; reports
 * every problem (up to `MAX_ISSUES`) as `RESULT_DETAILS_FORMAT_ERROR` with record number and field.
 * @example decodeResultDetails('2010031206252779^10.00^NOT_THIS_PARTNERS_TRADE')
 */
export function decodeResultDetails(text: string, opts: ResultDetailsOptions = {}): Decoded<ResultRecord[]> {
  const issues = new IssueList();
  const p = new Parser(issues, 'result_details');
  if (typeof text !== 'string') {
    p.fail(null, 'result_details', 'result_details is not a string');
    return { ok: false, issues: issues.items };
  }
  if (text === '') return { ok: true, value: [] };
  const withBatchNo = opts.withBatchNo === true;
  const texts = text.split('#');
  const value: ResultRecord[] = [];
  for (let i = 0; i < texts.length && !issues.full; i++) {
    const r = parseResultRecord(p, i + 1, texts[i]!, withBatchNo);
    if (r) value.push(r);
  }
  return issues.items.length > 0 ? { ok: false, issues: issues.items } : { ok: true, value };
}

function wire(fn: string, value: string, rec: number, path: string, forbidden = SEPARATOR_RE): string {
  if (typeof value !== 'string') {
    throw new TypeError(`${fn}: record ${rec} ${path} must be a string, got ${typeof value}`);
  }
  const m = forbidden.exec(value);
  if (m) throw new TypeError(`${fn}: record ${rec} ${path} contains the separator "${m[0]}"`);
  return value;
}

/**
 * Serialises result records — the exact inverse of {@link decodeResultDetails} (amounts are written
 * from their `…Text` verbatim; `succeeded` is ignored). Used by the sandbox to build notifications.
 * @throws TypeError when a field contains `^ | $ #`, when `batchNo` presence does not match
 * `withBatchNo`, or when `bankCardStatus` is given without `toBankCard` (programming errors).
 */
export function encodeResultDetails(
  records: readonly ResultRecord[],
  opts: ResultDetailsOptions = {},
): string {
  const fn = 'encodeResultDetails';
  const withBatchNo = opts.withBatchNo === true;
  const out: string[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const n = i + 1;
    let s = '';
    if (withBatchNo) {
      if (r.batchNo === undefined)
        throw new TypeError(`${fn}: record ${n} has no batchNo but withBatchNo is set`);
      s = `${wire(fn, r.batchNo, n, 'batchNo')}^`;
    } else if (r.batchNo !== undefined) {
      throw new TypeError(`${fn}: record ${n} has a batchNo; pass { withBatchNo: true } for the query form`);
    }
    s += `${wire(fn, r.tradeNo, n, 'tradeNo')}^${wire(fn, r.amountText, n, 'amountText')}^${wire(fn, r.code, n, 'code')}`;
    if (r.toBankCard !== undefined) {
      s += `^${r.toBankCard ? 'true' : 'false'}^${r.bankCardStatus ?? 'null'}`;
    } else if (r.bankCardStatus !== undefined) {
      throw new TypeError(`${fn}: record ${n} has bankCardStatus but no toBankCard`);
    }
    if (r.charge) {
      const c = r.charge;
      s += `$${wire(fn, c.account, n, 'charge.account')}^${wire(fn, c.userId, n, 'charge.userId')}^${wire(fn, c.amountText, n, 'charge.amountText')}^${wire(fn, c.code, n, 'charge.code')}`;
    }
    if (r.royalties) {
      for (let j = 0; j < r.royalties.length; j++) {
        const y = r.royalties[j]!;
        const p = `royalties[${j}]`;
        s += `|${wire(fn, y.outAccount, n, `${p}.outAccount`)}^${wire(fn, y.outUserId, n, `${p}.outUserId`)}^${wire(fn, y.inAccount, n, `${p}.inAccount`)}^${wire(fn, y.inUserId, n, `${p}.inUserId`)}^${wire(fn, y.amountText, n, `${p}.amountText`)}^${wire(fn, y.code, n, `${p}.code`)}`;
      }
    }
    if (r.subTrade) {
      const t = r.subTrade;
      s += `$$${wire(fn, t.refundText, n, 'subTrade.refundText')}^${wire(fn, t.refundableText, n, 'subTrade.refundableText')}^${wire(fn, t.code, n, 'subTrade.code')}`;
    }
    out.push(s);
  }
  return out.join('#');
}

/**
 * Parses `unfreezed_details` (7 `^`-separated fields per record, records separated by `#`).
 * Never throws; problems are reported as `RESULT_DETAILS_FORMAT_ERROR`. Empty text → `[]`.
 */
export function decodeUnfreezedDetails(text: string): Decoded<UnfreezeRecord[]> {
  const issues = new IssueList();
  const p = new Parser(issues, 'unfreezed_details');
  if (typeof text !== 'string') {
    p.fail(null, 'unfreezed_details', 'unfreezed_details is not a string');
    return { ok: false, issues: issues.items };
  }
  if (text === '') return { ok: true, value: [] };
  const texts = text.split('#');
  const value: UnfreezeRecord[] = [];
  for (let i = 0; i < texts.length && !issues.full; i++) {
    const rec = i + 1;
    const t = texts[i]!;
    const f = splitKeep(t, '^');
    if (f.length !== 7) {
      p.fail(
        rec,
        'unfreezed_details',
        fieldCount(
          'unfreeze',
          '7 (unfreeze_order_no^freeze_order_no^amount^trade_no^processed_at^status^code)',
          f.length,
          t,
        ),
      );
      continue;
    }
    const amountText = f[2]!;
    const fen = p.amount(rec, 'amount', 'unfreeze amount', amountText);
    const code = f[6]!;
    p.nonEmpty(rec, 'code', 'result code', code);
    value.push({
      unfreezeOrderNo: f[0]!,
      freezeOrderNo: f[1]!,
      amountFen: fen ?? 0,
      amountText,
      tradeNo: f[3]!,
      processedAt: f[4]!,
      status: f[5]!,
      code,
    });
  }
  return issues.items.length > 0 ? { ok: false, issues: issues.items } : { ok: true, value };
}

/**
 * Serialises unfreeze records — the exact inverse of {@link decodeUnfreezedDetails}.
 * @throws TypeError when a field contains `^` or `#`.
 */
export function encodeUnfreezedDetails(records: readonly UnfreezeRecord[]): string {
  const fn = 'encodeUnfreezedDetails';
  return records
    .map((r, i) => {
      const n = i + 1;
      return [
        wire(fn, r.unfreezeOrderNo, n, 'unfreezeOrderNo', UNFREEZE_SEPARATOR_RE),
        wire(fn, r.freezeOrderNo, n, 'freezeOrderNo', UNFREEZE_SEPARATOR_RE),
        wire(fn, r.amountText, n, 'amountText', UNFREEZE_SEPARATOR_RE),
        wire(fn, r.tradeNo, n, 'tradeNo', UNFREEZE_SEPARATOR_RE),
        wire(fn, r.processedAt, n, 'processedAt', UNFREEZE_SEPARATOR_RE),
        wire(fn, r.status, n, 'status', UNFREEZE_SEPARATOR_RE),
        wire(fn, r.code, n, 'code', UNFREEZE_SEPARATOR_RE),
      ].join('^');
    })
    .join('#');
}
