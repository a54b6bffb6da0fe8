/**
 * The admin API and state page against a browser elsewhere and against the network (issue 12): a Host
 * allow-list (DNS rebinding), application/json on every change (body-less cross-site simple POSTs get 415), an
 * admin token when one is set.
 */
import { openTestDatabase } from '@alirefund/store/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSandbox, hostName, isLoopbackHost, type Sandbox } from '../src/index.js';
import { baseSeed } from './helpers.js';

const open: { sandbox: Sandbox; cleanup(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.sandbox.close();
    await o.cleanup();
  }
});

async function sandboxWith(opts: { allowedHosts?: string[]; adminToken?: string } = {}) {
  const database = await openTestDatabase('sqlite');
  const sandbox = await createSandbox({ database, autoDispatch: false, ...opts });
  await sandbox.seed(baseSeed());
  open.push({ sandbox, cleanup: () => database.cleanup() });
  return sandbox;
}

const at = (host: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { host, ...(init.headers as Record<string, string>) },
});

describe('sandbox admin guard', () => {
  it.each([
    ['no content type', undefined],
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
  ])('refuses a body-less cross-site simple POST (%s) with 415', async (_what, type) => {
    const sandbox = await sandboxWith();
    for (const path of [
      '/sandbox/api/dispatch',
      '/sandbox/api/notifications/1/redeliver',
      '/sandbox/api/clock',
    ]) {
      const res = await sandbox.app.request(
        path,
        at('127.0.0.1:3100', { method: 'POST', ...(type ? { headers: { 'content-type': type } } : {}) }),
      );
      expect(res.status, path).toBe(415);
      expect(((await res.json()) as { message: string }).message).toMatch(
        /needs content-type: application\/json/,
      );
    }
    // with the JSON content type, /dispatch works (nothing is due)
    const ok = await sandbox.app.request(
      '/sandbox/api/dispatch',
      at('127.0.0.1:3100', { method: 'POST', headers: { 'content-type': 'application/json' } }),
    );
    expect(ok.status).toBe(200);
  });

  it('answers only to allowed Host names on the admin API and the state page, not on the gateway', async () => {
    const sandbox = await sandboxWith();
    for (const host of ['localhost:3100', '127.0.0.1:3100', '[::1]:3100', 'LOCALHOST']) {
      expect((await sandbox.app.request('/sandbox/api/partners', at(host))).status, host).toBe(200);
    }
    for (const host of [
      'evil.example:3100',
      'rebind.attacker.test',
      '0.0.0.0:3100',
      '127.0.0.1.evil.example',
    ]) {
      const api = await sandbox.app.request('/sandbox/api/deliveries', at(host));
      expect(api.status, host).toBe(403);
      expect(((await api.json()) as { message: string }).message).toMatch(/--allowed-hosts/);
      expect((await sandbox.app.request('/sandbox', at(host))).status).toBe(403);
    }
    // the gateway is Alipay's public face: any Host (a bad request is the gateway's own answer)
    expect((await sandbox.app.request('/gateway.do?service=x', at('evil.example'))).status).toBe(200);

    const named = await sandboxWith({ allowedHosts: ['localhost', 'sandbox.internal'] });
    expect((await named.app.request('/sandbox/api/partners', at('sandbox.internal:8650'))).status).toBe(200);
    expect((await named.app.request('/sandbox/api/partners', at('127.0.0.1:8650'))).status).toBe(403);
    const any = await sandboxWith({ allowedHosts: ['*'] });
    expect((await any.app.request('/sandbox/api/partners', at('whatever.example'))).status).toBe(200);
  });

  it('requires the admin token when one is set (Bearer), on the API and the state page', async () => {
    const token = 'sandbox-admin-token-0123456789';
    const sandbox = await sandboxWith({ adminToken: token });
    const without = await sandbox.app.request('/sandbox/api/deliveries', at('127.0.0.1'));
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = await without.text();
    expect(body).toMatch(/admin token printed at its start/);
    expect(body).not.toContain(token);
    const wrong = await sandbox.app.request(
      '/sandbox/api/deliveries',
      at('127.0.0.1', { headers: { authorization: `Bearer ${token}x` } }),
    );
    expect(wrong.status).toBe(401);
    expect((await sandbox.app.request('/sandbox', at('127.0.0.1'))).status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    expect(
      (await sandbox.app.request('/sandbox/api/deliveries', at('127.0.0.1', { headers: auth }))).status,
    ).toBe(200);
    expect((await sandbox.app.request('/sandbox', at('127.0.0.1', { headers: auth }))).status).toBe(200);
    // the gateway itself needs no admin token
    expect((await sandbox.app.request('/gateway.do?service=x', at('127.0.0.1'))).status).toBe(200);
  });

  it('hostName / isLoopbackHost', () => {
    expect(['[::1]:80', 'Example.COM:8080', '::1', 'a.example.'].map(hostName)).toEqual([
      '::1',
      'example.com',
      '::1',
      'a.example',
    ]);
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.5', 'sandbox.internal'].some(isLoopbackHost)).toBe(false);
  });
});
