/**
 * The two-person rule. A batch above ALIREFUND_APPROVAL_THRESHOLD (its own amount or its selection's, so that
 * splitting a selection does not dodge it), or every batch with ALIREFUND_APPROVAL_ALL=true, is created
 * `awaiting_approval` (stored as a draft with approval_status 'pending', see db.ts). Nothing queues or submits it
 * (services/submission.ts refuses) until an approver or admin other than the person who prepared it approves it;
 * a rejection (with a reason) cancels it and frees its trades. "The person" is the actor and, for an API token
 * made by an operator in the console, that operator: a token cannot approve its own batch, nor its maker's, nor
 * can its maker approve the token's.
 */
import { formatYuan } from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Role } from '../auth/roles.js';
import { ServiceError } from '../errors.js';
import type { AuditService } from './audit.js';
import { addEvent, releaseTrades } from './batch-ledger.js';
import { loadBatch } from './batch-views.js';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import type { BatchDetail } from './refund-types.js';

/** Who approves or rejects: the actor (`operator:NAME`, `api:TOKEN`), the operator behind a token, the role. */
export interface Approver {
  actor: string;
  /** `operator:NAME` when the actor is an API token an operator made; null otherwise. */
  owner?: string | null;
  /** The operator's role or the token's scope. */
  role: Role;
}

/** The longest rejection reason kept. */
export const MAX_REASON = 300;

export interface ApprovalService {
  /** Whether a selection of `selectionFen` in all needs a second person (settings). */
  required(selectionFen: number): boolean;
  /** The threshold in words, for messages: `above 5000.00 yuan`, `every batch`. */
  describeRule(): string;
  /**
   * awaiting_approval → draft (approved). @throws ServiceError FORBIDDEN (the preparer, or a role that does not
   * approve), INVALID_STATE (not awaiting approval), BATCH_NOT_FOUND
   */
  approve(batchNo: string, who: Approver): Promise<BatchDetail>;
  /** awaiting_approval → cancelled (rejected, its trades free again), with a reason. Same errors as approve. */
  reject(batchNo: string, who: Approver, reason: string): Promise<BatchDetail>;
  /** How many batches await approval. */
  pendingCount(): Promise<number>;
}

/** Whether a selection of `selectionFen` in all needs a second person under `settings`. */
export function approvalRequired(
  settings: { approvalAll: boolean; approvalThresholdFen?: number },
  selectionFen: number,
): boolean {
  if (settings.approvalAll) return true;
  const limit = settings.approvalThresholdFen;
  return limit !== undefined && selectionFen > limit;
}

/** `operator:NAME` of a token's maker (`created_by`), or null when a token was not made by an operator. */
export function ownerOf(createdBy: string): string | null {
  return createdBy.startsWith('operator:') ? createdBy : null;
}

export function createApprovalService(deps: ServiceDeps, audit: AuditService): ApprovalService {
  const { database, clock, settings } = deps;

  async function decide(
    batchNo: string,
    who: Approver,
    decision: 'approve' | 'reject',
    reason: string | null,
  ): Promise<BatchDetail> {
    if (who.role !== 'admin' && who.role !== 'approver') {
      throw new ServiceError(
        'FORBIDDEN',
        `only an approver or an admin may ${decision} a batch; ${who.actor} is ${who.role}`,
        'role',
      );
    }
    await withTransaction(database, async (trx) => {
      const b = await trx
        .selectFrom('srv_batches')
        .select(['state', 'approval_status', 'created_by', 'created_owner', 'total_fen'])
        .where('batch_no', '=', batchNo)
        .executeTakeFirst();
      if (!b) throw new ServiceError('BATCH_NOT_FOUND', `no batch ${batchNo}`, 'batchNo');
      if (b.state !== 'draft' || b.approval_status !== 'pending') {
        throw new ServiceError(
          'INVALID_STATE',
          `cannot ${decision} batch ${batchNo}: it is not awaiting approval (it is ${b.state}${b.approval_status ? `, approval ${b.approval_status}` : ''})`,
          'state',
        );
      }
      const preparers = new Set([b.created_by, b.created_owner].filter((x): x is string => !!x));
      const deciders = [who.actor, who.owner].filter((x): x is string => !!x);
      const same = deciders.find((d) => preparers.has(d));
      if (same !== undefined) {
        throw new ServiceError(
          'FORBIDDEN',
          `two-person rule: batch ${batchNo} was prepared by ${b.created_by}${b.created_owner ? ` (${b.created_owner})` : ''}; another approver or admin must ${decision} it`,
          'actor',
        );
      }
      const now = nowIso(clock);
      const res = await trx
        .updateTable('srv_batches')
        .set(
          decision === 'approve'
            ? { approval_status: 'approved', approval_by: who.actor, approval_at: now, updated_at: now }
            : {
                state: 'cancelled',
                cancelled_at: now,
                approval_status: 'rejected',
                approval_by: who.actor,
                approval_at: now,
                approval_reason: reason,
                updated_at: now,
              },
        )
        .where('batch_no', '=', batchNo)
        .where('state', '=', 'draft')
        .where('approval_status', '=', 'pending')
        .executeTakeFirst();
      if (res.numUpdatedRows !== 1n) {
        throw new ServiceError('INVALID_STATE', `batch ${batchNo} changed meanwhile; reload it`, 'state');
      }
      if (decision === 'reject') await releaseTrades(trx, batchNo, now);
      await addEvent(trx, {
        batchNo,
        at: now,
        kind: decision === 'approve' ? 'approved' : 'approval_rejected',
        state: decision === 'approve' ? 'draft' : 'cancelled',
        message:
          decision === 'approve'
            ? `approved by ${who.actor} (prepared by ${b.created_by}); it can be submitted now`
            : `rejected by ${who.actor} (prepared by ${b.created_by}): ${reason}; its trades are free again`,
        data: { preparedBy: b.created_by, decidedBy: who.actor, ...(reason ? { reason } : {}) },
        actor: who.actor,
      });
      await audit.record(
        {
          actor: who.actor,
          action: decision === 'approve' ? 'batch.approve' : 'batch.reject',
          target: batchNo,
          details: {
            preparedBy: b.created_by,
            ...(b.created_owner ? { preparedByOwner: b.created_owner } : {}),
            ...(who.owner ? { owner: who.owner } : {}),
            totalFen: Number(b.total_fen),
            ...(reason ? { reason } : {}),
          },
        },
        trx,
      );
    });
    return (await loadBatch(database.db, batchNo))!;
  }

  return {
    required: (selectionFen) => approvalRequired(settings, selectionFen),
    describeRule() {
      if (settings.approvalAll) return 'every batch';
      const limit = settings.approvalThresholdFen;
      return limit === undefined ? 'no batch' : `batches above ${formatYuan(limit)} yuan`;
    },
    approve: (batchNo, who) => decide(batchNo, who, 'approve', null),
    reject(batchNo, who, reason) {
      const clean = reason.trim();
      if (clean === '' || clean.length > MAX_REASON) {
        throw new ServiceError(
          'VALIDATION_FAILED',
          `give the reason for the rejection (1 to ${MAX_REASON} characters)`,
          'reason',
        );
      }
      return decide(batchNo, who, 'reject', clean);
    },
    async pendingCount() {
      const row = await database.db
        .selectFrom('srv_batches')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', '=', 'draft')
        .where('approval_status', '=', 'pending')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
