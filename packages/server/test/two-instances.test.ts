/**
 * Two server instances on one PostgreSQL database (two pools, two HTTP listeners) receive the same notification
 * at the same moment over real sockets: it is applied once.
 */
import { openDatabase } from '@alirefund/store';
import { dialectsUnderTest, openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, makeSettings, type AlirefundServer, type ServerDB } from '../src/index.js';
import {
  API_TOKEN,
  batchNotification,
  listen,
  makeConfig,
  type StubGateway,
  startStubGateway,
  tradeNo,
} from './helpers.js';

const pg = dialectsUnderTest().includes('postgres');

describe.runIf(pg)('two server instances on one PostgreSQL', () => {
  let stub: StubGateway;
  let shared: TestDatabase<ServerDB>;
  const instances: Array<{ server: AlirefundServer; url: string; close(): Promise<void> }> = [];

  beforeAll(async () => {
    stub = await startStubGateway();
    shared = await openTestDatabase<ServerDB>('postgres');
    const config = makeConfig(stub.gateway);
    for (let i = 0; i < 2; i++) {
      // Each instance has its own pool, as two processes would.
      const database = i === 0 ? shared : await openDatabase<ServerDB>(shared.url);
      const server = await createServer({
        settings: makeSettings({ alipay: config, publicUrl: 'http://127.0.0.1:1', apiToken: API_TOKEN }),
        database,
        background: false,
        console: false,
      });
      const http = await listen(server.app);
      instances.push({
        server,
        url: http.url,
        async close() {
          await http.close();
          await server.close();
          if (i !== 0) await database.close();
        },
      });
    }
  });

  afterAll(async () => {
    for (const i of instances) await i.close();
    await shared?.cleanup();
    await stub?.close();
  });

  it('applies each of 10 notifications once when 16 copies race across both instances', async () => {
    const services = instances[0]!.server.services;
    const batches: Array<{ batchNo: string; trades: string[] }> = [];
    for (let b = 0; b < 10; b++) {
      const trades = Array.from({ length: 5 }, () => tradeNo());
      await services.trades.register(
        trades.map((no) => ({ tradeNo: no, amountFen: 1000 })),
        'test',
      );
      const res = await services.refunds.createBatches(
        trades.map((no) => ({ tradeNo: no, amountFen: 400, reason: 'race' })),
        { mode: 'nopwd', actor: 'test', queue: false },
      );
      expect(res.issues).toEqual([]);
      batches.push({ batchNo: res.batches[0]!.batchNo, trades });
    }
    const sends: Promise<string>[] = [];
    for (const b of batches) {
      const notifyId = `race-${b.batchNo}`;
      stub.valid.add(notifyId);
      const { body } = batchNotification({
        batchNo: b.batchNo,
        notifyId,
        results: b.trades.map((no) => ({ tradeNo: no, amount: '4.00' })),
      });
      for (let k = 0; k < 16; k++) {
        const target = instances[k % 2]!.url;
        sends.push(
          fetch(`${target}/alipay/notify`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }).then((r) => r.text()),
        );
      }
    }
    const answers = await Promise.all(sends);
    expect(answers.every((a) => a === 'success')).toBe(true);

    for (const b of batches) {
      for (const no of b.trades) {
        const t = await services.trades.get(no);
        expect(t).toMatchObject({
          refundedFen: 400,
          refundCount: 1,
          status: 'partially_refunded',
          openBatchNo: null,
        });
      }
      const log = await services.notifications.list({ batchNo: b.batchNo, pageSize: 100 });
      expect(log.items.filter((i) => i.verdict === 'accepted')).toHaveLength(1);
      expect(log.items.filter((i) => i.verdict === 'duplicate')).toHaveLength(15);
    }
    // Both instances took part.
    const hosts = await shared.db
      .selectFrom('srv_notifications')
      .select((eb) => eb.fn.count<number>('id').as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(hosts.n)).toBe(160);
  });

  it('claims the partner queue from only one instance at a time', async () => {
    const services = instances.map((i) => i.server.services);
    const trades = Array.from({ length: 6 }, () => tradeNo());
    await services[0]!.trades.register(
      trades.map((no) => ({ tradeNo: no, amountFen: 1000 })),
      'test',
    );
    const res = await services[0]!.refunds.createBatches(
      trades.map((no) => ({ tradeNo: no, amountFen: 100, reason: 'q' })),
      { mode: 'nopwd', actor: 'test', queue: true, batchSize: 2 },
    );
    expect(res.batches).toHaveLength(3);
    const before = stub.nopwdBatches.length;
    await Promise.all([
      services[0]!.submission.tick(),
      services[1]!.submission.tick(),
      services[0]!.submission.tick(),
    ]);
    await Promise.all(services.map((s) => s.submission.idle()));
    expect(stub.nopwdBatches.length - before).toBe(1);
  });
});
