// One suite, run against every dialect under test: a real SQLite file and a real PostgreSQL (the throwaway
// cluster from the vitest globalSetup).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isUniqueViolation,
  MIGRATIONS_TABLE,
  type Migration,
  migrate,
  openDatabase,
  revertMigrations,
  withTransaction,
} from '../src/index.js';
import { dialectsUnderTest, openTestDatabase, type TestDatabase } from '../src/testing.js';
import { raceMigrations } from './fixtures/race-migrations.js';

const CHILD = fileURLToPath(new URL('./fixtures/migrate-child.ts', import.meta.url));

interface RecordedMigration {
  namespace: string;
  name: string;
  applied_at: string;
}

/** Migrations that count their `up` calls and log the order they ran in. */
function countingMigrations(log: string[]): Migration[] {
  return [
    {
      name: '0001_trades',
      async up(db) {
        log.push('0001_trades');
        await db.schema
          .createTable('trades')
          .addColumn('trade_no', 'text', (c) => c.primaryKey())
          .addColumn('amount', 'bigint', (c) => c.notNull())
          .execute();
      },
      async down(db) {
        await db.schema.dropTable('trades').execute();
      },
    },
    {
      name: '0002_refunds',
      async up(db) {
        log.push('0002_refunds');
        await db.schema
          .createTable('refunds')
          .addColumn('batch_no', 'text', (c) => c.notNull())
          .addColumn('trade_no', 'text', (c) => c.notNull().references('trades.trade_no'))
          .addColumn('amount', 'bigint', (c) => c.notNull())
          .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
          .addUniqueConstraint('refunds_batch_trade', ['batch_no', 'trade_no'])
          .execute();
      },
      async down(db) {
        await db.schema.dropTable('refunds').execute();
      },
    },
  ];
}

async function recorded(database: TestDatabase, namespace?: string): Promise<RecordedMigration[]> {
  let query = database.db.selectFrom(MIGRATIONS_TABLE).selectAll().orderBy('namespace').orderBy('name');
  if (namespace !== undefined) query = query.where('namespace', '=', namespace);
  return (await query.execute()) as RecordedMigration[];
}

async function tableExists(database: TestDatabase, table: string): Promise<boolean> {
  const tables = await database.db.introspection.getTables();
  return tables.some((t) => t.name === table);
}

/**
 * Starts migrate-child.ts against `url` and waits until it is ready; `go()` releases it and resolves to what it
 * applied.
 */
async function startMigrateChild(url: string, namespace: string): Promise<{ go(): Promise<string[]> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, namespace], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.startsWith('ready\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`child exited (${code}) before it was ready: ${stderr}`)));
  });
  return {
    async go() {
      child.stdin.end('go\n');
      const code = await exited;
      if (code !== 0) throw new Error(`child exited ${code}: ${stderr}`);
      const line = stdout.split('\n').filter(Boolean).at(-1) ?? '';
      return (JSON.parse(line) as { applied: string[] }).applied;
    },
  };
}

describe.each(dialectsUnderTest())('store on %s', (dialect) => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await openTestDatabase(dialect);
  });
  afterEach(async () => {
    await database.cleanup();
  });

  it('reports its dialect', () => {
    expect(database.dialect).toBe(dialect);
  });

  describe('migrate', () => {
    it('applies migrations once, in order, and records them', async () => {
      const log: string[] = [];
      const before = Date.now();
      const result = await migrate(database, 'server', countingMigrations(log));
      expect(result.applied).toEqual(['0001_trades', '0002_refunds']);
      expect(log).toEqual(['0001_trades', '0002_refunds']);
      const rows = await recorded(database);
      expect(rows.map((r) => [r.namespace, r.name])).toEqual([
        ['server', '0001_trades'],
        ['server', '0002_refunds'],
      ]);
      for (const row of rows) {
        const at = Date.parse(row.applied_at);
        expect(at).toBeGreaterThanOrEqual(before - 1000);
        expect(at).toBeLessThanOrEqual(Date.now() + 1000);
      }
      expect(await tableExists(database, 'refunds')).toBe(true);
    });

    it('re-running applies nothing; an added migration is applied alone', async () => {
      const log: string[] = [];
      const migrations = countingMigrations(log);
      await migrate(database, 'server', migrations);
      expect(await migrate(database, 'server', migrations)).toEqual({ applied: [] });
      expect(log).toHaveLength(2);

      const added: Migration = {
        name: '0003_index',
        async up(db) {
          log.push('0003_index');
          await db.schema.createIndex('refunds_trade_no').on('refunds').column('trade_no').execute();
        },
      };
      expect(await migrate(database, 'server', [...migrations, added])).toEqual({ applied: ['0003_index'] });
      expect(log).toEqual(['0001_trades', '0002_refunds', '0003_index']);
      expect(await recorded(database, 'server')).toHaveLength(3);
    });

    it('keeps namespaces apart in one database', async () => {
      await migrate(database, 'server', countingMigrations([]));
      const sandboxLog: string[] = [];
      const sandbox: Migration[] = [
        {
          // The same name as a server migration: only the namespace tells them apart.
          name: '0001_trades',
          async up(db) {
            sandboxLog.push('sandbox');
            await db.schema.createTable('sandbox_trades').addColumn('id', 'integer').execute();
          },
        },
      ];
      expect(await migrate(database, 'sandbox', sandbox)).toEqual({ applied: ['0001_trades'] });
      expect(sandboxLog).toEqual(['sandbox']);
      expect(await migrate(database, 'sandbox', sandbox)).toEqual({ applied: [] });
      expect((await recorded(database)).map((r) => `${r.namespace}/${r.name}`)).toEqual([
        'sandbox/0001_trades',
        'server/0001_trades',
        'server/0002_refunds',
      ]);
    });

    it('rolls back a failing migration entirely and names it; earlier ones stay', async () => {
      const [first] = countingMigrations([]);
      const bad: Migration = {
        name: '0002_bad',
        async up(db) {
          await db.schema.createTable('half_done').addColumn('id', 'integer').execute();
          throw new Error('boom');
        },
      };
      const failure = await migrate(database, 'server', [first!, bad]).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/Migration "server\/0002_bad" failed \(up\): boom/);
      expect(((failure as Error).cause as Error).message).toBe('boom');
      expect(await tableExists(database, 'half_done')).toBe(false);
      expect((await recorded(database)).map((r) => r.name)).toEqual(['0001_trades']);

      const fixed: Migration = {
        name: '0002_bad',
        up: (db) => db.schema.createTable('half_done').addColumn('id', 'integer').execute(),
      };
      expect(await migrate(database, 'server', [first!, fixed])).toEqual({ applied: ['0002_bad'] });
    });

    it('rejects duplicate names before touching the database', async () => {
      const [first] = countingMigrations([]);
      await expect(migrate(database, 'server', [first!, first!])).rejects.toThrow(/listed twice/);
      expect(await tableExists(database, MIGRATIONS_TABLE)).toBe(false);
    });

    it('two concurrent migrate() calls on one handle apply each migration once', async () => {
      const calls: string[] = [];
      const migrations: Migration[] = countingMigrations(calls).map((m) => ({
        ...m,
        async up(db, ctx) {
          await m.up(db, ctx);
          await sleep(50);
        },
      }));
      const [a, b] = await Promise.all([
        migrate(database, 'server', migrations),
        migrate(database, 'server', migrations),
      ]);
      expect(calls).toEqual(['0001_trades', '0002_refunds']);
      expect([...a.applied, ...b.applied].sort()).toEqual(['0001_trades', '0002_refunds']);
      expect(await recorded(database)).toHaveLength(2);
    });

    it('two processes migrating at once apply each migration once', async () => {
      // This test process is one migrator (with its own handle: its own connection), a child process the other.
      const child = await startMigrateChild(database.url, 'race');
      const ours = await openDatabase(database.url);
      try {
        const [theirs, mine] = await Promise.all([child.go(), migrate(ours, 'race', raceMigrations)]);
        expect([...theirs, ...mine.applied].sort()).toEqual(['0001_race_a', '0002_race_b']);
      } finally {
        await ours.close();
      }
      expect((await recorded(database, 'race')).map((r) => r.name)).toEqual(['0001_race_a', '0002_race_b']);
    });

    it('revertMigrations runs down, newest first, and forgets the record', async () => {
      const migrations = countingMigrations([]);
      await migrate(database, 'server', migrations);
      expect(await revertMigrations(database, 'server', migrations)).toEqual({ reverted: ['0002_refunds'] });
      expect(await tableExists(database, 'refunds')).toBe(false);
      expect(await tableExists(database, 'trades')).toBe(true);
      expect((await recorded(database)).map((r) => r.name)).toEqual(['0001_trades']);
      expect(await migrate(database, 'server', migrations)).toEqual({ applied: ['0002_refunds'] });
    });
  });

  describe('withTransaction', () => {
    beforeEach(async () => {
      await migrate(database, 'server', countingMigrations([]));
    });

    it('commits what fn did and returns its value', async () => {
      const value = await withTransaction(database, async (trx) => {
        await trx.insertInto('trades').values({ trade_no: 'T1', amount: 100 }).execute();
        return 'done';
      });
      expect(value).toBe('done');
      expect(await database.db.selectFrom('trades').select('trade_no').execute()).toEqual([
        { trade_no: 'T1' },
      ]);
    });

    it('rolls back and rethrows the same error when fn throws', async () => {
      const boom = new Error('boom');
      let attempts = 0;
      await expect(
        withTransaction(database, async (trx) => {
          attempts++;
          await trx.insertInto('trades').values({ trade_no: 'T1', amount: 100 }).execute();
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(attempts).toBe(1); // not a retryable error
      expect(await database.db.selectFrom('trades').selectAll().execute()).toEqual([]);
    });

    it('retries a retryable failure, rolling back each attempt, and gives up after `retries`', async () => {
      const code = dialect === 'postgres' ? '40001' : 'SQLITE_BUSY';
      let attempts = 0;
      const result = await withTransaction(database, async (trx) => {
        attempts++;
        await trx
          .insertInto('trades')
          .values({ trade_no: `T${attempts}`, amount: 1 })
          .execute();
        if (attempts < 3) throw Object.assign(new Error('conflict'), { code });
        return attempts;
      });
      expect(result).toBe(3);
      // Attempts 1 and 2 were rolled back.
      expect(await database.db.selectFrom('trades').select('trade_no').execute()).toEqual([
        { trade_no: 'T3' },
      ]);

      attempts = 0;
      const always = Object.assign(new Error('always'), { code });
      await expect(
        withTransaction(
          database,
          async () => {
            attempts++;
            throw always;
          },
          { retries: 2 },
        ),
      ).rejects.toBe(always);
      expect(attempts).toBe(3);
    });

    it('BIGINT fen above 2^31 round-trips as a number, as do COUNT and SUM', async () => {
      const big = 2 ** 31 * 5 + 3; // 10737418243 fen
      await database.db
        .insertInto('trades')
        .values([
          { trade_no: 'T1', amount: big },
          { trade_no: 'T2', amount: Number.MAX_SAFE_INTEGER - big },
        ])
        .execute();
      const row = await database.db
        .selectFrom('trades')
        .select('amount')
        .where('trade_no', '=', 'T1')
        .executeTakeFirstOrThrow();
      expect(row.amount).toBe(big);
      const agg = await database.db
        .selectFrom('trades')
        .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('amount').as('total')])
        .executeTakeFirstOrThrow();
      expect(agg).toEqual({ n: 2, total: Number.MAX_SAFE_INTEGER });
    });

    it('booleans stored as 0/1 integers read back as numbers', async () => {
      await database.db.insertInto('trades').values({ trade_no: 'T1', amount: 1 }).execute();
      await database.db
        .insertInto('refunds')
        .values({ batch_no: 'B1', trade_no: 'T1', amount: 1, done: 1 })
        .execute();
      const row = await database.db.selectFrom('refunds').select('done').executeTakeFirstOrThrow();
      expect(row.done).toBe(1);
    });

    it('isUniqueViolation detects a duplicate insert and nothing else', async () => {
      await database.db.insertInto('trades').values({ trade_no: 'T1', amount: 1 }).execute();
      const duplicateKey = await database.db
        .insertInto('trades')
        .values({ trade_no: 'T1', amount: 2 })
        .execute()
        .catch((err: unknown) => err);
      expect(isUniqueViolation(duplicateKey)).toBe(true);

      await database.db.insertInto('refunds').values({ batch_no: 'B1', trade_no: 'T1', amount: 1 }).execute();
      const duplicateUnique = await database.db
        .insertInto('refunds')
        .values({ batch_no: 'B1', trade_no: 'T1', amount: 1 })
        .execute()
        .catch((err: unknown) => err);
      expect(isUniqueViolation(duplicateUnique)).toBe(true);

      // A foreign-key violation (foreign_keys=ON on SQLite) is a different failure.
      const foreignKey = await database.db
        .insertInto('refunds')
        .values({ batch_no: 'B2', trade_no: 'NO_SUCH_TRADE', amount: 1 })
        .execute()
        .catch((err: unknown) => err);
      expect(foreignKey).toBeInstanceOf(Error);
      expect(isUniqueViolation(foreignKey)).toBe(false);

      const notNull = await database.db
        .insertInto('trades')
        .values({ trade_no: 'T9', amount: null })
        .execute()
        .catch((err: unknown) => err);
      expect(notNull).toBeInstanceOf(Error);
      expect(isUniqueViolation(notNull)).toBe(false);
    });
  });

  it.runIf(dialect === 'sqlite')('concurrent transactions in one process never interleave', async () => {
    await database.db.schema.createTable('counter').addColumn('n', 'integer').execute();
    await database.db.insertInto('counter').values({ n: 0 }).execute();
    const events: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        withTransaction(database, async (trx) => {
          events.push(`begin ${i}`);
          const { n } = await trx.selectFrom('counter').select('n').executeTakeFirstOrThrow();
          await sleep(2 + ((i * 7) % 5)); // yield to the event loop between read and write
          await trx
            .updateTable('counter')
            .set({ n: n + 1 })
            .execute();
          events.push(`end ${i}`);
        }),
      ),
    );
    // Each transaction ran from begin to end with no other one in between.
    for (let k = 0; k < events.length; k += 2) {
      expect(events[k + 1]).toBe(events[k]!.replace('begin', 'end'));
    }
    expect(await database.db.selectFrom('counter').select('n').executeTakeFirstOrThrow()).toEqual({ n: 8 });
  });

  it.runIf(dialect === 'postgres')(
    'serializable conflicts are retried until every increment lands',
    async () => {
      await database.db.schema.createTable('counter').addColumn('n', 'integer').execute();
      await database.db.insertInto('counter').values({ n: 0 }).execute();
      const n = 4;
      let attempts = 0;
      await Promise.all(
        Array.from({ length: n }, () =>
          withTransaction(
            database,
            async (trx) => {
              attempts++;
              const row = await trx.selectFrom('counter').select('n').executeTakeFirstOrThrow();
              await sleep(20); // let the others read the same value
              await trx
                .updateTable('counter')
                .set({ n: row.n + 1 })
                .execute();
            },
            { isolationLevel: 'serializable', retries: 20 },
          ),
        ),
      );
      expect(await database.db.selectFrom('counter').select('n').executeTakeFirstOrThrow()).toEqual({ n });
      expect(attempts).toBeGreaterThan(n); // conflicts really happened, and were retried
    },
  );

  it.runIf(dialect === 'postgres')(
    'BIGINT beyond Number.MAX_SAFE_INTEGER throws instead of rounding',
    async () => {
      await expect(sql`select 9007199254740993::bigint as v`.execute(database.db)).rejects.toThrow(
        /safe range/,
      );
      await expect(
        sql`select sum(v) as s from (values (9007199254740991::bigint), (2::bigint)) t(v)`.execute(
          database.db,
        ),
      ).rejects.toThrow(/safe range/);
      // Fractional NUMERIC (AVG) is a float, as SQLite's REAL is.
      const { rows } = await sql<{
        a: number;
      }>`select avg(v) as a from (values (1::bigint), (2::bigint)) t(v)`.execute(database.db);
      expect(rows[0]?.a).toBe(1.5);
    },
  );
});
