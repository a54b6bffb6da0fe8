/**
 * Console sessions: a random token in the cookie, its sha256 in the table, a CSRF token per session; the
 * session's selection of trades (picks), kept server-side so that it survives paging and searching.
 */
import { createHash, randomBytes } from 'node:crypto';
import { withTransaction } from '@alirefund/store';
import type { Kysely } from 'kysely';
import type { ServerDB } from '../db.js';
import { nowIso, nowMs } from './clock.js';
import type { ServiceDeps } from './deps.js';
import { createLoginThrottle, type LoginThrottle } from './login-throttle.js';
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
  /** Login throttling in the database, per username and per client address (login-throttle.ts). */
  readonly loginThrottle: LoginThrottle;
  /** Starts a session; the returned `token` goes in the cookie and is never stored. */
  create(operatorId: number, opts?: { lang?: string; ttlMs?: number }): Promise<{ token: string } & Session>;
  /** The live session of a cookie token, or null (unknown, expired, operator disabled). */
  get(token: string): Promise<Session | null>;
  setLang(token: string, lang: string): Promise<void>;
  destroy(token: string): Promise<void>;
  /** Deletes expired sessions; returns how many. */
  purgeExpired(): Promise<number>;
  /** The trades picked in this session, oldest pick first. */
  picks(token: string): Promise<string[]>;
  /**
   * Removes `remove`, then adds `add` (at most `limit` picks in all; the rest of `add` is left out and
   * counted in `refused`). Returns the picks afterwards.
   */
  updatePicks(
    token: string,
    change: { add?: readonly string[]; remove?: readonly string[] },
    limit: number,
  ): Promise<{ picks: string[]; refused: number }>;
  /** Forgets every pick of the session, or only `tradeNos`. */
  clearPicks(token: string, tradeNos?: readonly string[]): Promise<void>;
}

/** The picks table (migration 0004), typed here so that the shared table types stay as they are. */
type PicksTable = {
  srv_session_picks: { session_id: string; trade_no: string; picked_at: string };
};

/** sha256 hex of a token: what the tables store. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function createSessionService(deps: ServiceDeps, operators: OperatorService): SessionService {
  const { database, clock } = deps;
  const withPicks = (db: Kysely<ServerDB> = database.db) => db.withTables<PicksTable>();
  const listPicks = async (db: Kysely<ServerDB & PicksTable>, id: string) =>
    (
      await db
        .selectFrom('srv_session_picks')
        .select('trade_no')
        .where('session_id', '=', id)
        .orderBy('picked_at')
        .orderBy('trade_no')
        .execute()
    ).map((r) => r.trade_no);
  return {
    loginThrottle: createLoginThrottle(deps),
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
      const id = hashToken(token);
      await withPicks().deleteFrom('srv_session_picks').where('session_id', '=', id).execute();
      await database.db.deleteFrom('srv_sessions').where('id', '=', id).execute();
    },
    async purgeExpired() {
      const now = nowIso(clock);
      await withPicks()
        .deleteFrom('srv_session_picks')
        .where((eb) =>
          eb(
            'session_id',
            'in',
            eb.selectFrom('srv_sessions').select('srv_sessions.id').where('expires_at', '<=', now),
          ),
        )
        .execute();
      const res = await database.db
        .deleteFrom('srv_sessions')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    },
    async picks(token) {
      return listPicks(withPicks(), hashToken(token));
    },
    async updatePicks(token, change, limit) {
      const id = hashToken(token);
      return withTransaction(database, async (trx) => {
        const db = withPicks(trx);
        const remove = [...new Set(change.remove ?? [])];
        for (let i = 0; i < remove.length; i += 500) {
          await db
            .deleteFrom('srv_session_picks')
            .where('session_id', '=', id)
            .where('trade_no', 'in', remove.slice(i, i + 500))
            .execute();
        }
        const have = new Set(await listPicks(db, id));
        const fresh = [...new Set(change.add ?? [])].filter((t) => !have.has(t));
        const room = Math.max(0, limit - have.size);
        const add = fresh.slice(0, room);
        const at = nowIso(clock);
        for (let i = 0; i < add.length; i += 500) {
          await db
            .insertInto('srv_session_picks')
            .values(add.slice(i, i + 500).map((trade_no) => ({ session_id: id, trade_no, picked_at: at })))
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
        return { picks: await listPicks(db, id), refused: fresh.length - add.length };
      });
    },
    async clearPicks(token, tradeNos) {
      const id = hashToken(token);
      if (tradeNos === undefined) {
        await withPicks().deleteFrom('srv_session_picks').where('session_id', '=', id).execute();
        return;
      }
      for (let i = 0; i < tradeNos.length; i += 500) {
        await withPicks()
          .deleteFrom('srv_session_picks')
          .where('session_id', '=', id)
          .where('trade_no', 'in', tradeNos.slice(i, i + 500))
          .execute();
      }
    },
  };
}
