/**
 * `alirefund demo` leaves the user able to use the CLI (issue 13): it prints and writes (.alirefund/demo.env,
 * private) the exact environment of `alirefund refund/reconcile/verify`; with it, a refund of the sample file
 * works against the running demo; trades imported into the demo (console CSV import or API) are created in the
 * sandbox too, so refunding them works instead of failing with TRADE_NOT_EXISTS.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDemo, runDemo, startDemo } from '../src/commands/demo.js';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';

/** A memory Io working in `cwd` (its out/err are kept by the original object, so no spreading). */
function ioIn(cwd: string, env?: Record<string, string>) {
  const io = memoryIo(env ? { env } : {});
  io.cwd = cwd;
  return io;
}

/** The `export NAME='value'` lines of demo.env, as an environment. */
function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^export ([A-Z_]+)='(.*)'$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace(/'\\''/g, "'");
  }
  return env;
}

describe('alirefund demo → the CLI', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'alirefund-demo-cli-'));
  const demoIo = ioIn(cwd);
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo({ port: '0', dir: '.alirefund' }, demoIo);
  }, 60_000);
  afterAll(async () => {
    await demo?.stop();
  });

  it('writes the environment of refund/reconcile/verify to .alirefund/demo.env (private)', () => {
    const file = join(cwd, '.alirefund', 'demo.env');
    expect(demo.envFile).toBe(file);
    expect(statSync(file).mode & 0o077).toBe(0);
    const env = readEnvFile(file);
    expect(env).toEqual(demo.env);
    expect(Object.keys(env).sort()).toEqual(
      [
        'ALIPAY_GATEWAY',
        'ALIPAY_INPUT_CHARSET',
        'ALIPAY_KEY',
        'ALIPAY_PARTNER',
        'ALIPAY_SELLER_EMAIL',
        'ALIREFUND_DATABASE_URL',
        'ALIREFUND_PUBLIC_URL',
      ].sort(),
    );
    expect(env['ALIPAY_KEY']).toBe(demo.secrets.key);
  });

  it('with that environment, alirefund refund of the sample file refunds against the running demo', async () => {
    const env = readEnvFile(demo.envFile);
    const io = ioIn(cwd, env);
    const code = await main(['refund', '--file', demo.sampleFile, '--json', '--timeout', '60s'], io);
    expect(io.err).not.toContain('unexpected error');
    expect(code, `${io.out}\n${io.err}`).toBe(0);
    expect(JSON.parse(io.out)).toMatchObject({ state: 'complete', lines: 3, refunded: { lines: 3 } });
    const rec = ioIn(cwd, env);
    expect(await main(['reconcile'], rec), rec.err).toBe(0);
  }, 90_000);

  it('a trade imported into the demo is created in the sandbox, and refunding it works', async () => {
    const tradeNo = '2026120121001004180000424242';
    const res = await fetch(`${demo.consoleUrl}api/trades`, {
      method: 'POST',
      headers: { authorization: `Bearer ${demo.secrets.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tradeNo, amount: '9.90', outTradeNo: 'IMPORTED-1', subject: '导入的订单' }),
    });
    expect(res.status).toBe(201);
    expect(demoIo.err).toContain('1 imported trade(s) also created in the sandbox');
    const sbx = await fetch(`${demo.gatewayUrl.replace('/gateway.do', '')}/sandbox/api/trades/${tradeNo}`);
    expect(sbx.status).toBe(200);

    const env = readEnvFile(demo.envFile);
    const file = join(cwd, 'imported.csv');
    (await import('node:fs')).writeFileSync(file, `trade_no,amount,reason\n${tradeNo},9.90,导入后退款\n`);
    const io = ioIn(cwd, env);
    expect(await main(['refund', '--file', file, '--json', '--timeout', '60s'], io), io.err).toBe(0);
    expect(JSON.parse(io.out)).toMatchObject({ refunded: { lines: 1, amount: '9.90' } });
  }, 90_000);

  it('a trade the sandbox refuses is still registered, and the answer (console and API) says so, not only stderr', async () => {
    const tradeNo = '2026120121001004180000434343';
    // Registered by the merchant server (a buyer is free text there), refused by the sandbox's seed (not an email).
    const res = await fetch(`${demo.consoleUrl}api/trades`, {
      method: 'POST',
      headers: { authorization: `Bearer ${demo.secrets.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tradeNo, amount: '5.00', buyer: 'buyer@@not-an-email' }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { notices?: Array<{ code: string; tradeNos: string[] }> };
    expect(body.notices).toEqual([
      expect.objectContaining({ code: 'SANDBOX_MIRROR_FAILED', tradeNos: [tradeNo] }),
    ]);
    expect(demoIo.err).toContain('are NOT in the sandbox');
    const sbx = await fetch(`${demo.gatewayUrl.replace('/gateway.do', '')}/sandbox/api/trades/${tradeNo}`);
    expect(sbx.status).toBe(404);
  });

  it('prints the environment, the env file and the CLI commands', async () => {
    const other = mkdtempSync(join(tmpdir(), 'alirefund-demo-print-'));
    const io = ioIn(other);
    expect(await runDemo({ port: '0', dir: '.alirefund', detach: true }, io)).toBe(0);
    const printed = io.out;
    const env = readEnvFile(join(other, '.alirefund', 'demo.env'));
    for (const [k, v] of Object.entries(env)) expect(printed).toContain(`export ${k}='${v}'`);
    expect(printed).toContain(`. ${join(other, '.alirefund', 'demo.env')}`);
    expect(printed).toContain('alirefund refund --file');
    expect(printed).toContain('alirefund reconcile');
    expect(printed).toContain('alirefund verify');
    expect(printed).toMatch(/\/sandbox\b/);
  }, 60_000);
});
