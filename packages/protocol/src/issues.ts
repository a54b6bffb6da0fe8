/**
 * Shared result types of the text codecs (`detail_data`, `result_details`, `unfreezed_details`).
 * Decoders never throw on bad input: they return every problem they found as a {@link CodecIssue}.
 */

/** One problem found while decoding or validating a codec input. */
export interface CodecIssue {
  /**
   * The gateway error code this problem would cause (e.g. `DETAIL_DATA_FORMAT_ERROR`), or a local
   * code such as `RESULT_DETAILS_FORMAT_ERROR` for inputs the gateway produces rather than checks.
   */
  code: string;
  /** 1-based record number (position between `#` separators); `null` = the input as a whole. */
  record: number | null;
  /**
   * What the problem is attached to: a request parameter (`detail_data`, `batch_num`) or a path into
   * the decoded record (`reason`, `amount`, `charge.userId`, `royalties[1].inUserId`; array
   * indices in paths are 0-based, like the decoded arrays).
   */
  field: string;
  /** Human-readable: what is wrong and what to do about it. */
  message: string;
}

/** Result of a decoder: the value, or every issue found (never both). */
export type Decoded<T> = { ok: true; value: T } | { ok: false; issues: CodecIssue[] };

/** Decoders stop collecting after this many issues, so that garbage input stays cheap to report. */
export const MAX_ISSUES = 200;

/**
 * Issue collector used by the codecs: appends until {@link MAX_ISSUES} is reached, then drops.
 * @internal
 */
export class IssueList {
  readonly items: CodecIssue[] = [];

  /** True once the cap is reached; callers may stop checking. */
  get full(): boolean {
    return this.items.length >= MAX_ISSUES;
  }

  add(code: string, record: number | null, field: string, message: string): void {
    if (this.items.length < MAX_ISSUES) this.items.push({ code, record, field, message });
  }
}
