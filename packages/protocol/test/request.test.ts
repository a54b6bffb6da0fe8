import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RequestValidationError,
  buildRefundRequest,
  buildRefundUrl,
  createConfig,
  formAction,
  md5Sign,
  parseNopwdReply,
  renderRefundForm,
  sendNopwdRequest,
} from '../src/index.js';
import { vectors } from './vectors.js';

const KEY = '10000000000000000000000000000000';
const config = createConfig({
  partner: '2088101008267254',
  key: KEY,
  notifyUrl: 'http://api.test.alipay.net/atinterface/receive_notify.htm',
});

describe('buildRefundRequest', () => {
  it('reproduces vector C as a pwd request URL', () => {
    const v = vectors.md5.find((x) => x.id === 'C')!;
    // Vector C predates the 2088 partner ids and uses a relative notify_url, so sign it the way the reference client did.
    const params = { ...v.params };
    delete (params as Record<string, string>)['sign_type'];
    const ordered: Record<string, string> = {
      ...params,
      sign_type: 'MD5',
      sign: md5Sign(v.canonical, KEY, 'utf-8'),
    };
    const url = buildRefundUrl({
      gateway: 'https://mapi.alipay.com/gateway.do',
      charset: 'utf-8',
      params: ordered,
    } as never);
    expect(url).toBe(v.url);
  });

  it('signs a nopwd request like vector G1', () => {
    const g1 = vectors.md5.find((x) => x.id === 'G1')!;
    const req = buildRefundRequest(config, {
      mode: 'nopwd',
      batchNo: '201101120001',
      refundDate: '2011-01-12 11:21:00',
      detail: '2011011201037066^5.00^协商退款',
    });
    // G1 also sends return_type=xml; without it the canonical string is G1's minus that pair.
    expect(req.canonical).toBe(g1.canonical.replace('&return_type=xml', ''));
    expect(req.params['sign']).toBe(md5Sign(req.canonical, KEY, 'utf-8'));
    expect(Object.keys(req.params).slice(-2)).toEqual(['sign', 'sign_type']);
  });

  it('builds detail_data from records and defaults batch_num and seller_user_id', () => {
    const req = buildRefundRequest(config, {
      mode: 'pwd',
      batchNo: '20261121001',
      refundDate: '2026-11-21 10:00:00',
      detail: [
        { tradeNo: '2011011201037066', amountFen: 500, reason: '协商退款' },
        { tradeNo: '2010120607408670', amountFen: 1, reason: '备注说明一' },
      ],
    });
    expect(req.params['detail_data']).toBe('2011011201037066^5.00^协商退款#2010120607408670^0.01^备注说明一');
    expect(req.params['batch_num']).toBe('2');
    expect(req.params['seller_user_id']).toBe(config.partner);
    expect(req.recordCount).toBe(2);
  });

  it('refuses, listing every problem, what the gateway would refuse', () => {
    let err: unknown;
    try {
      buildRefundRequest(config, {
        mode: 'pwd',
        batchNo: '20261121000',
        refundDate: '2026-11-22 10:00:00',
        detail: '2011011201037066^5.00^a#2011011201037066^1.00^b',
        batchNum: 3,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RequestValidationError);
    const codes = (err as RequestValidationError).issues.map((i) => i.code).sort();
    expect(codes).toEqual([
      'BATCH_NO_FORMAT_ERROR',
      'BATCH_NUM_NOT_EQUAL_TOTAL',
      'DUBL_TRADE_NO_IN_SAME_BATCH',
    ]);
  });

  it('refuses a refund_date on another day than batch_no', () => {
    expect(() =>
      buildRefundRequest(config, {
        mode: 'nopwd',
        batchNo: '20261121001',
        refundDate: '2026-11-22 00:00:01',
        detail: '2011011201037066^5.00^a',
      }),
    ).toThrow(/REFUND_DATE_ERROR/);
  });
});

describe('renderRefundForm', () => {
  const req = buildRefundRequest(config, {
    mode: 'pwd',
    batchNo: '20261121001',
    refundDate: '2026-11-21 10:00:00',
    detail: '2011011201037066^5.00^"><script>alert(1)</script>',
  });

  it('posts to gateway.do?_input_charset=… with only the request parameters, escaped', () => {
    const html = renderRefundForm(req);
    expect(html).toContain(`action="${formAction(req)}"`);
    expect(formAction(req)).toBe('https://mapi.alipay.com/gateway.do?_input_charset=utf-8');
    expect(html).toContain('method="post"');
    expect(html).toContain('<input type="hidden" name="_input_charset" value="utf-8"/>');
    const names = [...html.matchAll(/<input [^>]*name="([^"]+)"/g)].map((m) => m[1]);
    expect(names.sort()).toEqual(Object.keys(req.params).sort());
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toMatch(/<button type="submit">[^<]+<\/button>/);
    expect(html).toContain("document.getElementById('alipaysubmit').submit()");
  });

  it('supports GET and a CSP nonce', () => {
    const html = renderRefundForm(req, { method: 'GET', nonce: 'abc' });
    expect(html).toContain('method="get"');
    expect(html).toContain('<script nonce="abc">');
  });

  it('refuses a redirect URL that would be too long', () => {
    const many = Array.from({ length: 60 }, (_, i) => `${2011011201037000 + i}^1.00^协商退款`).join('#');
    const big = buildRefundRequest(config, {
      mode: 'pwd',
      batchNo: '20261121001',
      refundDate: '2026-11-21 10:00:00',
      detail: many,
    });
    expect(() => buildRefundUrl(big)).toThrow(RangeError);
  });
});

describe('nopwd replies', () => {
  it('classifies T, P, F and the outcome-unknown codes', () => {
    expect(
      parseNopwdReply('<?xml version="1.0" encoding="utf-8"?><alipay><is_success>T</is_success></alipay>'),
    ).toMatchObject({ status: 'accepted', isSuccess: 'T' });
    expect(parseNopwdReply('<alipay><is_success>P</is_success></alipay>')).toMatchObject({
      status: 'accepted',
      isSuccess: 'P',
    });
    const f = parseNopwdReply(
      '<alipay><is_success>F</is_success><error>BATCH_NO_FORMAT_ERROR</error></alipay>',
    );
    expect(f).toMatchObject({ status: 'rejected', code: 'BATCH_NO_FORMAT_ERROR' });
    expect(f.status === 'rejected' && f.info.zh).toBeTruthy();
    for (const code of ['SYSTEM_ERROR', 'UNKNOWN_EXCEPTION', 'GENERIC_FAILURE']) {
      expect(
        parseNopwdReply(`<alipay><is_success>F</is_success><error>${code}</error></alipay>`),
      ).toMatchObject({ status: 'unknown', reason: 'gateway-system-error', code });
    }
    expect(parseNopwdReply('<html>502 Bad Gateway</html>')).toMatchObject({
      status: 'unknown',
      reason: 'bad-response',
    });
  });

  describe('over HTTP', () => {
    let url = '';
    let lastBody = '';
    let lastUrl = '';
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        lastBody = Buffer.concat(chunks).toString('latin1');
        lastUrl = req.url ?? '';
        if (lastBody.includes('slow')) return; // never answers
        res.end('<?xml version="1.0" encoding="utf-8"?><alipay><is_success>T</is_success></alipay>');
      });
    });
    beforeAll(async () => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gateway.do`;
    });
    afterAll(() => {
      server.closeAllConnections();
      server.close();
    });

    it('posts the form body in the request charset and reads T', async () => {
      const gbk = createConfig({ partner: '2088101008267254', key: KEY, inputCharset: 'gbk', gateway: url });
      const req = buildRefundRequest(gbk, {
        mode: 'nopwd',
        batchNo: '20261121001',
        refundDate: '2026-11-21 10:00:00',
        detail: '2011011201037066^5.00^退款',
      });
      const r = await sendNopwdRequest(req);
      expect(r.status).toBe('accepted');
      expect(lastUrl).toBe('/gateway.do?_input_charset=gbk');
      expect(lastBody).toContain('detail_data=2011011201037066%5E5.00%5E%CD%CB%BF%EE');
    });

    it('a timeout is "outcome unknown", not a failure to resubmit', async () => {
      const c = createConfig({ partner: '2088101008267254', key: KEY, gateway: url });
      const req = buildRefundRequest(c, {
        mode: 'nopwd',
        batchNo: '20261121001',
        refundDate: '2026-11-21 10:00:00',
        detail: '2011011201037066^5.00^slow',
      });
      const r = await sendNopwdRequest(req, { timeoutMs: 200 });
      expect(r).toMatchObject({ status: 'unknown', reason: 'timeout', code: 'TRANSPORT_ERROR' });
    });

    it('a refused connection is "outcome unknown" too', async () => {
      const c = createConfig({
        partner: '2088101008267254',
        key: KEY,
        gateway: 'http://127.0.0.1:1/gateway.do',
      });
      const req = buildRefundRequest(c, {
        mode: 'nopwd',
        batchNo: '20261121001',
        refundDate: '2026-11-21 10:00:00',
        detail: '2011011201037066^5.00^x',
      });
      expect(await sendNopwdRequest(req)).toMatchObject({ status: 'unknown', reason: 'transport' });
    });
  });
});
