/**
 * The bulk run's draft → queued step (createBulkService().queueDraft): the same transition, event and audit entry
 * as SubmissionService.enqueue, without reading the batch back; false for a batch that is not a nopwd draft.
 */
import { dialectsUnderTest } from '@alirefund/store/testing';
import { describe, expect, it } from 'vitest';
import { createBulkService } from '../src/services/bulk.js';
import { tradeNo, useStubGateway, useTestServer } from './helpers.js';

const stub = useStubGateway();

describe.each(dialectsUnderTest())('bulk queueDraft on %s', (dialect) => {
  const t = useTestServer(dialect, stub, { batchSize: 50 });

  async function draft(mode: 'nopwd' | 'pwd'): Promise<string> {
    const no = tradeNo();
    expect(
      (await t.server.services.trades.register([{ tradeNo: no, amountFen: 1000 }], 'test')).issues,
    ).toEqual([]);
    const res = await t.server.services.refunds.createBatches(
      [{ tradeNo: no, amountFen: 100, reason: '退款' }],
      {
        mode,
        actor: 'cli:refund:x',
        queue: false,
      },
    );
    expect(res.issues).toEqual([]);
    return res.batches[0]!.batchNo;
  }

  it('queues a nopwd draft with the event and audit entry enqueue writes; refuses anything else', async () => {
    const bulk = createBulkService({
      database: t.database,
      clock: Date.now,
      audit: t.server.services.audit,
    });
    const batchNo = await draft('nopwd');
    expect(await bulk.queueDraft(batchNo, 'cli:refund:x')).toBe(true);
    const b = await t.server.services.refunds.getBatch(batchNo);
    expect(b?.state).toBe('queued');
    expect(b?.times.queuedAt).not.toBeNull();
    expect(b?.events.map((e) => [e.kind, e.state, e.message, e.actor])).toContainEqual([
      'queued',
      'queued',
      'queued for submission',
      'cli:refund:x',
    ]);
    const audit = await t.server.services.audit.list({ action: 'batch.queue', target: batchNo });
    expect(audit.items.map((a) => a.actor)).toEqual(['cli:refund:x']);
    // Already queued; a pwd draft: not queued (enqueue says why).
    expect(await bulk.queueDraft(batchNo, 'cli:refund:x')).toBe(false);
    const pwd = await draft('pwd');
    expect(await bulk.queueDraft(pwd, 'cli:refund:x')).toBe(false);
    expect((await t.server.services.refunds.getBatch(pwd))?.state).toBe('draft');
  });
});
