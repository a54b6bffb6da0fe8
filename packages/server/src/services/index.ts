/**
 * The service layer: plain modules over `{ database, settings, config, clock, log, fetch }`. The HTTP layer
 * (notify endpoints, JSON API, console) only calls these.
 */
import type { ServiceDeps } from './deps.js';
import { type ApprovalService, createApprovalService } from './approval.js';
import { type AuditService, createAuditService } from './audit.js';
import { createDashboardService, type DashboardService } from './dashboard.js';
import { createNotificationService, type NotificationService } from './notifications.js';
import { createOperatorService, type OperatorService } from './operators.js';
import { createReconcileService, type ReconcileService } from './reconcile.js';
import { createRefundService, type RefundService } from './refunds.js';
import { createSessionService, type SessionService } from './sessions.js';
import { createSubmissionService, type SubmissionService } from './submission.js';
import { createTokenScopeService, type TokenScopeService } from './token-scopes.js';
import { createTokenService, type TokenService } from './tokens.js';
import { createTradeService, type TradeService } from './trades.js';

export interface ServerServices {
  trades: TradeService;
  refunds: RefundService;
  submission: SubmissionService;
  notifications: NotificationService;
  dashboard: DashboardService;
  audit: AuditService;
  operators: OperatorService;
  sessions: SessionService;
  tokens: TokenService;
  reconcile: ReconcileService;
  /** The two-person rule: approve or reject a batch awaiting approval. */
  approval: ApprovalService;
  /** What each API token may do. */
  tokenScopes: TokenScopeService;
}

/** Wires the services together (the queue moves when batches are queued or notifications applied). */
export function createServices(deps: ServiceDeps): ServerServices {
  const audit = createAuditService(deps);
  const trades = createTradeService(deps, audit);
  let submission: SubmissionService | undefined;
  const refunds = createRefundService(deps, audit, trades, { batchesQueued: () => submission?.kick() });
  let reconcile: ReconcileService | undefined;
  submission = createSubmissionService(deps, audit, refunds, {
    beforeReconcile: async () => reconcile?.runScheduled(),
  });
  const notifications = createNotificationService(deps, { batchFinished: () => submission?.kick() });
  reconcile = createReconcileService(
    deps,
    { notifications, audit },
    { batchClosed: () => submission?.kick() },
  );
  const operators = createOperatorService(deps, audit);
  return {
    trades,
    refunds,
    submission,
    notifications,
    dashboard: createDashboardService(deps),
    audit,
    operators,
    sessions: createSessionService(deps, operators),
    tokens: createTokenService(deps, audit),
    reconcile,
    approval: createApprovalService(deps, audit),
    tokenScopes: createTokenScopeService(deps, audit),
  };
}

export { type Approver, type ApprovalService, ownerOf } from './approval.js';
export type { AuditEntry, AuditInput, AuditService } from './audit.js';
export type { DashboardService, DashboardStats, DayStats } from './dashboard.js';
export type {
  IncomingNotification,
  NotificationDetail,
  NotificationListQuery,
  NotificationService,
  NotificationView,
  NotifyOutcome,
} from './notifications.js';
export { hashPassword, verifyPassword } from './operators.js';
export type { Operator, OperatorService } from './operators.js';
export type {
  BatchDetail,
  BatchEvent,
  BatchListQuery,
  BatchNotificationRef,
  BatchPlan,
  BatchRecordView,
  BatchSummary,
  CreateBatchesOptions,
  CreateBatchesResult,
  PreviewResult,
  RefundCheckItem,
  RefundItem,
  RefundService,
  Resolution,
} from './refunds.js';
export { tradeRefundIssues } from './refunds.js';
export {
  DEFAULT_RECONCILE_OLDER_THAN_MS,
  RECONCILE_STATES,
  type ReconcileAttempt,
  type ReconcileItem,
  type ReconcileOptions,
  type ReconcileOutcome,
  type ReconcileReport,
  type ReconcileService,
  RESUBMIT_AFTER_MS,
  RESUBMIT_GUIDANCE,
} from './reconcile.js';
export type { Session, SessionService } from './sessions.js';
export type { PwdForm, SubmissionService, TickOutcome } from './submission.js';
export type { ApiToken, TokenService } from './tokens.js';
export type {
  Page,
  RegisterResult,
  TradeInput,
  TradeListQuery,
  TradeRefund,
  TradeRoyalty,
  TradeService,
  TradeView,
} from './trades.js';
