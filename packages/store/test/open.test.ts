import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/index.js';
import { dialectsUnderTest, sharedPostgresUrl } from '../src/testing.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'alirefund-open-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function pragma(url: string, name: string): Promise<unknown> {
  const database = await openDatabase(url);
  try {
    const { rows } = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(database.db);
    return Object.values(rows[0] ?? {})[0];
  } finally {
    await database.close();
  }
}

describe('openDatabase: SQLite', () => {
  it('creates the parent directory and sets WAL, synchronous=NORMAL, foreign keys and busy_timeout', async () => {
    const file = join(dir, 'nested', 'deeper', 'alirefund.db');
    const database = await openDatabase(file);
    try {
      expect(existsSync(file)).toBe(true);
      expect(database.dialect).toBe('sqlite');
      expect(database.url).toBe(file);
      const read = async (name: string) => {
        const { rows } = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(
          database.db,
        );
        return Object.values(rows[0] ?? {})[0];
      };
      expect(await read('journal_mode')).toBe('wal');
      expect(await read('synchronous')).toBe(1); // NORMAL
      expect(await read('foreign_keys')).toBe(1);
      expect(await read('busy_timeout')).toBe(5000);
    } finally {
      await database.close();
    }
  });

  it.each([
    ['sqlite:', (f: string) => `sqlite:${f}`],
    ['file:', (f: string) => `file:${f}`],
    ['file://', (f: string) => new URL(`file://${f}`).href],
  ])('opens a file named by a %s URL', async (_label, toUrl) => {
    const file = join(dir, 'sub', 'x.db');
    expect(await pragma(toUrl(file), 'journal_mode')).toBe('wal');
    expect(existsSync(file)).toBe(true);
  });

  it(':memory: is an in-memory database that leaves no file behind', async () => {
    const cwd = process.cwd();
    const database = await openDatabase<{ t: { id: number } }>(':memory:');
    try {
      await database.db.schema.createTable('t').addColumn('id', 'integer').execute();
      await database.db.insertInto('t').values({ id: 1 }).execute();
      expect(await database.db.selectFrom('t').selectAll().execute()).toEqual([{ id: 1 }]);
      expect(existsSync(join(cwd, ':memory:'))).toBe(false);
    } finally {
      await database.close();
      await database.close(); // twice is fine
    }
  });

  it('reports a file it cannot create', async () => {
    const notADir = join(dir, 'plain-file');
    writeFileSync(notADir, '');
    await expect(openDatabase(join(notADir, 'sub', 'x.db'))).rejects.toThrow(
      /^Cannot open SQLite database .*plain-file.*ENOTDIR/,
    );
  });
});

describe('openDatabase: bad URLs and secrets', () => {
  it('names the accepted forms for an unknown scheme, without the password', async () => {
    const err = await openDatabase('mysql://u:secret@db.example:3306/alirefund').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/Unsupported database URL scheme "mysql:"/);
    for (const form of ['sqlite:PATH', 'file:PATH', ':memory:', 'postgres://', 'postgresql://']) {
      expect(message).toContain(form);
    }
    expect(message).toContain('u:***@db.example');
    expect(inspect(err, { depth: 10 })).not.toContain('secret');
  });

  it('an unreachable PostgreSQL fails at open, with the password redacted everywhere', async () => {
    const err = await openDatabase('postgres://u:secret@127.0.0.1:1/alirefund').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /^Cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/alirefund: .*ECONNREFUSED/,
    );
    expect(inspect(err, { depth: 10 })).not.toContain('secret');
  });

  it('rejects a bad pool size', async () => {
    await expect(openDatabase('postgres://u@127.0.0.1:1/x', { poolSize: 0 })).rejects.toThrow(TypeError);
  });
});

describe.runIf(dialectsUnderTest().includes('postgres'))('openDatabase: PostgreSQL', () => {
  it('redacts the password in .url and honours poolSize', async () => {
    const base = new URL(await sharedPostgresUrl());
    base.password = 'secret'; // trust authentication ignores it
    const database = await openDatabase(base.href, { poolSize: 2 });
    try {
      expect(database.dialect).toBe('postgres');
      expect(database.url).not.toContain('secret');
      expect(database.url).toContain('postgres:***@127.0.0.1');
      // Three concurrent sleeps on a pool of two take two rounds.
      const started = Date.now();
      await Promise.all([1, 2, 3].map(() => sql`select pg_sleep(0.1)`.execute(database.db)));
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    } finally {
      await database.close();
    }
  });
});
