/**
 * The SQLite driver keeps prepared statements by SQL text: results must be those of a freshly prepared
 * statement after schema changes, beyond the cache's size, and next to streaming queries of the same text.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase, withTransaction } from '../src/index.js';
import { STATEMENT_CACHE_SIZE } from '../src/sqlite.js';

describe('SQLite prepared-statement cache', () => {
  let database: Database;
  beforeEach(async () => {
    database = await openDatabase(':memory:');
    await sql`create table t (id integer primary key, name text)`.execute(database.db);
    await sql`insert into t (id, name) values (1, 'a'), (2, 'b'), (3, 'c')`.execute(database.db);
  });
  afterEach(async () => {
    await database.close();
  });

  const selectAll = () => database.db.selectFrom('t').selectAll().orderBy('id').execute();

  it('reuses a statement and still sees schema changes (column added, table recreated)', async () => {
    expect(await selectAll()).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c' },
    ]);
    await sql`alter table t add column extra integer default 7`.execute(database.db);
    expect((await selectAll())[0]).toEqual({ id: 1, name: 'a', extra: 7 });
    await sql`drop table t`.execute(database.db);
    await expect(selectAll()).rejects.toThrow(/no such table/);
    await sql`create table t (id integer primary key, label text not null)`.execute(database.db);
    await sql`insert into t (id, label) values (9, 'z')`.execute(database.db);
    expect(await selectAll()).toEqual([{ id: 9, label: 'z' }]);
  });

  it('answers correctly beyond the cache size (evicted statements are prepared again)', async () => {
    const n = STATEMENT_CACHE_SIZE + 40;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < n; i++) {
        const { rows } = await sql<{
          v: number;
        }>`${sql.raw(`select ${i} + id as v from t where id = 1`)}`.execute(database.db);
        expect(rows).toEqual([{ v: i + 1 }]);
      }
    }
  });

  it('reports affected rows and insert ids from a cached statement, inside and outside transactions', async () => {
    const update = (name: string) =>
      database.db.updateTable('t').set({ name }).where('id', '>=', 2).executeTakeFirst();
    expect((await update('x')).numUpdatedRows).toBe(2n);
    await withTransaction(database, async (trx) => {
      const r = await trx.updateTable('t').set({ name: 'y' }).where('id', '>=', 2).executeTakeFirst();
      expect(r.numUpdatedRows).toBe(2n);
      const ins = await trx.insertInto('t').values({ id: 10, name: 'k' }).executeTakeFirst();
      expect(ins.insertId).toBe(10n);
    });
    expect((await update('w')).numUpdatedRows).toBe(3n);
  });

  it('streams and executes the same SQL alternately', async () => {
    const q = database.db.selectFrom('t').select('id').orderBy('id');
    for (let round = 0; round < 2; round++) {
      expect((await q.execute()).map((r) => r.id)).toEqual([1, 2, 3]);
      const seen: number[] = [];
      for await (const row of q.stream()) seen.push(row.id);
      expect(seen).toEqual([1, 2, 3]);
    }
  });
});
