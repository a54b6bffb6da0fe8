/**
 * Issue 12's hardening findings on the server: the bootstrap API token is replaced when ALIREFUND_API_TOKEN
 * changes; tokens expire, are revoked and show their last use; unknown assets are a plain 404; nosniff on every
 * answer; HSTS over https (never from an untrusted X-Forwarded-Proto); /readyz touches the database;
 * ALIREFUND_TRUSTED_PROXIES is validated.
 */
import { openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createServer,
  makeSettings,
  parseServerEnv,
  type AlirefundServer,
  type ServerDB,
} from '../src/index.js';
import { ADMIN_PASSWORD, ConsoleClient } from './console-helpers.js';
import { makeConfig } from './helpers.js';

const T0 = Date.parse('2026-03-01T08:00:00.000Z');
const TOKEN_A = 'bootstrap-token-aaaaaaaaaaaaaaaa';
const TOKEN_B = 'bootstrap-token-bbbbbbbbbbbbbbbb';

const open: { server?: AlirefundServer; database: TestDatabase<ServerDB> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.server?.close();
    await o.database.cleanup();
  }
});

interface Logged {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

function recordingLogger(lines: Logged[]) {
  const make = (): unknown => {
    const at =
      (level: string) =>
      (obj: unknown, msg?: string): void => {
        lines.push({ level, obj, msg });
      };
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
      child: () => make(),
    };
  };
  return make() as never;
}

async function start(
  database: TestDatabase<ServerDB>,
  opts: {
    apiToken?: string;
    publicUrl?: string;
    trustedProxies?: string[];
    now?: { ms: number };
    log?: Logged[];
  } = {},
) {
  const now = opts.now ?? { ms: T0 };
  return createServer({
    settings: makeSettings({
      alipay: makeConfig('http://127.0.0.1:9/gateway.do'),
      publicUrl: opts.publicUrl ?? 'http://127.0.0.1:1',
      adminPassword: ADMIN_PASSWORD,
      ...(opts.apiToken ? { apiToken: opts.apiToken } : {}),
      ...(opts.trustedProxies ? { trustedProxies: opts.trustedProxies } : {}),
    }),
    database,
    clock: () => now.ms,
    background: false,
    ...(opts.log ? { log: recordingLogger(opts.log) } : {}),
  });
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('API tokens', () => {
  it('replaces the bootstrap token when ALIREFUND_API_TOKEN changes (the old one stops working)', async () => {
    const database = await openTestDatabase<ServerDB>('sqlite');
    open.push({ database });
    const first = await start(database, { apiToken: TOKEN_A });
    expect((await first.app.request('/api/dashboard', bearer(TOKEN_A))).status).toBe(200);
    await first.close();
    const second = await start(database, { apiToken: TOKEN_B });
    open[0]!.server = second;
    expect((await second.app.request('/api/dashboard', bearer(TOKEN_B))).status).toBe(200);
    const old = await second.app.request('/api/dashboard', bearer(TOKEN_A));
    expect(old.status).toBe(401);
    const tokens = await second.services.tokens.list();
    expect(tokens.filter((t) => t.bootstrap && !t.revoked)).toHaveLength(1);
    expect(tokens.filter((t) => t.bootstrap && t.revoked)).toHaveLength(1);
    // starting again with the same value changes nothing
    await second.services.tokens.ensureBootstrap(TOKEN_B);
    expect((await second.services.tokens.list()).filter((t) => !t.revoked)).toHaveLength(1);
    // an instance still started with the old value (rolling deploy) replaces nothing, and the old value stays refused
    await second.services.tokens.ensureBootstrap(TOKEN_A);
    expect((await second.app.request('/api/dashboard', bearer(TOKEN_B))).status).toBe(200);
    expect((await second.app.request('/api/dashboard', bearer(TOKEN_A))).status).toBe(401);
    // a token someone named "bootstrap" is not the bootstrap token
    const named = await second.services.tokens.create('bootstrap', 'cli');
    await second.services.tokens.ensureBootstrap(TOKEN_A.replace('a', 'c'));
    expect((await second.app.request('/api/dashboard', bearer(named.token))).status).toBe(200);
    const audit = await second.services.audit.list({});
    expect(JSON.stringify(audit)).not.toContain(TOKEN_A);
    expect(JSON.stringify(audit)).not.toContain(TOKEN_B);
  });

  it('expires a token at the end of its lifetime, and records its last use at most once a minute', async () => {
    const database = await openTestDatabase<ServerDB>('sqlite');
    const now = { ms: T0 };
    const server = await start(database, { now });
    open.push({ server, database });
    const { token, expiresAt } = await server.services.tokens.create('ci', 'cli', { expiresInDays: 7 });
    expect(expiresAt).toBe('2026-03-08T08:00:00.000Z');
    await expect(server.services.tokens.create('x', 'cli', { expiresInDays: 0 })).rejects.toThrow(
      /lifetime must be a whole number of days/,
    );

    expect((await server.app.request('/api/dashboard', bearer(token))).status).toBe(200);
    // Listing tokens is an admin's business once roles exist (auth/roles.ts): give this one the admin scope.
    const scopes = (
      server.services as { tokenScopes?: { set(id: number, s: string, a: string): Promise<void> } }
    ).tokenScopes;
    await scopes?.set((await server.services.tokens.list())[0]!.id, 'admin', 'test');
    const list = (await (await server.app.request('/api/tokens', bearer(token))).json()) as {
      tokens: { name: string; lastUsedAt: string | null; expiresAt: string | null }[];
    };
    expect(list.tokens).toEqual([
      expect.objectContaining({ name: 'ci', lastUsedAt: '2026-03-01T08:00:00.000Z', expiresAt }),
    ]);
    expect(JSON.stringify(list)).not.toContain(token);
    now.ms += 30_000;
    await server.app.request('/api/dashboard', bearer(token));
    expect((await server.services.tokens.list())[0]!.lastUsedAt).toBe('2026-03-01T08:00:00.000Z');
    now.ms += 60_000;
    await server.app.request('/api/dashboard', bearer(token));
    expect((await server.services.tokens.list())[0]!.lastUsedAt).toBe('2026-03-01T08:01:30.000Z');

    now.ms = Date.parse(expiresAt!);
    const expired = await server.app.request('/api/dashboard', bearer(token));
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { message: string }).message).toMatch(/expired/);
    expect((await server.services.tokens.list())[0]).toMatchObject({ expired: true, revoked: false });
  });

  it('the console creates an expiring token and shows its last use and expiry', async () => {
    const database = await openTestDatabase<ServerDB>('sqlite');
    const now = { ms: T0 };
    const server = await start(database, { now });
    open.push({ server, database });
    const b = new ConsoleClient(server.app);
    await b.login();
    const created = await b.post('/tokens?lang=en', { name: 'nightly', expires: '30' });
    expect(created.status).toBe(201);
    const token = /id="new-token-value">([^<]+)</.exec(created.html)![1]!;
    now.ms += 5 * 60_000;
    await server.app.request('/api/dashboard', bearer(token));
    const page = await b.get('/tokens?lang=en');
    const row = /<tr data-token="1">[\s\S]*?<\/tr>/.exec(page.html)![0];
    expect(row).toMatch(/class="expires"><time[^>]*>2026-03-31/);
    expect(row).toMatch(/class="last-used"><time[^>]*>2026-03-01 16:05/);
    expect(page.html).not.toContain(token);
    now.ms += 31 * 86_400_000;
    await b.login();
    expect((await b.get('/tokens?lang=en')).html).toMatch(/<tr data-token="1">[\s\S]*?badge-off">expired</);
  });
});

describe('headers and assets', () => {
  it('GET /assets/<unknown> is a plain 404 and logs nothing', async () => {
    const database = await openTestDatabase<ServerDB>('sqlite');
    const log: Logged[] = [];
    const server = await start(database, { log });
    open.push({ server, database });
    for (const path of ['/assets/nope.js', '/assets/a/b/c.css', '/assets/console.css.map']) {
      const res = await server.app.request(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toBe('not found');
    }
    expect(log.filter((l) => l.level === 'error')).toEqual([]);
    expect((await server.app.request('/assets/console.css')).status).toBe(200);
  });

  it('a malformed multipart body (found by fuzzing) is a 400 naming the problem, not a 500 with a stack trace', async () => {
    const database = await openTestDatabase<ServerDB>('sqlite');
    const log: Logged[] = [];
    const server = await start(database, { log });
    open.push({ server, database });
    for (const type of ['multipart/form-data', 'multipart/form-data; boundary=x']) {
      const res = await server.app.request('/login?lang=en', {
        method: 'POST',
        headers: { 'content-type': type },
        body: '--y\r\nnot a part',
      });
      expect(res.status, type).toBe(400);
      expect(await res.text()).toMatch(/could not be read as multipart\/form-data/);
    }
    expect(log.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('sends nosniff on every answer: JSON API (also its 401), notify, ops, console', async () => {
    const database = await openTestDatabase<ServerDB>('sqlite');
    const server = await start(database, { apiToken: TOKEN_A });
    open.push({ server, database });
    for (const [path, init] of [
      ['/api/dashboard', bearer(TOKEN_A)],
      ['/api/dashboard', {}],
      ['/api/nope', bearer(TOKEN_A)],
      ['/alipay/notify', { method: 'POST', body: 'a=b' }],
      ['/healthz', {}],
      ['/readyz', {}],
      ['/login', {}],
      ['/favicon.ico', {}],
    ] as const) {
      const res = await server.app.request(path, init);
      expect(res.headers.get('x-content-type-options'), `${path} ${res.status}`).toBe('nosniff');
    }
  });

  it('sends HSTS when served over https, and never for an untrusted X-Forwarded-Proto', async () => {
    const database = await openTestDatabase<ServerDB>('sqlite');
    const plain = await start(database, { trustedProxies: ['10.0.0.1'] });
    open.push({ server: plain, database });
    const fromProxy = (proxy: string) => ({ incoming: { socket: { remoteAddress: proxy } } });
    const https = { headers: { 'x-forwarded-proto': 'https' } };
    expect((await plain.app.request('/login')).headers.get('strict-transport-security')).toBeNull();
    expect(
      (await plain.app.request('/login', https, fromProxy('198.51.100.1'))).headers.get(
        'strict-transport-security',
      ),
    ).toBeNull();
    const viaProxy = await plain.app.request('/api/dashboard', https, fromProxy('10.0.0.1'));
    expect(viaProxy.headers.get('strict-transport-security')).toBe('max-age=31536000');
    // and the login cookie is Secure only then
    const login = await plain.app.request('/login', https, fromProxy('198.51.100.1'));
    expect(login.headers.getSetCookie().join()).not.toMatch(/Secure/);

    const database2 = await openTestDatabase<ServerDB>('sqlite');
    const public_ = await start(database2, { publicUrl: 'https://refunds.example.com' });
    open.push({ server: public_, database: database2 });
    for (const path of ['/login', '/api/dashboard', '/readyz']) {
      expect((await public_.app.request(path)).headers.get('strict-transport-security')).toBe(
        'max-age=31536000',
      );
    }
  });

  it('/readyz touches the database: 503 naming the database when it does not answer', async () => {
    const database = await openTestDatabase<ServerDB>('sqlite');
    const server = await start(database);
    open.push({ database });
    expect((await server.app.request('/readyz')).status).toBe(200);
    await server.close();
    await database.close();
    const res = await server.app.request('/readyz');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, string> };
    expect(body.checks['database']).not.toBe('ok');
  });
});

describe('ALIREFUND_TRUSTED_PROXIES', () => {
  const base = {
    ALIPAY_PARTNER: '2088101122136241',
    ALIPAY_KEY: 'a'.repeat(32),
    ALIREFUND_PUBLIC_URL: 'https://shop.example.com',
  };
  it('takes IPs and CIDRs, and names a bad entry with what to write', () => {
    expect(
      parseServerEnv({ ...base, ALIREFUND_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,fd00::/8' }).trustedProxies,
    ).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    expect(parseServerEnv(base).trustedProxies).toEqual([]);
    expect(() => parseServerEnv({ ...base, ALIREFUND_TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(
      /ALIREFUND_TRUSTED_PROXIES: "10.0.0.0\/33" has a prefix length outside 0..32/,
    );
    expect(() => parseServerEnv({ ...base, ALIREFUND_TRUSTED_PROXIES: 'proxy.internal' })).toThrow(
      /ALIREFUND_TRUSTED_PROXIES: "proxy.internal" is not an IP address or a CIDR range/,
    );
  });
});
