import { describe, expect, it } from 'vitest';
import { diagnoseNotificationBody, signNotification } from '../src/index.js';

const KEY = 'k5u3x0bdzec6y9goq7ctyx96ezkz7828';
const key = { signType: 'MD5' as const, key: KEY };
const params = {
  notify_time: '2026-11-21 10:00:05',
  notify_type: 'batch_refund_notify',
  notify_id: 'a1+b2/c3',
  batch_no: '20261121001',
  success_num: '1',
  result_details: '2011011201037066^5.00^SUCCESS',
};

describe('diagnoseNotificationBody', () => {
  it('says the sign matches for a good body', () => {
    const { body } = signNotification(params, key, 'utf-8');
    const d = diagnoseNotificationBody(body, 'utf-8', key);
    expect(d.signOk).toBe(true);
    expect(d.findings.map((f) => f.code)).toEqual(['SIGN_OK']);
  });

  const cases: Array<[string, () => string, 'utf-8' | 'gbk', string]> = [
    [
      'a GBK body read as utf-8 (wrong charset)',
      () => signNotification({ ...params, note: '退款' }, key, 'gbk').body,
      'utf-8',
      'WRONG_CHARSET',
    ],
    [
      'a route parameter added',
      () => `${signNotification(params, key, 'utf-8').body}&controller=alipay`,
      'utf-8',
      'EXTRA_PARAMETER',
    ],
    [
      'a body that was URL-decoded before capture',
      () => {
        const p = signNotification(params, key, 'utf-8').params;
        return Object.entries(p)
          .map(([k, v]) => `${k}=${v}`)
          .join('&');
      },
      'utf-8',
      'ALREADY_DECODED',
    ],
    [
      'a wrong key',
      () => signNotification(params, { signType: 'MD5', key: 'z'.repeat(32) }, 'utf-8').body,
      'utf-8',
      'WRONG_KEY_OR_ALTERED',
    ],
    [
      'a missing sign',
      () => signNotification(params, key, 'utf-8').body.replace(/&sign=[^&]+/, ''),
      'utf-8',
      'MISSING_SIGN',
    ],
    ['an empty body', () => '', 'utf-8', 'EMPTY_BODY'],
  ];
  it.each(cases)('recognises %s', (_what, make, charset, code) => {
    const d = diagnoseNotificationBody(make(), charset, key);
    expect(d.signOk).toBe(false);
    expect(d.findings.at(-1)?.code).toBe(code);
    expect(d.findings.at(-1)?.fix.length).toBeGreaterThan(20);
  });
});
