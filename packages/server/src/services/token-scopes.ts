/**
 * The scope of an API token: the role it acts with (auth/roles.ts), in srv_api_tokens.scope (migration 0008;
 * tokens from before it are `operator`). Kept apart from tokens.ts, which authenticates; this says what a token
 * may do.
 */
import { isRole, type Role } from '../auth/roles.js';
import { ServiceError } from '../errors.js';
import type { AuditService } from './audit.js';
import type { ServiceDeps } from './deps.js';

export interface TokenScopeService {
  /** The token's scope (`viewer` for an unknown id or an unreadable value: the least). */
  of(tokenId: number): Promise<Role>;
  /** Every token's scope by id. */
  all(): Promise<Map<number, Role>>;
  /** Sets a token's scope. @throws ServiceError NOT_FOUND, VALIDATION_FAILED */
  set(tokenId: number, scope: Role, actor: string): Promise<void>;
}

export function createTokenScopeService(deps: ServiceDeps, audit: AuditService): TokenScopeService {
  const { database } = deps;
  return {
    async of(tokenId) {
      const row = await database.db
        .selectFrom('srv_api_tokens')
        .select('scope')
        .where('id', '=', tokenId)
        .executeTakeFirst();
      return row && isRole(row.scope) ? row.scope : 'viewer';
    },
    async all() {
      const rows = await database.db.selectFrom('srv_api_tokens').select(['id', 'scope']).execute();
      return new Map(rows.map((r) => [Number(r.id), isRole(r.scope) ? r.scope : 'viewer']));
    },
    async set(tokenId, scope, actor) {
      if (!isRole(scope))
        throw new ServiceError(
          'VALIDATION_FAILED',
          'scope must be admin, approver, operator or viewer',
          'scope',
        );
      const res = await database.db
        .updateTable('srv_api_tokens')
        .set({ scope })
        .where('id', '=', tokenId)
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n) throw new ServiceError('NOT_FOUND', `no API token ${tokenId}`, 'id');
      await audit.record({ actor, action: 'api_token.scope', target: String(tokenId), details: { scope } });
    },
  };
}
