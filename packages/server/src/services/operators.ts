/**
 * Operators of the console: scrypt-hashed passwords (node:crypto), a role each (auth/roles.ts), a bootstrap
 * `admin`, disable / enable. Only admins manage other operators (create, reset a password, disable / enable,
 * change a role); everyone changes their own password by giving the current one. Nobody can disable themselves,
 * and the last enabled admin can be neither disabled nor demoted. Passwords are never returned, logged or
 * written to the audit log.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { isUniqueViolation, withTransaction } from '@alirefund/store';
import type { Kysely } from 'kysely';
import { isRole, type Role } from '../auth/roles.js';
import type { ServerDB } from '../db.js';
import { ServiceError } from '../errors.js';
import type { AuditService } from './audit.js';
import { nowIso } from './clock.js';
import type { ServiceDeps } from './deps.js';

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

function scrypt(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  keylen: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFC'), salt, keylen, { N, r, p, maxmem: 256 * N * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * Hashes a password: `scrypt$N$r$p$<salt base64>$<hash base64>`.
 * @example await hashPassword('correct horse') // 'scrypt$16384$8$1$…$…'
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keylen);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Checks a password against {@link hashPassword}'s output in constant time. False for malformed hashes. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (!Number.isInteger(N) || !Number.isInteger(r) || !Number.isInteger(p) || expected.length < 16)
    return false;
  const actual = await scrypt(password, salt, N, r, p, expected.length);
  return timingSafeEqual(actual, expected);
}

/** An operator as the services show it (never the hash). */
export interface Operator {
  id: number;
  username: string;
  displayName: string | null;
  createdAt: string;
  disabled: boolean;
  lastLoginAt: string | null;
  role: Role;
}

export interface OperatorService {
  /** @throws ServiceError OPERATOR_EXISTS, VALIDATION_FAILED */
  /** Default role: operator. `actor` `operator:NAME` must be an enabled admin. */
  create(
    input: { username: string; password: string; displayName?: string; role?: Role },
    actor: string,
  ): Promise<Operator>;
  /** The operator when the password is right and the account enabled; null otherwise (same time either way). */
  authenticate(username: string, password: string): Promise<Operator | null>;
  /**
   * An admin sets another operator's password; every session of that operator ends. One's own password goes
   * through {@link changeOwnPassword}. @throws ServiceError NOT_FOUND, VALIDATION_FAILED, FORBIDDEN
   */
  setPassword(username: string, password: string, actor: string): Promise<void>;
  /**
   * An operator changes their own password, giving the current one; their sessions end.
   * @throws ServiceError FORBIDDEN (the current password is wrong), VALIDATION_FAILED
   */
  changeOwnPassword(operatorId: number, current: string, next: string): Promise<void>;
  /**
   * An admin changes an operator's role; the last enabled admin cannot be demoted. Returns false when nothing
   * changed. @throws ServiceError NOT_FOUND, FORBIDDEN, VALIDATION_FAILED
   */
  setRole(username: string, role: Role, actor: string): Promise<boolean>;
  /**
   * Disables (no sign-in; every session ends at once) or enables an operator. `actor` is `operator:NAME` when
   * an operator asks: they must be an enabled admin, cannot disable themselves (so two admins disabling each
   * other at once leave one of them enabled), and the last enabled admin stays. Returns false when nothing
   * changed.
   * @throws ServiceError NOT_FOUND, FORBIDDEN
   */
  setDisabled(username: string, disabled: boolean, actor: string): Promise<boolean>;
  get(id: number): Promise<Operator | null>;
  list(): Promise<Operator[]>;
  /** Creates `admin` with `password` when there is no operator at all. Returns whether it did. */
  ensureBootstrapAdmin(password: string): Promise<boolean>;
}

const USERNAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;
let dummyHash: Promise<string> | undefined;

export function createOperatorService(deps: ServiceDeps, audit: AuditService): OperatorService {
  const { database, clock } = deps;
  const toOperator = (r: {
    id: number;
    username: string;
    display_name: string | null;
    created_at: string;
    disabled_at: string | null;
    last_login_at: string | null;
    role: string;
  }): Operator => ({
    id: Number(r.id),
    username: r.username,
    displayName: r.display_name,
    createdAt: r.created_at,
    disabled: r.disabled_at !== null,
    lastLoginAt: r.last_login_at,
    role: isRole(r.role) ? r.role : 'viewer',
  });
  const cols = [
    'id',
    'username',
    'display_name',
    'created_at',
    'disabled_at',
    'last_login_at',
    'role',
  ] as const;

  /**
   * When an operator asks (`operator:NAME`), they must be an enabled admin; `system` and the CLI, which hold the
   * database itself, are trusted.
   */
  async function requireAdmin(db: Kysely<ServerDB>, actor: string): Promise<void> {
    if (!actor.startsWith('operator:')) return;
    const name = actor.slice('operator:'.length);
    const row = await db
      .selectFrom('srv_operators')
      .select(['role', 'disabled_at'])
      .where('username', '=', name)
      .executeTakeFirst();
    if (!row || row.disabled_at !== null || row.role !== 'admin') {
      throw new ServiceError('FORBIDDEN', `only an admin manages operators; ${name} is not one`, 'actor');
    }
  }

  /** Refuses to leave no enabled admin once `username` is disabled or no longer an admin. */
  async function keepAnAdmin(db: Kysely<ServerDB>, username: string, what: string): Promise<void> {
    const others = await db
      .selectFrom('srv_operators')
      .select('id')
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .where('username', '!=', username)
      .limit(1)
      .executeTakeFirst();
    if (!others) {
      throw new ServiceError(
        'FORBIDDEN',
        `${username} is the last enabled admin: it cannot be ${what} (make another operator admin first)`,
        'username',
      );
    }
  }

  function checkPassword(password: string): void {
    if (password.length < 8) {
      throw new ServiceError(
        'VALIDATION_FAILED',
        'the password must be at least 8 characters long',
        'password',
      );
    }
  }

  const service: OperatorService = {
    async create(input, actor) {
      if (!USERNAME_RE.test(input.username)) {
        throw new ServiceError(
          'VALIDATION_FAILED',
          'the username must be 1 to 64 letters, digits or . _ @ -',
          'username',
        );
      }
      checkPassword(input.password);
      const role = input.role ?? 'operator';
      if (!isRole(role))
        throw new ServiceError(
          'VALIDATION_FAILED',
          'role must be admin, approver, operator or viewer',
          'role',
        );
      await requireAdmin(database.db, actor);
      const existing = await database.db
        .selectFrom('srv_operators')
        .select('id')
        .where('username', '=', input.username)
        .executeTakeFirst();
      if (existing)
        throw new ServiceError('OPERATOR_EXISTS', `operator ${input.username} already exists`, 'username');
      const hash = await hashPassword(input.password);
      const row = await database.db
        .insertInto('srv_operators')
        .values({
          username: input.username,
          password_hash: hash,
          display_name: input.displayName ?? null,
          created_at: nowIso(clock),
          disabled_at: null,
          last_login_at: null,
          role,
        })
        .returning(cols)
        .executeTakeFirstOrThrow();
      await audit.record({ actor, action: 'operator.create', target: input.username, details: { role } });
      return toOperator(row);
    },
    async authenticate(username, password) {
      const row = await database.db
        .selectFrom('srv_operators')
        .select([...cols, 'password_hash'])
        .where('username', '=', username)
        .executeTakeFirst();
      if (!row) {
        dummyHash ??= hashPassword('not-a-real-password');
        await verifyPassword(password, await dummyHash);
        return null;
      }
      const ok = await verifyPassword(password, row.password_hash);
      if (!ok || row.disabled_at !== null) return null;
      const at = nowIso(clock);
      await database.db
        .updateTable('srv_operators')
        .set({ last_login_at: at })
        .where('id', '=', row.id)
        .execute();
      return toOperator({ ...row, last_login_at: at });
    },
    async setPassword(username, password, actor) {
      checkPassword(password);
      await requireAdmin(database.db, actor);
      if (actor === `operator:${username}`) {
        throw new ServiceError(
          'FORBIDDEN',
          'change your own password with the current one (your account page)',
          'username',
        );
      }
      const hash = await hashPassword(password);
      const res = await database.db
        .updateTable('srv_operators')
        .set({ password_hash: hash })
        .where('username', '=', username)
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n)
        throw new ServiceError('NOT_FOUND', `no operator ${username}`, 'username');
      // Sessions of that operator end with the old password.
      const op = await database.db
        .selectFrom('srv_operators')
        .select('id')
        .where('username', '=', username)
        .executeTakeFirstOrThrow();
      await database.db.deleteFrom('srv_sessions').where('operator_id', '=', op.id).execute();
      await audit.record({ actor, action: 'operator.set_password', target: username });
    },
    async changeOwnPassword(operatorId, current, next) {
      const row = await database.db
        .selectFrom('srv_operators')
        .select(['username', 'password_hash', 'disabled_at'])
        .where('id', '=', operatorId)
        .executeTakeFirst();
      if (!row || row.disabled_at !== null) throw new ServiceError('NOT_FOUND', 'no such operator', 'id');
      if (!(await verifyPassword(current, row.password_hash))) {
        throw new ServiceError('FORBIDDEN', 'the current password is wrong; nothing was changed', 'current');
      }
      checkPassword(next);
      const hash = await hashPassword(next);
      await database.db
        .updateTable('srv_operators')
        .set({ password_hash: hash })
        .where('id', '=', operatorId)
        .execute();
      await database.db.deleteFrom('srv_sessions').where('operator_id', '=', operatorId).execute();
      await audit.record({
        actor: `operator:${row.username}`,
        action: 'operator.change_own_password',
        target: row.username,
      });
    },
    async setRole(username, role, actor) {
      if (!isRole(role))
        throw new ServiceError(
          'VALIDATION_FAILED',
          'role must be admin, approver, operator or viewer',
          'role',
        );
      return withTransaction(
        database,
        async (trx) => {
          await requireAdmin(trx, actor);
          let q = trx.selectFrom('srv_operators').select(['id', 'role']).where('username', '=', username);
          if (database.dialect === 'postgres') q = q.forUpdate();
          const target = await q.executeTakeFirst();
          if (!target) throw new ServiceError('NOT_FOUND', `no operator ${username}`, 'username');
          if (target.role === role) return false;
          if (target.role === 'admin') await keepAnAdmin(trx, username, 'demoted');
          await trx.updateTable('srv_operators').set({ role }).where('id', '=', target.id).execute();
          await audit.record(
            {
              actor,
              action: 'operator.set_role',
              target: username,
              details: { from: target.role, to: role },
            },
            trx,
          );
          return true;
        },
        { isolationLevel: 'serializable' },
      );
    },
    async setDisabled(username, disabled, actor) {
      const byOperator = actor.startsWith('operator:') ? actor.slice('operator:'.length) : null;
      if (disabled && byOperator === username) {
        throw new ServiceError('FORBIDDEN', 'operators cannot disable themselves', 'username');
      }
      return withTransaction(
        database,
        async (trx) => {
          // Lock both rows (in id order) so that concurrent disables are serialized on PostgreSQL; SQLite
          // write transactions are serialized anyway.
          let q = trx
            .selectFrom('srv_operators')
            .select(['id', 'username', 'disabled_at', 'role'])
            .where('username', 'in', byOperator === null ? [username] : [username, byOperator])
            .orderBy('id');
          if (database.dialect === 'postgres') q = q.forUpdate();
          const rows = await q.execute();
          const target = rows.find((r) => r.username === username);
          if (!target) throw new ServiceError('NOT_FOUND', `no operator ${username}`, 'username');
          if (byOperator !== null) {
            const self = rows.find((r) => r.username === byOperator);
            if (!self || self.disabled_at !== null) {
              throw new ServiceError('FORBIDDEN', `operator ${byOperator} is disabled`, 'actor');
            }
            if (self.role !== 'admin') {
              throw new ServiceError(
                'FORBIDDEN',
                `only an admin manages operators; ${byOperator} is not one`,
                'actor',
              );
            }
          }
          if ((target.disabled_at !== null) === disabled) return false;
          if (disabled && target.role === 'admin') await keepAnAdmin(trx, username, 'disabled');
          await trx
            .updateTable('srv_operators')
            .set({ disabled_at: disabled ? nowIso(clock) : null })
            .where('id', '=', target.id)
            .execute();
          // A disabled operator's sessions end now (and do not come back when they are enabled again).
          if (disabled) await trx.deleteFrom('srv_sessions').where('operator_id', '=', target.id).execute();
          await audit.record(
            { actor, action: disabled ? 'operator.disable' : 'operator.enable', target: username },
            trx,
          );
          return true;
        },
        { isolationLevel: 'serializable' },
      );
    },
    async get(id) {
      const row = await database.db
        .selectFrom('srv_operators')
        .select(cols)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toOperator(row) : null;
    },
    async list() {
      const rows = await database.db.selectFrom('srv_operators').select(cols).orderBy('id').execute();
      return rows.map(toOperator);
    },
    async ensureBootstrapAdmin(password) {
      const any = await database.db.selectFrom('srv_operators').select('id').limit(1).executeTakeFirst();
      if (any) return false;
      try {
        await service.create(
          { username: 'admin', password, displayName: 'Administrator', role: 'admin' },
          'system',
        );
        return true;
      } catch (err) {
        // another instance starting at the same moment created it first (select-then-insert race)
        if ((err instanceof ServiceError && err.code === 'OPERATOR_EXISTS') || isUniqueViolation(err))
          return false;
        throw err;
      }
    },
  };
  return service;
}
