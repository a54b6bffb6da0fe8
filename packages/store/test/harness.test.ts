import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decideDialects,
  dialectsUnderTest,
  openTestDatabase,
  sharedPostgresUrl,
  startThrowawayPostgres,
  TEST_PG_URL_ENV,
} from '../src/testing.js';

async function query<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

function databaseUrl(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.href;
}

describe('decideDialects', () => {
  it.each([
    [{}, true, ['sqlite', 'postgres']],
    [{}, false, ['sqlite']],
    [{ ALIREFUND_TEST_PG: 'off' }, true, ['sqlite']],
    [{ ALIREFUND_TEST_PG: 'off', CI: 'true' }, false, ['sqlite']],
    [{ ALIREFUND_TEST_PG_URL: 'postgres://x@h/db' }, false, ['sqlite', 'postgres']],
    [{ CI: 'true' }, true, ['sqlite', 'postgres']],
  ])('%j with binaries=%s → %j', (env, binaries, expected) => {
    expect(decideDialects(env, binaries)).toEqual(expected);
  });

  it('throws on CI when PostgreSQL is missing, saying how to fix it', () => {
    expect(() => decideDialects({ CI: 'true' }, false)).toThrow(
      /CI must not skip PostgreSQL.*ALIREFUND_TEST_PG=off/,
    );
  });
});

describe('openTestDatabase: sqlite', () => {
  it('gives a fresh file that cleanup() removes', async () => {
    const database = await openTestDatabase('sqlite');
    await database.db.schema.createTable('t').addColumn('id', 'integer').execute();
    const file = database.url;
    expect(existsSync(file)).toBe(true);
    await database.cleanup();
    await database.cleanup(); // idempotent
    expect(existsSync(dirname(file))).toBe(false);
  });
});

describe.runIf(dialectsUnderTest().includes('postgres'))('PostgreSQL harness', () => {
  it('the vitest globalSetup shares one cluster with the workers through the environment', () => {
    expect(process.env[TEST_PG_URL_ENV]).toMatch(/^postgres(ql)?:\/\//);
  });

  describe('openTestDatabase: postgres', () => {
    // A base database of our own, so that the recycling pool seen here is not shared with other test files.
    let savedEnv: string | undefined;
    let clusterUrl: string;
    let base: string;
    beforeAll(async () => {
      clusterUrl = await sharedPostgresUrl();
      const name = `alirefund_harness_${process.pid}`;
      await query(clusterUrl, `create database ${name}`);
      base = databaseUrl(clusterUrl, name);
      savedEnv = process.env[TEST_PG_URL_ENV];
      process.env[TEST_PG_URL_ENV] = base;
    });
    afterAll(async () => {
      if (savedEnv === undefined) delete process.env[TEST_PG_URL_ENV];
      else process.env[TEST_PG_URL_ENV] = savedEnv;
      const pool = await query<{ name: string }>(base, 'select name from alirefund_test_databases');
      for (const { name } of pool) await query(clusterUrl, `drop database if exists ${name} with (force)`);
      await query(clusterUrl, `drop database if exists ${new URL(base).pathname.slice(1)} with (force)`);
    });

    it('gives concurrent tests distinct databases, and an emptied one to a later test', async () => {
      const [a, b] = await Promise.all([openTestDatabase('postgres'), openTestDatabase('postgres')]);
      const nameOf = async (d: typeof a) =>
        (await sql<{ n: string }>`select current_database() as n`.execute(d.db)).rows[0]?.n;
      const nameA = await nameOf(a);
      const nameB = await nameOf(b);
      expect(nameA).toMatch(/^alirefund_t_[0-9a-f]{12}$/);
      expect(nameB).not.toBe(nameA);

      // Leave a mess in A: tables, another schema, a sequence, a database setting, a stray open connection.
      await a.db.schema.createTable('mess').addColumn('id', 'serial').execute();
      await a.db.schema.createSchema('extra').execute();
      await a.db.schema.createTable('extra.more').addColumn('id', 'integer').execute();
      await sql.raw(`alter database ${nameA} set work_mem = '8MB'`).execute(a.db);
      const straggler = new pg.Client({ connectionString: databaseUrl(base, nameA!) });
      straggler.on('error', () => {});
      await straggler.connect();
      await straggler.query('begin; lock table mess');

      await a.cleanup();
      await b.cleanup();
      const free = await query<{ name: string; in_use: number }>(
        base,
        'select name, in_use from alirefund_test_databases order by name',
      );
      expect(free.map((r) => r.in_use)).toEqual([0, 0]);

      const c = await openTestDatabase('postgres');
      try {
        expect([nameA, nameB]).toContain(await nameOf(c)); // recycled, not created
        const c2 = await openTestDatabase('postgres');
        try {
          // Both recycled ones are empty: no tables, no schema but public, no leftover setting.
          for (const d of [c, c2]) {
            expect(await d.db.introspection.getTables()).toEqual([]);
            const schemas = await d.db.introspection.getSchemas();
            expect(
              schemas.map((s) => s.name).filter((n) => !n.startsWith('pg_') && n !== 'information_schema'),
            ).toEqual(['public']);
            const { rows } = await sql<{ work_mem: string }>`show work_mem`.execute(d.db);
            expect(rows[0]?.work_mem).toBe('4MB');
          }
        } finally {
          await c2.cleanup();
        }
      } finally {
        await c.cleanup();
        await straggler.end().catch(() => {});
      }
    });
  });

  it('startThrowawayPostgres starts a tuned cluster on 127.0.0.1 and stop() removes it', async () => {
    const started = Date.now();
    const cluster = await startThrowawayPostgres();
    const startMs = Date.now() - started;
    try {
      expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/alirefund_test`);
      const settings = await query<{ name: string; setting: string }>(
        cluster.url,
        `select name, setting from pg_settings where name in
           ('fsync', 'synchronous_commit', 'full_page_writes', 'listen_addresses', 'port') order by name`,
      );
      expect(Object.fromEntries(settings.map((s) => [s.name, s.setting]))).toEqual({
        fsync: 'off',
        full_page_writes: 'off',
        listen_addresses: '127.0.0.1',
        port: String(cluster.port),
        synchronous_commit: 'off',
      });
      expect(existsSync(cluster.dir)).toBe(true);
      expect(startMs).toBeLessThan(15_000);
    } finally {
      await cluster.stop();
    }
    expect(existsSync(cluster.dir)).toBe(false);
    await expect(query(cluster.url, 'select 1')).rejects.toThrow(/ECONNREFUSED/);
  });
});
