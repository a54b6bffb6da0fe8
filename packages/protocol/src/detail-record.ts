/**
 * The records of `detail_data` (protocol.md §3) as the SDK sees them, and the limits every codec of
 * it applies. The grammar and the decisions where the spec is silent are in detail-data.ts.
 */
import type { Charset } from './charset.js';

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

/** Accepted `trade_no`: 6..64 digits (see detail-data.ts for why). */
export const TRADE_NO_RE = /^\d{6,64}$/;
/** Alipay user id: `2088` followed by 12 digits. */
export const ALIPAY_USER_ID_RE = /^2088\d{12}$/;
/** Alipay email login (ASCII). */
export const ALIPAY_EMAIL_RE = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;

/**
 * The characters that separate fields, items and records; no value may contain them.
 * @internal
 */
export const SEPARATOR_RE = /[\^|$#]/;
