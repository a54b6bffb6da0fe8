/**
 * Step 3 of a bulk run: the batches, one at a time, until each has its outcome. nopwd batches go through the
 * server's queue (one batch per partner in flight), pwd batches as forms for the operator's browser; the loop
 * reads the batches' states when woken (a notification applied by --serve, Ctrl-C) or on a poll (a slow one
 * with --serve, for notifications that arrive elsewhere; a quicker one without), follows batches re-created
 * under a fresh batch_no, asks the gateway about a batch left `submitted` by a process that stopped, and stops
 * for an operator on an outcome-unknown batch, on Ctrl-C, or when nothing moves for --timeout.
 */
import { buildRefundQuery, lookupCode, type RefundMode, sendRefundQuery } from '@alirefund/protocol';
import {
  type AlirefundServer,
  type BatchState,
  createBulkService,
  GATEWAY_TIMEOUT_MS,
  type ServerSettings,
} from '@alirefund/server';
import { CliError } from '../io.js';
import { type PwdTarget, presentPwd } from './pwd.js';
import { heartbeat, type RunBatch, updateRunBatchNo } from './runs.js';

/** With --serve, how often the loop looks at the batches anyway (a notification applied by another process). */
const SAFETY_POLL_MS = 1_000;

const TERMINAL: ReadonlySet<BatchState> = new Set(['finished', 'rejected', 'cancelled', 'resubmit_manually']);

export type RunEnd =
  | { kind: 'complete' }
  | { kind: 'outcome_unknown'; batchNo: string; code: string; message: string }
  /** `confirmed` (pwd, still submitted): whether the gateway has the batch, i.e. the form was confirmed. */
  | { kind: 'timeout'; batchNo: string; state: BatchState; confirmed?: boolean }
  | { kind: 'interrupted' }
  /** The two-person rule: these batches wait for an approver other than the run's actor; nothing more is sent. */
  | { kind: 'awaiting_approval'; batchNos: string[] };

export interface BatchRow {
  batch_no: string;
  state: BatchState;
  mode: RefundMode;
  record_count: number;
  success_num: number | null;
  gateway_code: string | null;
  gateway_message: string | null;
  submitted_at: string | null;
}

/** The run being driven; the server, actor, progress and pwd forms are those of {@link PwdTarget}. */
export interface DriveContext extends PwdTarget {
  settings: ServerSettings;
  mapping: RunBatch[];
  runId: string;
  mode: RefundMode;
  timeoutMs: number;
  /** This process (`host:pid`), the run's owner since `claimedAt`. */
  owner: string;
  claimedAt: number;
  /** Ctrl-C: `requested` is set by the SIGINT handler, which calls `wake` (set by {@link drive}). */
  stop: { requested: boolean; wake: () => void };
  setWake(w: () => void): void;
  /** Notifications are applied in this process (--serve) and wake the loop: poll only now and then. */
  notified: boolean;
  /** Called while the gateway has the current batch (waiting for its notification), with the batches' rows. */
  whileWaiting(byNo: ReadonlyMap<string, BatchRow>): Promise<void>;
}

/** Follows a batch re-created under a fresh batch_no (its date passed before it was sent). */
async function replacementOf(server: AlirefundServer, batchNo: string): Promise<string | null> {
  const ev = await server.database.db
    .selectFrom('srv_batch_events')
    .select('data_json')
    .where('batch_no', '=', batchNo)
    .where('kind', '=', 'superseded')
    .executeTakeFirst();
  if (!ev?.data_json) return null;
  const to = (JSON.parse(ev.data_json) as { replacedBy?: string }).replacedBy;
  return typeof to === 'string' ? to : null;
}

export async function drive(ctx: DriveContext): Promise<RunEnd> {
  const { server, mapping, progress, stop, mode } = ctx;
  const bulk = createBulkService({
    database: server.database,
    clock: Date.now,
    audit: server.services.audit,
  });
  const totalRecords = mapping.reduce((s, m) => s + m.item_count, 0);
  const reported = new Set<string>();
  const rendered = new Set<string>();
  /** Batches seen `finished`: their notification was applied, so neither they nor their records change again. */
  const finished = new Map<string, BatchRow>();
  let lastSignature = '';
  let lastChange = Date.now();
  let pollMs = 20;
  let beat = Date.now();
  // A wake-up (a notification handled, Ctrl-C) that comes while the loop is busy is kept for its next wait.
  let woken = false;
  let endWait: (() => void) | null = null;
  const wakeUp = () => {
    woken = true;
    endWait?.();
  };
  ctx.setWake(wakeUp);
  stop.wake = wakeUp;

  for (;;) {
    woken = false;
    if (Date.now() - beat > 1000) {
      beat = Date.now();
      await heartbeat(server.database, ctx.runId, ctx.owner, beat);
    }
    const open = mapping.filter((m) => !finished.has(m.batch_no)).map((m) => m.batch_no);
    const rows =
      open.length === 0
        ? []
        : await server.database.db
            .selectFrom('srv_batches')
            .select([
              'batch_no',
              'state',
              'mode',
              'record_count',
              'success_num',
              'gateway_code',
              'gateway_message',
              'submitted_at',
              'approval_status',
            ])
            .where('batch_no', 'in', open)
            .execute();
    const byNo = new Map<string, BatchRow>(finished);
    for (const r of rows) {
      // A draft whose approval is pending is awaiting_approval (the server's batch views say the same).
      const { approval_status, ...row } = r;
      if (row.state === 'draft' && approval_status === 'pending') row.state = 'awaiting_approval';
      byNo.set(r.batch_no, row as BatchRow);
      if (r.state === 'finished') finished.set(r.batch_no, r as BatchRow);
    }

    // A batch re-created after midnight: follow it.
    let moved = false;
    for (const m of mapping) {
      if (byNo.get(m.batch_no)?.state !== 'cancelled') continue;
      const to = await replacementOf(server, m.batch_no);
      if (to !== null) {
        await updateRunBatchNo(server.database, ctx.runId, m.idx, to);
        progress.line(
          `batch ${m.batch_no} was re-created as ${to} (its batch_no date had passed before it was sent)`,
        );
        m.batch_no = to;
        moved = true;
      }
    }
    if (moved) continue;

    // Progress.
    let recordsDone = 0;
    let batchesDone = 0;
    let failed = 0;
    for (const m of mapping) {
      const b = byNo.get(m.batch_no);
      if (!b || !TERMINAL.has(b.state)) continue;
      batchesDone++;
      recordsDone += m.item_count;
      const bad = b.state === 'finished' ? m.item_count - Number(b.success_num ?? 0) : m.item_count;
      failed += bad;
      if (!reported.has(m.batch_no)) {
        reported.add(m.batch_no);
        progress.update({
          recordsDone,
          recordsTotal: totalRecords,
          batchesDone,
          batchesTotal: mapping.length,
          failed,
        });
        progress.step(
          `batch ${m.idx + 1}/${mapping.length} ${m.batch_no} (lines ${m.first_line}-${m.last_line}): ${b.state}${
            b.state === 'finished'
              ? `, ${Number(b.success_num ?? 0)} refunded, ${bad} failed`
              : b.gateway_code
                ? ` (${b.gateway_code})`
                : ''
          }`,
        );
      }
    }
    const counts = {
      recordsDone,
      recordsTotal: totalRecords,
      batchesDone,
      batchesTotal: mapping.length,
      failed,
    };

    const signature = mapping.map((m) => `${m.batch_no}:${byNo.get(m.batch_no)?.state}`).join(',');
    if (signature !== lastSignature) {
      lastSignature = signature;
      lastChange = Date.now();
    }

    // Outcome unknown anywhere in the run: stop for an operator.
    for (const m of mapping) {
      const b = byNo.get(m.batch_no);
      if (b?.state === 'needs_attention') {
        progress.update(counts, 'stopped');
        return {
          kind: 'outcome_unknown',
          batchNo: b.batch_no,
          code: b.gateway_code ?? 'UNKNOWN',
          message: b.gateway_message ?? lookupCode(b.gateway_code ?? 'UNKNOWN_EXCEPTION').en,
        };
      }
    }

    // The two-person rule: the CLI honours it like the console and the API. Batches that await approval are
    // not sent; the run stops, naming them, and resumes (same command) once an approver has decided.
    const awaiting = mapping.filter((m) => byNo.get(m.batch_no)?.state === 'awaiting_approval');
    if (awaiting.length > 0) {
      progress.update(counts, 'stopped');
      return { kind: 'awaiting_approval', batchNos: awaiting.map((m) => m.batch_no) };
    }

    const current = mapping.find((m) => {
      const b = byNo.get(m.batch_no);
      return !b || !TERMINAL.has(b.state);
    });
    if (!current) {
      progress.update(counts, 'done');
      return { kind: 'complete' };
    }
    const b = byNo.get(current.batch_no);
    if (!b) throw new CliError(`batch ${current.batch_no} of this run is missing from the database`);
    const label = `batch ${current.idx + 1}/${mapping.length} ${b.batch_no}`;

    if (b.state === 'draft') {
      if (stop.requested) return { kind: 'interrupted' };
      if (mode === 'nopwd') {
        // Queued without reading the batch back; enqueue only to say why a draft could not be queued.
        if (!(await bulk.queueDraft(b.batch_no, ctx.actor)))
          await server.services.submission.enqueue(b.batch_no, ctx.actor);
        progress.update(counts, `sending ${b.batch_no}`);
        progress.step(`${label}: sending ${current.item_count} record(s)`);
        await server.services.submission.tick();
        continue;
      }
      await presentPwd(ctx, b.batch_no, label, rendered);
    } else if (b.state === 'queued') {
      if (stop.requested) return { kind: 'interrupted' };
      const outcomes = await server.services.submission.tick();
      const busy = outcomes.find((o) => o.kind === 'busy');
      if (
        busy &&
        busy.kind === 'busy' &&
        busy.heldBy !== null &&
        !mapping.some((m) => m.batch_no === busy.heldBy)
      )
        progress.update(counts, `waiting: partner busy with batch ${busy.heldBy}`);
    } else if (b.state === 'submitted') {
      const submittedAt = Date.parse(b.submitted_at ?? new Date().toISOString());
      const age = Date.now() - submittedAt;
      // Sent before this process took the run: by a process that is gone (or by \`alirefund serve\`'s queue, whose
      // request takes at most GATEWAY_TIMEOUT_MS). Either way the same batch_no protects against a double refund.
      const patience = submittedAt < ctx.claimedAt ? 3_000 : GATEWAY_TIMEOUT_MS + 5_000;
      if (mode === 'pwd') {
        if (!rendered.has(b.batch_no)) {
          // From an earlier process: was it confirmed? The notification will say; else show the form again.
          const q = await queryBatch(ctx, b.batch_no);
          if (q === 'not-found') await presentPwd(ctx, b.batch_no, label, rendered);
          else rendered.add(b.batch_no);
        } else if (stop.requested) return { kind: 'interrupted' };
      } else if (age > patience) {
        // Left `submitted` by a process that stopped mid-send: ask the gateway before anything else.
        progress.step(
          `${label}: submitted without a recorded answer; asking the gateway (refund_fastpay_query)`,
        );
        const q = await queryBatch(ctx, b.batch_no);
        if (q === 'not-found') {
          await bulk.requeueUnsent(
            b.batch_no,
            ctx.actor,
            `(alirefund refund, run ${ctx.runId.slice(0, 12)})`,
          );
          progress.line(
            `${label}: the gateway never got it (REFUND_NOT_EXIST); sending it again under the same batch_no`,
          );
        } else if (q === 'found') {
          await bulk.markAccepted(b.batch_no, ctx.actor, `(alirefund refund, run ${ctx.runId.slice(0, 12)})`);
          progress.line(`${label}: the gateway has it (accepted); waiting for its notification`);
        } else {
          return {
            kind: 'outcome_unknown',
            batchNo: b.batch_no,
            code: 'TRANSPORT_ERROR',
            message: q.message,
          };
        }
        continue;
      }
    } else if (b.state === 'accepted') {
      if (stop.requested) return { kind: 'interrupted' };
      progress.update(counts, `waiting for the notification of ${b.batch_no}`);
    }

    if (Date.now() - lastChange > ctx.timeoutMs) {
      // A pwd batch is `submitted` until its notification: ask whether the operator ever confirmed the form.
      const q = mode === 'pwd' && b.state === 'submitted' ? await queryBatch(ctx, b.batch_no) : null;
      const confirmed = q === 'found' ? true : q === 'not-found' ? false : undefined;
      return {
        kind: 'timeout',
        batchNo: b.batch_no,
        state: b.state,
        ...(confirmed === undefined ? {} : { confirmed }),
      };
    }
    if (b.state === 'accepted' || b.state === 'submitted') {
      // The gateway has the batch: until its notification, this process has nothing to send. Do the work that
      // is off the critical path now (report lines of finished batches), while the gateway works.
      await ctx.whileWaiting(byNo);
    }
    // A notification applied here wakes the loop at once: waiting for it, poll only as a safety net. Else poll
    // quickly right after a change, then back off.
    const awaitingNotification = ctx.notified && (b.state === 'accepted' || b.state === 'submitted');
    pollMs = awaitingNotification
      ? SAFETY_POLL_MS
      : Date.now() - lastChange < 2_000
        ? 20
        : Math.min(500, pollMs * 2);
    if (!woken) {
      await new Promise<void>((r) => {
        const t = setTimeout(done, pollMs);
        function done() {
          clearTimeout(t);
          endWait = null;
          r();
        }
        endWait = done;
      });
    }
  }
}

async function queryBatch(
  ctx: DriveContext,
  batchNo: string,
): Promise<'found' | 'not-found' | { message: string }> {
  const config = ctx.settings.alipay;
  const res = await sendRefundQuery(buildRefundQuery(config, { batchNo }), config, {
    timeoutMs: GATEWAY_TIMEOUT_MS,
  });
  if (res.status === 'found') return 'found';
  if (res.status === 'not-found') return 'not-found';
  return {
    message: `refund_fastpay_query could not tell: ${res.status === 'error' ? `${res.code} (${res.info.en})` : res.message}`,
  };
}
