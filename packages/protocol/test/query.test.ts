import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildRefundQuery,
  canonicalize,
  createConfig,
  md5Sign,
  parseQueryReply,
  sendRefundQuery,
  signParams,
} from '../src/index.js';

const KEY = 'k5u3x0bdzec6y9goq7ctyx96ezkz7828';
const config = createConfig({ partner: '2088101122136241', key: KEY });

describe('refund_fastpay_query', () => {
  it('signs a query by batch_no', () => {
    const q = buildRefundQuery(config, { batchNo: '20261121001' });
    expect(q.canonical).toBe(
      '_input_charset=utf-8&batch_no=20261121001&partner=2088101122136241&service=refund_fastpay_query',
    );
    expect(q.params['sign']).toBe(md5Sign(q.canonical, KEY, 'utf-8'));
    expect(() => buildRefundQuery(config, {})).toThrow(TypeError);
  });

  it.each([
    [
      'is_success=T&result_details=201606160000375820^20160415210010255^210.00^SUCCESS^true^P',
      'found',
      'SUCCESS',
    ],
    [
      'is_success=T&result_details=201612030000706479^2016111821001004690283673855^1879.00^SELLER_BALANCE_NOT_ENOUGH^false^null',
      'found',
      'SELLER_BALANCE_NOT_ENOUGH',
    ],
  ])('parses the real sample %s', (body, status, code) => {
    const r = parseQueryReply(body, config, 'utf-8');
    expect(r.status).toBe(status);
    expect(r.status === 'found' && r.records[0]?.code).toBe(code);
    expect(r.status === 'found' && r.records[0]?.batchNo).toBe(body.split('=')[2]!.split('^')[0]);
  });

  it('REFUND_NOT_EXIST is "not found", other F codes are errors, junk is "unavailable"', () => {
    expect(parseQueryReply('is_success=F&error_code=REFUND_NOT_EXIST', config, 'utf-8')).toMatchObject({
      status: 'not-found',
      code: 'REFUND_NOT_EXIST',
    });
    expect(parseQueryReply('is_success=F&error_code=ILLEGAL_SIGN', config, 'utf-8')).toMatchObject({
      status: 'error',
      code: 'ILLEGAL_SIGN',
    });
    expect(parseQueryReply('<html>oops</html>', config, 'utf-8').status).toBe('unavailable');
  });

  it('checks the sign of a signed reply and refuses a tampered one', () => {
    const p = { is_success: 'T', result_details: '20261121001^2011011201037066^5.00^SUCCESS' };
    const sign = signParams(p, config.signingKey, 'utf-8');
    const good = `is_success=T&result_details=${encodeURIComponent(p.result_details)}&sign_type=MD5&sign=${sign}`;
    expect(parseQueryReply(good, config, 'utf-8')).toMatchObject({ status: 'found', signed: true });
    expect(parseQueryReply(good.replace('5.00', '50.00'), config, 'utf-8').status).toBe('unavailable');
    expect(canonicalize(p)).toContain('result_details=');
  });

  describe('over HTTP', () => {
    let gw = '';
    let seen = '';
    const server = createServer((req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => {
        b += c.toString('latin1');
      });
      req.on('end', () => {
        seen = b;
        res.end('is_success=F&error_code=REFUND_NOT_EXIST');
      });
    });
    beforeAll(async () => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      gw = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gateway.do`;
    });
    afterAll(() => server.close());

    it('posts the signed query and reads the reply; an unreachable gateway is "unavailable"', async () => {
      const c = createConfig({ partner: '2088101122136241', key: KEY, gateway: gw });
      const r = await sendRefundQuery(buildRefundQuery(c, { batchNo: '20261121001' }), c);
      expect(r.status).toBe('not-found');
      expect(seen).toContain('service=refund_fastpay_query');
      const dead = createConfig({
        partner: '2088101122136241',
        key: KEY,
        gateway: 'http://127.0.0.1:1/gateway.do',
      });
      expect((await sendRefundQuery(buildRefundQuery(dead, { batchNo: '20261121001' }), dead)).status).toBe(
        'unavailable',
      );
    });
  });
});
