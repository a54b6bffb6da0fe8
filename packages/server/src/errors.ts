/**
 * The one error family of the server's services. Every error has a stable `code` (the JSON API returns it
 * as is), a message that says what to do, the offending `field` when there is one, and the HTTP status the
 * API answers with. Programmer mistakes throw `TypeError` instead.
 */

/** Stable error codes of the services and the JSON API. */
export const ERROR_CODES = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TRADE_NOT_FOUND: 404,
  BATCH_NOT_FOUND: 404,
  INVALID_REQUEST: 400,
  VALIDATION_FAILED: 422,
  TRADE_EXISTS: 409,
  INVALID_STATE: 409,
  PARTNER_BUSY: 409,
  OPERATOR_EXISTS: 409,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem with one input item: which item (0-based index), which field, a stable code and a message. */
export interface ItemIssue {
  /** 0-based index of the item in the request, or null for the request as a whole. */
  index: number | null;
  field: string;
  code: string;
  message: string;
}

/** An operational failure of a service call. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly issues?: readonly ItemIssue[],
  ) {
    super(message);
    this.status = ERROR_CODES[code];
  }

  /** The JSON body the API answers with. */
  toJSON(): { code: string; message: string; field?: string; issues?: readonly ItemIssue[] } {
    return {
      code: this.code,
      message: this.message,
      ...(this.field !== undefined ? { field: this.field } : {}),
      ...(this.issues !== undefined ? { issues: this.issues } : {}),
    };
  }
}
