/**
 * Fixtures of the roles and two-person-rule tests: a server with the console whose approval settings are given,
 * an operator and an API token of every role, and the concrete path each route pattern is walked with.
 */
import { openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import { type Role, ROLES } from '../src/auth/roles.js';
import { type AlirefundServer, createServer, makeSettings, type ServerDB } from '../src/index.js';
import { ADMIN_PASSWORD } from './console-helpers.js';
import { makeConfig } from './helpers.js';

/** Password of every operator the fixtures create. */
export const PASSWORD = 'role-test-password-1';
/** The operator of each role (admin is the bootstrap admin, password ADMIN_PASSWORD). */
export const USERS: Record<Role, string> = {
  admin: 'admin',
  approver: 'anna',
  operator: 'olga',
  viewer: 'vera',
};
export const passwordOf = (role: Role) => (role === 'admin' ? ADMIN_PASSWORD : PASSWORD);

export interface RolesServer {
  server: AlirefundServer;
  database: TestDatabase<ServerDB>;
  /** A clear API token of each scope (made by the CLI, so no operator stands behind it). */
  tokens: Record<Role, string>;
  /** Id of an operator that only the walks act on (reset, disable, enable, role). */
  targetId: number;
  cleanup(): Promise<void>;
}

export async function startRolesServer(
  opts: { approvalThresholdFen?: number; approvalAll?: boolean; publicUrl?: string; gateway?: string } = {},
): Promise<RolesServer> {
  const database = await openTestDatabase<ServerDB>('sqlite');
  const server = await createServer({
    settings: makeSettings({
      alipay: makeConfig(opts.gateway ?? 'http://127.0.0.1:9/gateway.do'),
      publicUrl: opts.publicUrl ?? 'http://127.0.0.1:1',
      adminPassword: ADMIN_PASSWORD,
      ...(opts.approvalThresholdFen !== undefined ? { approvalThresholdFen: opts.approvalThresholdFen } : {}),
      ...(opts.approvalAll !== undefined ? { approvalAll: opts.approvalAll } : {}),
    }),
    database,
    background: false,
  });
  const ops = server.services.operators;
  for (const role of ROLES) {
    if (role !== 'admin')
      await ops.create({ username: USERS[role], password: PASSWORD, role }, 'operator:admin');
  }
  const target = await ops.create({ username: 'tess', password: PASSWORD, role: 'viewer' }, 'operator:admin');
  const tokens = {} as Record<Role, string>;
  for (const role of ROLES) {
    const t = await server.services.tokens.create(`${role}-token`, 'cli');
    await server.services.tokenScopes.set(t.id, role, 'cli');
    tokens[role] = t.token;
  }
  return {
    server,
    database,
    tokens,
    targetId: target.id,
    async cleanup() {
      await server.close();
      await database.cleanup();
    },
  };
}

/** The concrete path a route pattern is walked with: unknown batches, trades and tokens; the target operator. */
export function concretePath(pattern: string, targetId: number): string {
  let out = '';
  let depth = 0;
  for (const ch of pattern) {
    if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (depth === 0) out += ch;
  }
  return out
    .replace(':batchNo', '20990101NOSUCHBATCH')
    .replace(':tradeNo', '2099010100000000000001')
    .replace(':file', 'trades.csv')
    .replace(/^\/operators\/:id/, `/operators/${targetId}`)
    .replace(':id', '99999999');
}
