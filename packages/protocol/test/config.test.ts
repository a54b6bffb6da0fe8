import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_GATEWAY, createConfig } from '../src/config.js';
import { vectors } from './vectors.js';

const KEY = 'abcdefghijklmnopqrstuvwxyz012345';
const base = { partner: '2088101122136241', key: KEY };

function problemsOf(input: unknown): Array<{ field: string; message: string }> {
  try {
    createConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('expected createConfig to throw');
}

describe('createConfig', () => {
  it('fills defaults, normalises gb2312 to gbk and freezes the result', () => {
    const c = createConfig({ ...base, inputCharset: 'GB2312' });
    expect(c.inputCharset).toBe('gbk');
    expect(c.signType).toBe('MD5');
    expect(c.gateway).toBe(DEFAULT_GATEWAY);
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { partner: string }).partner = 'x';
    }).toThrow(TypeError);
  });

  it('keeps the key out of JSON and inspection', () => {
    const c = createConfig(base);
    expect(JSON.stringify(c)).not.toContain(KEY);
    expect(c.signingKey).toEqual({ signType: 'MD5', key: KEY });
  });

  it('names each bad field and never echoes the key', () => {
    const bad = 'secret-key-with-a-space  1234567';
    const problems = problemsOf({
      partner: '2088 12',
      key: bad,
      inputCharset: 'latin1',
      notifyUrl: 'http://shop.example/notify?id=123',
      color: 'red',
    });
    const fields = problems.map((p) => p.field).sort();
    expect(fields).toEqual(['(config)', 'inputCharset', 'key', 'notifyUrl', 'partner']);
    const text = JSON.stringify(problems);
    expect(text).not.toContain(bad);
    expect(text).not.toContain('secret');
    expect(problems.find((p) => p.field === 'notifyUrl')!.message).toMatch(/query string/);
    expect(problems.find((p) => p.field === '(config)')!.message).toMatch(/unknown option\(s\) "color"/);
  });

  it('reports spaces around partner and key', () => {
    const problems = problemsOf({ partner: ' 2088101122136241', key: `${KEY} ` });
    expect(problems.map((p) => p.message).join('\n')).toMatch(/spaces/);
    expect(problems.map((p) => p.field).sort()).toEqual(['key', 'partner']);
  });

  it('requires the key for MD5 and both PEM keys for RSA', () => {
    expect(problemsOf({ partner: base.partner }).map((p) => p.field)).toEqual(['key']);
    expect(
      problemsOf({ partner: base.partner, signType: 'RSA' })
        .map((p) => p.field)
        .sort(),
    ).toEqual(['alipayPublicKey', 'privateKey']);
    expect(
      problemsOf({ partner: base.partner, signType: 'RSA', privateKey: 'nope', alipayPublicKey: 'nope' }).map(
        (p) => p.message,
      ),
    ).toEqual(['is not a readable PEM RSA private key', 'is not a readable PEM RSA public key']);
    const rsa = createConfig({
      partner: base.partner,
      signType: 'RSA',
      privateKey: vectors.keys['rsa_private_pem']!,
      alipayPublicKey: vectors.keys['rsa_public_pem']!,
    });
    expect(rsa.signingKey.signType).toBe('RSA');
    expect(JSON.stringify(rsa)).not.toContain('PRIVATE');
  });

  it('rejects a notify_url that is relative or not http(s)', () => {
    expect(problemsOf({ ...base, notifyUrl: '/alipay/notify' })[0]!.message).toMatch(/absolute/);
    expect(problemsOf({ ...base, notifyUrl: 'ftp://x.example/n' })[0]!.message).toMatch(/http or https/);
  });
});
