/**
 * Console login throttling (issue 12, decision 30): kept in the database per username and per client address,
 * growing waits instead of a lock, never cleared wholesale, surviving restarts and shared by instances;
 * `X-Forwarded-For` believed only from `ALIREFUND_TRUSTED_PROXIES`.
 */
import type { Dialect } from '@alirefund/store';
import { dialectsUnderTest, openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import type { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { type AlirefundServer, createServer, makeSettings, type ServerDB } from '../src/index.js';
import {
  addressKey,
  createLoginThrottle,
  userKey,
  waitAfter,
  USER_POLICY,
} from '../src/services/login-throttle.js';
import { ADMIN_PASSWORD, ConsoleClient } from './console-helpers.js';
import { makeConfig } from './helpers.js';

const T0 = Date.parse('2026-03-01T08:00:00.000Z');

interface Rig {
  database: TestDatabase<ServerDB>;
  now: { ms: number };
  servers: AlirefundServer[];
  start(opts?: { trustedProxies?: string[] }): Promise<AlirefundServer>;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    for (const s of r.servers) await s.close();
    await r.database.cleanup();
  }
});

async function rig(dialect: Dialect = 'sqlite'): Promise<Rig> {
  const database = await openTestDatabase<ServerDB>(dialect);
  const now = { ms: T0 };
  const r: Rig = {
    database,
    now,
    servers: [],
    async start(opts = {}) {
      const server = await createServer({
        settings: makeSettings({
          alipay: makeConfig('http://127.0.0.1:9/gateway.do'),
          publicUrl: 'http://127.0.0.1:1',
          adminPassword: ADMIN_PASSWORD,
          ...(opts.trustedProxies ? { trustedProxies: opts.trustedProxies } : {}),
        }),
        database,
        clock: () => now.ms,
        background: false,
      });
      r.servers.push(server);
      return server;
    },
  };
  rigs.push(r);
  return r;
}

/** A console client whose requests come from socket peer `peer` (with optional extra headers). */
function clientFrom(app: Hono, peer: string, headers: Record<string, string> = {}): ConsoleClient {
  const via = {
    request: (path: string, init: RequestInit = {}) =>
      app.request(
        path,
        { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } },
        { incoming: { socket: { remoteAddress: peer } } },
      ),
  };
  return new ConsoleClient(via as unknown as Hono);
}

async function tryLogin(c: ConsoleClient, username: string, password: string) {
  if (!c.cookies.has('alirefund_login_csrf')) await c.get('/login?lang=en');
  return c.post('/login', { username, password });
}

describe('login throttling', () => {
  it('makes a user wait 1 s after 5 failures, refuses even the right password then with "try again in", and lets it in after the wait', async () => {
    const r = await rig();
    const s = await r.start();
    const c = clientFrom(s.app, '203.0.113.7');
    for (let i = 0; i < 5; i++) expect((await tryLogin(c, 'admin', `wrong-${i}`)).status).toBe(401);
    const refused = await tryLogin(c, 'admin', ADMIN_PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.html).toContain('try again in 1 s');
    expect(c.cookies.has('alirefund_session')).toBe(false);
    r.now.ms += 1000;
    expect((await tryLogin(c, 'admin', ADMIN_PASSWORD)).status).toBe(303);
    // the success starts the username afresh
    expect(await s.services.sessions.loginThrottle.peek(userKey('admin'))).toBeNull();
  });

  it('grows the wait 2^k s per further failure, caps it at 5 minutes, and never counts refused attempts', async () => {
    const r = await rig();
    const s = await r.start();
    const c = clientFrom(s.app, '203.0.113.8');
    for (let i = 0; i < 5; i++) await tryLogin(c, 'admin', 'wrong');
    const waits: string[] = [];
    for (let k = 0; k < 12; k++) {
      const res = await tryLogin(c, 'admin', 'wrong');
      expect(res.status).toBe(429);
      waits.push(res.headers.get('retry-after')!);
      // hammering while waiting changes nothing
      for (let j = 0; j < 3; j++) expect((await tryLogin(c, 'admin', 'wrong')).status).toBe(429);
      r.now.ms += Number(res.headers.get('retry-after')) * 1000;
      expect((await tryLogin(c, 'admin', 'wrong')).status).toBe(401);
    }
    expect(waits).toEqual(['1', '2', '4', '8', '16', '32', '64', '128', '256', '300', '300', '300']);
    // the real operator is never kept out longer than the cap
    r.now.ms += USER_POLICY.capMs;
    expect((await tryLogin(c, 'admin', ADMIN_PASSWORD)).status).toBe(303);
  });

  it('limits many usernames from one address (the address key), not other addresses', async () => {
    const r = await rig();
    const s = await r.start();
    const attacker = clientFrom(s.app, '198.51.100.66');
    for (let i = 0; i < 20; i++) {
      expect((await tryLogin(attacker, `user${i}`, 'guess')).status).toBe(401);
    }
    const refused = await tryLogin(attacker, 'admin', ADMIN_PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.html).toContain('from your address');
    // admin's own count was not touched by the address's refusal
    expect(await s.services.sessions.loginThrottle.peek(userKey('admin'))).toBeNull();
    expect((await tryLogin(clientFrom(s.app, '192.0.2.10'), 'admin', ADMIN_PASSWORD)).status).toBe(303);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const r = await rig();
    const s = await r.start({ trustedProxies: ['10.0.0.0/8'] });
    // Behind the proxy: each client is its own address, so one client's guesses don't shut out the others.
    const viaProxy = (client: string) => clientFrom(s.app, '10.0.0.5', { 'x-forwarded-for': client });
    const attacker = viaProxy('198.51.100.66');
    for (let i = 0; i < 20; i++) await tryLogin(attacker, `user${i}`, 'guess');
    expect((await tryLogin(attacker, 'someone', 'guess')).status).toBe(429);
    expect((await tryLogin(viaProxy('192.0.2.10'), 'admin', ADMIN_PASSWORD)).status).toBe(303);
    // A spoofed left-hand entry doesn't help: the proxy appended the real address on the right.
    expect((await tryLogin(viaProxy('192.0.2.99, 198.51.100.66'), 'someone', 'guess')).status).toBe(429);
    // Straight from the internet, X-Forwarded-For is ignored: the peer is the address.
    const direct = (spoof: string) => clientFrom(s.app, '198.51.100.77', { 'x-forwarded-for': spoof });
    for (let i = 0; i < 20; i++) await tryLogin(direct(`192.0.2.${i}`), `other${i}`, 'guess');
    expect((await tryLogin(direct('192.0.2.200'), 'someone', 'guess')).status).toBe(429);
    expect(await s.services.sessions.loginThrottle.peek(addressKey('198.51.100.77'))).toMatchObject({
      failures: 20,
    });
  });

  it('is not cleared by 10,001 failures under other usernames', async () => {
    const r = await rig();
    const s = await r.start();
    const c = clientFrom(s.app, '203.0.113.9');
    for (let i = 0; i < 6; i++) await tryLogin(c, 'admin', 'wrong');
    const throttle = s.services.sessions.loginThrottle;
    for (let i = 0; i < 10_001; i++) {
      await throttle.attempt(`random-${i}`, `2001:db8::${(i % 65535).toString(16)}`);
    }
    expect((await tryLogin(c, 'admin', ADMIN_PASSWORD)).status).toBe(429);
  }, 120_000);

  describe.each(dialectsUnderTest())('%s', (dialect) => {
    it('survives a restart and is shared by every instance on the database', async () => {
      const r = await rig(dialect);
      const a = await r.start();
      for (let i = 0; i < 5; i++) await tryLogin(clientFrom(a.app, '203.0.113.1'), 'admin', 'wrong');
      await a.close();
      const b = await r.start();
      const other = await r.start();
      const fromB = await tryLogin(clientFrom(b.app, '203.0.113.2'), 'admin', ADMIN_PASSWORD);
      expect(fromB.status).toBe(429);
      r.now.ms += 1000;
      await tryLogin(clientFrom(b.app, '203.0.113.2'), 'admin', 'wrong'); // 6th failure: 2 s
      r.now.ms += 1000;
      expect((await tryLogin(clientFrom(other.app, '203.0.113.3'), 'admin', ADMIN_PASSWORD)).status).toBe(
        429,
      );
    });

    it('lets only the free attempts through when they come all at once', async () => {
      const r = await rig(dialect);
      const s = await r.start();
      const throttle = createLoginThrottle({ database: r.database, clock: () => r.now.ms });
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => throttle.attempt('admin', `198.51.100.${i}`)),
      );
      expect(results.filter((x) => x.allowed)).toHaveLength(5);
      expect(await s.services.sessions.loginThrottle.peek(userKey('admin'))).toMatchObject({ failures: 5 });
    });
  });

  it('waitAfter: free failures wait 0, then 1 s doubling up to the cap', () => {
    expect([4, 5, 6, 7, 13, 14, 99].map((n) => waitAfter(n, USER_POLICY))).toEqual([
      0, 1000, 2000, 4000, 256_000, 300_000, 300_000,
    ]);
  });
});
