/**
 * Reading a bulk refund file: the server's one refund-file reader ({@link readRefundInput}: CSV in UTF-8 or GBK,
 * JSON Lines, .xlsx; English or Chinese column names; trade_no or out_trade_no), shared with the console's
 * template page. Parsing never stops at the first problem: every row is read, and every problem is reported with
 * its line and field.
 */
import { ALIPAY_USER_ID_RE, type RoyaltyItem } from '@alirefund/protocol';
import type { RoyaltyInput } from '@alirefund/server';

export {
  type InputRow,
  type LineIssue,
  type ParsedInput,
  type RefundInputFormat as InputFormat,
  type RoyaltyInput,
  readRefundInput,
} from '@alirefund/server';

/** A royalty party: a 2088… user id goes to the user id field, anything else is an email account. */
export function royaltyItem(y: RoyaltyInput, amountFen: number): RoyaltyItem {
  const fromId = ALIPAY_USER_ID_RE.test(y.from);
  const toId = ALIPAY_USER_ID_RE.test(y.to);
  return {
    outAccount: fromId ? '' : y.from,
    outUserId: fromId ? y.from : '',
    inAccount: toId ? '' : y.to,
    inUserId: toId ? y.to : '',
    amountFen,
    reason: y.reason,
  };
}
