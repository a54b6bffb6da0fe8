import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDemo, startDemo } from '../src/commands/demo.js';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';

describe('alirefund demo (in-process, real sockets, SQLite files)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'alirefund-demo-'));
  let demo: RunningDemo;
  beforeAll(async () => {
    const io = { ...memoryIo(), cwd };
    demo = await startDemo({ port: '0', dir: '.alirefund' }, io);
  }, 60_000);
  afterAll(async () => {
    await demo?.stop();
  });

  it('keeps its databases and logins under ./.alirefund, the secrets file private', () => {
    expect(statSync(join(cwd, '.alirefund', 'sandbox.sqlite')).isFile()).toBe(true);
    expect(statSync(join(cwd, '.alirefund', 'server.sqlite')).isFile()).toBe(true);
    expect(statSync(join(cwd, '.alirefund', 'demo-secrets.json')).mode & 0o077).toBe(0);
  });

  it('refunds an order end to end: API → nopwd → sandbox → notification → trade refunded', async () => {
    const auth = { authorization: `Bearer ${demo.secrets.apiToken}` };
    const list = await fetch(`${demo.consoleUrl}api/trades/2026110021001004180000007919`, { headers: auth });
    expect(list.status).toBe(200);
    const res = await fetch(`${demo.consoleUrl}api/refunds`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        mode: 'nopwd',
        items: [{ tradeNo: '2026110021001004180000007919', amount: '1.00', reason: '协商退款' }],
      }),
    });
    expect(res.status).toBe(201);
    const { batches } = (await res.json()) as { batches: Array<{ batchNo: string }> };
    expect(batches).toHaveLength(1);
    let trade: { refundedFen: number; status: string } | undefined;
    for (let i = 0; i < 100; i++) {
      const t = (await (
        await fetch(`${demo.consoleUrl}api/trades/2026110021001004180000007919`, { headers: auth })
      ).json()) as {
        trade: { refundedFen: number; status: string };
      };
      trade = t.trade;
      if (trade.refundedFen > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(trade).toMatchObject({ refundedFen: 100, status: 'partially_refunded' });
  });

  it('refuses the API without a token', async () => {
    const r = await fetch(`${demo.consoleUrl}api/trades/2026110021001004180000007919`);
    expect(r.status).toBe(401);
  });
});

describe('alirefund sandbox / serve: bad input is refused before anything starts', () => {
  it('names the JSON path of a bad seed field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alirefund-seed-'));
    const f = join(dir, 'seed.json');
    writeFileSync(
      f,
      JSON.stringify({
        partners: [],
        trades: [{ tradeNo: '123456', partner: '2088101122136241', amount: '-1', status: 'TRADE_SUCCESS' }],
      }),
    );
    const io = memoryIo();
    expect(await main(['sandbox', '--port', '0', '--seed', f], io)).toBe(1);
    expect(io.err).toMatch(/trades\[0\]\.amount/);
  });

  it('rejects a bad --notify-schedule', async () => {
    const io = memoryIo();
    expect(await main(['sandbox', '--port', '0', '--notify-schedule', '0,soon'], io)).toBe(1);
    expect(io.err).toMatch(/--notify-schedule/);
  });

  it('serve names every bad variable and never echoes the key', async () => {
    const io = memoryIo({ env: { ALIPAY_PARTNER: '12345', ALIPAY_KEY: 'secret-value-that-is-wrong' } });
    expect(await main(['serve', '--port', '0', '--db', ':memory:'], io)).toBe(1);
    expect(io.err).toMatch(/ALIPAY_PARTNER/);
    expect(io.err).toMatch(/ALIPAY_KEY/);
    expect(io.err).not.toContain('secret-value-that-is-wrong');
  });
});
