import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The README's SDK example must keep working: extract it, give it a notification body and a key,
 * and run it against a stand-in notify_verify.
 */
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const block = /## The SDK in 15 lines\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const tmp = new URL('./.readme-example.tmp.ts', import.meta.url);

afterAll(() => rmSync(tmp, { force: true }));

describe('README SDK example', () => {
  it('is at most 15 lines', () => {
    expect(block.trim().split('\n').length).toBeGreaterThan(5);
    expect(block.trim().split('\n').length).toBeLessThanOrEqual(15);
  });

  it('runs: signs a pwd batch, renders its form, verifies a notification', async () => {
    const key = 'k5u3x0bdzec6y9goq7ctyx96ezkz7828';
    // The example reads the key from the environment and the body from the request; supply both,
    // and answer notify_verify with "true" through an injected global fetch.
    const { signNotification } = await import('../src/index.js');
    const rawBody = signNotification(
      {
        notify_time: '2026-11-21 10:00:05',
        notify_type: 'batch_refund_notify',
        notify_id: 'readme',
        batch_no: '20261121001',
        success_num: '1',
        result_details: '2016052621001004180237340740^10.00^SUCCESS',
      },
      { signType: 'MD5', key },
      'utf-8',
    ).body;
    const source = block
      .replace("from '@alirefund/protocol'", "from '../src/index.js'")
      .replace(/console\.log\(/g, 'out.push(');
    writeFileSync(
      tmp,
      `export async function run(rawBody: string, out: unknown[]) {\n${source.replace(/^import .*$/m, '')}\n return { html, req };\n}\n${/^import .*$/m.exec(source)?.[0] ?? ''}\n`,
    );
    const savedKey = process.env['ALIPAY_KEY'];
    const savedFetch = globalThis.fetch;
    process.env['ALIPAY_KEY'] = key;
    globalThis.fetch = (async () => new Response('true')) as typeof fetch;
    try {
      const mod = (await import(/* @vite-ignore */ tmp.href)) as {
        run: (
          b: string,
          out: unknown[],
        ) => Promise<{ html: string; req: { params: Record<string, string> } }>;
      };
      const out: unknown[] = [];
      const { html, req } = await mod.run(rawBody, out);
      expect(html).toContain('action="https://mapi.alipay.com/gateway.do?_input_charset=utf-8"');
      expect(req.params['service']).toBe('refund_fastpay_by_platform_pwd');
      expect(req.params['detail_data']).toBe('2016052621001004180237340740^10.00^协商退款');
      expect(out).toEqual(['2016052621001004180237340740', 1000, 'SUCCESS']);
    } finally {
      globalThis.fetch = savedFetch;
      if (savedKey === undefined) delete process.env['ALIPAY_KEY'];
      else process.env['ALIPAY_KEY'] = savedKey;
    }
  });
});
