/**
 * WAL checkpoints in a background worker (checkpointer.ts): they run, they copy the WAL back, the main
 * connection no longer checkpoints at 1,000 pages, and closing lets go of the file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKSTOP_WAL_PAGES } from '../src/checkpointer.js';
import { checkpointerRunning, checkpointStats, openDatabase } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'alirefund-ckpt-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor<T>(fn: () => T | undefined | null | false, what: string, ms = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes about `pages` 4 KiB pages of new rows, one transaction per 50 rows. */
async function writePages(database: Awaited<ReturnType<typeof openDatabase>>, pages: number): Promise<void> {
  await sql`create table if not exists blob_rows (id integer primary key, body text not null)`.execute(
    database.db,
  );
  const body = 'x'.repeat(3500);
  for (let i = 0; i < pages; i += 50) {
    await database.db.transaction().execute(async (trx) => {
      for (let j = 0; j < 50; j++) await sql`insert into blob_rows (body) values (${body})`.execute(trx);
    });
  }
}

describe('background WAL checkpoints (SQLite files)', () => {
  it('checkpoint the WAL from the worker while the main connection keeps a high backstop threshold', async () => {
    const file = join(dir, 'a.db');
    const database = await openDatabase(file);
    try {
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(
        database.db,
      );
      expect(rows[0]!.wal_autocheckpoint).toBe(BACKSTOP_WAL_PAGES);
      expect(checkpointerRunning()).toBe(true);
      await writePages(database, 1500); // more than SQLite's default threshold of 1,000 pages
      const done = await waitFor(() => {
        const s = checkpointStats(file);
        return s && s.lastLog > 1000 && s.lastCheckpointed === s.lastLog ? s : null;
      }, 'the worker to copy the whole WAL back');
      expect(done.lastError).toBeNull();
      expect(done.runs).toBeGreaterThan(0);
      // Copied back: a PASSIVE checkpoint from here has nothing left to do.
      const after = await sql<{ log: number; checkpointed: number }>`pragma wal_checkpoint(PASSIVE)`.execute(
        database.db,
      );
      expect(after.rows[0]!.checkpointed).toBe(after.rows[0]!.log);
    } finally {
      await database.close();
    }
    // The worker let go of the file: the main connection was the last one, so SQLite removed the WAL.
    expect(existsSync(`${file}-wal`)).toBe(false);
    expect(checkpointerRunning()).toBe(false);
    expect(checkpointStats(file)).toBeUndefined();
    const again = await openDatabase(file);
    try {
      const { rows } = await sql<{ n: number }>`select count(*) as n from blob_rows`.execute(again.db);
      expect(Number(rows[0]!.n)).toBe(1500);
      const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(again.db);
      expect(check.rows[0]!.integrity_check).toBe('ok');
    } finally {
      await again.close();
    }
  });

  it('one worker for several files and several handles of one file; it stops after the last close', async () => {
    const a = join(dir, 'a.db');
    const b = join(dir, 'b.db');
    const a1 = await openDatabase(a);
    const a2 = await openDatabase(a);
    const b1 = await openDatabase(b);
    await writePages(a1, 100);
    await writePages(b1, 100);
    await waitFor(() => (checkpointStats(a)?.runs ?? 0) > 0 && (checkpointStats(b)?.runs ?? 0) > 0, 'both');
    await a1.close();
    expect(checkpointStats(a)).toBeDefined(); // a2 still uses it
    await b1.close();
    expect(checkpointStats(b)).toBeUndefined();
    expect(checkpointerRunning()).toBe(true);
    await a2.close();
    expect(checkpointerRunning()).toBe(false);
  });

  it('is off for :memory: and when backgroundCheckpoints is false (SQLite then checkpoints at 1,000 pages)', async () => {
    const mem = await openDatabase(':memory:');
    const file = join(dir, 'plain.db');
    const plain = await openDatabase(file, { backgroundCheckpoints: false });
    try {
      expect(checkpointerRunning()).toBe(false);
      expect(checkpointStats(file)).toBeUndefined();
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(plain.db);
      expect(rows[0]!.wal_autocheckpoint).toBe(1000);
    } finally {
      await mem.close();
      await plain.close();
    }
  });

  it("a process whose last task is close() finishes it and exits 0 (the worker is ref'd while it answers)", () => {
    const script = join(dir, 'close-last.mts');
    const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    writeFileSync(
      script,
      `import { openDatabase } from ${JSON.stringify(index)};
const database = await openDatabase(${JSON.stringify(join(dir, 'last.db'))});
await database.db.schema.createTable('t').ifNotExists().addColumn('a', 'text').execute();
await database.close();
console.log('closed');
`,
    );
    for (let i = 0; i < 3; i++) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect({ status: run.status, stdout: run.stdout.trim(), stderr: run.stderr }).toEqual({
        status: 0,
        stdout: 'closed',
        stderr: '',
      });
    }
  });
});
