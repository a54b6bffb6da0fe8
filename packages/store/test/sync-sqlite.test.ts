/**
 * `withSyncSqlite`: the one SQLite connection used synchronously. It waits for any Kysely transaction in
 * progress (never joins it), commits or rolls back as a whole, and a nested transaction is a savepoint rolled
 * back alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase, withTransaction } from '../src/index.js';

describe('withSyncSqlite (SQLite file)', () => {
  let dir: string;
  let database: Database;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alirefund-sync-'));
    database = await openDatabase(join(dir, 'db.sqlite'), { backgroundCheckpoints: false });
    await sql`create table t (id integer primary key, name text not null unique)`.execute(database.db);
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const names = async () =>
    (await database.db.selectFrom('t').select('name').orderBy('id').execute()).map((r) => r.name);

  it('runs statements back to back, returns rows and change counts, and commits', async () => {
    const out = await database.withSyncSqlite!((s) =>
      s.transaction(() => {
        const a = s.query('insert into t (name) values (?), (?)', ['a', 'b']);
        const b = s.query("update t set name = name || '!' where name = ?", ['b']);
        const rows = s.query<{ name: string }>('select name from t order by id', []);
        const ret = s.query<{ id: number }>('insert into t (name) values (?) returning id', ['c']);
        return { a: a.changes, b: b.changes, rows: rows.rows.map((r) => r.name), id: ret.rows[0]!.id };
      }),
    );
    expect(out).toEqual({ a: 2, b: 1, rows: ['a', 'b!'], id: 3 });
    expect(await names()).toEqual(['a', 'b!', 'c']);
  });

  it('rolls back the whole transaction when it throws, and only a savepoint when a nested one throws', async () => {
    await expect(
      database.withSyncSqlite!((s) =>
        s.transaction(() => {
          s.query('insert into t (name) values (?)', ['x']);
          s.query('insert into t (name) values (?)', ['x']); // unique violation
        }),
      ),
    ).rejects.toThrow(/UNIQUE/);
    expect(await names()).toEqual([]);

    const outcomes = await database.withSyncSqlite!((s) =>
      s.transaction(() =>
        ['p', 'q', 'p', 'r'].map((name) => {
          try {
            s.transaction(() => {
              s.query('insert into t (name) values (?)', [`${name}-note`]);
              s.query('insert into t (name) values (?)', [name]);
            });
            return 'ok';
          } catch {
            return 'rolled back';
          }
        }),
      ),
    );
    expect(outcomes).toEqual(['ok', 'ok', 'rolled back', 'ok']);
    // The third one's first insert ('p-note' again) failed too; nothing of it is left, the others are whole.
    expect(await names()).toEqual(['p-note', 'p', 'q-note', 'q', 'r-note', 'r']);
  });

  it('waits for a Kysely transaction in progress instead of joining it', async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const tx = withTransaction(database, async (trx) => {
      await sql`insert into t (name) values ('in-tx')`.execute(trx);
      order.push('tx wrote');
      await held;
      order.push('tx commits');
    });
    await new Promise((r) => setTimeout(r, 20));
    const sync = database.withSyncSqlite!((s) => {
      order.push('sync runs');
      return s.query<{ n: number }>('select count(*) as n from t', []).rows[0]!.n;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['tx wrote']);
    release();
    await tx;
    expect(await sync).toBe(1);
    expect(order).toEqual(['tx wrote', 'tx commits', 'sync runs']);
  });
});
