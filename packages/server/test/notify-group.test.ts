/**
 * Group commit of applies (SQLite, services/notify-apply.ts): many batches' notifications arriving together are
 * committed in shared transactions, each still applied exactly once, and every `success` is answered only once
 * its batch's apply is committed (a fresh connection to the file sees it).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@alirefund/store';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { ServerDB } from '../src/db.js';
import { groupSize } from '../src/services/notify-apply.js';
import { batchNotification, draftBatch, listen, useStubGateway, useTestServer } from './helpers.js';

const stub = useStubGateway();

describe('group commit of notification applies (SQLite)', () => {
  const t = useTestServer('sqlite', stub);

  it('applies 24 batches × 3 concurrent copies exactly once, each success after its commit', async () => {
    const batches = [];
    for (let i = 0; i < 24; i++) batches.push(await draftBatch(t.server, 3, 300, 'nopwd'));
    const file = (await sql<{ file: string }>`pragma database_list`.execute(t.database.db)).rows[0]!.file;
    const other = await openDatabase<ServerDB>(file, { backgroundCheckpoints: false });
    const http = await listen(t.app);
    try {
      const deliveries = batches.flatMap(({ batchNo, trades }) => {
        stub.valid.add(`nid-${batchNo}`);
        const n = batchNotification({
          batchNo,
          notifyId: `nid-${batchNo}`,
          results: trades.map((tradeNo) => ({ tradeNo, amount: '3.00' })),
        });
        return [0, 1, 2].map(() => ({ batchNo, body: n.body }));
      });
      const seenCommitted = await Promise.all(
        deliveries.map(async ({ batchNo, body }) => {
          const res = await fetch(`${http.url}/alipay/notify`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          });
          const text = await res.text();
          // Read through another connection: only committed data is visible there.
          const row = await other.db
            .selectFrom('srv_batches')
            .select(['applied_at'])
            .where('batch_no', '=', batchNo)
            .executeTakeFirst();
          return { text, committed: row?.applied_at != null };
        }),
      );
      expect(seenCommitted.every((a) => a.text === 'success' && a.committed)).toBe(true);
      const verdicts = await t.database.db
        .selectFrom('srv_notifications')
        .select(['verdict', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('verdict')
        .execute();
      expect(Object.fromEntries(verdicts.map((v) => [v.verdict, Number(v.n)]))).toEqual({
        accepted: 24,
        duplicate: 48,
      });
      for (const { trades } of batches) {
        for (const tradeNo of trades) {
          const v = await t.server.services.trades.get(tradeNo);
          expect([v!.refundedFen, v!.refundCount]).toEqual([300, 1]);
        }
      }
    } finally {
      await http.close();
      await other.close();
    }
  });

  it('rolls back only the apply that fails inside a group; its redelivery applies it later', async () => {
    const batches = [];
    for (let i = 0; i < 8; i++) batches.push(await draftBatch(t.server, 2, 200, 'nopwd'));
    const doomed = batches[3]!.batchNo;
    // Fails the doomed batch's records update, after its claim and its notification row were written.
    await sql
      .raw(
        `create trigger fail_one before update on srv_batch_records when new.batch_no = '${doomed}' ` +
          "begin select raise(abort, 'injected failure'); end",
      )
      .execute(t.database.db);
    const http = await listen(t.app);
    const deliver = (body: string) =>
      fetch(`${http.url}/alipay/notify`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }).then(async (r) => ({ status: r.status, text: await r.text() }));
    try {
      const bodies = new Map(
        batches.map(({ batchNo, trades }) => {
          stub.valid.add(`nid-${batchNo}`);
          const n = batchNotification({
            batchNo,
            notifyId: `nid-${batchNo}`,
            results: trades.map((tradeNo) => ({ tradeNo, amount: '2.00' })),
          });
          return [batchNo, n.body] as const;
        }),
      );
      const answers = await Promise.all(batches.map(({ batchNo }) => deliver(bodies.get(batchNo)!)));
      for (const [i, { batchNo }] of batches.entries()) {
        expect(answers[i]!.text, batchNo).toBe(batchNo === doomed ? 'fail' : 'success');
      }
      const applied = async (batchNo: string) =>
        (
          await t.database.db
            .selectFrom('srv_batches')
            .select(['applied_at'])
            .where('batch_no', '=', batchNo)
            .executeTakeFirstOrThrow()
        ).applied_at !== null;
      expect(await applied(doomed)).toBe(false);
      const accepted = await t.database.db
        .selectFrom('srv_notifications')
        .select('batch_no')
        .where('verdict', '=', 'accepted')
        .execute();
      expect(accepted.map((a) => a.batch_no).sort()).toEqual(
        batches
          .map((b) => b.batchNo)
          .filter((b) => b !== doomed)
          .sort(),
      );
      for (const tradeNo of batches[3]!.trades) {
        expect((await t.server.services.trades.get(tradeNo))!.refundedFen).toBe(0);
      }
      for (const tradeNo of batches[2]!.trades) {
        expect((await t.server.services.trades.get(tradeNo))!.refundedFen).toBe(200);
      }

      await sql`drop trigger fail_one`.execute(t.database.db);
      expect((await deliver(bodies.get(doomed)!)).text).toBe('success');
      expect(await applied(doomed)).toBe(true);
      for (const tradeNo of batches[3]!.trades) {
        expect((await t.server.services.trades.get(tradeNo))!.refundedFen).toBe(200);
      }
    } finally {
      await http.close();
    }
  });

  it('waits out another process holding the write lock (SQLITE_BUSY, tried again), and fails the delivery when it outlasts every try', async () => {
    const file = (await sql<{ file: string }>`pragma database_list`.execute(t.database.db)).rows[0]!.file;
    // Each try of the group's BEGIN IMMEDIATE waits this long for the lock before SQLITE_BUSY.
    await sql`pragma busy_timeout = 400`.execute(t.database.db);
    const http = await listen(t.app);
    /** Another process takes the write lock on the file, says so, and keeps it `ms`. */
    const holdLock = async (ms: number) => {
      const script =
        "const S = require('better-sqlite3'); const db = new S(process.argv[1]); db.pragma('busy_timeout = 5000');" +
        "db.exec('begin immediate'); require('fs').writeSync(1, 'locked\\n');" +
        'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[2]));' +
        "db.exec('commit'); db.close();";
      const child = spawn(process.execPath, ['-e', script, file, String(ms)], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('locked')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
      });
      // Wrapped: an async function returning the promise itself would wait for it.
      return { exited };
    };
    const deliver = (body: string) =>
      fetch(`${http.url}/alipay/notify`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }).then((r) => r.text());
    const notification = async () => {
      const { batchNo, trades } = await draftBatch(t.server, 2, 100, 'nopwd');
      stub.valid.add(`nid-${batchNo}`);
      const n = batchNotification({
        batchNo,
        notifyId: `nid-${batchNo}`,
        results: trades.map((tradeNo) => ({ tradeNo, amount: '1.00' })),
      });
      return { batchNo, body: n.body };
    };
    const appliedAt = async (batchNo: string) =>
      (
        await t.database.db
          .selectFrom('srv_batches')
          .select('applied_at')
          .where('batch_no', '=', batchNo)
          .executeTakeFirstOrThrow()
      ).applied_at;
    try {
      // Held 600 ms: the first try gives up after 400 ms, the second gets the lock.
      const first = await notification();
      const firstLock = await holdLock(600);
      expect(await deliver(first.body)).toBe('success');
      expect(await appliedAt(first.batchNo)).not.toBeNull();
      await firstLock.exited;

      // Held 4 s: three tries of 400 ms each give up; nothing is applied and the delivery is answered fail.
      const second = await notification();
      const secondLock = await holdLock(4000);
      expect(await deliver(second.body)).toBe('fail');
      expect(await appliedAt(second.batchNo)).toBeNull();
      await secondLock.exited;
      // Alipay's next try then applies it.
      expect(await deliver(second.body)).toBe('success');
      expect(await appliedAt(second.batchNo)).not.toBeNull();
    } finally {
      await http.close();
      await sql`pragma busy_timeout = 5000`.execute(t.database.db);
    }
  }, 30_000);
});

describe('groupSize (how many queued applies one SQLite group takes)', () => {
  it('takes up to 32 applies and 2,000 result records, and always at least one', () => {
    expect(groupSize([])).toBe(0);
    expect(groupSize(Array(40).fill(50))).toBe(32);
    expect(groupSize(Array(10).fill(1000))).toBe(2);
    expect(groupSize([1500, 600, 10])).toBe(1);
    expect(groupSize([5000, 1])).toBe(1);
    expect(groupSize([1000, 1000, 1])).toBe(2);
    expect(groupSize([3, 4, 5])).toBe(3);
  });
});
