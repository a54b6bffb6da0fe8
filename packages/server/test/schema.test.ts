/** The server's schema as migrated on both dialects: what the hot paths rely on. */
import { migrate } from '@alirefund/store';
import { dialectsUnderTest, openTestDatabase } from '@alirefund/store/testing';
import { CompiledQuery, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { MIGRATION_NAMESPACE, serverMigrations } from '../src/schema.js';
import { tradesApplySql } from '../src/services/notify-apply.js';

describe.each(dialectsUnderTest())('server schema (%s)', (dialect) => {
  it('indexes only reserved trades under open_batch_no, and releasing a batch uses that index', async () => {
    const database = await openTestDatabase(dialect);
    try {
      await migrate(database, MIGRATION_NAMESPACE, serverMigrations);
      const db = database.db;
      if (dialect === 'sqlite') {
        const { rows } = await sql<{ sql: string }>`
          select sql from sqlite_master where type = 'index' and name = 'srv_trades_open_batch'`.execute(db);
        expect(rows[0]?.sql).toMatch(/where\s+"?open_batch_no"?\s+is not null/i);
        const plan = await sql<{ detail: string }>`
          explain query plan update srv_trades set open_batch_no = null where open_batch_no = ${'B1'}`.execute(
          db,
        );
        expect(plan.rows.map((r) => r.detail).join(' ')).toContain('srv_trades_open_batch');
      } else {
        const { rows } = await sql<{ indexdef: string }>`
          select indexdef from pg_indexes where indexname = 'srv_trades_open_batch'`.execute(db);
        expect(rows[0]?.indexdef).toMatch(/WHERE \(?open_batch_no IS NOT NULL\)?/);
      }
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
