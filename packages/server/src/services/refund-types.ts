/**
 * The refund workflow's data: what is asked for (items, options), what a selection is planned into, and how a
 * batch is shown (summary in lists, detail with records, timeline and notifications).
 */
import type { CodeInfo, DetailRecord, RoyaltyItem } from '@alirefund/protocol';
import type { BatchState, RefundMode } from '../db.js';
import type { ItemIssue } from '../errors.js';

/** One refund the operator (or API client) asks for. */
export interface RefundItem {
  tradeNo: string;
  /** Refund amount in fen; 0 only for a royalty-only refund (nopwd). */
  amountFen: number;
  reason: string;
  /** nopwd only: royalty (分润) parts to pull back with the refund. */
  royalties?: RoyaltyItem[];
}

export interface CreateBatchesOptions {
  mode: RefundMode;
  /** Records per batch (default: settings.batchSize). */
  batchSize?: number;
  /** Who asks (`operator:NAME`, `api:TOKEN`). */
  actor: string;
  /** The operator behind an API token (`operator:NAME`), for the two-person rule (services/approval.ts). */
  owner?: string | null;
  /** nopwd: put the batches in the partner's queue right away (default true). pwd batches stay drafts. */
  queue?: boolean;
}

/** A planned batch (preview) or a created one. */
export interface BatchPlan {
  /** 0-based indexes of the request items in this batch. */
  itemIndexes: number[];
  records: DetailRecord[];
  detailData: string;
  recordCount: number;
  totalFen: number;
}

export interface PreviewResult {
  batches: BatchPlan[];
  issues: ItemIssue[];
}

/** A batch in lists. */
export interface BatchSummary {
  batchNo: string;
  mode: RefundMode;
  state: BatchState;
  charset: string;
  refundDate: string;
  recordCount: number;
  totalFen: number;
  successNum: number | null;
  successFen: number | null;
  gatewayCode: string | null;
  groupId: string | null;
  groupIndex: number;
  groupSize: number;
  createdBy: string;
  createdAt: string;
  submittedAt: string | null;
  finishedAt: string | null;
  /** The two-person rule: null when the batch needed no approval. */
  approval: BatchApproval | null;
}

/** A batch's approval (services/approval.ts). */
export interface BatchApproval {
  status: 'pending' | 'approved' | 'rejected';
  /** Who approved or rejected it, when, and a rejection's reason. */
  by: string | null;
  at: string | null;
  reason: string | null;
}

export interface BatchRecordView {
  seq: number;
  tradeNo: string;
  amountFen: number;
  reason: string;
  royalties: RoyaltyItem[];
  resultCode: string | null;
  resultAmountFen: number | null;
  succeeded: boolean | null;
  resultText: string | null;
  resultParts: unknown;
  /** The result code explained (meaning, what to do), when there is a result. */
  explanation: CodeInfo | null;
}

export interface BatchEvent {
  id: number;
  at: string;
  kind: string;
  state: string | null;
  message: string;
  data: unknown;
  actor: string;
}

export interface BatchNotificationRef {
  id: number;
  kind: string;
  verdict: string;
  reasonCode: string | null;
  reason: string | null;
  notifyId: string | null;
  receivedAt: string;
  appliedAt: string | null;
  response: string;
}

export interface BatchDetail extends BatchSummary {
  partner: string;
  signType: string;
  detailData: string;
  notifyUrl: string | null;
  gatewayMessage: string | null;
  /** The gateway code explained, when there is one. */
  gatewayExplanation: CodeInfo | null;
  times: {
    createdAt: string;
    queuedAt: string | null;
    submittedAt: string | null;
    acceptedAt: string | null;
    finishedAt: string | null;
    rejectedAt: string | null;
    attentionAt: string | null;
    resolvedAt: string | null;
    cancelledAt: string | null;
    appliedAt: string | null;
  };
  appliedNotifyId: string | null;
  records: BatchRecordView[];
  events: BatchEvent[];
  notifications: BatchNotificationRef[];
}

export interface CreateBatchesResult {
  /** Empty when there are issues: a selection is created entirely or not at all. */
  batches: BatchDetail[];
  issues: ItemIssue[];
}

export interface BatchListQuery {
  state?: BatchState | 'open';
  mode?: RefundMode;
  /** batch_no prefix or a trade_no in the batch. */
  q?: string;
  page?: number;
  pageSize?: number;
}

/** What an operator decides for a batch whose outcome is unknown (or that never got a notification). */
export type Resolution = 'accepted' | 'rejected' | 'resubmit_manually';
