import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CODES, signNotification } from '@alirefund/protocol';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';

const KEY = 'k5u3x0bdzec6y9goq7ctyx96ezkz7828';
const dir = mkdtempSync(join(tmpdir(), 'alirefund-diag-'));
const keyFile = join(dir, 'key');
writeFileSync(keyFile, KEY);
const params = {
  notify_time: '2026-11-21 10:00:05',
  notify_type: 'batch_refund_notify',
  notify_id: 'abc',
  batch_no: '20261121001',
  success_num: '1',
  result_details: '2011011201037066^5.00^SUCCESS',
  note: '退款成功',
};

describe('alirefund explain / errors', () => {
  it('explains a code in Chinese and English, case-insensitively', async () => {
    const io = memoryIo();
    expect(await main(['explain', 'illegal_sign'], io)).toBe(0);
    expect(io.out).toContain('ILLEGAL_SIGN');
    expect(io.out).toContain('签名不正确');
    expect(io.out).toMatch(/English: /);
  });

  it('flags the outcome-unknown codes', async () => {
    const io = memoryIo();
    await main(['explain', 'SYSTEM_ERROR'], io);
    expect(io.out).toMatch(/UNKNOWN/);
    expect(io.out).toMatch(/PAUSE/);
  });

  it('refuses an unknown code with suggestions and a non-zero exit', async () => {
    const io = memoryIo();
    expect(await main(['explain', 'ILLEGAL_SIG'], io)).toBe(1);
    expect(io.err).toMatch(/unknown code "ILLEGAL_SIG"; did you mean .*ILLEGAL_SIGN/);
  });

  it('lists every code, or one channel, or JSON', async () => {
    const io = memoryIo();
    await main(['errors'], io);
    expect(io.out.trim().split('\n')).toHaveLength(CODES.length + 1);
    const j = memoryIo();
    await main(['errors', '--channel', 'local', '--json'], j);
    const list = JSON.parse(j.out) as Array<{ channel: string }>;
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((c) => c.channel === 'local')).toBe(true);
  });
});

/** The sign parameters of `p` signed in `charset` (ASCII, so URLSearchParams reads them whatever the charset). */
function signed(p: Record<string, string>, charset: 'utf-8' | 'gbk'): Record<string, string> {
  const b = new URLSearchParams(signNotification(p, { signType: 'MD5', key: KEY }, charset).body);
  return { sign: b.get('sign') ?? '', sign_type: b.get('sign_type') ?? '' };
}

describe('alirefund verify', () => {
  it('accepts a good body and exits 0', async () => {
    const f = join(dir, 'good.txt');
    writeFileSync(f, signNotification(params, { signType: 'MD5', key: KEY }, 'gbk').body);
    const io = memoryIo();
    expect(await main(['verify', '--body', f, '--charset', 'gbk', '--key-file', keyFile], io)).toBe(0);
    expect(io.out).toMatch(/^sign: matches/);
  });

  it('reads stdin and names the wrong charset', async () => {
    const io = memoryIo({ stdin: signNotification(params, { signType: 'MD5', key: KEY }, 'gbk').body });
    expect(await main(['verify', '--body', '-', '--key-file', keyFile, '--json'], io)).toBe(1);
    const r = JSON.parse(io.out) as { signOk: boolean; findings: Array<{ code: string }> };
    expect(r.signOk).toBe(false);
    expect(r.findings.map((f) => f.code)).toContain('WRONG_CHARSET');
  });

  it('names an added parameter', async () => {
    const io = memoryIo({
      stdin: `${signNotification(params, { signType: 'MD5', key: KEY }, 'utf-8').body}&id=123`,
    });
    expect(await main(['verify', '--body', '-', '--key-file', keyFile], io)).toBe(1);
    expect(io.out).toMatch(/EXTRA_PARAMETER: the sign matches once "id" is removed/);
  });

  it('verifies a body captured as JSON (issue 13: it used to answer MISSING_SIGN)', async () => {
    const f = join(dir, 'captured.json');
    writeFileSync(f, JSON.stringify({ ...params, ...signed(params, 'gbk') }, null, 2));
    const io = memoryIo();
    expect(await main(['verify', '--body', f, '--charset', 'gbk', '--key-file', keyFile], io)).toBe(0);
    expect(io.out).toMatch(/^sign: matches/);
    expect(io.out).toContain('the body was JSON');
    const tampered = memoryIo({
      stdin: JSON.stringify({ ...params, ...signed(params, 'gbk'), batch_no: '1' }),
    });
    expect(
      await main(['verify', '--body', '-', '--charset', 'gbk', '--key-file', keyFile, '--json'], tampered),
    ).toBe(1);
    const r = JSON.parse(tampered.out) as { bodyFormat: string; findings: Array<{ code: string }> };
    expect(r.bodyFormat).toBe('json');
    expect(r.findings.map((x) => x.code)).not.toContain('MISSING_SIGN');
  });

  it('needs a key', async () => {
    const io = memoryIo({ stdin: 'a=1' });
    expect(await main(['verify', '--body', '-'], io)).toBe(1);
    expect(io.err).toMatch(/needs the MD5 key/);
  });
});
