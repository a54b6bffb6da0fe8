/**
 * The audit log: every operator (and API) action, who, when, on what.
 */
import type { Kysely } from 'kysely';
import type { ServerDB } from '../db.js';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';

/** One audit entry as stored. */
export interface AuditEntry {
  id: number;
  at: string;
  /** `operator:NAME`, `api:TOKEN_NAME` or `system`. */
  actor: string;
  action: string;
  target: string | null;
  details: unknown;
  ip: string | null;
}

/** What {@link AuditService.record} takes. */
export interface AuditInput {
  actor: string;
  action: string;
  target?: string | null;
  details?: unknown;
  ip?: string | null;
}

export interface AuditListQuery {
  actor?: string;
  action?: string;
  target?: string;
  limit?: number;
  offset?: number;
}

export interface AuditService {
  /** Appends an entry; pass `db` to write inside a caller's transaction. */
  record(entry: AuditInput, db?: Kysely<ServerDB>): Promise<void>;
  /** Newest first. */
  list(query?: AuditListQuery): Promise<{ items: AuditEntry[]; total: number }>;
}

export function createAuditService(deps: ServiceDeps): AuditService {
  const { database, clock } = deps;
  return {
    async record(entry, db = database.db) {
      await db
        .insertInto('srv_audit_log')
        .values({
          at: nowIso(clock),
          actor: entry.actor,
          action: entry.action,
          target: entry.target ?? null,
          details_json: entry.details === undefined ? null : JSON.stringify(entry.details),
          ip: entry.ip ?? null,
        })
        .execute();
    },
    async list(query = {}) {
      let q = database.db.selectFrom('srv_audit_log');
      if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
      if (query.action !== undefined) q = q.where('action', '=', query.action);
      if (query.target !== undefined) q = q.where('target', '=', query.target);
      const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await q
        .selectAll()
        .orderBy('id', 'desc')
        .limit(clampLimit(query.limit))
        .offset(Math.max(0, query.offset ?? 0))
        .execute();
      return {
        total: Number(total.n),
        items: rows.map((r) => ({
          id: Number(r.id),
          at: r.at,
          actor: r.actor,
          action: r.action,
          target: r.target,
          details: r.details_json === null ? null : JSON.parse(r.details_json),
          ip: r.ip,
        })),
      };
    },
  };
}

/** Page sizes are 1..500, default 50. */
export function clampLimit(limit: number | undefined, fallback = 50): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(500, Math.max(1, Math.floor(limit)));
}
