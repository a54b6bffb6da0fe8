/**
 * Console sessions: a random token in the cookie, its sha256 in the table, a CSRF token per session.
 */
import { createHash, randomBytes } from 'node:crypto';
import { nowIso, nowMs, type ServiceDeps } from '../context.js';
import type { Operator, OperatorService } from './operators.js';

/** Default session lifetime: 12 hours. */
export const SESSION_TTL_MS = 12 * 3600_000;

export interface Session {
  operator: Operator;
  csrfToken: string;
  lang: string | null;
  createdAt: string;
  expiresAt: string;
}

export interface SessionService {
  /** Starts a session; the returned `token` goes in the cookie and is never stored. */
  create(operatorId: number, opts?: { lang?: string; ttlMs?: number }): Promise<{ token: string } & Session>;
  /** The live session of a cookie token, or null (unknown, expired, operator disabled). */
  get(token: string): Promise<Session | null>;
  setLang(token: string, lang: string): Promise<void>;
  destroy(token: string): Promise<void>;
  /** Deletes expired sessions; returns how many. */
  purgeExpired(): Promise<number>;
}

/** sha256 hex of a token: what the tables store. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function createSessionService(deps: ServiceDeps, operators: OperatorService): SessionService {
  const { database, clock } = deps;
  return {
    async create(operatorId, opts = {}) {
      const token = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(32).toString('base64url');
      const createdAt = nowIso(clock);
      const expiresAt = new Date(nowMs(clock) + (opts.ttlMs ?? SESSION_TTL_MS)).toISOString();
      const operator = await operators.get(operatorId);
      if (!operator) throw new TypeError(`no operator ${operatorId}`);
      await database.db
        .insertInto('srv_sessions')
        .values({
          id: hashToken(token),
          operator_id: operatorId,
          csrf_token: csrfToken,
          lang: opts.lang ?? null,
          created_at: createdAt,
          expires_at: expiresAt,
          last_seen_at: createdAt,
        })
        .execute();
      return { token, operator, csrfToken, lang: opts.lang ?? null, createdAt, expiresAt };
    },
    async get(token) {
      if (token === '' || token.length > 200) return null;
      const row = await database.db
        .selectFrom('srv_sessions')
        .selectAll()
        .where('id', '=', hashToken(token))
        .executeTakeFirst();
      if (!row || row.expires_at <= nowIso(clock)) return null;
      const operator = await operators.get(Number(row.operator_id));
      if (!operator || operator.disabled) return null;
      return {
        operator,
        csrfToken: row.csrf_token,
        lang: row.lang,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
      };
    },
    async setLang(token, lang) {
      await database.db
        .updateTable('srv_sessions')
        .set({ lang })
        .where('id', '=', hashToken(token))
        .execute();
    },
    async destroy(token) {
      await database.db.deleteFrom('srv_sessions').where('id', '=', hashToken(token)).execute();
    },
    async purgeExpired() {
      const res = await database.db
        .deleteFrom('srv_sessions')
        .where('expires_at', '<=', nowIso(clock))
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}
