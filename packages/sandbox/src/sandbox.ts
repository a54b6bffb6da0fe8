/**
 * `createSandbox(deps)`: migrations, the Hono app (gateway, pwd pages, admin API, state page), the
 * notification dispatcher, seeding and the clock.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { type Clock, systemClock } from '@alirefund/protocol';
import { type Database, migrate } from '@alirefund/store';
import { Hono } from 'hono';
import { adminGuard } from './admin/guard.js';
import { adminRoutes } from './admin/routes.js';
import { type Core, type Faults, Mutex, noFaults, readClock } from './core.js';
import { type Dispatcher, createDispatcher, processQueued } from './dispatcher.js';
import { applySeed, ensureSystemAccounts } from './entities.js';
import { gatewayRoutes } from './gateway/routes.js';
import { DEFAULT_NOTIFY_SCHEDULE } from './schedule.js';
import { type SandboxDB, sandboxMigrations } from './schema.js';
import { type SeedSummary, parseSeed } from './seed.js';
import { renderStatePage, STATE_JS, statePageHeaders } from './state-page.js';

export interface SandboxDeps {
  /** An open database (`openDatabase` of `@alirefund/store`); the caller closes it. Tables are `sbx_*`. */
  // biome-ignore lint/suspicious/noExplicitAny: any schema; the sandbox only touches its own tables.
  database: Database<any>;
  /** The clock (default: the system clock). The admin API adds an offset to it. */
  clock?: Clock;
  /**
   * Wait before each send, in ms; its length is the number of sends. Default `0,4m,10m,10m,1h,2h,6h,15h`
   * (see {@link parseScheduleList}).
   */
  notifySchedule?: readonly number[];
  /** HTTP client for notifications (default: global fetch). */
  fetch?: typeof fetch;
  /** Structured events (batch processed, notification sent, …). Default: none. */
  log?: (event: object) => void;
  /**
   * notify_verify answers `true` only within this many ms of the notification's latest send. Default:
   * unlimited (live until acknowledged with `success` or the retries are exhausted).
   */
  notifyVerifyTtlMs?: number;
  /** Timeout of one notification POST (default 10 s). */
  notifyTimeoutMs?: number;
  /** Start the dispatcher at once (default true). With false, call `dispatcher.runDue()` yourself. */
  autoDispatch?: boolean;
  /** Dispatcher polling interval (default 50 ms). */
  pollMs?: number;
  /**
   * Host names accepted in the `Host` header of `/sandbox` and `/sandbox/api/…` (DNS rebinding protection);
   * `*` accepts any. Default: `localhost`, `127.0.0.1`, `::1`.
   */
  allowedHosts?: readonly string[];
  /**
   * When set, `/sandbox` and `/sandbox/api/…` need `Authorization: Bearer <adminToken>` (the CLI sets one
   * whenever the sandbox binds beyond loopback). Default: none.
   */
  adminToken?: string;
}

export interface Sandbox {
  /** The fetch handler: `/gateway.do`, `/pwd/confirm`, `/sandbox` and `/sandbox/api/…`. */
  app: Hono;
  dispatcher: Pick<Dispatcher, 'start' | 'stop' | 'runDue'>;
  /** Validates and applies a seed (idempotent). @throws SeedError naming the path of each bad field. */
  seed(seed: unknown): Promise<SeedSummary>;
  /** Sets the clock offset (ms added to the clock): time travel for REFUND_DATE_ERROR and retries. */
  setClockOffset(ms: number): Promise<void>;
  /** The sandbox's current time (clock + offset), epoch ms. */
  now(): number;
  /** PEM of the key that signs notifications of RSA batches (Alipay's public key, for merchants). */
  alipayPublicKeyPem: string;
  /** Stops the dispatcher (waiting for the run in progress). Does not close the database. */
  close(): Promise<void>;
}

async function readMeta(database: Database<SandboxDB>, key: string): Promise<string | undefined> {
  const r = await database.db
    .selectFrom('sbx_meta')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst();
  return r?.value;
}

async function writeMeta(database: Database<SandboxDB>, key: string, value: string): Promise<void> {
  await database.db
    .insertInto('sbx_meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

/** Alipay's key pair (1024-bit, like the mapi key), created once per database. */
async function loadAlipayKey(database: Database<SandboxDB>): Promise<Core['alipayKey']> {
  let pem = await readMeta(database, 'alipay_private_key');
  if (pem === undefined) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const fresh = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await database.db
      .insertInto('sbx_meta')
      .values({ key: 'alipay_private_key', value: fresh })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    pem = (await readMeta(database, 'alipay_private_key')) ?? fresh;
  }
  const privateKey = createPrivateKey(pem);
  return {
    privateKey,
    publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function loadFaults(text: string | undefined): Faults {
  const f = noFaults();
  if (text === undefined) return f;
  try {
    const v = JSON.parse(text) as Partial<Faults>;
    return { ...f, ...v, notify: { ...f.notify, ...(v.notify ?? {}) }, forceCodes: v.forceCodes ?? [] };
  } catch {
    return f;
  }
}

/**
 * Creates a sandbox gateway on `deps.database`: runs its migrations (namespace `sandbox`), resumes pending
 * work (queued batches, notifications due) and returns the Hono app.
 * @example
 * const sandbox = await createSandbox({ database: await openDatabase('./sandbox.db') });
 * await sandbox.seed(JSON.parse(readFileSync('seeds/demo.json', 'utf8')));
 * serve({ fetch: sandbox.app.fetch, port: 8650 });
 */
export async function createSandbox(deps: SandboxDeps): Promise<Sandbox> {
  const database = deps.database as Database<SandboxDB>;
  await migrate(database, 'sandbox', sandboxMigrations);
  const schedule = [...(deps.notifySchedule ?? DEFAULT_NOTIFY_SCHEDULE)];
  if (schedule.length === 0 || schedule.some((ms) => !Number.isSafeInteger(ms) || ms < 0)) {
    throw new TypeError('notifySchedule must be a non-empty list of non-negative integer milliseconds');
  }
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? (() => {});
  const offsetText = await readMeta(database, 'clock_offset_ms');
  let dispatcher: Dispatcher | undefined;
  const core: Core = {
    database,
    db: database.db,
    now: () => readClock(clock) + core.clockOffsetMs,
    clockOffsetMs: offsetText === undefined ? 0 : Number(offsetText) || 0,
    schedule,
    fetch: deps.fetch ?? fetch,
    log: (e) => {
      try {
        log(e);
      } catch {
        // a logger must not break the gateway
      }
    },
    notifyVerifyTtlMs: deps.notifyVerifyTtlMs,
    notifyTimeoutMs: deps.notifyTimeoutMs ?? 10_000,
    faults: loadFaults(await readMeta(database, 'faults')),
    alipayKey: await loadAlipayKey(database),
    processing: new Mutex(),
    kick: () => dispatcher?.kick(),
    saveSettings: async () => {
      await writeMeta(database, 'faults', JSON.stringify(core.faults));
      await writeMeta(database, 'clock_offset_ms', String(core.clockOffsetMs));
    },
  };
  await ensureSystemAccounts(core);
  dispatcher = createDispatcher(core, deps.pollMs === undefined ? {} : { pollMs: deps.pollMs });
  const d = dispatcher;

  const onUnpause = () => {
    setImmediate(() => {
      processQueued(core).catch((e: unknown) =>
        core.log({ event: 'process_error', error: (e as Error).message }),
      );
    });
  };

  const app = new Hono();
  // The admin API and the state page: Host allow-list, admin token, JSON on every change (admin/guard.ts).
  const guard = adminGuard({ allowedHosts: deps.allowedHosts, adminToken: deps.adminToken });
  app.use('*', (c, next) =>
    c.req.path === '/sandbox' || c.req.path.startsWith('/sandbox/') ? guard(c, next) : next(),
  );
  app.route('/', gatewayRoutes(core));
  app.route('/sandbox/api', adminRoutes(core, d, onUnpause));
  app.get(
    '/sandbox',
    async () => new Response(String(await renderStatePage(core)), { headers: statePageHeaders() }),
  );
  app.get(
    '/sandbox/state.js',
    () =>
      new Response(STATE_JS, {
        headers: {
          'content-type': 'text/javascript; charset=utf-8',
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-store',
        },
      }),
  );
  app.onError((err, c) => {
    core.log({ event: 'error', path: c.req.path, error: err.message });
    if (c.req.path.startsWith('/sandbox/api'))
      return c.json({ error: 'internal', message: err.message }, 500);
    return c.text(`sandbox internal error: ${err.message}`, 500);
  });
  app.notFound((c) =>
    c.req.path.startsWith('/sandbox/api')
      ? c.json(
          { error: 'not_found', message: `no route ${c.req.method} ${c.req.path}; see GET /sandbox/api/` },
          404,
        )
      : c.text('not found: the gateway is /gateway.do, the state page /sandbox', 404),
  );

  if (deps.autoDispatch ?? true) d.start();

  return {
    app,
    dispatcher: { start: () => d.start(), stop: () => d.stop(), runDue: () => d.runDue() },
    seed: (seed: unknown) => applySeed(core, parseSeed(seed)),
    async setClockOffset(ms: number) {
      if (!Number.isSafeInteger(ms)) throw new TypeError(`setClockOffset: expected integer ms, got ${ms}`);
      core.clockOffsetMs = ms;
      await core.saveSettings();
      core.kick();
    },
    now: () => core.now(),
    alipayPublicKeyPem: core.alipayKey.publicKeyPem,
    close: () => d.stop(),
  };
}
