/**
 * `@alirefund/store/testing`: run one suite against every available dialect.
 *
 * ```ts
 * import { afterEach, beforeEach, describe, expect, it } from 'vitest';
 * import { type TestDatabase, dialectsUnderTest, openTestDatabase } from '@alirefund/store/testing';
 *
 * describe.each(dialectsUnderTest())('trades on %s', (dialect) => {
 *   let database: TestDatabase;
 *   beforeEach(async () => { database = await openTestDatabase(dialect); });
 *   afterEach(() => database.cleanup());
 *   it('…', async () => { … });
 * });
 * ```
 *
 * PostgreSQL comes from `ALIREFUND_TEST_PG_URL` when set (the vitest globalSetup
 * `packages/store/test/global-setup.ts` starts one throwaway cluster per run and sets it; CI may set it from
 * `scripts/pg-throwaway.sh start`), otherwise from a cluster started lazily once per process. Each
 * `openTestDatabase('postgres')` gets an empty database of its own on it; `cleanup()` empties it for reuse.
 *
 * @module
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chownSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type Database, type Dialect, openDatabase } from './database.js';

const execFileAsync = promisify(execFile);

/** Env var holding the URL of a running PostgreSQL whose databases the harness may create and drop. */
export const TEST_PG_URL_ENV = 'ALIREFUND_TEST_PG_URL';
/** Env var that, set to `off`, leaves PostgreSQL out of {@link dialectsUnderTest}. */
export const TEST_PG_SWITCH_ENV = 'ALIREFUND_TEST_PG';

/** A running throwaway PostgreSQL cluster. */
export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/alirefund_test` (trust authentication, no password). */
  url: string;
  port: number;
  /** The temporary directory holding the data directory, socket and log; removed by `stop()`. */
  dir: string;
  /** Stops the server (immediate shutdown) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** A database opened for one test; `cleanup()` closes it and deletes it (file or PostgreSQL database). */
// biome-ignore lint/suspicious/noExplicitAny: untyped by default, as Database.
export type TestDatabase<DB = any> = Database<DB> & { cleanup(): Promise<void> };

// ---------------------------------------------------------------------------------------------------------
// Finding the binaries

let binDirMemo: string | null | undefined;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Version-aware descending order for /usr/lib/postgresql/<version>. */
function byVersionDesc(a: string, b: string): number {
  return b.localeCompare(a, 'en', { numeric: true });
}

/**
 * The directory holding `initdb`, `pg_ctl` and `postgres`: the first `initdb` on PATH (symlinks resolved, as
 * Debian's /usr/local/bin links are), then the newest /usr/lib/postgresql/<version>/bin. Undefined if none.
 */
export function findPostgresBinDir(): string | undefined {
  if (binDirMemo !== undefined) return binDirMemo ?? undefined;
  const candidates: string[] = [];
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const initdb = join(dir, 'initdb');
    if (isExecutable(initdb)) {
      try {
        candidates.push(dirname(realpathSync(initdb)));
      } catch {
        // dangling link
      }
    }
  }
  try {
    for (const version of readdirSync('/usr/lib/postgresql').sort(byVersionDesc)) {
      candidates.push(join('/usr/lib/postgresql', version, 'bin'));
    }
  } catch {
    // not Debian, or no server installed
  }
  binDirMemo =
    candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((b) => isExecutable(join(dir, b)))) ??
    null;
  return binDirMemo ?? undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Starting a cluster

/** The uid/gid to run the server as: `postgres` when we are root (initdb refuses root), else ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch (cause) {
    throw new Error('Running as root, but there is no "postgres" OS user to run initdb/pg_ctl as', { cause });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function run(
  bin: string,
  args: string[],
  user: { uid: number; gid: number } | undefined,
  cwd: string,
): Promise<void> {
  try {
    await execFileAsync(bin, args, { cwd, env: { ...process.env, LC_ALL: 'C' }, ...(user ?? {}) });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message?: string };
    const output = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim() || e.message;
    throw new Error(`${bin} ${args.join(' ')} failed: ${output}`, { cause: err });
  }
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Detached shell that outlives us: once process `pid` is gone it stops the postmaster (SIGQUIT, immediate
 * shutdown) and removes `dir`. It keeps a test run that is killed, or forgets `stop()`, from leaving a server
 * behind. `stop()` kills it first.
 */
function spawnWatchdog(pid: number, dataDir: string, dir: string): number | undefined {
  const script = [
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
    'pm=$(head -n 1 "$2/postmaster.pid" 2>/dev/null)',
    'if [ -n "$pm" ]; then kill -QUIT "$pm" 2>/dev/null',
    '  i=0; while kill -0 "$pm" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done',
    'fi',
    'rm -rf "$3"',
  ].join('\n');
  const child = spawn('sh', ['-c', script, 'alirefund-pg-watchdog', String(pid), dataDir, dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child.pid;
}

const SERVER_SETTINGS = [
  'listen_addresses=127.0.0.1',
  // Durability is pointless for a throwaway cluster, and these make it much faster.
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  // Every test file may hold a pool or two; the default 100 is tight for a parallel run.
  'max_connections=300',
];

/**
 * Starts a throwaway PostgreSQL cluster: `initdb` (trust auth, UTF8, C locale) into a fresh temp dir, as OS user
 * `postgres` when we are root (the dir is chown'ed to it) or as ourselves otherwise; then
 * `pg_ctl start -o "-p PORT -k DIR -c listen_addresses=127.0.0.1 -c fsync=off …"` on a free port, and
 * `CREATE DATABASE alirefund_test`. Binaries come from PATH, then /usr/lib/postgresql/<version>/bin. Takes about
 * 0.6 s. If this process dies without `stop()`, a watchdog stops the server and removes the directory.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const binDir = findPostgresBinDir();
  if (binDir === undefined) {
    throw new Error(
      'PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or in /usr/lib/postgresql/*/bin',
    );
  }
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'alirefund-pg-'));
  if (/[\s'"\\]/.test(dir)) throw new Error(`Temp dir ${dir} contains characters pg_ctl -o cannot quote`);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  let watchdog: number | undefined;
  try {
    if (user) chownSync(dir, user.uid, user.gid);
    await run(
      join(binDir, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      user,
      dir,
    );
    watchdog = spawnWatchdog(process.pid, dataDir, dir);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = [`-p ${port}`, `-k ${dir}`, ...SERVER_SETTINGS.map((s) => `-c ${s}`)].join(' ');
      try {
        await run(
          join(binDir, 'pg_ctl'),
          ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '30', '-s', '-o', options],
          user,
          dir,
        );
        break;
      } catch (err) {
        // Most likely someone took the port between our probe and the server's bind: try another.
        if (attempt >= 3)
          throw new Error(`${(err as Error).message}\n--- postgres.log ---\n${tail(logFile)}`);
      }
    }
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await client.connect();
    try {
      await client.query('create database alirefund_test');
    } finally {
      await client.end();
    }
    let stopping: Promise<void> | undefined;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/alirefund_test`,
      port,
      dir,
      stop() {
        stopping ??= stopCluster(binDir, dataDir, dir, user, watchdog);
        return stopping;
      },
    };
  } catch (err) {
    await stopCluster(binDir, dataDir, dir, user, watchdog).catch(() => {});
    throw err;
  }
}

async function stopCluster(
  binDir: string,
  dataDir: string,
  dir: string,
  user: { uid: number; gid: number } | undefined,
  watchdog: number | undefined,
): Promise<void> {
  if (watchdog !== undefined) {
    try {
      process.kill(-watchdog, 'SIGKILL'); // its process group: the shell and its `sleep`
    } catch {
      // already gone
    }
  }
  try {
    await run(join(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-s'], user, dir);
  } catch {
    // not running (initdb or start failed)
  }
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------
// Which dialects, and one shared cluster

/**
 * The decision behind {@link dialectsUnderTest}, as a pure function of the environment and whether the server
 * binaries were found.
 */
export function decideDialects(env: Record<string, string | undefined>, binariesFound: boolean): Dialect[] {
  if (env[TEST_PG_SWITCH_ENV] === 'off') return ['sqlite'];
  if (env[TEST_PG_URL_ENV]) return ['sqlite', 'postgres'];
  if (binariesFound) return ['sqlite', 'postgres'];
  if (env['CI'] === 'true') {
    throw new Error(
      'CI=true but the PostgreSQL server binaries (initdb, pg_ctl) are not on PATH or in ' +
        `/usr/lib/postgresql/*/bin. CI must not skip PostgreSQL: install the server, set ${TEST_PG_URL_ENV}, ` +
        `or opt out explicitly with ${TEST_PG_SWITCH_ENV}=off.`,
    );
  }
  return ['sqlite'];
}

let skipWarned = false;

/**
 * The dialects to run suites against: always `sqlite`; `postgres` too when `ALIREFUND_TEST_PG_URL` is set or the
 * server binaries are installed, unless `ALIREFUND_TEST_PG=off`. With `CI=true` and no PostgreSQL available it
 * throws: CI must not silently skip PostgreSQL.
 */
export function dialectsUnderTest(): Dialect[] {
  const dialects = decideDialects(process.env, findPostgresBinDir() !== undefined);
  if (!dialects.includes('postgres') && process.env[TEST_PG_SWITCH_ENV] !== 'off' && !skipWarned) {
    skipWarned = true;
    console.warn('[@alirefund/store/testing] PostgreSQL binaries not found: running SQLite only');
  }
  return dialects;
}

let sharedCluster: Promise<string> | undefined;

/**
 * The URL of the PostgreSQL the harness creates test databases on: `ALIREFUND_TEST_PG_URL` if set (normally by
 * the vitest globalSetup), else a cluster started on first use and shared by the rest of this process.
 */
export function sharedPostgresUrl(): Promise<string> {
  const fromEnv = process.env[TEST_PG_URL_ENV];
  if (fromEnv) return Promise.resolve(fromEnv);
  sharedCluster ??= startThrowawayPostgres().then((cluster) => {
    // Quick cleanup on a normal exit; the watchdog covers the rest (and removes the directory).
    process.once('exit', () => {
      try {
        const pid = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGQUIT');
      } catch {
        // already stopped
      }
    });
    return cluster.url;
  });
  return sharedCluster;
}

function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Test databases are recycled rather than created per test: CREATE DATABASE copies template1 and takes about
 * 100 ms, emptying a used database about 10 ms. A table in the base database lists them; a test claims a free one
 * (or creates one if none is free) and `cleanup()` empties it and frees it. Claims use FOR UPDATE SKIP LOCKED, so
 * parallel test processes never share one.
 */
const POOL_TABLE = 'alirefund_test_databases';
const POOL_LOCK = 0x616c7268;
const poolTableReady = new Map<string, Promise<void>>();

function ensurePoolTable(base: string): Promise<void> {
  let ready = poolTableReady.get(base);
  if (!ready) {
    ready = withClient(base, async (c) => {
      await c.query('begin');
      await c.query(`select pg_advisory_xact_lock(${POOL_LOCK}, 0)`);
      await c.query(
        `create table if not exists ${POOL_TABLE} (name text primary key, in_use integer not null)`,
      );
      await c.query('commit');
    });
    ready.catch(() => poolTableReady.delete(base));
    poolTableReady.set(base, ready);
  }
  return ready;
}

async function claimDatabase(base: string): Promise<string> {
  await ensurePoolTable(base);
  return withClient(base, async (c) => {
    const { rows } = await c.query<{ name: string }>(
      `update ${POOL_TABLE} set in_use = 1 where name = (select name from ${POOL_TABLE} where in_use = 0
         order by name limit 1 for update skip locked) returning name`,
    );
    const recycled = rows[0]?.name;
    if (recycled !== undefined) return recycled;
    const name = `alirefund_t_${randomBytes(6).toString('hex')}`;
    await c.query(`insert into ${POOL_TABLE} (name, in_use) values ($1, 1)`, [name]);
    try {
      await c.query(`create database ${name}`);
    } catch (err) {
      await c.query(`delete from ${POOL_TABLE} where name = $1`, [name]);
      throw err;
    }
    return name;
  });
}

/** Empties a test database (every schema but the system ones dropped, `public` recreated) and frees it. */
async function releaseDatabase(base: string, name: string): Promise<void> {
  try {
    await withClient(withDatabaseName(base, name), async (c) => {
      // Connections the test left open would hold locks the DROP SCHEMA waits for.
      await c.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      );
      const { rows } = await c.query<{ nspname: string }>(
        `select nspname from pg_namespace where nspname !~ '^pg_' and nspname <> 'information_schema'`,
      );
      const drops = rows.map((r) => `drop schema ${pg.escapeIdentifier(r.nspname)} cascade;`).join('');
      await c.query(`${drops} create schema public; alter database ${name} reset all;`);
    });
    await withClient(base, (c) => c.query(`update ${POOL_TABLE} set in_use = 0 where name = $1`, [name]));
  } catch {
    // Could not empty it: drop it instead, so no later test gets a dirty database.
    await withClient(base, async (c) => {
      await c.query(`drop database if exists ${name} with (force)`);
      await c.query(`delete from ${POOL_TABLE} where name = $1`, [name]);
    });
  }
}

/**
 * Opens an empty database for one test: for `sqlite` a new file in a fresh temp dir; for `postgres` a database
 * of its own on the shared cluster (see {@link sharedPostgresUrl}), named `alirefund_t_<random>`. `cleanup()`
 * closes it and deletes the file, or empties the PostgreSQL database (drops every non-system schema, recreates
 * `public`) and hands it to a later test: emptying takes ~10 ms where CREATE DATABASE takes ~100 ms. Parallel
 * test processes never share a database. One that forgets `cleanup()` just leaves its database in use.
 */
// biome-ignore lint/suspicious/noExplicitAny: untyped by default, as Database.
export async function openTestDatabase<DB = any>(dialect: Dialect): Promise<TestDatabase<DB>> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'alirefund-sqlite-'));
    const database = await openDatabase<DB>(join(dir, 'test.db'));
    return withCleanup(database, async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    });
  }
  if (process.env[TEST_PG_SWITCH_ENV] === 'off') {
    throw new Error(`PostgreSQL is switched off (${TEST_PG_SWITCH_ENV}=off); use dialectsUnderTest()`);
  }
  const base = await sharedPostgresUrl();
  const name = await claimDatabase(base);
  let database: Database<DB>;
  try {
    database = await openDatabase<DB>(withDatabaseName(base, name));
  } catch (err) {
    await releaseDatabase(base, name).catch(() => {});
    throw err;
  }
  return withCleanup(database, async () => {
    await database.close();
    await releaseDatabase(base, name);
  });
}

function withCleanup<DB>(database: Database<DB>, cleanup: () => Promise<void>): TestDatabase<DB> {
  let done: Promise<void> | undefined;
  return {
    ...database,
    close: () => database.close(),
    cleanup() {
      done ??= cleanup();
      return done;
    },
  };
}
