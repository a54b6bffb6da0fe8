/**
 * The refund items of a bulk file, kept compact for the whole run: line numbers and amounts in typed arrays, one
 * string per trade number, a reason shared with the line before when it is the same (bulk files repeat one
 * reason), royalties only for the lines that have them. An item object is made only when asked for ({@link at}).
 * Strings are kept as copies of their own: V8 makes a field cut from a line a slice of the text it came from,
 * which would keep every decoded piece of the file alive for as long as the items.
 */
import type { RefundItem } from '@alirefund/server';

/** A row that passed the file checks, ready for the server's createBatches. */
export interface BulkItem extends RefundItem {
  line: number;
}

/** What the report needs of the items: how many, and each by index. Arrays of {@link BulkItem} are one too. */
export interface ItemList {
  readonly length: number;
  at(index: number): BulkItem | undefined;
}

/** `s` as a string of its own (not a slice of a larger text); short strings are copies already. */
function own(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

export class BulkItems implements ItemList {
  #length = 0;
  #lines = new Int32Array(1024);
  #fen = new Float64Array(1024);
  #tradeNos: string[] = [];
  #reasons: string[] = [];
  #royalties = new Map<number, NonNullable<RefundItem['royalties']>>();
  #totalFen = 0;

  get length(): number {
    return this.#length;
  }

  /** The sum of the amounts (fen). */
  get totalFen(): number {
    return this.#totalFen;
  }

  push(it: BulkItem): void {
    const i = this.#length;
    if (i === this.#lines.length) {
      const lines = new Int32Array(i * 2);
      lines.set(this.#lines);
      this.#lines = lines;
      const fen = new Float64Array(i * 2);
      fen.set(this.#fen);
      this.#fen = fen;
    }
    this.#lines[i] = it.line;
    this.#fen[i] = it.amountFen;
    this.#totalFen += it.amountFen;
    this.#tradeNos.push(own(it.tradeNo));
    const before = i > 0 ? this.#reasons[i - 1]! : undefined;
    this.#reasons.push(before === it.reason ? before : own(it.reason));
    if (it.royalties && it.royalties.length > 0) this.#royalties.set(i, it.royalties);
    this.#length++;
  }

  line(i: number): number {
    return this.#lines[i]!;
  }

  tradeNo(i: number): string {
    return this.#tradeNos[i]!;
  }

  at(i: number): BulkItem | undefined {
    if (i < 0 || i >= this.#length) return undefined;
    const royalties = this.#royalties.get(i);
    return {
      line: this.#lines[i]!,
      tradeNo: this.#tradeNos[i]!,
      amountFen: this.#fen[i]!,
      reason: this.#reasons[i]!,
      ...(royalties ? { royalties } : {}),
    };
  }

  /** Items `start … end-1` as createBatches takes them. */
  refundItems(start: number, end: number): RefundItem[] {
    const out: RefundItem[] = [];
    for (let i = start; i < Math.min(end, this.#length); i++) {
      const royalties = this.#royalties.get(i);
      out.push({
        tradeNo: this.#tradeNos[i]!,
        amountFen: this.#fen[i]!,
        reason: this.#reasons[i]!,
        ...(royalties ? { royalties } : {}),
      });
    }
    return out;
  }

  /** Each trade number's item index (a file has each trade once when it passed the checks). */
  indexByTrade(): Map<string, number> {
    const m = new Map<string, number>();
    for (let i = 0; i < this.#length; i++) m.set(this.#tradeNos[i]!, i);
    return m;
  }
}
