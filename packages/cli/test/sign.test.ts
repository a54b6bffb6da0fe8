import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vectors } from '../../protocol/test/vectors.js';

const bin = new URL('../bin/alirefund.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'alirefund-sign-'));
const keyFile = join(dir, 'key.txt');
writeFileSync(keyFile, `${vectors.keys['md5_key_1']}\n`);
const rsaFile = join(dir, 'rsa.pem');
writeFileSync(rsaFile, vectors.keys['rsa_private_pem']!);

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    input: input ?? '',
    encoding: 'utf8',
    env: { ...process.env, ALIPAY_KEY: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('alirefund sign (a real process)', () => {
  it.each(vectors.md5.filter((v) => v.key === 'md5_key_1').map((v) => [v.id, v] as const))(
    'reproduces MD5 vector %s from k=v arguments',
    (_id, v) => {
      const r = run([
        'sign',
        '--key-file',
        keyFile,
        ...Object.entries(v.params).map(([k, val]) => `${k}=${val}`),
      ]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const lines = r.out.trim().split('\n');
      expect(lines).toContain(`canonical: ${v.canonical}`);
      expect(lines.at(-1)).toBe(`sign: ${v.sign}`);
      expect(r.out).not.toContain(vectors.keys['md5_key_1']);
    },
  );

  it('reads a query string on stdin, shows non-ASCII bytes, and prints JSON', () => {
    const g1 = vectors.md5.find((v) => v.id === 'G1')!;
    const query = new URLSearchParams(g1.params).toString();
    const r = run(['sign', '--key-file', keyFile, '--json'], query);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      canonical: string;
      sign: string;
      nonAsciiBytes: Array<{ text: string; hex: string }>;
    };
    expect(j.canonical).toBe(g1.canonical);
    expect(j.sign).toBe(g1.sign);
    expect(j.nonAsciiBytes).toEqual([{ text: '协商退款', hex: 'e5 8d 8f e5 95 86 e9 80 80 e6 ac be' }]);
  });

  it('reproduces the RSA vector', () => {
    const r = run([
      'sign',
      '--sign-type',
      'RSA',
      '--private-key-file',
      rsaFile,
      'service=test',
      'partner=123',
    ]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').at(-1)).toBe(`sign: ${vectors.rsa[0]!.sign}`);
  });

  it.each([
    [['sign', '--key-file', keyFile, '--charset', 'latin1', 'a=1'], /--charset: unknown charset "latin1"/],
    [
      ['sign', '--key-file', keyFile, '--charset', 'gbk', 'detail_data=1^1.00^¥'],
      /"¥" \(U\+00A5\).*GBK cannot represent/,
    ],
    [['sign', '--key', 'short', 'a=1'], /key is 5 characters long/],
    [['sign', '--sign-type', 'RSA', '--private-key-file', keyFile, 'a=1'], /not a readable PEM private key/],
    [['sign', '--key-file', keyFile, 'novalue'], /not of the form name=value/],
    [['sign', '--key-file', join(dir, 'missing.txt'), 'a=1'], /--key-file: cannot read .*no such file/],
  ])('bad input exits non-zero with a one-line reason: %s', (args, why) => {
    const r = run(args as string[]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(why);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });
});
