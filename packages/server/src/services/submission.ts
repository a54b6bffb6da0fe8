/**
 * Submission and the per-partner queue.
 *
 * One batch of a partner is in flight at a time (partner-lock.ts). The lock is released when the batch's
 * notification is applied, when the gateway rejects it (F: nothing was processed), or taken over once
 * ALIREFUND_NEXT_BATCH_WAIT has passed since submission.
 *
 * nopwd: the queue sends the next queued batch and maps the answer (gateway-submit.ts). pwd:
 * {@link SubmissionService.preparePwd} claims the lock and returns the auto-submit form for the browser. Both
 * start the same way ({@link beginSubmission}).
 */
import { formAction, type NopwdResult, renderRefundForm } from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Kysely, Selectable } from 'kysely';
import type { BatchesTable, BatchState, ServerDB } from '../db.js';
import { ServiceError } from '../errors.js';
import type { AuditService } from './audit.js';
import { addEvent, explainState, queueDraftIn } from './batch-ledger.js';
import { isStale, rekey } from './batch-rekey.js';
import { nowIso, nowMs } from './clock.js';
import type { ServiceDeps } from './deps.js';
import { createGatewaySubmit, GATEWAY_TIMEOUT_MS } from './gateway-submit.js';
import { claimLock, ensureLockRow, moveLock, readLock } from './partner-lock.js';
import type { BatchDetail, RefundService } from './refunds.js';

export { GATEWAY_TIMEOUT_MS } from './gateway-submit.js';

export type TickOutcome =
  | { kind: 'idle' }
  | { kind: 'busy'; heldBy: string | null; since: string | null }
  | { kind: 'submitted'; batchNo: string; result: NopwdResult['status']; code?: string };

export interface PwdForm {
  batchNo: string;
  /** The complete auto-submit HTML page (UTF-8). */
  html: string;
  /** The form's action (gateway URL with `_input_charset`). */
  action: string;
  /** The signed parameters (hidden inputs). */
  params: Readonly<Record<string, string>>;
}

export interface SubmissionService {
  /** A nopwd draft → queued; the queue sends it when the partner is free. */
  enqueue(batchNo: string, actor: string): Promise<BatchDetail>;
  /** Runs the queue soon (coalesced); called after a notification is applied or batches are queued. */
  kick(): void;
  /** Submits queued batches while the partner is free; returns what happened to each. */
  tick(): Promise<TickOutcome[]>;
  /**
   * pwd: claims the partner's queue for the batch, marks it submitted and returns the signed auto-submit form
   * for the operator's browser. Rendering it again for a submitted pwd batch is allowed (same batch_no: the
   * gateway refuses a duplicate).
   * @throws ServiceError PARTNER_BUSY when another batch is in flight; INVALID_STATE; BATCH_NOT_FOUND.
   */
  preparePwd(
    batchNo: string,
    actor: string,
    opts?: { lang?: 'zh-CN' | 'en'; nonce?: string },
  ): Promise<PwdForm>;
  /** Periodic work: flags nopwd batches left `submitted` without an answer, then runs the queue. */
  reconcile(): Promise<{ flagged: string[]; outcomes: TickOutcome[] }>;
  /** Which batch holds the partner's queue, if any. */
  inFlight(): Promise<{ batchNo: string | null; since: string | null }>;
  /** Starts the background timer (every settings.reconcileIntervalMs). */
  start(): void;
  /** Stops the timer and waits for running work. */
  stop(): Promise<void>;
  /** Resolves when no queue work is running (tests). */
  idle(): Promise<void>;
}

/** The refusal of queueing or submitting a batch that awaits approval (services/approval.ts). */
function awaitingApproval(batchNo: string): ServiceError {
  return new ServiceError(
    'INVALID_STATE',
    `batch ${batchNo} is awaiting approval: an approver or admin other than the one who prepared it must approve it before it can be queued or submitted`,
    'approval',
  );
}

export function createSubmissionService(
  deps: ServiceDeps,
  audit: AuditService,
  refunds: RefundService,
  hooks: { beforeReconcile?: () => Promise<unknown> } = {},
): SubmissionService {
  const { database, clock, config, settings, log } = deps;
  const partner = config.partner;
  const gateway = createGatewaySubmit(deps);

  /**
   * How a batch starts its submission, nopwd (from the queue) and pwd (for the browser) alike: claims the
   * partner's queue for it; a batch whose batch_no date has passed gets a fresh identity (rekey) and the queue
   * follows it; then the batch moves from `state` to submitted (a submitted pwd batch stays as it is). Null when
   * another batch holds the queue; `moved` is false when the batch was no longer in `state`.
   */
  async function beginSubmission(
    trx: Kysely<ServerDB>,
    b: { batch_no: string; refund_date: string; state: BatchState },
    now: string,
    actor: string,
  ): Promise<{ batchNo: string; moved: boolean } | null> {
    if (!(await claimLock(trx, partner, b.batch_no, now, settings.nextBatchWaitMs))) return null;
    let batchNo = b.batch_no;
    if (isStale(b.refund_date, Date.parse(now))) {
      batchNo = await rekey(trx, clock, batchNo, now, actor);
      await moveLock(trx, partner, batchNo);
    }
    if (b.state === 'submitted') return { batchNo, moved: false };
    const res = await trx
      .updateTable('srv_batches')
      .set({ state: 'submitted', submitted_at: now, updated_at: now })
      .where('batch_no', '=', batchNo)
      .where('state', '=', b.state)
      .executeTakeFirst();
    return { batchNo, moved: res.numUpdatedRows === 1n };
  }

  const selectBatch = (db: Kysely<ServerDB>, batchNo: string) =>
    db.selectFrom('srv_batches').selectAll().where('batch_no', '=', batchNo).executeTakeFirstOrThrow();

  type Claimed =
    | Exclude<TickOutcome, { kind: 'submitted' }>
    | { kind: 'claimed'; batch: Selectable<BatchesTable> };

  /** Claims the partner's queue for its oldest queued batch and moves that batch to submitted. */
  async function claimNext(): Promise<Claimed> {
    return withTransaction(database, async (trx) => {
      const now = nowIso(clock);
      const next = await trx
        .selectFrom('srv_batches')
        .select(['batch_no', 'refund_date', 'state'])
        .where('partner', '=', partner)
        .where('state', '=', 'queued')
        .orderBy('queued_at')
        .orderBy('created_at')
        .orderBy('group_index')
        .limit(1)
        .executeTakeFirst();
      if (!next) return { kind: 'idle' as const };
      const started = await beginSubmission(trx, next, now, 'system');
      if (started === null) {
        const lock = await readLock(trx, partner);
        return { kind: 'busy' as const, heldBy: lock.batchNo, since: lock.since };
      }
      if (!started.moved) return { kind: 'busy' as const, heldBy: null, since: null };
      await addEvent(trx, {
        batchNo: started.batchNo,
        at: now,
        kind: 'submitted',
        state: 'submitted',
        message: 'sending to the gateway (nopwd)',
        data: { variant: 'nopwd' },
        actor: 'system',
      });
      return { kind: 'claimed' as const, batch: await selectBatch(trx, started.batchNo) };
    });
  }

  let running: Promise<TickOutcome[]> | null = null;
  let again = false;
  let kickScheduled = false;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  async function runTick(): Promise<TickOutcome[]> {
    await ensureLockRow(database.db, partner);
    const outcomes: TickOutcome[] = [];
    for (let i = 0; i < 100; i++) {
      const c = await claimNext();
      if (c.kind !== 'claimed') {
        outcomes.push(c);
        break;
      }
      const o = await gateway.submit(c.batch);
      outcomes.push(o);
      // Only a rejected batch frees the partner at once; otherwise wait for its notification.
      if (o.kind === 'submitted' && o.result !== 'rejected') break;
    }
    return outcomes;
  }

  function tick(): Promise<TickOutcome[]> {
    if (running) {
      again = true;
      return running;
    }
    const p = (async () => {
      const all: TickOutcome[] = [];
      try {
        do {
          again = false;
          all.push(...(await runTick()));
        } while (again && !stopped);
      } finally {
        running = null;
      }
      return all;
    })();
    running = p;
    return p;
  }

  const service: SubmissionService = {
    async enqueue(batchNo, actor) {
      await withTransaction(database, async (trx) => {
        if (!(await queueDraftIn(trx, batchNo, actor, nowIso(clock)))) {
          const row = await trx
            .selectFrom('srv_batches')
            .select(['mode', 'state', 'approval_status'])
            .where('batch_no', '=', batchNo)
            .executeTakeFirst();
          if (row?.state === 'draft' && row.approval_status === 'pending') throw awaitingApproval(batchNo);
          if (row?.mode === 'pwd') {
            throw new ServiceError(
              'INVALID_STATE',
              `batch ${batchNo} is a pwd batch: submit it from the browser`,
              'mode',
            );
          }
          await explainState(trx, batchNo, 'queue', ['draft']);
        }
        await audit.record({ actor, action: 'batch.queue', target: batchNo }, trx);
      });
      service.kick();
      return (await refunds.getBatch(batchNo))!;
    },

    kick() {
      // Coalesced: under a burst of notifications every apply kicks, but one scheduled tick serves
      // them all (a tick that is already running re-runs once via `again`).
      if (stopped || kickScheduled) return;
      kickScheduled = true;
      setImmediate(() => {
        kickScheduled = false;
        tick().catch((err) => log.error({ err: String(err) }, 'queue tick failed'));
      });
    },

    tick,

    async preparePwd(batchNo, actor, opts = {}) {
      await ensureLockRow(database.db, partner);
      const batch = await withTransaction(database, async (trx) => {
        const now = nowIso(clock);
        const b = await trx
          .selectFrom('srv_batches')
          .selectAll()
          .where('batch_no', '=', batchNo)
          .executeTakeFirst();
        if (!b) throw new ServiceError('BATCH_NOT_FOUND', `no batch ${batchNo}`, 'batchNo');
        if (b.mode !== 'pwd') {
          throw new ServiceError(
            'INVALID_STATE',
            `batch ${batchNo} is a nopwd batch: it is sent by the server`,
            'mode',
          );
        }
        if (b.state === 'draft' && b.approval_status === 'pending') throw awaitingApproval(batchNo);
        if (b.state !== 'draft' && b.state !== 'submitted')
          await explainState(trx, batchNo, 'submit', ['draft', 'submitted']);
        if (b.state !== 'draft' && isStale(b.refund_date, Date.parse(now))) {
          throw new ServiceError(
            'INVALID_STATE',
            `batch ${batchNo}'s date has passed: its form can no longer be sent. If the operator never confirmed it, mark it resubmit_manually and create a new batch`,
            'batchNo',
          );
        }
        const started = await beginSubmission(trx, b, now, actor);
        if (started === null) {
          const lock = await readLock(trx, partner);
          const until = lock.since
            ? new Date(Date.parse(lock.since) + settings.nextBatchWaitMs).toISOString()
            : null;
          throw new ServiceError(
            'PARTNER_BUSY',
            `batch ${lock.batchNo ?? '?'} is still in flight (one batch at a time per partner, or Alipay answers BATCH_REFUND_LOCK_ERROR); submit after its notification${until ? ` or after ${until}` : ''}`,
            'batchNo',
          );
        }
        await addEvent(trx, {
          batchNo: started.batchNo,
          at: now,
          kind: 'submitted',
          state: 'submitted',
          message:
            b.state === 'draft'
              ? 'password form handed to the operator’s browser (pwd); the result comes by notification'
              : 'password form rendered again for the operator’s browser',
          data: { variant: b.state === 'draft' ? 'pwd' : 'pwd_again' },
          actor,
        });
        await audit.record({ actor, action: 'batch.submit_pwd', target: started.batchNo }, trx);
        return selectBatch(trx, started.batchNo);
      });
      const req = gateway.requestFor(batch);
      const html = renderRefundForm(req, {
        ...(opts.nonce !== undefined ? { nonce: opts.nonce } : {}),
        ...(opts.lang !== undefined ? { lang: opts.lang } : {}),
      });
      return { batchNo: batch.batch_no, html, action: formAction(req), params: req.params };
    },

    async reconcile() {
      const limit = new Date(
        nowMs(clock) - Math.max(settings.nextBatchWaitMs, 2 * GATEWAY_TIMEOUT_MS),
      ).toISOString();
      const stuck = await database.db
        .selectFrom('srv_batches')
        .select('batch_no')
        .where('partner', '=', partner)
        .where('mode', '=', 'nopwd')
        .where('state', '=', 'submitted')
        .where('submitted_at', '<', limit)
        .execute();
      const flagged: string[] = [];
      for (const { batch_no } of stuck) {
        const changed = await withTransaction(database, async (trx) => {
          const now = nowIso(clock);
          const res = await trx
            .updateTable('srv_batches')
            .set({
              state: 'needs_attention',
              attention_at: now,
              updated_at: now,
              gateway_code: 'TRANSPORT_ERROR',
              gateway_message: 'no gateway answer was recorded for this submission',
            })
            .where('batch_no', '=', batch_no)
            .where('state', '=', 'submitted')
            .executeTakeFirst();
          if (res.numUpdatedRows !== 1n) return false;
          await addEvent(trx, {
            batchNo: batch_no,
            at: now,
            kind: 'needs_attention',
            state: 'needs_attention',
            message:
              'no answer from the gateway was recorded (the server may have stopped while sending): outcome unknown, an operator must check it',
            actor: 'system',
          });
          return true;
        });
        if (changed) flagged.push(batch_no);
      }
      const outcomes = await tick();
      return { flagged, outcomes };
    },

    inFlight: () => readLock(database.db, partner),

    start() {
      if (timer || stopped) return;
      timer = setInterval(() => {
        // The refund_fastpay_query reconciler (services/reconcile.ts) first: what it applies frees the queue.
        (hooks.beforeReconcile?.() ?? Promise.resolve())
          .catch((err) => log.error({ err: String(err) }, 'refund query reconcile failed'))
          .then(() => service.reconcile())
          .catch((err) => log.error({ err: String(err) }, 'reconcile failed'));
      }, settings.reconcileIntervalMs);
      timer.unref();
      service.kick();
    },

    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      await service.idle();
    },

    async idle() {
      // A kick scheduled with setImmediate may not have started yet.
      await new Promise((r) => setImmediate(r));
      while (running) await running.catch(() => {});
    },
  };
  return service;
}
