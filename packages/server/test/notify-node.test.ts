/**
 * The node:http door of the notification endpoints (`server.nodeRoute`, what `alirefund serve` listens with)
 * answers exactly as the Hono routes do, and tracks its requests as every other one: request id, access line,
 * latency metric, in-flight count. Every other request falls through to the Hono app.
 */
import { describe, expect, it } from 'vitest';
import { batchNotification, draftBatch, listen, useStubGateway, useTestServer } from './helpers.js';

const stub = useStubGateway();

interface Answer {
  status: number;
  text: string;
  headers: Record<string, string | null>;
}

const SHOWN = ['content-type', 'cache-control', 'x-content-type-options', 'x-alirefund-reason'];

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
  return {
    status: res.status,
    text: await res.text(),
    headers: Object.fromEntries(SHOWN.map((h) => [h, res.headers.get(h)])),
  };
}

describe('the node:http notification route', () => {
  const t = useTestServer('sqlite', stub);

  it('answers genuine, duplicate, forged, unknown-batch and oversize deliveries as the Hono routes do', async () => {
    const viaHono = await listen(t.app);
    const viaNode = await listen(t.app, t.server.nodeRoute);
    try {
      // One batch per door, so that each door sees a first delivery, a duplicate and a forgery of its own.
      const doors = [viaHono, viaNode];
      const answers: Answer[][] = [];
      for (const door of doors) {
        const { batchNo, trades } = await draftBatch(t.server, 2, 300, 'nopwd');
        const genuine = batchNotification({
          batchNo,
          notifyId: `nid-${batchNo}`,
          results: trades.map((tradeNo) => ({ tradeNo, amount: '3.00' })),
        });
        stub.valid.add(`nid-${batchNo}`);
        const forged = batchNotification({
          batchNo,
          notifyId: `forged-${batchNo}`,
          results: trades.map((tradeNo) => ({ tradeNo, amount: '3.00' })),
          key: 'not-the-key-0123456789abcdefghij',
        });
        const unknown = batchNotification({
          batchNo: `${batchNo.slice(0, 8)}999999`,
          notifyId: `nid-unknown-${batchNo}`,
          results: [{ tradeNo: trades[0]!, amount: '3.00' }],
        });
        const url = `${door.url}/alipay/notify`;
        answers.push([
          await post(url, genuine.body),
          await post(url, genuine.body),
          await post(url, forged.body),
          await post(url, unknown.body),
          await post(url, 'a='.padEnd(300 * 1024, 'x')),
          await post(`${door.url}/alipay/trade-notify`, 'notify_type=trade_status_sync'),
        ]);
        expect((await t.server.services.refunds.getBatch(batchNo))!.state).toBe('finished');
      }
      const [hono, node] = answers;
      expect(node).toEqual(hono);
      // And they are what the protocol says: success twice (applied, then a duplicate), fail for the rest.
      expect(node!.map((a) => `${a.status} ${a.text}`)).toEqual([
        '200 success',
        '200 success',
        '200 fail',
        '200 fail',
        '413 fail',
        '200 fail',
      ]);
      expect(node![0]!.headers).toMatchObject({
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
    } finally {
      await viaHono.close();
      await viaNode.close();
    }
  });

  it('keeps a well-formed X-Request-Id, counts the request in the metrics, and hands other requests to Hono', async () => {
    const http = await listen(t.app, t.server.nodeRoute);
    try {
      const res = await fetch(`${http.url}/alipay/notify?x=1`, {
        method: 'POST',
        body: 'notify_type=batch_refund_notify',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'proxy-id-42' },
      });
      expect(await res.text()).toBe('fail');
      expect(res.headers.get('x-request-id')).toBe('proxy-id-42');
      const fresh = await fetch(`${http.url}/alipay/notify`, { method: 'POST', body: 'a=1' });
      await fresh.text();
      expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/);
      expect(t.server.traffic.inFlight).toBe(0);

      const metrics = await t.server.metrics.render();
      expect(metrics).toMatch(
        /alirefund_http_request_duration_seconds_count\{method="POST",route="\/alipay\/notify",status="200"\} 2/,
      );
      // Not ours: a GET of the same path and every other route are Hono's (404 / 200 as before).
      expect((await fetch(`${http.url}/alipay/notify`)).status).toBe(404);
      const health = await fetch(`${http.url}/healthz`);
      expect(await health.text()).toBe('ok');
      expect(health.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/);
    } finally {
      await http.close();
    }
  });
});
