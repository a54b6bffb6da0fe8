/**
 * The notification path's data: a delivery as the HTTP layer hands it over, what became of it (and the body to
 * answer), a result applied another way, and the recorded rows as the services show them.
 */
import type { Charset } from '@alirefund/protocol';
import type { NotificationVerdict } from '../db.js';

/** A delivery as the HTTP layer hands it over: the raw body bytes, untouched. */
export interface IncomingNotification {
  body: Uint8Array;
  headers?: Record<string, string>;
  remoteAddr?: string | null;
}

/** What became of a delivery, and the exact body to answer. */
export interface NotifyOutcome {
  answer: 'success' | 'fail';
  verdict: NotificationVerdict;
  reasonCode: string | null;
  reason: string | null;
  batchNo: string | null;
  notificationId: number | null;
  /** A rejection over its address's budget: answered (429) but not stored (services/notify-limit.ts). */
  rateLimited?: boolean;
}

export interface NotificationView {
  id: number;
  kind: string;
  batchNo: string | null;
  tradeNo: string | null;
  notifyId: string | null;
  notifyTime: string | null;
  verdict: NotificationVerdict;
  reasonCode: string | null;
  reason: string | null;
  remoteAddr: string | null;
  charset: string | null;
  receivedAt: string;
  appliedAt: string | null;
  response: string;
}

export interface NotificationDetail extends NotificationView {
  /** The body as received; for a rejected delivery only its first 4 KB (see bodyLength, bodySha256). */
  rawBody: string;
  /** Bytes of the whole body and its SHA-256 (hex), for a rejected delivery; null otherwise. */
  bodyLength: number | null;
  bodySha256: string | null;
  headers: Record<string, string>;
  /** The body's parameters decoded in `charset` (no verification), for display. */
  params: Record<string, string> | null;
}

export interface NotificationListQuery {
  batchNo?: string;
  tradeNo?: string;
  verdict?: NotificationVerdict;
  kind?: string;
  /** Substring of the raw body, batch_no, notify_id or reason. */
  q?: string;
  page?: number;
  pageSize?: number;
}

/** Where an applied result came from, when it was not a delivery to the notify endpoint. */
export interface AppliedSource {
  /** Recorded as the row's kind, e.g. `refund_fastpay_query`. */
  kind: string;
  /** The gateway's reply, stored as the row's raw body. */
  body: Uint8Array;
  charset: Charset;
  reasonCode: string;
  reason: string;
}
