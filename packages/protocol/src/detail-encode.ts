/** Records → `detail_data` text: the exact inverse of the decoder for valid records. */
import { formatYuan } from './amount.js';
import { type DetailRecord, SEPARATOR_RE } from './detail-record.js';

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
