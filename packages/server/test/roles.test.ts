/**
 * The one table of who may call what (src/auth/roles.ts): every route the server has is in it, and every route
 * is walked with every role — console routes with a signed-in operator of that role, API routes with a token of
 * that scope — answering 403 exactly where the table says no. The same walk runs in Chromium
 * (e2e-roles-browser.test.ts). Then the operator-takeover finding: a plain operator could reset the admin's
 * password and disable the admin.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allows, ROLES, ROUTE_ROLES, routeKey } from '../src/auth/roles.js';
import { ADMIN_PASSWORD, ConsoleClient } from './console-helpers.js';
import {
  concretePath,
  PASSWORD,
  passwordOf,
  type RolesServer,
  startRolesServer,
  USERS,
} from './roles-helpers.js';

describe('the role table', () => {
  let s: RolesServer;
  beforeAll(async () => {
    s = await startRolesServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  /** Every route of the app but middleware and catch-alls (`use`, `all`). */
  const routes = () =>
    s.server.app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ method: r.method, path: r.path, key: routeKey(r.method, r.path) }));

  it('lists every route of the server (console, API and the machine endpoints)', () => {
    const missing = routes()
      .map((r) => r.key)
      .filter((k) => !(k in ROUTE_ROLES));
    expect(missing).toEqual([]);
    expect(routes().length).toBeGreaterThan(50);
  });

  it.each(ROLES)('walks every console route as %s: 403 exactly where the table says no', async (role) => {
    const client = new ConsoleClient(s.server.app);
    expect((await client.login(USERS[role], passwordOf(role))).status).toBe(303);
    const wrong: string[] = [];
    for (const r of routes()) {
      if (r.path.startsWith('/api/') || ROUTE_ROLES[r.key] === 'public') continue;
      const path = concretePath(r.path, s.targetId);
      const res = r.method === 'GET' ? await client.get(path) : await client.post(path, {});
      const allowed = allows(r.key, role);
      if (allowed ? res.status === 403 : res.status !== 403 || !res.html.includes('id="forbidden"'))
        wrong.push(`${r.key} → ${res.status} (${allowed ? 'allowed' : 'denied'})`);
      // Still signed in (nothing above ends one's own session).
    }
    expect(wrong).toEqual([]);
    expect((await client.get('/account')).status).toBe(200);
  });

  it.each(ROLES)(
    'walks every API route with a %s token: 403 exactly where the table says no',
    async (scope) => {
      const wrong: string[] = [];
      for (const r of routes()) {
        if (!r.path.startsWith('/api/')) continue;
        const res = await s.server.app.request(concretePath(r.path, s.targetId), {
          method: r.method,
          headers: { authorization: `Bearer ${s.tokens[scope]}`, 'content-type': 'application/json' },
          ...(r.method === 'POST' ? { body: '{}' } : {}),
        });
        const body = (await res.json()) as { code?: string };
        const allowed = allows(r.key, scope);
        if (allowed ? res.status === 403 : res.status !== 403 || body.code !== 'FORBIDDEN')
          wrong.push(`${r.key} → ${res.status} ${body.code ?? ''} (${allowed ? 'allowed' : 'denied'})`);
      }
      expect(wrong).toEqual([]);
    },
  );

  it('shows each role only the navigation it may use', async () => {
    for (const role of ROLES) {
      const client = new ConsoleClient(s.server.app);
      await client.login(USERS[role], passwordOf(role));
      const page = await client.get('/dashboard');
      for (const path of ['/operators', '/tokens', '/import', '/audit', '/batches']) {
        expect(page.html.includes(`<a href="${path}"`), `${role} ${path}`).toBe(allows(`GET ${path}`, role));
      }
    }
  });
});

describe('operator takeover (issue 12): only admins manage operators', () => {
  let s: RolesServer;
  beforeEach(async () => {
    s = await startRolesServer();
  });
  afterEach(async () => {
    await s.cleanup();
  });

  it('a fresh operator can neither reset the admin’s password nor disable the admin', async () => {
    const adminId = (await s.server.services.operators.list()).find((o) => o.username === 'admin')!.id;
    const admin = new ConsoleClient(s.server.app);
    expect((await admin.login()).status).toBe(303);
    for (const role of ['operator', 'approver', 'viewer'] as const) {
      const who = new ConsoleClient(s.server.app);
      expect((await who.login(USERS[role], PASSWORD)).status).toBe(303);
      await who.get('/dashboard');
      const reset = await who.post(`/operators/${adminId}/password`, { password: 'taken-over-pw-1' });
      expect(reset.status, role).toBe(403);
      expect((await who.post(`/operators/${adminId}/disable`)).status, role).toBe(403);
      expect((await who.post(`/operators/${adminId}/role`, { role: 'viewer' })).status, role).toBe(403);
      expect(
        (await who.post('/operators', { username: 'mallory', password: 'mallory-pw-1', role: 'admin' }))
          .status,
      ).toBe(403);
      // Nor by calling the service under their own name.
      await expect(
        s.server.services.operators.setPassword('admin', 'taken-over-pw-1', `operator:${USERS[role]}`),
      ).rejects.toThrow(/only an admin/);
      await expect(
        s.server.services.operators.setDisabled('admin', true, `operator:${USERS[role]}`),
      ).rejects.toThrow(/only an admin/);
    }
    // The admin still signs in with the old password, and their session is alive.
    expect((await admin.get('/operators')).status).toBe(200);
    expect(await s.server.services.operators.authenticate('admin', ADMIN_PASSWORD)).not.toBeNull();
    expect((await s.server.services.operators.list()).map((o) => o.username)).not.toContain('mallory');
  });

  it('the last enabled admin can be neither disabled nor demoted; with two admins, one can', async () => {
    const ops = s.server.services.operators;
    await expect(ops.setRole('admin', 'operator', 'operator:admin')).rejects.toThrow(/last enabled admin/);
    await expect(ops.setDisabled('admin', true, 'system')).rejects.toThrow(/last enabled admin/);
    const admin = new ConsoleClient(s.server.app);
    await admin.login();
    await admin.get('/operators');
    const adminId = (await ops.list()).find((o) => o.username === 'admin')!.id;
    const demote = await admin.post(`/operators/${adminId}/role`, { role: 'viewer' });
    expect(demote.status).toBe(403);
    expect(demote.html).toContain('last enabled admin');
    // Anna becomes admin; then the bootstrap admin can step down, but Anna cannot demote herself next.
    const annaId = (await ops.list()).find((o) => o.username === 'anna')!.id;
    expect((await admin.post(`/operators/${annaId}/role`, { role: 'admin' })).location).toBe(
      '/operators?msg=role&u=anna',
    );
    const anna = new ConsoleClient(s.server.app);
    await anna.login('anna', PASSWORD);
    expect((await anna.get('/operators')).status).toBe(200);
    expect((await anna.post(`/operators/${adminId}/disable`)).status).toBe(303);
    expect((await ops.get(adminId))?.disabled).toBe(true);
    expect((await anna.post(`/operators/${annaId}/role`, { role: 'approver' })).status).toBe(403);
    const audit = await s.server.services.audit.list({ action: 'operator.set_role' });
    expect(audit.items.map((e) => [e.actor, e.target, e.details])).toEqual([
      ['operator:admin', 'anna', { from: 'approver', to: 'admin' }],
    ]);
  });

  it('an operator changes their own password with the current one', async () => {
    const olga = new ConsoleClient(s.server.app);
    await olga.login('olga', PASSWORD);
    await olga.get('/account');
    expect(
      (await olga.post('/account/password', { current: 'wrong-password', password: 'olga-new-pw-1' })).status,
    ).toBe(422);
    const ok = await olga.post('/account/password', { current: PASSWORD, password: 'olga-new-pw-1' });
    expect(ok.location).toBe('/login');
    expect(await s.server.services.operators.authenticate('olga', 'olga-new-pw-1')).not.toBeNull();
  });

  it('operators from before roles are admins; tokens from before scopes are operators', async () => {
    // The migration's defaults (0008_roles_approval): what an insert that names no role or scope gets.
    const db = s.database.db;
    await db
      .insertInto('srv_operators')
      .values({
        username: 'legacy',
        password_hash: 'x',
        display_name: null,
        created_at: '2024-01-01T00:00:00Z',
        disabled_at: null,
        last_login_at: null,
      })
      .execute();
    const legacy = await db
      .selectFrom('srv_operators')
      .select('role')
      .where('username', '=', 'legacy')
      .executeTakeFirstOrThrow();
    expect(legacy.role).toBe('admin');
    const t = await s.server.services.tokens.create('legacy-token', 'cli');
    expect(await s.server.services.tokenScopes.of(t.id)).toBe('operator');
  });
});
