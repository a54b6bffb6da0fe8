/**
 * The two-person rule through the JSON API and the console (in-process; Chromium: e2e-roles-browser.test.ts):
 * a batch above ALIREFUND_APPROVAL_THRESHOLD awaits approval, cannot be queued or submitted, and is approved or
 * rejected (with a reason) only by an approver or admin other than the one who prepared it; a token cannot
 * approve its own batch, nor its maker's. The audit log records who prepared and who decided.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleClient } from './console-helpers.js';
import { tradeNo, useStubGateway } from './helpers.js';
import { PASSWORD, type RolesServer, startRolesServer } from './roles-helpers.js';

const stub = useStubGateway();

describe('two-person rule', () => {
  let s: RolesServer;
  beforeEach(async () => {
    s = await startRolesServer({ approvalThresholdFen: 50_00, gateway: stub.gateway });
  });
  afterEach(async () => {
    await s.cleanup();
  });

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await s.server.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { state?: string } };
  };
  const register = async (...yuan: string[]) => {
    const nos = yuan.map(() => tradeNo());
    const res = await call(
      s.tokens.operator,
      'POST',
      '/api/trades',
      nos.map((n, i) => ({ tradeNo: n, amount: yuan[i] })),
    );
    expect(res.status).toBe(201);
    return nos;
  };
  const refund = async (token: string, trade: string, amount: string) => {
    const res = await call(token, 'POST', '/api/refunds', {
      mode: 'nopwd',
      items: [{ tradeNo: trade, amount, reason: 'two-person test' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return (res.body['batches'] as { batchNo: string; state: string; approval: unknown }[])[0]!;
  };

  it('API: above the threshold a batch awaits approval; its preparer cannot approve; another approver can', async () => {
    const [big, small] = await register('100.00', '10.00');
    const batch = await refund(s.tokens.operator, big!, '60.00');
    expect(batch.state).toBe('awaiting_approval');
    expect(batch.approval).toEqual({ status: 'pending', by: null, at: null, reason: null });
    // Below the threshold: queued at once, as before.
    expect((await refund(s.tokens.operator, small!, '10.00')).state).not.toBe('awaiting_approval');

    // Queueing it is refused; nothing reaches the gateway.
    const queue = await call(s.tokens.operator, 'POST', `/api/batches/${batch.batchNo}/queue`);
    expect(queue.status).toBe(409);
    expect(queue.body).toMatchObject({ code: 'INVALID_STATE', field: 'approval' });
    expect(String(queue.body['message'])).toMatch(/awaiting approval/);
    await s.server.services.submission.tick();
    expect(stub.nopwdBatches).not.toContain(batch.batchNo);
    expect((await call(s.tokens.viewer, 'GET', '/api/batches?state=awaiting_approval')).body).toMatchObject({
      total: 1,
    });

    // An operator-scoped token may not approve; an admin token that prepared it may not either.
    expect((await call(s.tokens.operator, 'POST', `/api/batches/${batch.batchNo}/approve`)).status).toBe(403);
    const adminsOwn = await refund(s.tokens.admin, (await register('80.00'))[0]!, '70.00');
    const self = await call(s.tokens.admin, 'POST', `/api/batches/${adminsOwn.batchNo}/approve`);
    expect(self.status).toBe(403);
    expect(String(self.body['message'])).toMatch(/two-person rule/);

    // The approver approves; then it can be queued and is sent.
    const ok = await call(s.tokens.approver, 'POST', `/api/batches/${batch.batchNo}/approve`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      state: 'draft',
      approval: { status: 'approved', by: 'api:approver-token' },
    });
    expect((await call(s.tokens.approver, 'POST', `/api/batches/${batch.batchNo}/approve`)).status).toBe(409);
    // Queued now (sent once the small batch, already in flight, has its notification: one batch per partner).
    const queued = await call(s.tokens.operator, 'POST', `/api/batches/${batch.batchNo}/queue`);
    expect(queued.status).toBe(200);
    expect(queued.body.state).toBe('queued');

    const audit = await s.server.services.audit.list({ action: 'batch.approve' });
    expect(
      audit.items.map((e) => [e.actor, e.target, (e.details as { preparedBy: string }).preparedBy]),
    ).toEqual([['api:approver-token', batch.batchNo, 'api:operator-token']]);
  });

  it('API: a rejection needs a reason, cancels the batch and frees its trade', async () => {
    const [trade] = await register('100.00');
    const batch = await refund(s.tokens.operator, trade!, '90.00');
    const noReason = await call(s.tokens.approver, 'POST', `/api/batches/${batch.batchNo}/reject`, {
      reason: ' ',
    });
    expect(noReason.status).toBe(422);
    const res = await call(s.tokens.approver, 'POST', `/api/batches/${batch.batchNo}/reject`, {
      reason: 'amount does not match the ticket',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      state: 'cancelled',
      approval: { status: 'rejected', by: 'api:approver-token', reason: 'amount does not match the ticket' },
    });
    // The trade is free again: a new batch for it can be prepared.
    expect((await refund(s.tokens.operator, trade!, '90.00')).state).toBe('awaiting_approval');
    const audit = await s.server.services.audit.list({ action: 'batch.reject' });
    expect(audit.items[0]?.details).toMatchObject({ reason: 'amount does not match the ticket' });
  });

  it('a token an operator made cannot approve that operator’s batch, nor the reverse', async () => {
    const [a, b] = await register('100.00', '100.00');
    const annas = await s.server.services.tokens.create('anna-erp', 'operator:anna');
    await s.server.services.tokenScopes.set(annas.id, 'approver', 'operator:admin');
    // Anna (approver) prepares nothing herself in the console; her token's batch is hers.
    const viaToken = await s.server.services.refunds.createBatches(
      [{ tradeNo: a!, amountFen: 60_00, reason: 'x' }],
      { mode: 'pwd', actor: 'api:anna-erp', owner: 'operator:anna' },
    );
    const anna = new ConsoleClient(s.server.app);
    await anna.login('anna', PASSWORD);
    await anna.get(`/batches/${viaToken.batches[0]!.batchNo}`);
    expect((await anna.post(`/batches/${viaToken.batches[0]!.batchNo}/approve`)).status).toBe(403);
    // A batch Anna prepared in the console cannot be approved by her token.
    const inConsole = await s.server.services.refunds.createBatches(
      [{ tradeNo: b!, amountFen: 60_00, reason: 'x' }],
      { mode: 'pwd', actor: 'operator:anna' },
    );
    const byToken = await call(annas.token, 'POST', `/api/batches/${inConsole.batches[0]!.batchNo}/approve`);
    expect(byToken.status).toBe(403);
  });

  it('console: the preparer cannot submit or approve; an approver sees it waiting and approves it', async () => {
    const [trade] = await register('100.00');
    const created = await s.server.services.refunds.createBatches(
      [{ tradeNo: trade!, amountFen: 55_00, reason: 'console' }],
      { mode: 'pwd', actor: 'operator:olga' },
    );
    const batchNo = created.batches[0]!.batchNo;
    const olga = new ConsoleClient(s.server.app);
    await olga.login('olga', PASSWORD);
    const page = await olga.get(`/batches/${batchNo}`);
    expect(page.html).toContain('data-state="awaiting_approval"');
    expect(page.html).not.toContain('id="submit-pwd"');
    expect(page.html).not.toContain('id="approve-batch"');
    const submit = await olga.post(`/batches/${batchNo}/submit`);
    expect(submit.status).toBe(409);
    expect(submit.html).toContain('awaiting approval');
    expect((await olga.post(`/batches/${batchNo}/approve`)).status).toBe(403);

    const anna = new ConsoleClient(s.server.app);
    await anna.login('anna', PASSWORD);
    const dash = await anna.get('/dashboard');
    expect(dash.html).toMatch(/id="kpi-approval">1</);
    expect(dash.html).toContain(`data-batch="${batchNo}"`);
    const list = await anna.get('/batches?state=awaiting_approval&lang=en');
    expect(list.html).toContain(`data-batch="${batchNo}"`);
    expect(list.html).toContain('Awaiting approval');
    const mine = await anna.get(`/batches/${batchNo}`);
    expect(mine.html).toContain('id="approve-batch"');
    const ok = await anna.post(`/batches/${batchNo}/approve`);
    expect(ok.location).toBe(`/batches/${batchNo}?msg=approved`);
    const after = await olga.get(`/batches/${batchNo}`);
    expect(after.html).toContain('data-approval="approved"');
    expect(after.html).toContain('id="submit-pwd"');
    const events = (await s.server.services.refunds.getBatch(batchNo))!.events.map((e) => [e.kind, e.actor]);
    expect(events).toEqual([
      ['created', 'operator:olga'],
      ['approved', 'operator:anna'],
    ]);
  });

  it('ALIREFUND_APPROVAL_ALL: every batch waits, whatever its amount', async () => {
    const all = await startRolesServer({ approvalAll: true, gateway: stub.gateway });
    try {
      const t = tradeNo();
      await all.server.services.trades.register([{ tradeNo: t, amountFen: 1_00 }], 'test');
      const res = await all.server.services.refunds.createBatches(
        [{ tradeNo: t, amountFen: 1, reason: 'x' }],
        {
          mode: 'nopwd',
          actor: 'operator:olga',
        },
      );
      expect(res.batches[0]?.state).toBe('awaiting_approval');
    } finally {
      await all.cleanup();
    }
  });
});
