import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlipayConfig,
  NotificationError,
  type NotificationErrorCode,
  createConfig,
  isKnownCode,
  signNotification,
  verifyNotification,
} from '../src/index.js';
import { vectors } from './vectors.js';

const KEY = 'k5u3x0bdzec6y9goq7ctyx96ezkz7828';
const PARTNER = '2088101122136241';

/** A stand-in for the gateway's notify_verify: answers per notify_id. */
const verifyAnswers: Record<string, string | 'hang'> = {};
let verifyCalls: string[] = [];
const gateway = createServer((req, res) => {
  const u = new URL(req.url ?? '/', 'http://x');
  verifyCalls.push(u.search);
  const id = u.searchParams.get('notify_id') ?? '';
  const a = verifyAnswers[id] ?? 'false';
  if (a === 'hang') return;
  res.end(a);
});
let gw = '';
beforeAll(async () => {
  await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
  gw = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/gateway.do`;
});
afterAll(() => {
  gateway.closeAllConnections();
  gateway.close();
});

function cfg(extra: Record<string, unknown> = {}): AlipayConfig {
  return createConfig({ partner: PARTNER, key: KEY, gateway: gw, ...extra });
}

function notification(id: string, over: Record<string, string> = {}) {
  verifyAnswers[id] = 'true';
  return {
    notify_time: '2026-11-21 10:00:05',
    notify_type: 'batch_refund_notify',
    notify_id: id,
    batch_no: '20261121001',
    success_num: '1',
    result_details: '2011011201037066^5.00^SUCCESS#2010120607408670^0.01^TRADE_HAS_CLOSED',
    ...over,
  };
}

async function failure(p: Promise<unknown>): Promise<NotificationError> {
  const r = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(r).toBeInstanceOf(NotificationError);
  return r as NotificationError;
}

describe('verifyNotification', () => {
  it('returns a typed notification with parsed result_details after sign and notify_verify pass', async () => {
    verifyCalls = [];
    const { body } = signNotification(notification('n-ok'), { signType: 'MD5', key: KEY }, 'utf-8');
    const n = await verifyNotification(body, { charset: 'utf-8', config: cfg() });
    expect(n.batchNo).toBe('20261121001');
    expect(n.successNum).toBe(1);
    expect(n.resultDetails.map((r) => [r.tradeNo, r.amountFen, r.code, r.succeeded])).toEqual([
      ['2011011201037066', 500, 'SUCCESS', true],
      ['2010120607408670', 1, 'TRADE_HAS_CLOSED', false],
    ]);
    expect(verifyCalls).toEqual([`?service=notify_verify&partner=${PARTNER}&notify_id=n-ok`]);
  });

  it('verifies a GBK body in gbk, and says so when it is decoded as utf-8', async () => {
    const { body } = signNotification(
      notification('n-gbk', { result_details: '2011011201037066^5.00^SUCCESS', batch_no: '20261121002' }),
      { signType: 'MD5', key: KEY },
      'gbk',
    );
    // Chinese only appears in signed values when present; add one to exercise the charset.
    const zh = signNotification(
      { ...notification('n-gbk2'), extra_note: '退款成功' },
      { signType: 'MD5', key: KEY },
      'gbk',
    );
    expect(zh.body).toContain('%CD%CB%BF%EE');
    expect((await verifyNotification(body, { charset: 'gbk', config: cfg() })).batchNo).toBe('20261121002');
    const e = await failure(verifyNotification(zh.body, { charset: 'utf-8', config: cfg() }));
    expect(e.code).toBe('CHARSET_MISMATCH');
    expect(e.message).toMatch(/gbk/);
  });

  it('says so when a UTF-8 body is decoded as gbk', async () => {
    const { body } = signNotification(
      { ...notification('n-u8'), extra_note: '退款成功' },
      { signType: 'MD5', key: KEY },
      'utf-8',
    );
    const e = await failure(verifyNotification(body, { charset: 'gbk', config: cfg() }));
    expect(e.code).toBe('CHARSET_MISMATCH');
    expect(['decode', 'sign']).toContain(e.check);
    expect(e.hint).toMatch(/utf-8/);
  });

  const cases: Array<[string, () => string, NotificationErrorCode, string]> = [
    [
      'a wrong sign',
      () => signNotification(notification('f1'), { signType: 'MD5', key: 'x'.repeat(32) }, 'utf-8').body,
      'SIGN_MISMATCH',
      'sign',
    ],
    [
      'a missing sign',
      () =>
        signNotification(notification('f2'), { signType: 'MD5', key: KEY }, 'utf-8').body.replace(
          /&sign=[0-9a-f]+/,
          '',
        ),
      'MISSING_SIGN',
      'sign',
    ],
    [
      'an unknown sign_type',
      () =>
        signNotification(notification('f3'), { signType: 'MD5', key: KEY }, 'utf-8').body.replace(
          'sign_type=MD5',
          'sign_type=DSA',
        ),
      'UNSUPPORTED_SIGN_TYPE',
      'sign',
    ],
    [
      'an added parameter',
      () =>
        `${signNotification(notification('f4'), { signType: 'MD5', key: KEY }, 'utf-8').body}&route=alipay`,
      'UNEXPECTED_PARAMETER',
      'sign',
    ],
    [
      'a changed amount',
      () =>
        signNotification(notification('f5'), { signType: 'MD5', key: KEY }, 'utf-8').body.replace(
          '5.00',
          '50.00',
        ),
      'SIGN_MISMATCH',
      'sign',
    ],
    [
      'notify_verify false',
      () => {
        const b = signNotification(notification('f6'), { signType: 'MD5', key: KEY }, 'utf-8').body;
        verifyAnswers['f6'] = 'false';
        return b;
      },
      'NOTIFY_VERIFY_FALSE',
      'notify_verify',
    ],
    [
      'notify_verify answering an HTML error page',
      () => {
        const b = signNotification(notification('f7'), { signType: 'MD5', key: KEY }, 'utf-8').body;
        verifyAnswers['f7'] = '<html><body>500 Internal Server Error</body></html>';
        return b;
      },
      'NOTIFY_VERIFY_BAD_RESPONSE',
      'notify_verify',
    ],
    [
      'notify_verify timing out',
      () => {
        const b = signNotification(notification('f8'), { signType: 'MD5', key: KEY }, 'utf-8').body;
        verifyAnswers['f8'] = 'hang';
        return b;
      },
      'NOTIFY_VERIFY_UNREACHABLE',
      'notify_verify',
    ],
    [
      'a duplicated field',
      () => {
        const b = signNotification(notification('f9'), { signType: 'MD5', key: KEY }, 'utf-8').body;
        return `${b}&batch_no=20261121009`;
      },
      'MALFORMED_BODY',
      'decode',
    ],
    [
      'a trade status notification',
      () =>
        signNotification(
          { ...notification('f10'), notify_type: 'trade_status_sync' },
          { signType: 'MD5', key: KEY },
          'utf-8',
        ).body,
      'WRONG_NOTIFY_TYPE',
      'content',
    ],
    [
      'malformed result_details',
      () =>
        signNotification(
          notification('f11', { result_details: '2011011201037066^5.00' }),
          { signType: 'MD5', key: KEY },
          'utf-8',
        ).body,
      'MALFORMED_CONTENT',
      'content',
    ],
    ['an empty body', () => '', 'MALFORMED_BODY', 'decode'],
  ];
  it.each(cases)('fails closed on %s', async (_what, make, code, check) => {
    const e = await failure(verifyNotification(make(), { charset: 'utf-8', config: cfg(), timeoutMs: 300 }));
    expect(e.code).toBe(code);
    expect(e.check).toBe(check);
    expect(e.hint.length).toBeGreaterThan(20);
    expect(e.message).not.toContain(KEY);
    if (e.catalogueCode !== undefined) expect(isKnownCode(e.catalogueCode)).toBe(true);
  });

  it('does not call notify_verify for a forgery', async () => {
    verifyCalls = [];
    const body = signNotification(
      notification('f12'),
      { signType: 'MD5', key: 'y'.repeat(32) },
      'utf-8',
    ).body;
    await failure(verifyNotification(body, { charset: 'utf-8', config: cfg() }));
    expect(verifyCalls).toEqual([]);
  });

  it('verifies RSA notifications with the gateway public key', async () => {
    const config = cfg({
      key: undefined,
      signType: 'RSA',
      privateKey: vectors.keys['rsa_private_pem'],
      alipayPublicKey: vectors.keys['rsa_public_pem'],
    });
    const { body } = signNotification(
      notification('n-rsa'),
      { signType: 'RSA', privateKey: vectors.keys['rsa_private_pem']! },
      'utf-8',
    );
    expect((await verifyNotification(body, { charset: 'utf-8', config })).notifyId).toBe('n-rsa');
    const forged = body.replace('success_num=1', 'success_num=2');
    expect((await failure(verifyNotification(forged, { charset: 'utf-8', config }))).code).toBe(
      'SIGN_MISMATCH',
    );
  });
});
