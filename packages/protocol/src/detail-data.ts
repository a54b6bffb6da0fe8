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
 *
 * The codec is one file per job, all re-exported from here: detail-record.ts (the record types and
 * limits), detail-decode.ts (text → records), detail-validate.ts (records → issues), detail-check.ts
 * (the rules both of them apply), detail-encode.ts (records → text) and gbk-length.ts (GBK byte counts).
 */
export { decodeDetailData } from './detail-decode.js';
export { encodeDetailData } from './detail-encode.js';
export {
  ALIPAY_EMAIL_RE,
  ALIPAY_USER_ID_RE,
  type ChargeItem,
  type DetailOptions,
  type DetailRecord,
  MAX_BATCH_RECORDS,
  MAX_REASON_BYTES,
  type RefundMode,
  type RoyaltyItem,
  type SubTradeItem,
  TRADE_NO_RE,
} from './detail-record.js';
export { validateDetailRecords } from './detail-validate.js';
export { gbkByteLength } from './gbk-length.js';
