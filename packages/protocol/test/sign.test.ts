import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CharsetError } from '../src/charset.js';
import { createConfig } from '../src/config.js';
import { explainSignature } from '../src/explain.js';
import {
  canonicalize,
  md5Equals,
  md5Sign,
  rsaSign,
  rsaVerify,
  signParams,
  verifyParams,
} from '../src/sign.js';
import { vectors } from './vectors.js';

describe('golden vectors (shared/spec/vectors.json)', () => {
  it.each(vectors.md5.map((v) => [v.id, v] as const))(
    'MD5 vector %s: canonical string and sign',
    (_id, v) => {
      const key = vectors.keys[v.key]!;
      expect(canonicalize(v.params)).toBe(v.canonical);
      expect(md5Sign(v.canonical, key, 'utf-8')).toBe(v.sign);
      expect(signParams(v.params, { signType: 'MD5', key }, 'utf-8')).toBe(v.sign);
    },
  );

  it('vector D: a received notification verifies, and fails with one byte changed', () => {
    const v = vectors.md5.find((x) => x.id === 'D')!;
    const key = { signType: 'MD5' as const, key: vectors.keys[v.key]! };
    expect(verifyParams(v.params, key, 'utf-8')).toBe(true);
    expect(verifyParams({ ...v.params, notify_id: '1235' }, key, 'utf-8')).toBe(false);
    expect(verifyParams({ ...v.params, sign: v.sign.toUpperCase() }, key, 'utf-8')).toBe(true);
  });

  it('vector E: booleans and nulls serialise as the reference client does (true → 1; false/null dropped)', () => {
    const v = vectors.md5.find((x) => x.id === 'E')!;
    const params = { ...v.params, eee: null, fff: false, ggg: true };
    expect(canonicalize(params)).toBe(v.canonical);
    expect(signParams(params, { signType: 'MD5', key: 'hello' }, 'utf-8')).toBe(v.sign);
  });

  it.each(vectors.rsa.map((v) => [v.id, v] as const))(
    'RSA vector %s: SHA1withRSA base64, and verification',
    (_id, v) => {
      const sign = rsaSign(v.canonical, vectors.keys[v.key]!, 'utf-8');
      expect(sign).toBe(v.sign);
      expect(rsaVerify(v.canonical, sign, vectors.keys['rsa_public_pem']!, 'utf-8')).toBe(true);
      expect(rsaVerify(`${v.canonical}&x=1`, sign, vectors.keys['rsa_public_pem']!, 'utf-8')).toBe(false);
      expect(rsaVerify(v.canonical, 'not base64!', vectors.keys['rsa_public_pem']!, 'utf-8')).toBe(false);
    },
  );
});

describe('canonicalize', () => {
  it('drops sign, sign_type and empty values; sorts by byte order; joins raw values', () => {
    expect(
      canonicalize({
        b: '2',
        a: 'x y&z',
        sign: 's',
        sign_type: 'MD5',
        empty: '',
        _input_charset: 'utf-8',
        A: '1',
      }),
    ).toBe('A=1&_input_charset=utf-8&a=x y&z&b=2');
  });

  it('does not mutate its input', () => {
    const params = Object.freeze({ z: '1', a: '2' });
    canonicalize(params);
    expect(Object.keys(params)).toEqual(['z', 'a']);
  });
});

describe('charsets', () => {
  const params = {
    service: 'refund_fastpay_by_platform_nopwd',
    detail_data: '2011011201037066^5.00^协商退款',
    partner: '2088101008267254',
  };
  const key = { signType: 'MD5' as const, key: '10000000000000000000000000000000' };

  it('the same Chinese request signs differently in utf-8 and gbk, each equal to md5 over that charset’s bytes', async () => {
    const { createHash } = await import('node:crypto');
    const iconv = (await import('iconv-lite')).default;
    const input = canonicalize(params) + key.key;
    const utf8 = signParams(params, key, 'utf-8');
    const gbk = signParams(params, key, 'gbk');
    expect(utf8).not.toBe(gbk);
    expect(utf8).toBe(createHash('md5').update(Buffer.from(input, 'utf8')).digest('hex'));
    expect(gbk).toBe(createHash('md5').update(iconv.encode(input, 'gbk')).digest('hex'));
    expect(verifyParams({ ...params, sign: gbk }, key, 'gbk')).toBe(true);
    expect(verifyParams({ ...params, sign: gbk }, key, 'utf-8')).toBe(false);
  });

  it('refuses text GBK cannot carry instead of signing a "?"', () => {
    const bad = { ...params, detail_data: '2011011201037066^5.00^退款¥5' };
    expect(() => signParams(bad, key, 'gbk')).toThrow(CharsetError);
    expect(() => signParams(bad, key, 'gbk')).toThrow(/"¥" \(U\+00A5\).*GBK cannot represent/);
    expect(signParams(bad, key, 'utf-8')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('md5Equals', () => {
  it('compares case-insensitively and rejects other lengths', () => {
    expect(md5Equals('abcdef', 'ABCDEF')).toBe(true);
    expect(md5Equals('abcdef', 'abcde')).toBe(false);
    expect(md5Equals('abcdef', 'abcdeg')).toBe(false);
  });
});

describe('RSA with a generated key pair', () => {
  it('signs with the private key, verifies with the public key, and a foreign key fails', () => {
    const a = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const b = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const params = { partner: '2088101122136241', detail_data: '2011011201037066^5.00^协商退款' };
    const sign = signParams(params, { signType: 'RSA', privateKey: a.privateKey }, 'gbk');
    expect(verifyParams({ ...params, sign }, { signType: 'RSA', publicKey: a.publicKey }, 'gbk')).toBe(true);
    expect(verifyParams({ ...params, sign }, { signType: 'RSA', publicKey: b.publicKey }, 'gbk')).toBe(false);
    expect(verifyParams({ ...params, sign }, { signType: 'RSA', publicKey: a.publicKey }, 'utf-8')).toBe(
      false,
    );
  });
});

describe('explainSignature', () => {
  it('shows the canonical string, the non-ASCII bytes and the sign, never the key', () => {
    const key = 'k'.repeat(32);
    const config = createConfig({ partner: '2088101122136241', key, inputCharset: 'gbk' });
    const e = explainSignature(
      { b: '退款', a: '1', sign: 'x', sign_type: 'MD5', c: '' },
      config.signingKey,
      'gbk',
    );
    expect(e.canonical).toBe('a=1&b=退款');
    expect(e.nonAsciiBytes).toEqual([{ text: '退款', hex: 'cd cb bf ee' }]);
    expect(e.byteLength).toBe(10);
    expect(e.excluded.map((x) => `${x.name}:${x.reason}`).sort()).toEqual([
      'c:empty',
      'sign:sign',
      'sign_type:sign_type',
    ]);
    expect(e.sign).toBe(md5Sign('a=1&b=退款', key, 'gbk'));
    expect(JSON.stringify(e)).not.toContain(key);
    expect(e.signingInput).toBe('a=1&b=退款<key: 32 chars, redacted>');
  });
});

describe('the UTF-8 MD5 fast path (pairs written straight into a reused buffer)', () => {
  const md5Key = { signType: 'MD5' as const, key: 'k5u3x0bdzec6y9goq7ctyx96ezkz7828' };
  const reference = (p: Record<string, string>) =>
    createHash('md5')
      .update(Buffer.from(canonicalize(p) + md5Key.key, 'utf8'))
      .digest('hex');

  it('signs exactly the bytes of canonicalize() + key, for any text (CJK, emoji, empty values)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }),
          fc.string({ unit: 'binary', maxLength: 40 }),
        ),
        (p) => {
          const sign = signParams(p, md5Key, 'utf-8');
          expect(sign).toBe(reference(p));
          expect(verifyParams({ ...p, sign }, md5Key, 'utf-8')).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives the same result when the buffer grows, shrinks back and exceeds what it keeps', () => {
    const small = { a: '协商退款', b: 'x' };
    const big = { a: '退'.repeat(2_000_000), b: 'y' }; // 6 MB of UTF-8: more than the 4 MiB kept
    const mid = { a: 'é'.repeat(100_000) };
    for (const p of [small, big, small, mid, small, big]) {
      expect(signParams(p, md5Key, 'utf-8')).toBe(reference(p));
    }
  });
});
