/**
 * `alirefund doctor`: every finding caused by a configuration built for it, against tiny node:http servers on
 * 127.0.0.1:0 playing good and bad notify pages and gateways (real HTTP on loopback only).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnoseConfig, type Finding } from '../src/commands/doctor.js';
import { main } from '../src/main.js';
import { memoryIo } from './helpers.js';

const PARTNER = '2088101122136241';
const KEY = 'abcdefghijklmnopqrstuvwxyz012345';

/** Notify pages by path prefix: /<mode>/alipay/notify. */
function notifyPage(mode: string, res: ServerResponse): void {
  const plain = { 'content-type': 'text/plain; charset=utf-8' };
  switch (mode) {
    case 'good':
      res.writeHead(200, plain).end('fail');
      return;
    case 'html':
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<!DOCTYPE html><html><body>fail</body></html>');
      return;
    case 'bom':
      res.writeHead(200, plain).end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('fail')]));
      return;
    case 'newline':
      res.writeHead(200, plain).end('fail\r\n');
      return;
    case 'redirect':
      res.writeHead(302, { location: 'https://shop.example.com/alipay/notify' }).end();
      return;
    case 'error':
      res.writeHead(500, plain).end('fail');
      return;
    case 'cookie':
      res.writeHead(200, { ...plain, 'set-cookie': 'JSESSIONID=abc123; Path=/' }).end('fail');
      return;
    case 'success':
      res.writeHead(200, plain).end('success');
      return;
    case 'empty':
      res.writeHead(200, plain).end('');
      return;
    case 'gbk':
      res.writeHead(200, { 'content-type': 'text/plain; charset=GBK' }).end('fail');
      return;
    case 'slow':
      setTimeout(() => res.writeHead(200, plain).end('fail'), 3000).unref();
      return;
    default:
      res.writeHead(404, plain).end('not found');
  }
}

/** Gateways by path prefix: /<mode>/gateway.do. */
function gateway(mode: string, req: IncomingMessage, body: string, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const params = new URLSearchParams(body);
  const service = url.searchParams.get('service') ?? params.get('service');
  if (mode === 'html') {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to the proxy</body></html>');
    return;
  }
  if (service === 'notify_verify') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(mode === 'true' ? 'true' : 'false');
    return;
  }
  if (service === 'refund_fastpay_query') {
    res
      .writeHead(200, { 'content-type': 'text/plain' })
      .end(
        mode === 'badkey'
          ? 'is_success=F&error_code=ILLEGAL_SIGN'
          : 'is_success=F&error_code=REFUND_NOT_EXIST',
      );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end('is_success=F&error_code=ILLEGAL_SERVICE');
}

let server: Server;
let base: string;
let closedPort: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const [, mode = '', ...rest] = path.split('/');
      const tail = `/${rest.join('/')}`;
      if (tail === '/alipay/notify') notifyPage(mode, res);
      else if (tail === '/gateway.do') gateway(mode, req, Buffer.concat(chunks).toString('utf8'), res);
      else res.writeHead(404).end('not found');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function env(over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    ALIPAY_PARTNER: PARTNER,
    ALIPAY_KEY: KEY,
    ALIPAY_GATEWAY: `${base}/ok/gateway.do`,
    ALIREFUND_PUBLIC_URL: `${base}/good`,
    ...over,
  };
}

async function findings(over: Record<string, string | undefined>, timeoutMs = 2000): Promise<Finding[]> {
  return diagnoseConfig(env(over), { timeoutMs });
}

const codes = (fs: Finding[]) => fs.map((f) => f.code);
const find = (fs: Finding[], code: string) => fs.find((f) => f.code === code);

describe('alirefund doctor', () => {
  it('a good configuration: every check passes and the exit code is 0', async () => {
    const io = memoryIo({ env: env() as Record<string, string> });
    expect(await main(['doctor', '--json'], io)).toBe(0);
    const r = JSON.parse(io.out) as { ok: boolean; errors: number; findings: Finding[] };
    expect(r.ok).toBe(true);
    expect(codes(r.findings)).toEqual(
      expect.arrayContaining(['PARTNER_KEY_FORMAT_OK', 'NOTIFY_URL_OK', 'GATEWAY_OK', 'KEY_ACCEPTED']),
    );
    expect(r.findings.every((f) => f.severity === 'ok' || f.severity === 'info')).toBe(true);
    // The key never appears.
    expect(io.out).not.toContain(KEY);
  });

  it.each([
    ['html', 'NOTIFY_URL_HTML', /HTML/],
    ['bom', 'NOTIFY_URL_BOM', /byte order mark/],
    ['newline', 'NOTIFY_URL_WHITESPACE', /trailing whitespace/],
    ['redirect', 'NOTIFY_URL_REDIRECT', /HTTP 302 redirecting to https:\/\/shop\.example\.com/],
    ['error', 'NOTIFY_URL_STATUS', /HTTP 500/],
    ['success', 'NOTIFY_URL_ACCEPTS_UNSIGNED', /unsigned probe/],
    ['empty', 'NOTIFY_URL_EMPTY', /empty body/],
    ['missing', 'NOTIFY_URL_STATUS', /HTTP 404/],
  ])('a notify page answering like "%s" → %s (error, with a fix)', async (mode, code, message) => {
    const fs = await findings({ ALIREFUND_PUBLIC_URL: `${base}/${mode}` });
    const f = find(fs, code);
    expect(f, JSON.stringify(fs)).toMatchObject({ severity: 'error', check: 'notify_url' });
    expect(f!.message).toMatch(message);
    expect(f!.fix.length).toBeGreaterThan(10);
    expect(codes(fs)).not.toContain('NOTIFY_URL_OK');
  });

  it('a notify page setting a cookie → NOTIFY_URL_COOKIE (warning: exit 0 if nothing else)', async () => {
    const fs = await findings({ ALIREFUND_PUBLIC_URL: `${base}/cookie` });
    expect(find(fs, 'NOTIFY_URL_COOKIE')).toMatchObject({ severity: 'warning' });
    expect(find(fs, 'NOTIFY_URL_COOKIE')!.message).toContain('JSESSIONID');
    expect(fs.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('a notify page that does not answer in time → NOTIFY_URL_TIMEOUT', async () => {
    const fs = await findings({ ALIREFUND_PUBLIC_URL: `${base}/slow` }, 500);
    expect(find(fs, 'NOTIFY_URL_TIMEOUT')).toMatchObject({ severity: 'error' });
  });

  it('nothing listening at notify_url → NOTIFY_URL_UNREACHABLE', async () => {
    const fs = await findings({ ALIREFUND_PUBLIC_URL: `http://127.0.0.1:${closedPort}` });
    expect(find(fs, 'NOTIFY_URL_UNREACHABLE')!.message).toMatch(/ECONNREFUSED/);
  });

  it('a notify_url with ?id=123 → NOTIFY_URL_QUERY (seeds §5.2 C), not probed', async () => {
    const io = memoryIo({
      env: env({ ALIREFUND_PUBLIC_URL: `${base}/good/notify?id=123` }) as Record<string, string>,
    });
    expect(await main(['doctor'], io)).toBe(1);
    expect(io.out).toMatch(/ERROR NOTIFY_URL_QUERY: the notify_url carries a query string \(\?id=123\)/);
    expect(io.out).toMatch(/fix: remove everything from "\?" on/);
    expect(io.out).not.toContain('NOTIFY_URL_OK');
  });

  it('a relative notify_url → NOTIFY_URL_NOT_ABSOLUTE; none → NOTIFY_URL_MISSING', async () => {
    expect(codes(await findings({ ALIREFUND_PUBLIC_URL: 'shop.example.com/alipay' }))).toContain(
      'NOTIFY_URL_NOT_ABSOLUTE',
    );
    expect(codes(await findings({ ALIREFUND_PUBLIC_URL: undefined }))).toContain('NOTIFY_URL_MISSING');
  });

  it('a key with a space → KEY_HAS_SPACE; a partner with a trailing space → PARTNER_HAS_SPACE', async () => {
    const fs = await findings({ ALIPAY_KEY: `${KEY.slice(0, 10)} ${KEY.slice(11)}` });
    expect(find(fs, 'KEY_HAS_SPACE')).toMatchObject({ severity: 'error', check: 'key' });
    expect(find(fs, 'KEY_HAS_SPACE')!.message).toMatch(/a space inside it/);
    expect(JSON.stringify(fs)).not.toContain(KEY.slice(0, 10));
    const p = await findings({ ALIPAY_PARTNER: `${PARTNER} ` });
    expect(find(p, 'PARTNER_HAS_SPACE')!.message).toMatch(/leading or trailing whitespace/);
  });

  it('partner and key swapped → PARTNER_KEY_SWAPPED', async () => {
    const io = memoryIo({ env: env({ ALIPAY_PARTNER: KEY, ALIPAY_KEY: PARTNER }) as Record<string, string> });
    expect(await main(['doctor', '--json'], io)).toBe(1);
    const r = JSON.parse(io.out) as { findings: Finding[] };
    expect(find(r.findings, 'PARTNER_KEY_SWAPPED')).toMatchObject({ severity: 'error' });
    expect(find(r.findings, 'PARTNER_KEY_SWAPPED')!.fix).toMatch(/swap them/);
    expect(io.out).not.toContain(KEY);
  });

  it('a malformed partner or key → PARTNER_FORMAT / KEY_FORMAT', async () => {
    expect(codes(await findings({ ALIPAY_PARTNER: '2088123' }))).toContain('PARTNER_FORMAT');
    expect(codes(await findings({ ALIPAY_KEY: 'short' }))).toContain('KEY_FORMAT');
    expect(codes(await findings({ ALIPAY_KEY: undefined }))).toContain('KEY_MISSING');
  });

  it('a key the gateway refuses → KEY_REJECTED', async () => {
    const fs = await findings({ ALIPAY_GATEWAY: `${base}/badkey/gateway.do` });
    expect(find(fs, 'GATEWAY_OK')).toBeDefined();
    expect(find(fs, 'KEY_REJECTED')).toMatchObject({ severity: 'error' });
    expect(find(fs, 'KEY_REJECTED')!.message).toContain('ILLEGAL_SIGN');
  });

  it('a gateway answering HTML → GATEWAY_HTML; one answering true to anything → GATEWAY_SAYS_TRUE', async () => {
    const html = await findings({ ALIPAY_GATEWAY: `${base}/html/gateway.do` });
    expect(find(html, 'GATEWAY_HTML')).toMatchObject({ severity: 'error' });
    expect(find(html, 'GATEWAY_HTML')!.message).toContain('Welcome to the proxy');
    const yes = await findings({ ALIPAY_GATEWAY: `${base}/true/gateway.do` });
    expect(find(yes, 'GATEWAY_SAYS_TRUE')).toMatchObject({ severity: 'error' });
  });

  it('a gateway nobody answers at → GATEWAY_UNREACHABLE; an unresolvable host → GATEWAY_DNS', async () => {
    expect(codes(await findings({ ALIPAY_GATEWAY: `http://127.0.0.1:${closedPort}/gateway.do` }))).toContain(
      'GATEWAY_UNREACHABLE',
    );
    const dns = await findings({ ALIPAY_GATEWAY: 'http://alirefund-doctor.invalid/gateway.do' }, 3000);
    expect(codes(dns)).toContain('GATEWAY_DNS');
  });

  it('a gateway with a certificate nobody signed → GATEWAY_TLS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alirefund-doctor-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const tls = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (_req, res) => res.end('false'),
    );
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    try {
      const port = (tls.address() as AddressInfo).port;
      const fs = await findings({ ALIPAY_GATEWAY: `https://127.0.0.1:${port}/gateway.do` });
      expect(find(fs, 'GATEWAY_TLS')).toMatchObject({ severity: 'error' });
    } finally {
      tls.closeAllConnections();
      await new Promise<void>((r) => tls.close(() => r()));
    }
  });

  it('charset: gb2312 is read as gbk (info); a notify page declaring another charset → CHARSET_MISMATCH', async () => {
    const fs = await findings({ ALIPAY_INPUT_CHARSET: 'GB2312' });
    expect(find(fs, 'CHARSET_NORMALISED')).toMatchObject({ severity: 'info' });
    expect(find(fs, 'CHARSET_MISMATCH')!.message).toMatch(
      /ALIPAY_INPUT_CHARSET is gbk but the notify page declares charset=utf-8/,
    );
    const gbk = await findings({ ALIPAY_INPUT_CHARSET: 'gb2312', ALIREFUND_PUBLIC_URL: `${base}/gbk` });
    expect(find(gbk, 'CHARSET_OK')).toBeDefined();
    expect(codes(gbk)).not.toContain('CHARSET_MISMATCH');
    const bad = await findings({ ALIPAY_INPUT_CHARSET: 'latin1' });
    expect(find(bad, 'CHARSET_INVALID')).toMatchObject({ severity: 'error' });
  });

  it('a public gateway with a private notify_url → NOTIFY_URL_NOT_PUBLIC (warning)', async () => {
    const fs = await findings({ ALIPAY_GATEWAY: 'http://alirefund-doctor.invalid/gateway.do' }, 1000);
    expect(find(fs, 'NOTIFY_URL_NOT_PUBLIC')).toMatchObject({ severity: 'warning' });
    expect(find(fs, 'GATEWAY_NOT_HTTPS')).toMatchObject({ severity: 'warning' });
  });

  it('--help has an example; a bad --timeout is refused', async () => {
    const io = memoryIo();
    await main(['doctor', '--help'], io);
    expect(io.out).toMatch(/Example:\n\s+ALIPAY_PARTNER=.* alirefund doctor/);
    const bad = memoryIo({ env: env() as Record<string, string> });
    expect(await main(['doctor', '--timeout', 'soon'], bad)).toBe(1);
    expect(bad.err).toMatch(/--timeout/);
  });
});
