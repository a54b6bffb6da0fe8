/**
 * Reconciliation with refund_fastpay_query against the real sandbox on real sockets (sandbox and server share one
 * database, as in the demo): a batch whose notifications the sandbox dropped is recovered and applied once, even
 * when the notification arrives afterwards; an outcome-unknown batch is settled by the query; REFUND_NOT_EXIST
 * after 24 hours (injected clock) → resubmit_manually with the seeds' guidance; a pwd batch never confirmed is
 * said so; the console shows the attempts and has a "reconcile now" button (CSRF).
 */
import { dialectsUnderTest, openTestDatabase } from '@alirefund/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, makeSettings, RESUBMIT_GUIDANCE, type ServerDB } from '../src/index.js';
import { ConsoleClient, startConsoleServer } from './console-helpers.js';
import {
  makeConfig,
  sandboxTradeNo as tradeNo,
  type StubGateway,
  startStubGateway,
  useSandboxServer,
  waitFor,
} from './helpers.js';

const HOUR = 3_600_000;

describe.each(dialectsUnderTest())(
  'reconcile with refund_fastpay_query against the sandbox on %s',
  (dialect) => {
    const h = useSandboxServer(dialect, { background: false, shiftClock: true });

    async function admin(path: string, init: { method?: string; body?: unknown } = {}): Promise<unknown> {
      const res = await fetch(`${h.sandboxUrl}/sandbox/api${path}`, {
        method: init.method ?? 'GET',
        // every admin change is application/json, even a body-less one (the sandbox's admin/guard.ts)
        ...((init.method ?? 'GET') === 'GET' ? {} : { headers: { 'content-type': 'application/json' } }),
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      expect(res.status).toBeLessThan(300);
      return res.json();
    }

    async function seed(n: number, amount = '10.00'): Promise<string[]> {
      const nos = Array.from({ length: n }, () => tradeNo());
      await h.seed(nos.map((tradeNo) => ({ tradeNo, amount })));
      return nos;
    }

    async function submitNopwd(nos: string[]): Promise<string> {
      const res = await h.server.services.refunds.createBatches(
        nos.map((tradeNo) => ({ tradeNo, amountFen: 300, reason: '航班取消' })),
        { mode: 'nopwd', actor: 'test' },
      );
      expect(res.issues).toEqual([]);
      const batchNo = res.batches[0]!.batchNo;
      await h.server.services.submission.idle();
      await h.server.services.submission.tick();
      return batchNo;
    }

    async function sandboxNotifications(batchNo: string) {
      const r = (await admin(`/notifications?batchNo=${batchNo}&kind=batch_refund_notify`)) as {
        notifications: Array<{ id: number; status: string; attempts: number }>;
      };
      return r.notifications;
    }

    it('recovers a batch whose notifications were dropped, applied once even when the notification comes later', async () => {
      const nos = await seed(3);
      await admin('/faults', { method: 'PUT', body: { notify: { drop: 1000 } } });
      const batchNo = await submitNopwd(nos);
      expect((await h.server.services.refunds.getBatch(batchNo))!.state).toBe('accepted');
      // The sandbox processed the batch and its sends are being dropped.
      const [note] = await waitFor('a dropped send', async () => {
        const l = await sandboxNotifications(batchNo);
        return l.length > 0 && l[0]!.attempts >= 2 ? l : null;
      });
      expect((await h.server.services.refunds.getBatch(batchNo))!.times.appliedAt).toBeNull();

      // Too young for the default threshold: nothing asked.
      expect((await h.server.services.reconcile.reconcile({ olderThanMs: 2 * HOUR })).items).toEqual([]);

      h.offsetMs = 3 * HOUR;
      const report = await h.server.services.reconcile.reconcile({ olderThanMs: 2 * HOUR, actor: 'cli' });
      expect(report.items).toHaveLength(1);
      expect(report.items[0]).toMatchObject({
        batchNo,
        stateBefore: 'accepted',
        stateAfter: 'finished',
        outcome: 'applied',
        successNum: 3,
        needsOperator: false,
      });
      const b = (await h.server.services.refunds.getBatch(batchNo))!;
      expect(b.state).toBe('finished');
      expect(b.records.map((r) => r.resultCode)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
      expect(b.records[0]!.resultText).toBe(`${nos[0]}^3.00^SUCCESS`);
      expect(b.notifications.map((n) => [n.kind, n.verdict, n.reasonCode])).toEqual([
        ['refund_fastpay_query', 'accepted', 'RECONCILED_BY_QUERY'],
      ]);
      for (const no of nos) {
        expect(await h.server.services.trades.get(no)).toMatchObject({
          refundedFen: 300,
          refundCount: 1,
          openBatchNo: null,
        });
      }
      // The partner's queue is free again.
      expect((await h.server.services.submission.inFlight()).batchNo).toBeNull();

      // The notification finally gets through: recorded as a duplicate, answered success, nothing applied twice.
      await admin('/faults', { method: 'DELETE' });
      await admin(`/notifications/${note!.id}/redeliver`, { method: 'POST' });
      await waitFor('the notification acknowledged', async () => {
        const r = (await admin(`/notifications/${note!.id}`)) as { status: string };
        return r.status === 'delivered';
      });
      const log = await h.server.services.notifications.list({ batchNo });
      // (A scheduled retry may get through too once the faults are lifted: every delivery is a duplicate.)
      const kinds = log.items.map((n) => `${n.kind}:${n.verdict}`);
      expect(kinds.filter((k) => k.endsWith(':accepted'))).toEqual(['refund_fastpay_query:accepted']);
      expect(kinds).toContain('batch_refund_notify:duplicate');
      expect(kinds.filter((k) => !k.endsWith(':accepted'))).toEqual(
        kinds.filter((k) => k === 'batch_refund_notify:duplicate'),
      );
      for (const no of nos) {
        expect(await h.server.services.trades.get(no)).toMatchObject({ refundedFen: 300, refundCount: 1 });
      }
      // Asking again changes nothing either.
      expect((await h.server.services.reconcile.reconcile({ olderThanMs: 0 })).items).toEqual([]);
      const again = await h.server.services.reconcile.reconcile({ olderThanMs: 0, batchNo });
      expect(again.items[0]).toMatchObject({ outcome: 'not_open', attemptId: null });
      expect((await h.server.services.reconcile.attempts(batchNo)).map((a) => a.outcome)).toEqual([
        'applied',
      ]);
    });

    it('two concurrent runs and a notification: the batch is applied exactly once', async () => {
      const nos = await seed(2);
      await admin('/faults', { method: 'PUT', body: { notify: { drop: 1000 } } });
      const batchNo = await submitNopwd(nos);
      const [note] = await waitFor('a dropped send', async () => {
        const l = await sandboxNotifications(batchNo);
        return l.length > 0 && l[0]!.attempts >= 1 ? l : null;
      });
      await admin('/faults', { method: 'DELETE' });
      const [a, b] = await Promise.all([
        h.server.services.reconcile.reconcile({ olderThanMs: 0, batchNo }),
        h.server.services.reconcile.reconcile({ olderThanMs: 0, batchNo }),
        admin(`/notifications/${note!.id}/redeliver`, { method: 'POST' }),
      ]);
      const outcomes = [a.items[0]!.outcome, b.items[0]!.outcome];
      expect(outcomes.every((o) => o === 'applied' || o === 'already_applied' || o === 'not_open')).toBe(
        true,
      );
      const log = await h.server.services.notifications.list({ batchNo });
      expect(log.items.filter((n) => n.verdict === 'accepted')).toHaveLength(1);
      for (const no of nos) {
        expect(await h.server.services.trades.get(no)).toMatchObject({ refundedFen: 300, refundCount: 1 });
      }
    });

    it('settles an outcome-unknown batch (SYSTEM_ERROR after accepting) from the query', async () => {
      const nos = await seed(2);
      await admin('/faults', { method: 'PUT', body: { systemErrorAfterAccept: 1, notify: { drop: 1000 } } });
      const batchNo = await submitNopwd(nos);
      expect((await h.server.services.refunds.getBatch(batchNo))!.state).toBe('needs_attention');
      await waitFor('processed', async () => (await sandboxNotifications(batchNo)).length > 0);
      const report = await h.server.services.reconcile.reconcile({ olderThanMs: 0 });
      expect(report.items[0]).toMatchObject({ batchNo, stateBefore: 'needs_attention', outcome: 'applied' });
      expect((await h.server.services.refunds.getBatch(batchNo))!.state).toBe('finished');
      expect(await h.server.services.trades.get(nos[0]!)).toMatchObject({ refundedFen: 300, refundCount: 1 });
    });

    it('REFUND_NOT_EXIST: pending before 24 hours, resubmit_manually with the seeds’ guidance after', async () => {
      const nos = await seed(2);
      // Accepted but never processed: the query answers REFUND_NOT_EXIST.
      await admin('/faults', { method: 'PUT', body: { pauseProcessing: true } });
      const batchNo = await submitNopwd(nos);
      expect((await h.server.services.refunds.getBatch(batchNo))!.state).toBe('accepted');

      h.offsetMs = 3 * HOUR;
      const early = await h.server.services.reconcile.reconcile({ olderThanMs: 2 * HOUR });
      expect(early.items[0]).toMatchObject({
        batchNo,
        outcome: 'pending',
        code: 'REFUND_NOT_EXIST',
        stateAfter: 'accepted',
        needsOperator: false,
      });

      h.offsetMs = 25 * HOUR;
      const late = await h.server.services.reconcile.reconcile({ olderThanMs: 2 * HOUR });
      expect(late.items[0]).toMatchObject({
        batchNo,
        outcome: 'resubmit_manually',
        code: 'REFUND_NOT_EXIST',
        stateAfter: 'resubmit_manually',
        needsOperator: true,
      });
      expect(late.needsOperator).toBe(1);
      expect(late.items[0]!.message).toContain(RESUBMIT_GUIDANCE.zh);
      const b = (await h.server.services.refunds.getBatch(batchNo))!;
      expect(b.state).toBe('resubmit_manually');
      expect(b.gatewayMessage).toContain('24 小时');
      expect(b.events.at(-1)).toMatchObject({ kind: 'reconcile', state: 'resubmit_manually' });
      // Its trades are free for a new batch; the queue is free.
      for (const no of nos) expect((await h.server.services.trades.get(no))!.openBatchNo).toBeNull();
      expect((await h.server.services.submission.inFlight()).batchNo).toBeNull();
      const attempts = await h.server.services.reconcile.attempts(batchNo);
      expect(attempts.map((a) => a.outcome)).toEqual(['resubmit_manually', 'pending']);
      expect(attempts[0]).toMatchObject({ code: 'REFUND_NOT_EXIST', stateBefore: 'accepted' });
      expect(attempts[0]!.reply).toContain('REFUND_NOT_EXIST');
      // It is no longer a candidate.
      expect((await h.server.services.reconcile.reconcile({ olderThanMs: 0 })).items).toEqual([]);
      await admin('/faults', { method: 'DELETE' });
    });

    it('a pwd batch never confirmed is unknown to the gateway: said so; outcome unknown left to the operator', async () => {
      const nos = await seed(2);
      const res = await h.server.services.refunds.createBatches(
        [{ tradeNo: nos[0]!, amountFen: 100, reason: '退货' }],
        { mode: 'pwd', actor: 'operator:alice' },
      );
      const pwd = res.batches[0]!.batchNo;
      await h.server.services.submission.preparePwd(pwd, 'operator:alice');
      const r = await h.server.services.reconcile.reconcile({ olderThanMs: 0 });
      expect(r.items[0]).toMatchObject({ batchNo: pwd, outcome: 'not_at_gateway', needsOperator: true });
      expect(r.items[0]!.message).toMatch(/never accepted.*password page/);
      expect((await h.server.services.refunds.getBatch(pwd))!.state).toBe('submitted');
      await h.server.services.refunds.resolve(pwd, 'resubmit_manually', 'operator:alice');

      // SYSTEM_ERROR before anything was processed (the sandbox paused): outcome unknown stays with the operator.
      await admin('/faults', { method: 'PUT', body: { systemErrorAfterAccept: 1, pauseProcessing: true } });
      const nb = await submitNopwd([nos[1]!]);
      expect((await h.server.services.refunds.getBatch(nb))!.state).toBe('needs_attention');
      h.offsetMs = 30 * HOUR;
      const u = await h.server.services.reconcile.reconcile({ olderThanMs: 0, batchNo: nb });
      expect(u.items[0]).toMatchObject({
        outcome: 'outcome_unknown',
        stateAfter: 'needs_attention',
        needsOperator: true,
      });
      expect((await h.server.services.refunds.getBatch(nb))!.state).toBe('needs_attention');
      await admin('/faults', { method: 'DELETE' });
    });
  },
);

describe('the timer and the console', () => {
  let stub: StubGateway;
  beforeAll(async () => {
    stub = await startStubGateway();
  });
  afterAll(async () => {
    await stub.close();
  });

  it('the batch page shows a reconcile panel; "reconcile now" needs the CSRF token and records an attempt', async () => {
    const s = await startConsoleServer({ gateway: stub.gateway });
    try {
      const no = tradeNo();
      await s.server.services.trades.register([{ tradeNo: no, amountFen: 1000 }], 'test');
      const res = await s.server.services.refunds.createBatches(
        [{ tradeNo: no, amountFen: 100, reason: 'r' }],
        {
          mode: 'nopwd',
          actor: 'test',
        },
      );
      const bn = res.batches[0]!.batchNo;
      await s.server.services.submission.idle();
      await s.server.services.submission.tick();
      const b = new ConsoleClient(s.app);
      await b.login();
      const page = await b.get(`/batches/${bn}?lang=en`);
      expect(page.html).toContain('id="reconcile"');
      expect(page.html).toContain('Reconcile now');
      expect(page.html).toContain('Not queried yet.');
      const denied = await b.post(`/batches/${bn}/reconcile`, {}, { csrf: 'wrong' });
      expect(denied.status).toBe(403);
      expect(await s.server.services.reconcile.attempts(bn)).toEqual([]);
      const ok = await b.post(`/batches/${bn}/reconcile`);
      expect(ok.status).toBe(303);
      const after = await b.get(ok.location!);
      // The stub gateway does not know refund_fastpay_query (HTTP 404): recorded as unavailable.
      expect(after.html).toContain('data-outcome="unavailable"');
      expect(after.html).toContain('Gateway unreachable');
      const attempts = await s.server.services.reconcile.attempts(bn);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]).toMatchObject({ outcome: 'unavailable', actor: 'operator:admin' });
      expect((await b.get('/audit')).html).toContain('batch.reconcile');
    } finally {
      await s.cleanup();
    }
  });

  it('runs on the server’s timer (ALIREFUND_RECONCILE_INTERVAL), paced by ALIREFUND_NEXT_BATCH_WAIT', async () => {
    const database = await openTestDatabase<ServerDB>('sqlite');
    let offset = 0;
    const server = await createServer({
      settings: makeSettings({
        alipay: makeConfig(stub.gateway),
        publicUrl: 'http://127.0.0.1:1',
        reconcileIntervalMs: 50,
        nextBatchWaitMs: 60_000,
      }),
      database,
      console: false,
      clock: () => Date.now() + offset,
    });
    try {
      const no = tradeNo();
      await server.services.trades.register([{ tradeNo: no, amountFen: 1000 }], 'test');
      const res = await server.services.refunds.createBatches(
        [{ tradeNo: no, amountFen: 100, reason: 'r' }],
        {
          mode: 'nopwd',
          actor: 'test',
        },
      );
      const bn = res.batches[0]!.batchNo;
      await waitFor(
        'accepted',
        async () => (await server.services.refunds.getBatch(bn))?.state === 'accepted',
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(await server.services.reconcile.attempts(bn)).toEqual([]);
      offset = 2 * 60_000;
      const first = await waitFor('a timer attempt', async () => {
        const a = await server.services.reconcile.attempts(bn);
        return a.length > 0 ? a : null;
      });
      expect(first[0]).toMatchObject({ actor: 'system', outcome: 'unavailable' });
      // Paced: not asked again within ALIREFUND_NEXT_BATCH_WAIT.
      await new Promise((r) => setTimeout(r, 300));
      expect(await server.services.reconcile.attempts(bn)).toHaveLength(1);
    } finally {
      await server.close();
      await database.cleanup();
    }
  });
});
