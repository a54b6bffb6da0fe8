/** The long help of `alirefund refund` (kept apart so that `alirefund --help` loads no command code). */
export const REFUND_HELP = `
Input (the format is taken from the extension, .csv, .xlsx or .jsonl/.ndjson/.json, else from the content;
the same reader as the console's template page):
  CSV in UTF-8 (with or without BOM) or GBK (as Excel saves it; detected), or an Excel .xlsx workbook (the
  first sheet), with a header row: trade_no,amount,reason  (amount in yuan, e.g. 12.50; quote a reason with
  a comma). Chinese column names work too: 交易号/支付宝交易号, 商户订单号, 退款金额, 退款原因/退款理由.
    out_trade_no (商户订单号) may replace or accompany trade_no: it is resolved to the trade number through the
    merchant database (an order with no trade or with several is reported on its line).
    optional royalty (分润, nopwd only) columns: royalty_from,royalty_to,royalty_amount[,royalty_reason]
    royalty_from gives the royalty back to royalty_to (each an email or a 2088… user id); several parts
    on one line are separated by ";" in each column.
  JSON Lines: {"trade_no":"2026…","amount":"12.50","reason":"协商退款","royalties":[{"from","to","amount","reason"}]}
    (or "out_trade_no", and the Chinese names as keys)

The whole file is checked before anything is sent: the SDK's rules in ALIPAY_INPUT_CHARSET (amounts, reason
length and characters), duplicates, and each trade in the merchant database (registered, free, refundable
balance), all in one pass. A bad file prints every problem of every line as FILE:LINE: FIELD: CODE: message
(format and business problems together), and nothing is sent.

Configuration: the same variables as \`alirefund serve\` (ALIPAY_PARTNER, ALIPAY_KEY, ALIPAY_GATEWAY,
ALIREFUND_PUBLIC_URL, ALIREFUND_DATABASE_URL, …); --db overrides ALIREFUND_DATABASE_URL.

Batches are persisted (batch_no, records, reservations) before they are sent, one at a time per partner.
Running the same command on the same file RESUMES the run (it is identified by the file's SHA-256): created
batches are never re-created, no batch_no is sent twice, and a batch left "submitted" by a crash is looked up
with refund_fastpay_query first. Ctrl-C stops after the batch in flight. A batch whose outcome is unknown
(SYSTEM_ERROR, timeout) stops the run and prints the command to look it up (alirefund reconcile --batch NO).

Results come from Alipay's notifications, received either
  - by \`alirefund serve\` running on the same database (its notify_url is ALIREFUND_PUBLIC_URL/alipay/notify), or
  - with --serve, by this command itself: it listens on the port of ALIREFUND_PUBLIC_URL until every batch
    has its notification (or nothing moves for --timeout). Do not run both on the same port.
pwd mode: each batch's signed form must be confirmed in a browser with the payment password; with --serve the
form is at http://…/bulk/pwd/BATCH_NO, otherwise it is written to FILE.BATCH_NO.pwd.html.

Output: progress on stderr (a live bar on a TTY, plain lines otherwise); a summary table (refunded / failed by
code / pending) on stdout, or JSON with --json; the report FILE.report.csv lists every line's final outcome.
Exit codes: 0 all refunded · 1 invalid file or configuration (nothing sent) · 2 done, some lines failed ·
3 stopped on an outcome-unknown batch · 4 stopped waiting (pending; resume later) · 130 interrupted.

Examples:
  alirefund refund --file refunds.csv --dry-run
  ALIREFUND_PUBLIC_URL=http://shop.example.com:3000 alirefund refund --file refunds.csv --serve --batch-size 200
  alirefund refund --file refunds.jsonl --mode pwd --serve --json`;
