/**
 * The pwd result page leads back to the merchant's console (issue 13 point 10): a link to the batch's page at
 * the notify_url's origin, none without an http(s) notify_url.
 */
import { describe, expect, it } from 'vitest';
import { consoleLink, resultPage } from '../src/pages.js';

describe('pwd result page', () => {
  it('links back to the console at the notify_url origin', () => {
    const html = String(
      resultPage({
        batchNo: '20261204001',
        recordCount: 2,
        successNum: 2,
        notifyUrl: 'http://127.0.0.1:3000/alipay/notify',
      }),
    );
    expect(html).toContain(
      '<a id="back-to-console" href="http://127.0.0.1:3000/batches/20261204001">返回商户退款控制台',
    );
  });

  it('shows no link without an http(s) notify_url', () => {
    expect(
      String(resultPage({ batchNo: 'B', recordCount: 1, successNum: null, notifyUrl: null })),
    ).not.toContain('back-to-console');
    expect(consoleLink('ftp://example.com/x', 'B')).toBeNull();
    expect(consoleLink('not a url', 'B')).toBeNull();
  });
});
