/**
 * The console's operator management (`/operators`): create, reset a password, disable / enable, no
 * self-disable, CSRF on every action, the audit log, and no password in any page, log line or audit entry.
 * In-process on every dialect under test, and once over a real socket.
 */
import { dialectsUnderTest } from '@alirefund/store/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../src/log.js';
import { ADMIN_PASSWORD, ConsoleClient, type ConsoleServer, startConsoleServer } from './console-helpers.js';
import { listen } from './helpers.js';

const ALICE_PW = 'alice-initial-Pw1';
const ALICE_PW2 = 'alice-second-Pw2';

/** A logger that keeps every line, to check that no password is ever logged. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (obj: object, msg?: string) => {
    lines.push(`${JSON.stringify(obj)} ${msg ?? ''}`);
  };
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

describe.each(dialectsUnderTest())('console operators (%s)', (dialect) => {
  let s: ConsoleServer;
  let admin: ConsoleClient;
  let log: ReturnType<typeof recordingLogger>;

  beforeEach(async () => {
    log = recordingLogger();
    s = await startConsoleServer({ dialect, log });
    admin = new ConsoleClient(s.app);
    expect((await admin.login()).status).toBe(303);
  });
  afterEach(async () => {
    await s.cleanup();
  });

  const idOf = async (username: string) =>
    (await s.server.services.operators.list()).find((o) => o.username === username)!.id;

  async function createAlice(): Promise<void> {
    await admin.get('/operators');
    const res = await admin.post('/operators', {
      username: 'alice',
      display_name: 'Alice <b>Li</b>',
      password: ALICE_PW,
    });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/operators?msg=created&u=alice');
  }

  /** Every page, log line and audit entry so far, checked for the passwords. */
  async function expectNoPasswordAnywhere(pages: string[]): Promise<void> {
    const audit = JSON.stringify(await s.server.services.audit.list({ limit: 500 }));
    for (const pw of [ALICE_PW, ALICE_PW2, ADMIN_PASSWORD]) {
      for (const p of pages) expect(p).not.toContain(pw);
      expect(audit).not.toContain(pw);
      expect(log.lines.join('\n')).not.toContain(pw);
    }
  }

  it('lists operators in the navigation, with the signed-in one marked and no disable button for them', async () => {
    const page = await admin.get('/operators');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<a href="/operators" class="active" aria-current="page">操作员</a>');
    expect(page.html).toMatch(/<tr data-operator="admin">[\s\S]*?当前账号/);
    const adminId = await idOf('admin');
    expect(page.html).not.toContain(`action="/operators/${adminId}/disable"`);
    // One's own password changes on /account, with the current one.
    expect(page.html).not.toContain(`action="/operators/${adminId}/password"`);
    expect(page.html).toMatch(/<tr data-operator="admin">[\s\S]*?href="\/account"/);
    // Every page links to it.
    expect((await admin.get('/dashboard')).html).toContain('href="/operators"');
    const en = await admin.get('/operators?lang=en');
    expect(en.html).toContain('<h1>Operators</h1>');
  });

  it('creates an operator who can sign in; audited, escaped, and the password is never shown or logged', async () => {
    await createAlice();
    const list = await admin.get('/operators?msg=created&u=alice');
    expect(list.html).toContain('已创建操作员 alice。');
    expect(list.html).toContain('Alice &lt;b&gt;Li&lt;/b&gt;');
    expect(list.html).toMatch(/<tr data-operator="alice">[\s\S]*?data-operator-status="enabled"/);
    expect(list.html).toContain(`action="/operators/${await idOf('alice')}/disable"`);

    const alice = new ConsoleClient(s.app);
    expect((await alice.login('alice', ALICE_PW)).status).toBe(303);
    const dash = await alice.get('/dashboard');
    expect(dash.status).toBe(200);
    expect(dash.html).toContain('Alice &lt;b&gt;Li&lt;/b&gt;');

    const audit = await s.server.services.audit.list({ action: 'operator.create' });
    expect(audit.items.map((e) => [e.actor, e.target])).toEqual([
      ['operator:admin', 'alice'],
      ['system', 'admin'], // the bootstrap admin
    ]);
    await expectNoPasswordAnywhere([list.html, dash.html]);
  });

  it('refuses a bad new operator with the form back (username kept, password not), creating nothing', async () => {
    await admin.get('/operators');
    const short = await admin.post('/operators', { username: 'bob', password: 'short' });
    expect(short.status).toBe(422);
    expect(short.html).toContain('at least 8 characters');
    expect(short.html).toContain('name="username" value="bob"');
    expect(short.html).not.toMatch(/name="password"[^>]*value=/);
    const badName = await admin.post('/operators', { username: 'bob smith', password: 'long-enough-1' });
    expect(badName.status).toBe(422);
    expect(badName.html).not.toContain('long-enough-1');
    const dup = await admin.post('/operators', { username: 'admin', password: 'long-enough-1' });
    expect(dup.status).toBe(409);
    expect(dup.html).toContain('already exists');
    expect((await s.server.services.operators.list()).map((o) => o.username)).toEqual(['admin']);
  });

  it('refuses every operator action without the session CSRF token (403), doing nothing', async () => {
    await createAlice();
    const aliceId = await idOf('alice');
    for (const [path, fields] of [
      ['/operators', { username: 'mallory', password: 'mallory-pw-1' }],
      [`/operators/${aliceId}/password`, { password: 'hijacked-pw-1' }],
      [`/operators/${aliceId}/disable`, {}],
    ] as const) {
      expect((await admin.post(path, fields, { csrf: null })).status, path).toBe(403);
      expect((await admin.post(path, fields, { csrf: 'forged-token' })).status, path).toBe(403);
    }
    expect((await s.server.services.operators.list()).map((o) => o.username)).toEqual(['admin', 'alice']);
    expect((await s.server.services.operators.get(aliceId))?.disabled).toBe(false);
    expect(await s.server.services.operators.authenticate('alice', ALICE_PW)).not.toBeNull();
    // And without a session at all.
    const anon = new ConsoleClient(s.app);
    expect((await anon.post(`/operators/${aliceId}/disable`, {}, { csrf: 'x' })).status).toBe(403);
    expect((await s.server.services.operators.get(aliceId))?.disabled).toBe(false);
  });

  it('resets a password: the old one stops working and so do their sessions', async () => {
    await createAlice();
    const alice = new ConsoleClient(s.app);
    await alice.login('alice', ALICE_PW);
    expect((await alice.get('/trades')).status).toBe(200);

    await admin.get('/operators');
    const short = await admin.post(`/operators/${await idOf('alice')}/password`, { password: 'short' });
    expect(short.status).toBe(422);
    expect((await alice.get('/trades')).status).toBe(200);

    const res = await admin.post(`/operators/${await idOf('alice')}/password`, { password: ALICE_PW2 });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/operators?msg=password&u=alice');
    const after = await admin.get(res.location!);
    expect(after.html).toContain('已重置 alice 的密码');

    expect((await alice.get('/trades')).status).toBe(303);
    const again = new ConsoleClient(s.app);
    expect((await again.login('alice', ALICE_PW)).status).toBe(401);
    expect((await again.login('alice', ALICE_PW2)).status).toBe(303);

    const audit = await s.server.services.audit.list({ action: 'operator.set_password' });
    expect(audit.items.map((e) => [e.actor, e.target, e.details])).toEqual([
      ['operator:admin', 'alice', null],
    ]);
    await expectNoPasswordAnywhere([after.html, res.html]);
  });

  it('one’s own password changes only with the current one (on /account), and signs one out', async () => {
    await admin.get('/operators');
    // Not through the operators page, even for an admin.
    const viaReset = await admin.post(`/operators/${await idOf('admin')}/password`, { password: ALICE_PW2 });
    expect(viaReset.status).toBe(403);
    expect(await s.server.services.operators.authenticate('admin', ADMIN_PASSWORD)).not.toBeNull();
    const page = await admin.get('/account');
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="current"');
    const wrong = await admin.post('/account/password', { current: 'not-the-password', password: ALICE_PW2 });
    expect(wrong.status).toBe(422);
    expect(wrong.html).toContain('当前密码不正确');
    expect((await admin.get('/dashboard')).status).toBe(200);
    const res = await admin.post('/account/password', { current: ADMIN_PASSWORD, password: ALICE_PW2 });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/login');
    expect((await admin.get('/dashboard')).status).toBe(303);
    const back = new ConsoleClient(s.app);
    expect((await back.login('admin', ALICE_PW2)).status).toBe(303);
    const audit = await s.server.services.audit.list({ action: 'operator.change_own_password' });
    expect(audit.items.map((e) => [e.actor, e.target])).toEqual([['operator:admin', 'admin']]);
    await expectNoPasswordAnywhere([page.html, wrong.html, res.html]);
  });

  it("an operator's API tokens stop working while the operator is disabled; others' keep working", async () => {
    await createAlice();
    const tokens = s.server.services.tokens;
    const alices = await tokens.create('alice-erp', 'operator:alice');
    const system = await tokens.create('erp', 'cli');
    const api = (token: string) =>
      s.app.request('/api/trades/2026112100000000000000000001', {
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await api(alices.token)).status).toBe(404); // authenticated: the trade is simply unknown
    await admin.get('/operators');
    const aliceId = await idOf('alice');
    expect((await admin.post(`/operators/${aliceId}/disable`)).status).toBe(303);
    expect(await tokens.authenticate(alices.token)).toBeNull();
    expect((await api(alices.token)).status).toBe(401);
    expect((await api(system.token)).status).toBe(404);
    await admin.get('/operators');
    expect((await admin.post(`/operators/${aliceId}/enable`)).status).toBe(303);
    expect((await api(alices.token)).status).toBe(404);
  });

  it('disables an operator: no sign-in, sessions end at once and stay ended after enabling', async () => {
    await createAlice();
    const alice = new ConsoleClient(s.app);
    await alice.login('alice', ALICE_PW);
    expect((await alice.get('/trades')).status).toBe(200);
    const aliceCsrf = alice.csrf;

    await admin.get('/operators');
    const aliceId = await idOf('alice');
    const res = await admin.post(`/operators/${aliceId}/disable`);
    expect(res.status).toBe(303);
    expect(res.location).toBe('/operators?msg=disabled&u=alice');
    const list = await admin.get(res.location!);
    expect(list.html).toMatch(/<tr data-operator="alice">[\s\S]*?data-operator-status="disabled"/);
    expect(list.html).toContain(`action="/operators/${aliceId}/enable"`);

    // The live session is gone: pages redirect to the login, a POST with the old CSRF token is refused.
    expect((await alice.get('/trades')).status).toBe(303);
    expect((await alice.post('/tokens', { name: 'after-disable' }, { csrf: aliceCsrf })).status).toBe(403);
    expect(await s.server.services.tokens.list()).toEqual([]);
    // The right password no longer signs in.
    const retry = new ConsoleClient(s.app);
    expect((await retry.login('alice', ALICE_PW)).status).toBe(401);
    // Disabling again changes nothing.
    const twice = await admin.post(`/operators/${aliceId}/disable`);
    expect(twice.location).toBe('/operators?msg=unchanged&u=alice');

    const enable = await admin.post(`/operators/${aliceId}/enable`);
    expect(enable.status).toBe(303);
    expect(enable.location).toBe('/operators?msg=enabled&u=alice');
    // The old session does not come back; a new sign-in works.
    expect((await alice.get('/trades')).status).toBe(303);
    expect((await retry.login('alice', ALICE_PW)).status).toBe(303);

    const audit = await s.server.services.audit.list();
    const ops = audit.items
      .filter((e) => e.action.startsWith('operator.') && e.actor !== 'system')
      .map((e) => `${e.actor} ${e.action} ${e.target}`)
      .reverse();
    expect(ops).toEqual([
      'operator:admin operator.create alice',
      'operator:admin operator.disable alice',
      'operator:admin operator.enable alice',
    ]);
    await expectNoPasswordAnywhere([list.html]);
  });

  it('an operator cannot disable themselves, by the page or by the service', async () => {
    await admin.get('/operators');
    const adminId = await idOf('admin');
    const res = await admin.post(`/operators/${adminId}/disable`);
    expect(res.status).toBe(403);
    expect(res.html).toContain('不能停用自己的账号');
    expect((await s.server.services.operators.get(adminId))?.disabled).toBe(false);
    expect((await admin.get('/dashboard')).status).toBe(200);
    await expect(s.server.services.operators.setDisabled('admin', true, 'operator:admin')).rejects.toThrow(
      /cannot disable themselves/,
    );
    const unknown = await admin.post('/operators/99999/disable');
    expect(unknown.status).toBe(404);
  });

  it('two admins disabling each other at once leave exactly one enabled', async () => {
    await createAlice();
    const ops = s.server.services.operators;
    await ops.setRole('alice', 'admin', 'operator:admin');
    const results = await Promise.allSettled([
      ops.setDisabled('alice', true, 'operator:admin'),
      ops.setDisabled('admin', true, 'operator:alice'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(String(rejected.reason)).toMatch(/is disabled/);
    const enabled = (await ops.list()).filter((o) => !o.disabled).map((o) => o.username);
    expect(enabled).toHaveLength(1);
  });
});

describe('console operators over a real socket', () => {
  let s: ConsoleServer;
  let http: { url: string; close(): Promise<void> };
  beforeEach(async () => {
    s = await startConsoleServer();
    http = await listen(s.app);
  });
  afterEach(async () => {
    await http.close();
    await s.cleanup();
  });

  it('creates, disables and enables an operator through HTTP; the disabled one is signed out', async () => {
    const admin = new ConsoleClient({ baseUrl: http.url });
    expect((await admin.login()).status).toBe(303);
    await admin.get('/operators');
    expect((await admin.post('/operators', { username: 'carol', password: 'carol-pw-123' })).status).toBe(
      303,
    );
    const carol = new ConsoleClient({ baseUrl: http.url });
    expect((await carol.login('carol', 'carol-pw-123')).status).toBe(303);
    expect((await carol.get('/batches')).status).toBe(200);

    const id = (await s.server.services.operators.list()).find((o) => o.username === 'carol')!.id;
    expect((await admin.post(`/operators/${id}/disable`)).status).toBe(303);
    const out = await carol.get('/batches');
    expect(out.status).toBe(303);
    expect(out.location).toBe('/login?next=%2Fbatches');
    expect((await new ConsoleClient({ baseUrl: http.url }).login('carol', 'carol-pw-123')).status).toBe(401);
    expect((await admin.post(`/operators/${id}/enable`)).status).toBe(303);
    expect((await new ConsoleClient({ baseUrl: http.url }).login('carol', 'carol-pw-123')).status).toBe(303);
  });
});
