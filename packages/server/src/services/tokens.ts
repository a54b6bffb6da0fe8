/**
 * API tokens: random, shown once, stored as sha256. A token may expire (set at creation) and be revoked; its
 * last use is recorded (at most one write per token per minute). The bootstrap token (`ALIREFUND_API_TOKEN`) is
 * one row that is replaced — the old one revoked — when the variable changes (decision 39).
 */
import { randomBytes } from 'node:crypto';
import { withTransaction } from '@alirefund/store';
import type { Kysely } from 'kysely';
import type { ApiTokensTable, ServerDB } from '../db.js';
import { ServiceError } from '../errors.js';
import type { AuditService } from './audit.js';
import { nowIso, nowMs } from './clock.js';
import type { ServiceDeps } from './deps.js';
import { hashToken } from './sessions.js';

/** The columns migration 0007 added, typed here so that the shared table types stay as they are. */
type TokensTable = {
  srv_api_tokens: ApiTokensTable & { expires_at: string | null; bootstrap: number };
};

/** The longest lifetime a token can be given at creation (5 years). */
export const MAX_TOKEN_DAYS = 5 * 366;

export interface ApiToken {
  id: number;
  name: string;
  prefix: string;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
  /** When the token stops working (null: never). */
  expiresAt: string | null;
  revoked: boolean;
  /** Whether `expiresAt` has passed. */
  expired: boolean;
  /** The token of `ALIREFUND_API_TOKEN`. */
  bootstrap: boolean;
}

export interface CreateTokenOptions {
  /** Lifetime in days (1 to {@link MAX_TOKEN_DAYS}); absent: the token does not expire. */
  expiresInDays?: number;
}

export interface TokenService {
  /** Creates a token; the clear `token` is returned once and never stored. */
  create(name: string, actor: string, opts?: CreateTokenOptions): Promise<ApiToken & { token: string }>;
  /** The token's record when it is known, not revoked and not expired; null otherwise. */
  authenticate(token: string): Promise<ApiToken | null>;
  list(): Promise<ApiToken[]>;
  revoke(id: number, actor: string): Promise<void>;
  /**
   * Makes `token` (ALIREFUND_API_TOKEN) the one bootstrap token: registered under the name `bootstrap` when it is
   * new, and every other bootstrap token revoked. A revoked value stays revoked and replaces nothing (a warning is
   * logged): an instance still started with the previous value must not revoke its successor.
   */
  ensureBootstrap(token: string): Promise<void>;
}

/** The actor prefix of console operators (`operator:<username>`, console/env.ts actorOf). */
const OPERATOR_ACTOR = 'operator:';

export function createTokenService(deps: ServiceDeps, audit: AuditService): TokenService {
  const { database, clock } = deps;
  const tdb = (db: Kysely<ServerDB> = database.db) => db.withTables<TokensTable>();
  const view = (r: {
    id: number;
    name: string;
    prefix: string;
    created_at: string;
    created_by: string;
    last_used_at: string | null;
    revoked_at: string | null;
    expires_at: string | null;
    bootstrap: number | boolean;
  }): ApiToken => ({
    id: Number(r.id),
    name: r.name,
    prefix: r.prefix,
    createdAt: r.created_at,
    createdBy: r.created_by,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
    revoked: r.revoked_at !== null,
    expired: r.expires_at !== null && r.expires_at <= nowIso(clock),
    bootstrap: Number(r.bootstrap) === 1,
  });
  const cols = [
    'id',
    'name',
    'prefix',
    'created_at',
    'created_by',
    'last_used_at',
    'revoked_at',
    'expires_at',
    'bootstrap',
  ] as const;
  async function insert(
    name: string,
    token: string,
    actor: string,
    extra: { expiresAt?: string | null; bootstrap?: boolean; db?: Kysely<ServerDB> } = {},
  ) {
    return tdb(extra.db)
      .insertInto('srv_api_tokens')
      .values({
        name,
        token_hash: hashToken(token),
        prefix: token.slice(0, 8),
        created_at: nowIso(clock),
        created_by: actor,
        last_used_at: null,
        revoked_at: null,
        expires_at: extra.expiresAt ?? null,
        bootstrap: extra.bootstrap ? 1 : 0,
      })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .returning(cols)
      .executeTakeFirst();
  }
  return {
    async create(name, actor, opts = {}) {
      const clean = name.trim();
      if (clean === '' || clean.length > 100) {
        throw new ServiceError('VALIDATION_FAILED', 'the token name must be 1 to 100 characters', 'name');
      }
      const days = opts.expiresInDays;
      if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS)) {
        throw new ServiceError(
          'VALIDATION_FAILED',
          `the token's lifetime must be a whole number of days from 1 to ${MAX_TOKEN_DAYS}, or none (never expires)`,
          'expiresInDays',
        );
      }
      const expiresAt = days === undefined ? null : new Date(nowMs(clock) + days * 86_400_000).toISOString();
      const token = `alr_${randomBytes(24).toString('base64url')}`;
      const row = await insert(clean, token, actor, { expiresAt });
      if (!row) throw new Error('token collision');
      await audit.record({
        actor,
        action: 'api_token.create',
        target: clean,
        details: { id: Number(row.id), expiresAt },
      });
      return { ...view(row), token };
    },
    async authenticate(token) {
      if (token.length < 16 || token.length > 200) return null;
      const row = await tdb()
        .selectFrom('srv_api_tokens')
        .select(cols)
        .where('token_hash', '=', hashToken(token))
        .executeTakeFirst();
      if (!row || row.revoked_at !== null) return null;
      if (row.expires_at !== null && row.expires_at <= nowIso(clock)) return null;
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
      const rows = await tdb().selectFrom('srv_api_tokens').select(cols).orderBy('id').execute();
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
      const hash = hashToken(token);
      const { created, replaced, revoked } = await withTransaction(database, async (trx) => {
        const known = await tdb(trx)
          .selectFrom('srv_api_tokens')
          .select(['id', 'bootstrap', 'revoked_at'])
          .where('token_hash', '=', hash)
          .executeTakeFirst();
        // A revoked value (revoked by hand, or an instance still started with the previous value during a rolling
        // deploy) replaces nothing: it must not revoke the token that superseded it.
        if (known?.revoked_at != null) return { created: false, replaced: 0, revoked: true };
        const row = known ?? (await insert('bootstrap', token, 'system', { bootstrap: true, db: trx }));
        // Another instance inserted it meanwhile: the unique hash made ours a no-op; read theirs.
        const current =
          row ??
          (await tdb(trx)
            .selectFrom('srv_api_tokens')
            .select(['id', 'bootstrap'])
            .where('token_hash', '=', hash)
            .executeTakeFirstOrThrow());
        // Every other bootstrap token is the old value of ALIREFUND_API_TOKEN: it stops working now.
        const res = await tdb(trx)
          .updateTable('srv_api_tokens')
          .set({ revoked_at: nowIso(clock) })
          .where('bootstrap', '=', 1)
          .where('id', '!=', current.id)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        return {
          created: known === undefined && row !== undefined,
          replaced: Number(res.numUpdatedRows),
          revoked: false,
        };
      });
      if (revoked) {
        deps.log.warn(
          { variable: 'ALIREFUND_API_TOKEN' },
          'ALIREFUND_API_TOKEN is a revoked token: API calls with it are refused; set a new value (e.g. openssl rand -hex 24) and restart',
        );
        return;
      }
      if (created || replaced > 0) {
        await audit.record({
          actor: 'system',
          action: replaced > 0 ? 'api_token.bootstrap_replaced' : 'api_token.bootstrap',
          target: 'bootstrap',
          details: { revoked: replaced },
        });
      }
    },
  };
}
