/** The server's schema as migrated on both dialects: what the hot paths rely on. */
import { migrate, revertMigrations } from '@alirefund/store';
import { dialectsUnderTest, openTestDatabase } from '@alirefund/store/testing';
import { CompiledQuery, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { ServerDB } from '../src/db.js';
import { MIGRATION_NAMESPACE, serverMigrations } from '../src/schema.js';
import { heldTrades } from '../src/services/batch-ledger.js';
import { tradesApplySql } from '../src/services/notify-apply.js';

describe.each(dialectsUnderTest())('server schema (%s)', (dialect) => {
  it('has no index under open_batch_no (the apply writes none), and releasing a batch finds its trades by key', async () => {
    const database = await openTestDatabase<ServerDB>(dialect);
    try {
      await migrate(database, MIGRATION_NAMESPACE, serverMigrations);
      const db = database.db;
      if (dialect === 'sqlite') {
        const { rows } = await sql<{ name: string }>`
          select name from sqlite_master where type = 'index' and tbl_name = 'srv_trades'
            and sql like '%open_batch_no%'`.execute(db);
        expect(rows).toEqual([]);
        const release = heldTrades(db, 'B1').set({ open_batch_no: null, updated_at: 'now' }).compile();
        const plan = await db.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`explain query plan ${release.sql}`, [...release.parameters]),
        );
        const text = plan.rows.map((r) => r.detail).join(' | ');
        expect(text).toMatch(/SEARCH srv_trades USING (INDEX sqlite_autoindex_srv_trades|PRIMARY KEY)/);
        expect(text).not.toMatch(/SCAN srv_trades/);
      } else {
        const { rows } = await sql<{ indexdef: string }>`
          select indexdef from pg_indexes where tablename = 'srv_trades'`.execute(db);
        expect(rows.map((r) => r.indexdef).filter((d) => d.includes('open_batch_no'))).toEqual([]);
      }
    } finally {
      await database.cleanup();
    }
  });

  it('migration 0009 reverts to the partial index of 0005', async () => {
    const database = await openTestDatabase(dialect);
    try {
      await migrate(database, MIGRATION_NAMESPACE, serverMigrations);
      await revertMigrations(database, MIGRATION_NAMESPACE, serverMigrations, { steps: 1 });
      const db = database.db;
      const defs =
        dialect === 'sqlite'
          ? (
              await sql<{
                d: string;
              }>`select sql as d from sqlite_master where name = 'srv_trades_open_batch'`.execute(db)
            ).rows
          : (
              await sql<{
                d: string;
              }>`select indexdef as d from pg_indexes where indexname = 'srv_trades_open_batch'`.execute(db)
            ).rows;
      expect(defs[0]?.d).toMatch(/where\s+\(?"?open_batch_no"?\s+is not null\)?/i);
    } finally {
      await database.cleanup();
    }
  });

  it.runIf(dialect === 'sqlite')(
    "a notification's trades update looks trades up by key, also for 500-record chunks",
    async () => {
      const database = await openTestDatabase(dialect);
      try {
        await migrate(database, MIGRATION_NAMESPACE, serverMigrations);
        for (const count of [50, 500]) {
          const params: unknown[] = [];
          for (let i = 0; i < count; i++) params.push(`T${i}`, 100, 1);
          params.push('B1', 'now');
          const plan = await database.db.executeQuery<{ detail: string }>(
            CompiledQuery.raw(`explain query plan ${tradesApplySql('sqlite', count)}`, params),
          );
          const text = plan.rows.map((r) => r.detail).join(' | ');
          expect(text, `${count} rows: ${text}`).toMatch(/SEARCH srv_trades USING (INDEX|PRIMARY KEY)/);
          expect(text).not.toMatch(/SCAN srv_trades/);
        }
      } finally {
        await database.cleanup();
      }
    },
  );
});
