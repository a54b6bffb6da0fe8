/**
 * API tokens: random, shown once, stored as sha256.
 */
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../errors.js';
import type { AuditService } from './audit.js';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';
import { hashToken } from './sessions.js';

export interface ApiToken {
  id: number;
  name: string;
  prefix: string;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
  revoked: boolean;
}

export interface TokenService {
  /** Creates a token; the clear `token` is returned once and never stored. */
  create(name: string, actor: string): Promise<ApiToken & { token: string }>;
  /** The token's record when it is known and not revoked; null otherwise. */
  authenticate(token: string): Promise<ApiToken | null>;
  list(): Promise<ApiToken[]>;
  revoke(id: number, actor: string): Promise<void>;
  /** Registers the bootstrap token (ALIREFUND_API_TOKEN) under the name `bootstrap` if it is not known yet. */
  ensureBootstrap(token: string): Promise<void>;
}

/** The actor prefix of console operators (`operator:<username>`, console/env.ts actorOf). */
const OPERATOR_ACTOR = 'operator:';

export function createTokenService(deps: ServiceDeps, audit: AuditService): TokenService {
  const { database, clock } = deps;
  const view = (r: {
    id: number;
    name: string;
    prefix: string;
    created_at: string;
    created_by: string;
    last_used_at: string | null;
    revoked_at: string | null;
  }): ApiToken => ({
    id: Number(r.id),
    name: r.name,
    prefix: r.prefix,
    createdAt: r.created_at,
    createdBy: r.created_by,
    lastUsedAt: r.last_used_at,
    revoked: r.revoked_at !== null,
  });
  const cols = ['id', 'name', 'prefix', 'created_at', 'created_by', 'last_used_at', 'revoked_at'] as const;
  async function insert(name: string, token: string, actor: string) {
    return database.db
      .insertInto('srv_api_tokens')
      .values({
        name,
        token_hash: hashToken(token),
        prefix: token.slice(0, 8),
        created_at: nowIso(clock),
        created_by: actor,
        last_used_at: null,
        revoked_at: null,
      })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .returning(cols)
      .executeTakeFirst();
  }
  return {
    async create(name, actor) {
      const clean = name.trim();
      if (clean === '' || clean.length > 100) {
        throw new ServiceError('VALIDATION_FAILED', 'the token name must be 1 to 100 characters', 'name');
      }
      const token = `alr_${randomBytes(24).toString('base64url')}`;
      const row = await insert(clean, token, actor);
      if (!row) throw new Error('token collision');
      await audit.record({
        actor,
        action: 'api_token.create',
        target: clean,
        details: { id: Number(row.id) },
      });
      return { ...view(row), token };
    },
    async authenticate(token) {
      if (token.length < 16 || token.length > 200) return null;
      const row = await database.db
        .selectFrom('srv_api_tokens')
        .select(cols)
        .where('token_hash', '=', hashToken(token))
        .executeTakeFirst();
      if (!row || row.revoked_at !== null) return null;
      // A token made by an operator in the console stops working while that operator is disabled (decision 29).
      if (row.created_by.startsWith(OPERATOR_ACTOR)) {
        const operator = await database.db
          .selectFrom('srv_operators')
          .select('disabled_at')
          .where('username', '=', row.created_by.slice(OPERATOR_ACTOR.length))
          .executeTakeFirst();
        if (!operator || operator.disabled_at !== null) return null;
      }
      const at = nowIso(clock);
      // Coarse last-use tracking: one write per token per minute at most.
      if (row.last_used_at === null || row.last_used_at.slice(0, 16) !== at.slice(0, 16)) {
        await database.db
          .updateTable('srv_api_tokens')
          .set({ last_used_at: at })
          .where('id', '=', row.id)
          .execute();
      }
      return view({ ...row, last_used_at: at });
    },
    async list() {
      const rows = await database.db.selectFrom('srv_api_tokens').select(cols).orderBy('id').execute();
      return rows.map(view);
    },
    async revoke(id, actor) {
      const res = await database.db
        .updateTable('srv_api_tokens')
        .set({ revoked_at: nowIso(clock) })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n) throw new ServiceError('NOT_FOUND', `no active API token ${id}`, 'id');
      await audit.record({ actor, action: 'api_token.revoke', target: String(id) });
    },
    async ensureBootstrap(token) {
      const row = await insert('bootstrap', token, 'system');
      if (row) await audit.record({ actor: 'system', action: 'api_token.bootstrap', target: 'bootstrap' });
    },
  };
}
