import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeSettings, parseDuration, parseServerEnv, ServerConfigError } from '../src/config.js';

const KEY = 'abcdefghijklmnopqrstuvwxyz012345';
const base = {
  ALIPAY_PARTNER: '2088101122136241',
  ALIPAY_KEY: KEY,
  ALIREFUND_PUBLIC_URL: 'https://shop.example.com/',
};

function problems(env: Record<string, string | undefined>, opts = {}) {
  try {
    parseServerEnv(env, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ServerConfigError);
    return (e as ServerConfigError).problems;
  }
  throw new Error('expected parseServerEnv to throw');
}

describe('parseServerEnv', () => {
  it('derives notify_url and fills defaults', () => {
    const s = parseServerEnv(base);
    expect(s.notifyUrl).toBe('https://shop.example.com/alipay/notify');
    expect(s.alipay.notifyUrl).toBe(s.notifyUrl);
    expect(s.alipay.gateway).toBe('https://mapi.alipay.com/gateway.do');
    expect(s).toMatchObject({ batchSize: 50, nextBatchWaitMs: 600_000, reconcileIntervalMs: 60_000 });
  });

  it('reads durations, batch size and secrets, and keeps secrets out of JSON', () => {
    const s = parseServerEnv({
      ...base,
      ALIREFUND_BATCH_SIZE: '200',
      ALIREFUND_NEXT_BATCH_WAIT: '90s',
      ALIREFUND_RECONCILE_INTERVAL: '2m',
      ALIREFUND_API_TOKEN: 'token-token-token-123',
      ALIREFUND_ADMIN_PASSWORD: 'hunter2hunter2',
    });
    expect(s).toMatchObject({ batchSize: 200, nextBatchWaitMs: 90_000, reconcileIntervalMs: 120_000 });
    expect(s.apiToken).toBe('token-token-token-123');
    const json = JSON.stringify(s) + JSON.stringify(describeSettings(s));
    for (const secret of [KEY, 'token-token-token-123', 'hunter2hunter2']) expect(json).not.toContain(secret);
  });

  it('names every bad variable with a fix and never echoes a secret', () => {
    const badKey = 'short-secret-key';
    const p = problems({
      ALIPAY_PARTNER: '2088',
      ALIPAY_KEY: badKey,
      ALIPAY_INPUT_CHARSET: 'latin1',
      ALIREFUND_PUBLIC_URL: 'http://shop.example.com/notify?id=1',
      ALIREFUND_BATCH_SIZE: '5000',
      ALIREFUND_NEXT_BATCH_WAIT: 'soon',
      ALIREFUND_API_TOKEN: 'short',
      ALIREFUND_ADMIN_PASSWORD: 'pw',
    });
    expect(p.map((x) => x.variable).sort()).toEqual(
      [
        'ALIPAY_INPUT_CHARSET',
        'ALIPAY_KEY',
        'ALIPAY_PARTNER',
        'ALIREFUND_ADMIN_PASSWORD',
        'ALIREFUND_API_TOKEN',
        'ALIREFUND_BATCH_SIZE',
        'ALIREFUND_NEXT_BATCH_WAIT',
        'ALIREFUND_PUBLIC_URL',
      ].sort(),
    );
    const text = JSON.stringify(p);
    expect(text).not.toContain(badKey);
    expect(text).not.toContain('"short"');
    for (const x of p) expect(x.message.length).toBeGreaterThan(10);
  });

  it('requires the partner, a key and the public URL', () => {
    expect(
      problems({})
        .map((x) => x.variable)
        .sort(),
    ).toEqual(['ALIPAY_KEY', 'ALIPAY_PARTNER', 'ALIREFUND_PUBLIC_URL']);
  });

  it('reads RSA keys from files and reports unreadable ones by variable', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const files: Record<string, string> = {
      '/k/priv.pem': privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      '/k/pub.pem': publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    const readFile = (p: string) => {
      const v = files[p];
      if (v === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return v;
    };
    const env = {
      ALIPAY_PARTNER: '2088101122136241',
      ALIPAY_SIGN_TYPE: 'rsa',
      ALIPAY_PRIVATE_KEY_FILE: '/k/priv.pem',
      ALIPAY_PUBLIC_KEY_FILE: '/k/pub.pem',
      ALIREFUND_PUBLIC_URL: 'http://127.0.0.1:3000',
    };
    expect(parseServerEnv(env, { readFile }).alipay.signType).toBe('RSA');
    const p = problems({ ...env, ALIPAY_PUBLIC_KEY_FILE: '/k/missing.pem' }, { readFile });
    expect(p).toEqual([{ variable: 'ALIPAY_PUBLIC_KEY_FILE', message: expect.stringContaining('ENOENT') }]);
  });

  it('takes defaults for unset variables (CLI flags)', () => {
    const s = parseServerEnv(
      { ALIPAY_PARTNER: '2088101122136241', ALIPAY_KEY: KEY },
      { defaults: { ALIREFUND_PUBLIC_URL: 'http://127.0.0.1:4000', ALIREFUND_DATABASE_URL: ':memory:' } },
    );
    expect(s.notifyUrl).toBe('http://127.0.0.1:4000/alipay/notify');
    expect(s.databaseUrl).toBe(':memory:');
  });

  it('parses durations', () => {
    expect([
      parseDuration('500ms'),
      parseDuration('30'),
      parseDuration('10m'),
      parseDuration('1h'),
      parseDuration('x'),
    ]).toEqual([500, 30_000, 600_000, 3_600_000, null]);
  });
});
