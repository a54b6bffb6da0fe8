/**
 * Submission and the per-partner queue.
 *
 * One batch of a partner is in flight at a time (the gateway answers BATCH_REFUND_LOCK_ERROR otherwise). The
 * in-flight batch is recorded in `srv_partner_locks`; it is claimed with one conditional UPDATE, so two server
 * instances on one database never both submit. The lock is released when the batch's notification is applied,
 * when the gateway rejects it (F: nothing was processed), or taken over once ALIREFUND_NEXT_BATCH_WAIT has passed
 * since submission.
 *
 * nopwd: the queue sends the next queued batch and maps the answer: T → accepted; F → rejected (with the code's
 * meaning and advice); SYSTEM_ERROR / UNKNOWN_EXCEPTION / GENERIC_FAILURE / transport failure → needs_attention,
 * never resubmitted automatically.
 * pwd: {@link SubmissionService.preparePwd} claims the lock and returns the auto-submit form for the browser.
 */
import {
  beijingDate,
  buildRefundRequest,
  formAction,
  lookupCode,
  newBatchIdentity,
  type NopwdResult,
  parseBeijing,
  renderRefundForm,
  sendNopwdRequest,
  type SignedRequest,
} from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Kysely, Selectable } from 'kysely';
import { nowIso, nowMs } from './clock.js';
import type { ServiceDeps } from './deps.js';
import type { BatchState, ServerDB } from '../db.js';
import { ServiceError } from '../errors.js';
import type { AuditService } from './audit.js';
import {
  addEvent,
  type BatchDetail,
  explainState,
  type RefundService,
  releasePartnerLock,
  releaseTrades,
} from './refunds.js';

/** States after which a batch no longer holds the partner's queue. */
const CLOSED_STATES: readonly BatchState[] = ['finished', 'rejected', 'resubmit_manually', 'cancelled'];

/** How long a nopwd request may take before it counts as a transport failure. */
export const GATEWAY_TIMEOUT_MS = 15_000;

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

function stale(refundDate: string, now: number): boolean {
  const ms = parseBeijing(refundDate);
  return ms === null || beijingDate(ms) !== beijingDate(now);
}

export function createSubmissionService(
  deps: ServiceDeps,
  audit: AuditService,
  refunds: RefundService,
  hooks: { beforeReconcile?: () => Promise<unknown> } = {},
): SubmissionService {
  const { database, clock, config, settings, log } = deps;
  const partner = config.partner;

  async function ensureLockRow(): Promise<void> {
    await database.db
      .insertInto('srv_partner_locks')
      .values({ partner, batch_no: null, since: null })
      .onConflict((oc) => oc.column('partner').doNothing())
      .execute();
  }

  /** Claims the partner's queue for `batchNo` inside `trx`. True when claimed (or already held by it). */
  async function claim(trx: Kysely<ServerDB>, batchNo: string, now: string): Promise<boolean> {
    const cutoff = new Date(Date.parse(now) - settings.nextBatchWaitMs).toISOString();
    const res = await trx
      .updateTable('srv_partner_locks')
      .set({ batch_no: batchNo, since: now })
      .where('partner', '=', partner)
      .where((eb) =>
        eb.or([
          eb('batch_no', 'is', null),
          eb('batch_no', '=', batchNo),
          eb('since', '<', cutoff),
          eb(
            'batch_no',
            'in',
            eb
              .selectFrom('srv_batches')
              .select('batch_no')
              .where('state', 'in', [...CLOSED_STATES]),
          ),
        ]),
      )
      .executeTakeFirst();
    return res.numUpdatedRows === 1n;
  }

  /**
   * Gives a never-sent batch whose batch_no date has passed (Beijing midnight) a fresh identity: a new batch with
   * the same records and reservations; the old one is cancelled with a pointer to it. Safe because the old
   * batch_no never left the process.
   */
  async function rekey(trx: Kysely<ServerDB>, batchNo: string, now: string, actor: string): Promise<string> {
    const b = await trx
      .selectFrom('srv_batches')
      .selectAll()
      .where('batch_no', '=', batchNo)
      .executeTakeFirstOrThrow();
    const identity = newBatchIdentity({ clock });
    await trx
      .insertInto('srv_batches')
      .values({
        ...b,
        batch_no: identity.batchNo,
        refund_date: identity.refundDate,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const records = await trx
      .selectFrom('srv_batch_records')
      .selectAll()
      .where('batch_no', '=', batchNo)
      .execute();
    await trx
      .insertInto('srv_batch_records')
      .values(records.map((r) => ({ ...r, batch_no: identity.batchNo })))
      .execute();
    await trx
      .updateTable('srv_trades')
      .set({ open_batch_no: identity.batchNo, updated_at: now })
      .where('open_batch_no', '=', batchNo)
      .execute();
    await trx
      .updateTable('srv_batches')
      .set({ state: 'cancelled', cancelled_at: now, updated_at: now })
      .where('batch_no', '=', batchNo)
      .execute();
    await addEvent(trx, {
      batchNo,
      at: now,
      kind: 'superseded',
      state: 'cancelled',
      message: `its batch_no date passed before it was sent (batch_no must carry today's date); replaced by ${identity.batchNo}`,
      data: { replacedBy: identity.batchNo },
      actor,
    });
    await addEvent(trx, {
      batchNo: identity.batchNo,
      at: now,
      kind: 'created',
      state: b.state,
      message: `re-created from ${batchNo}, whose batch_no date had passed before it was sent`,
      data: { replaces: batchNo },
      actor,
    });
    return identity.batchNo;
  }

  function requestFor(b: {
    batch_no: string;
    mode: 'pwd' | 'nopwd';
    refund_date: string;
    detail_data: string;
    record_count: number;
    notify_url: string | null;
  }): SignedRequest {
    return buildRefundRequest(config, {
      mode: b.mode,
      batchNo: b.batch_no,
      refundDate: b.refund_date,
      detail: b.detail_data,
      batchNum: Number(b.record_count),
      ...(b.notify_url !== null ? { notifyUrl: b.notify_url } : {}),
    });
  }

  type Claimed =
    | { kind: 'idle' }
    | { kind: 'busy'; heldBy: string | null; since: string | null }
    | { kind: 'claimed'; batch: Selectable<ServerDB['srv_batches']> };

  async function claimNext(): Promise<Claimed> {
    return withTransaction(database, async (trx) => {
      const now = nowIso(clock);
      const next = await trx
        .selectFrom('srv_batches')
        .select(['batch_no', 'refund_date'])
        .where('partner', '=', partner)
        .where('state', '=', 'queued')
        .orderBy('queued_at')
        .orderBy('created_at')
        .orderBy('group_index')
        .limit(1)
        .executeTakeFirst();
      if (!next) return { kind: 'idle' as const };
      if (!(await claim(trx, next.batch_no, now))) {
        const lock = await trx
          .selectFrom('srv_partner_locks')
          .selectAll()
          .where('partner', '=', partner)
          .executeTakeFirst();
        return { kind: 'busy' as const, heldBy: lock?.batch_no ?? null, since: lock?.since ?? null };
      }
      let batchNo = next.batch_no;
      if (stale(next.refund_date, Date.parse(now))) {
        batchNo = await rekey(trx, batchNo, now, 'system');
        await trx
          .updateTable('srv_partner_locks')
          .set({ batch_no: batchNo })
          .where('partner', '=', partner)
          .execute();
      }
      const moved = await trx
        .updateTable('srv_batches')
        .set({ state: 'submitted', submitted_at: now, updated_at: now })
        .where('batch_no', '=', batchNo)
        .where('state', '=', 'queued')
        .executeTakeFirst();
      if (moved.numUpdatedRows !== 1n) return { kind: 'busy' as const, heldBy: null, since: null };
      await addEvent(trx, {
        batchNo,
        at: now,
        kind: 'submitted',
        state: 'submitted',
        message: 'sending to the gateway (nopwd)',
        actor: 'system',
      });
      const batch = await trx
        .selectFrom('srv_batches')
        .selectAll()
        .where('batch_no', '=', batchNo)
        .executeTakeFirstOrThrow();
      return { kind: 'claimed' as const, batch };
    });
  }

  async function recordAnswer(batchNo: string, result: NopwdResult): Promise<void> {
    await withTransaction(database, async (trx) => {
      const now = nowIso(clock);
      if (result.status === 'accepted') {
        const res = await trx
          .updateTable('srv_batches')
          .set({ state: 'accepted', accepted_at: now, updated_at: now })
          .where('batch_no', '=', batchNo)
          .where('state', '=', 'submitted')
          .executeTakeFirst();
        await addEvent(trx, {
          batchNo,
          at: now,
          kind: 'accepted',
          state: res.numUpdatedRows === 1n ? 'accepted' : null,
          message: `the gateway accepted the batch (is_success=${result.isSuccess}); the notification will say what was refunded${res.numUpdatedRows === 1n ? '' : ' (its notification had already been applied)'}`,
          actor: 'system',
        });
        return;
      }
      if (result.status === 'rejected') {
        const info = result.info;
        const res = await trx
          .updateTable('srv_batches')
          .set({
            state: 'rejected',
            rejected_at: now,
            updated_at: now,
            gateway_code: result.code,
            gateway_message: `${info.zh} / ${info.en}. ${info.advice.en}`,
          })
          .where('batch_no', '=', batchNo)
          .where('state', '=', 'submitted')
          .executeTakeFirst();
        if (res.numUpdatedRows === 1n) {
          await releaseTrades(trx, batchNo, now);
          await releasePartnerLock(trx, partner, batchNo);
        }
        await addEvent(trx, {
          batchNo,
          at: now,
          kind: 'rejected',
          state: res.numUpdatedRows === 1n ? 'rejected' : null,
          message: `the gateway rejected the batch: ${result.code} (${info.zh}; ${info.en}). Nothing was processed and no notification will come. ${info.advice.en}`,
          data: {
            code: result.code,
            action: info.action,
            advice: info.advice,
            body: result.body.slice(0, 2000),
          },
          actor: 'system',
        });
        return;
      }
      const res = await trx
        .updateTable('srv_batches')
        .set({
          state: 'needs_attention',
          attention_at: now,
          updated_at: now,
          gateway_code: result.code,
          gateway_message: result.message,
        })
        .where('batch_no', '=', batchNo)
        .where('state', '=', 'submitted')
        .executeTakeFirst();
      await addEvent(trx, {
        batchNo,
        at: now,
        kind: 'needs_attention',
        state: res.numUpdatedRows === 1n ? 'needs_attention' : null,
        message: `outcome unknown (${result.code}, ${result.reason}): ${result.message}. The batch may have been accepted: it is paused and will not be resubmitted automatically; an operator must check it (notification, refund query) and resolve it.`,
        data: { code: result.code, reason: result.reason, advice: lookupCode(result.code).advice },
        actor: 'system',
      });
    });
  }

  async function submitClaimed(batch: Selectable<ServerDB['srv_batches']>): Promise<TickOutcome> {
    let req: SignedRequest;
    try {
      req = requestFor(batch);
    } catch (err) {
      // Never left the process: close it locally and free everything.
      await withTransaction(database, async (trx) => {
        const now = nowIso(clock);
        await trx
          .updateTable('srv_batches')
          .set({ state: 'cancelled', cancelled_at: now, updated_at: now, gateway_code: 'LOCAL_VALIDATION' })
          .where('batch_no', '=', batch.batch_no)
          .execute();
        await releaseTrades(trx, batch.batch_no, now);
        await releasePartnerLock(trx, partner, batch.batch_no);
        await addEvent(trx, {
          batchNo: batch.batch_no,
          at: now,
          kind: 'cancelled',
          state: 'cancelled',
          message: `not sent: the request would be refused (${(err as Error).message})`,
          actor: 'system',
        });
      });
      return { kind: 'submitted', batchNo: batch.batch_no, result: 'rejected', code: 'LOCAL_VALIDATION' };
    }
    const result = await sendNopwdRequest(req, { timeoutMs: GATEWAY_TIMEOUT_MS, fetch: deps.fetch });
    log.info(
      { batchNo: batch.batch_no, status: result.status, code: 'code' in result ? result.code : undefined },
      'nopwd batch submitted',
    );
    await recordAnswer(batch.batch_no, result);
    return {
      kind: 'submitted',
      batchNo: batch.batch_no,
      result: result.status,
      ...('code' in result ? { code: result.code } : {}),
    };
  }

  let running: Promise<TickOutcome[]> | null = null;
  let again = false;
  let kickScheduled = false;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  async function runTick(): Promise<TickOutcome[]> {
    await ensureLockRow();
    const outcomes: TickOutcome[] = [];
    for (let i = 0; i < 100; i++) {
      const c = await claimNext();
      if (c.kind !== 'claimed') {
        outcomes.push(c);
        break;
      }
      const o = await submitClaimed(c.batch);
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
        const now = nowIso(clock);
        const res = await trx
          .updateTable('srv_batches')
          .set({ state: 'queued', queued_at: now, updated_at: now })
          .where('batch_no', '=', batchNo)
          .where('state', '=', 'draft')
          .where('mode', '=', 'nopwd')
          .executeTakeFirst();
        if (res.numUpdatedRows !== 1n) {
          const row = await trx
            .selectFrom('srv_batches')
            .select('mode')
            .where('batch_no', '=', batchNo)
            .executeTakeFirst();
          if (row?.mode === 'pwd') {
            throw new ServiceError(
              'INVALID_STATE',
              `batch ${batchNo} is a pwd batch: submit it from the browser`,
              'mode',
            );
          }
          await explainState(trx, batchNo, 'queue', ['draft']);
        }
        await addEvent(trx, {
          batchNo,
          at: now,
          kind: 'queued',
          state: 'queued',
          message: 'queued for submission',
          actor,
        });
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
      await ensureLockRow();
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
        if (b.state !== 'draft' && b.state !== 'submitted')
          await explainState(trx, batchNo, 'submit', ['draft', 'submitted']);
        let current = b.batch_no;
        if (stale(b.refund_date, Date.parse(now))) {
          if (b.state !== 'draft') {
            throw new ServiceError(
              'INVALID_STATE',
              `batch ${batchNo}'s date has passed: its form can no longer be sent. If the operator never confirmed it, mark it resubmit_manually and create a new batch`,
              'batchNo',
            );
          }
          current = await rekey(trx, current, now, actor);
        }
        if (!(await claim(trx, current, now))) {
          const lock = await trx
            .selectFrom('srv_partner_locks')
            .selectAll()
            .where('partner', '=', partner)
            .executeTakeFirst();
          const until = lock?.since
            ? new Date(Date.parse(lock.since) + settings.nextBatchWaitMs).toISOString()
            : null;
          throw new ServiceError(
            'PARTNER_BUSY',
            `batch ${lock?.batch_no ?? '?'} is still in flight (one batch at a time per partner, or Alipay answers BATCH_REFUND_LOCK_ERROR); submit after its notification${until ? ` or after ${until}` : ''}`,
            'batchNo',
          );
        }
        if (b.state === 'draft') {
          await trx
            .updateTable('srv_batches')
            .set({ state: 'submitted', submitted_at: now, updated_at: now })
            .where('batch_no', '=', current)
            .where('state', '=', 'draft')
            .execute();
        }
        await addEvent(trx, {
          batchNo: current,
          at: now,
          kind: 'submitted',
          state: 'submitted',
          message:
            b.state === 'draft'
              ? 'password form handed to the operator’s browser (pwd); the result comes by notification'
              : 'password form rendered again for the operator’s browser',
          actor,
        });
        await audit.record({ actor, action: 'batch.submit_pwd', target: current }, trx);
        return trx
          .selectFrom('srv_batches')
          .selectAll()
          .where('batch_no', '=', current)
          .executeTakeFirstOrThrow();
      });
      const req = requestFor(batch);
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

    async inFlight() {
      const lock = await database.db
        .selectFrom('srv_partner_locks')
        .select(['batch_no', 'since'])
        .where('partner', '=', partner)
        .executeTakeFirst();
      return { batchNo: lock?.batch_no ?? null, since: lock?.since ?? null };
    },

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
