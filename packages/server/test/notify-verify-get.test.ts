/**
 * notify_verify without fetch: the server reads the gateway's answer with `gatewayGet` (keep-alive node:http, no
 * Request/Response objects) through the metrics' `meterGet`. The SDK's verdicts must be those of the fetch path
 * (true → verified, false → NOTIFY_VERIFY_FALSE, anything else → NOTIFY_VERIFY_BAD_RESPONSE, whatever the http
 * status; no answer in time → NOTIFY_VERIFY_UNREACHABLE), and each call is timed and its failures counted by
 * service as `meterFetch` does.
 */
import { callNotifyVerify, NotificationError } from '@alirefund/protocol';
import { openDatabase } from '@alirefund/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../src/metrics.js';
import { gatewayGet } from '../src/services/notify-http.js';
import { listen } from './helpers.js';

const PARTNER = '2088101122136241';

describe('notify_verify over gatewayGet', () => {
  let gateway: { url: string; close(): Promise<void> };
  const seen: string[] = [];
  beforeAll(async () => {
    gateway = await listen({
      fetch: async (req: Request) => {
        const url = new URL(req.url);
        seen.push(url.search);
        const id = url.searchParams.get('notify_id');
        if (id === 'slow') await new Promise((r) => setTimeout(r, 1500));
        if (id === 'genuine') return new Response('true');
        if (id === 'forged') return new Response('false');
        if (id === 'broken') return new Response('<html>bad gateway</html>', { status: 502 });
        return new Response('false');
      },
    });
  });
  afterAll(() => gateway.close());

  async function outcome(notifyId: string, get: (url: string, ms: number) => Promise<string>) {
    try {
      await callNotifyVerify(`${gateway.url}/gateway.do`, PARTNER, notifyId, {
        getText: get,
        timeoutMs: 300,
      });
      return 'verified';
    } catch (e) {
      expect(e).toBeInstanceOf(NotificationError);
      return `${(e as NotificationError).code}: ${(e as Error).message}`;
    }
  }

  it('gives the fetch path verdicts and meters every call by service', async () => {
    const database = await openDatabase(':memory:');
    try {
      const metrics = createMetrics(database, { defaultMetrics: false });
      const get = metrics.meterGet(gatewayGet);
      expect(await outcome('genuine', get)).toBe('verified');
      expect(await outcome('forged', get)).toMatch(/^NOTIFY_VERIFY_FALSE: .*forged/);
      expect(await outcome('broken', get)).toMatch(/^NOTIFY_VERIFY_BAD_RESPONSE: .*bad gateway/);
      expect(await outcome('slow', get)).toMatch(/^NOTIFY_VERIFY_UNREACHABLE: .*no answer within 300 ms/);
      // The same verdicts as fetch gives them.
      for (const id of ['genuine', 'forged', 'broken']) {
        const viaFetch = await (async () => {
          try {
            await callNotifyVerify(`${gateway.url}/gateway.do`, PARTNER, id, { timeoutMs: 300 });
            return 'verified';
          } catch (e) {
            return `${(e as NotificationError).code}: ${(e as Error).message}`;
          }
        })();
        expect(await outcome(id, get)).toBe(viaFetch);
      }
      expect(seen[0]).toContain('service=notify_verify');
      expect(seen[0]).toContain(`partner=${PARTNER}`);

      const seconds = await metrics.registry
        .getSingleMetric('alirefund_gateway_request_duration_seconds')!
        .get();
      const count = seconds.values.find(
        (v) =>
          (v as { metricName?: string }).metricName === 'alirefund_gateway_request_duration_seconds_count',
      );
      expect(count?.labels).toEqual({ service: 'notify_verify' });
      expect(count?.value).toBe(7); // the four above and the three compared with fetch
      const failures = await metrics.registry
        .getSingleMetric('alirefund_gateway_request_failures_total')!
        .get();
      const byReason = Object.fromEntries(failures.values.map((v) => [String(v.labels['reason']), v.value]));
      expect(byReason).toEqual({ http_502: 2, timeout: 1 });
    } finally {
      await database.close();
    }
  });

  it('refuses what is not an http(s) URL', async () => {
    await expect(gatewayGet('file:///etc/passwd', 100)).rejects.toThrow(/not an http\(s\) URL: file:/);
  });
});
