/**
 * What unauthenticated callers may store (issue 11): a rejected delivery keeps a 4 KB prefix of its body, the
 * body's length and SHA-256; bodies over 256 KB are refused with 413 before they are read; rejections from one
 * address beyond its budget are answered but not stored, while a genuine notification from the same address is
 * still applied. SQLite: the database and WAL files are measured on disk.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { migrate } from '@alirefund/store';
import { openTestDatabase } from '@alirefund/store/testing';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { ServerDB } from '../src/db.js';
import { MAX_NOTIFY_BODY } from '../src/http/notify.js';
import { MIGRATION_NAMESPACE, serverMigrations } from '../src/schema.js';
import { batchNotification, draftBatch, listen, useStubGateway, useTestServer } from './helpers.js';

const stub = useStubGateway();

describe('what unauthenticated callers may store', () => {
  const t = useTestServer('sqlite', stub);

  async function fileBytes(): Promise<() => number> {
    const rows = (await sql<{ file: string }>`pragma database_list`.execute(t.database.db)).rows;
    const file = rows[0]!.file;
    return () => statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
  }

  /** A forged batch_refund_notify for `batchNo` (wrong key), padded to exactly `size` bytes. */
  function forged(batchNo: string, trade: string, i: number, size: number): string {
    const body = batchNotification({
      batchNo,
      notifyId: `forged-${i}`,
      results: [{ tradeNo: trade, amount: '3.00' }],
      key: 'not-the-key-0123456789abcdefghij',
    }).body;
    const pad = `&memo=${String(i).padStart(6, '0')}`;
    return body + pad + 'x'.repeat(size - body.length - pad.length);
  }

  it('100 forged 256 KB bodies grow the database by < 2 MB; a genuine notification sent during the flood is applied', async () => {
    const { batchNo, trades } = await draftBatch(t.server, 2, 300, 'nopwd');
    const http = await listen(t.app, t.server.nodeRoute);
    try {
      const size = await fileBytes();
      const before = size();
      const post = async (body: string) => {
        const res = await fetch(`${http.url}/alipay/notify`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        return { status: res.status, text: await res.text() };
      };
      const genuine = batchNotification({
        batchNo,
        notifyId: `nid-${batchNo}`,
        results: trades.map((tradeNo) => ({ tradeNo, amount: '3.00' })),
      });
      stub.valid.add(`nid-${batchNo}`);
      const answers: Array<{ status: number; text: string }> = [];
      const sentBodies: string[] = [];
      let genuineAnswer: { status: number; text: string } | undefined;
      for (let wave = 0; wave < 10; wave++) {
        const bodies = Array.from({ length: 10 }, (_, j) =>
          forged(batchNo, trades[0]!, wave * 10 + j, MAX_NOTIFY_BODY),
        );
        sentBodies.push(...bodies);
        const sent = bodies.map(post);
        // Halfway through the flood, from the same address, while forgeries are in flight.
        const mine = wave === 5 ? post(genuine.body) : undefined;
        answers.push(...(await Promise.all(sent)));
        if (mine) genuineAnswer = await mine;
      }
      expect(genuineAnswer).toEqual({ status: 200, text: 'success' });
      expect(answers).toHaveLength(100);
      expect(answers.every((a) => a.text === 'fail' && (a.status === 200 || a.status === 429))).toBe(true);

      const grew = size() - before;
      expect(grew, `the database and WAL grew by ${grew} bytes`).toBeLessThan(2 * 1024 * 1024);

      const batch = await t.server.services.refunds.getBatch(batchNo);
      expect(batch).toMatchObject({ state: 'finished', successNum: 2, successFen: 600 });
      for (const tradeNo of trades) {
        expect((await t.server.services.trades.get(tradeNo))!.refundedFen).toBe(300);
      }

      const rejected = await t.server.services.notifications.list({ verdict: 'rejected', pageSize: 200 });
      expect(rejected.total).toBeGreaterThan(0);
      expect(rejected.total).toBeLessThanOrEqual(100);
      // Answered but not stored beyond the address's budget, and said so on the next stored row or the log.
      expect(answers.filter((a) => a.status === 429).length).toBe(100 - rejected.total);
      const one = await t.server.services.notifications.get(rejected.items[0]!.id);
      expect(one!.rawBody.length).toBe(4096);
      expect(one!.bodyLength).toBe(MAX_NOTIFY_BODY);
      const whole = sentBodies.find((body) => body.startsWith(one!.rawBody))!;
      expect(one!.bodySha256).toBe(createHash('sha256').update(whole, 'latin1').digest('hex'));
      expect(one!.rawBody).toBe(whole.slice(0, 4096));
    } finally {
      await http.close();
    }
  });

  it('refuses a body over 256 KB with a clear 413, stores nothing, and still takes the next delivery', async () => {
    const { batchNo, trades } = await draftBatch(t.server, 1, 300, 'nopwd');
    const http = await listen(t.app, t.server.nodeRoute);
    try {
      const body = forged(batchNo, trades[0]!, 1, MAX_NOTIFY_BODY + 1);
      const res = await fetch(`${http.url}/alipay/notify`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(413);
      expect(await res.text()).toBe('fail');
      expect(res.headers.get('x-alirefund-reason')).toBe(
        `notification body larger than ${MAX_NOTIFY_BODY} bytes`,
      );
      expect((await t.server.services.notifications.list({})).total).toBe(0);

      const genuine = batchNotification({
        batchNo,
        notifyId: `nid-${batchNo}`,
        results: [{ tradeNo: trades[0]!, amount: '3.00' }],
      });
      stub.valid.add(`nid-${batchNo}`);
      const ok = await fetch(`${http.url}/alipay/notify`, {
        method: 'POST',
        body: genuine.body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(await ok.text()).toBe('success');
    } finally {
      await http.close();
    }
  });

  it('migration 0006 cuts rejected bodies already stored to 4 KB, with their length and SHA-256', async () => {
    const database = await openTestDatabase<ServerDB>('sqlite');
    try {
      const before = serverMigrations.filter((m) => m.name !== '0006_rejected_body_digest');
      await migrate(database, MIGRATION_NAMESPACE, before);
      const big = 'a=1&'.repeat(5000);
      const row = {
        kind: 'batch_refund_notify',
        headers_json: '{}',
        received_at: '2026-01-01T00:00:00.000Z',
        response: 'fail',
      };
      await sql`insert into srv_notifications (kind, verdict, raw_body, headers_json, received_at, response)
        values (${row.kind}, 'rejected', ${big}, ${row.headers_json}, ${row.received_at}, ${row.response}),
               (${row.kind}, 'duplicate', ${big}, ${row.headers_json}, ${row.received_at}, 'success')`.execute(
        database.db,
      );
      await migrate(database, MIGRATION_NAMESPACE, serverMigrations);
      const rows = await database.db
        .selectFrom('srv_notifications')
        .select(['verdict', 'raw_body', 'body_length', 'body_sha256'])
        .orderBy('id')
        .execute();
      expect(rows[0]).toEqual({
        verdict: 'rejected',
        raw_body: big.slice(0, 4096),
        body_length: big.length,
        body_sha256: createHash('sha256').update(big, 'latin1').digest('hex'),
      });
      expect(rows[1]).toEqual({ verdict: 'duplicate', raw_body: big, body_length: null, body_sha256: null });
    } finally {
      await database.cleanup();
    }
  });
});
