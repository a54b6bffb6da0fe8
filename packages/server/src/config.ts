/**
 * Server configuration from environment variables: one zod schema, every problem reported by variable name
 * with a fix, secrets never echoed. The CLI passes `process.env`; nothing here reads it.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type AlipayConfig, ConfigError, createConfig, parseYuan } from '@alirefund/protocol';
import { z } from 'zod';

/** Default and maximum number of records per batch (the seeds: 50 is the efficient size, 1000 the limit). */
export const DEFAULT_BATCH_SIZE = 50;
export const MAX_BATCH_SIZE = 1000;
export const DEFAULT_NEXT_BATCH_WAIT_MS = 10 * 60_000;
export const DEFAULT_RECONCILE_INTERVAL_MS = 60_000;
export const DEFAULT_DATABASE_URL = './.alirefund/server.db';
/** How long SIGTERM waits for in-flight notifications and submissions before closing anyway. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000;

/** Everything the server needs, validated. Secrets are non-enumerable (kept out of JSON and logs). */
export interface ServerSettings {
  /** The SDK configuration; its `notifyUrl` is {@link ServerSettings.notifyUrl}. */
  readonly alipay: AlipayConfig;
  /** Base URL the gateway can reach, without a trailing slash. */
  readonly publicUrl: string;
  /** `publicUrl + '/alipay/notify'`: the notify_url sent with every batch. */
  readonly notifyUrl: string;
  /** `publicUrl + '/alipay/trade-notify'`: where trade_status_sync notifications are expected. */
  readonly tradeNotifyUrl: string;
  readonly databaseUrl: string;
  /** Bootstrap API token (secret). */
  readonly apiToken?: string;
  /** Password of the first operator, `admin` (secret). */
  readonly adminPassword?: string;
  /** Records per batch when a selection is split (1..1000, default 50). */
  readonly batchSize: number;
  /** How long a submitted batch holds the partner's queue without a notification (default 10 min). */
  readonly nextBatchWaitMs: number;
  /** How often the queue and reconciliation run in the background (default 1 min). */
  readonly reconcileIntervalMs: number;
  /** Bearer token that `GET /metrics` requires on the main port (secret); unset: /metrics answers 404 there. */
  readonly metricsToken?: string;
  /** A separate port serving `/metrics` without a token (bind it to an internal address); unset: none. */
  readonly metricsPort?: number;
  /** How long a shutdown waits for in-flight work (default 20 s). */
  readonly shutdownTimeoutMs: number;
  /**
   * Two-person rule: a batch whose amount (or whose selection's) is above this many fen waits for an approver
   * other than its creator (ALIREFUND_APPROVAL_THRESHOLD, yuan); unset: only {@link approvalAll} asks for it.
   */
  readonly approvalThresholdFen?: number;
  /** Every batch waits for approval (ALIREFUND_APPROVAL_ALL=true). */
  readonly approvalAll: boolean;
  /**
   * Reverse proxies (IPs or CIDRs) whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed; empty: none, the
   * socket's peer is the client.
   */
  readonly trustedProxies: readonly string[];
}

/** One bad variable: its name and what to do. Never contains a secret's value. */
export interface EnvProblem {
  variable: string;
  message: string;
}

/** Thrown by {@link parseServerEnv}; lists every bad variable. */
export class ServerConfigError extends Error {
  override readonly name = 'ServerConfigError';
  readonly code = 'INVALID_SERVER_CONFIG';
  constructor(readonly problems: readonly EnvProblem[]) {
    super(
      `invalid server configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.variable}: ${p.message}`)
        .join('\n')}`,
    );
  }
}

/** The environment variables the server reads. */
export const ENV_VARS = [
  'ALIPAY_PARTNER',
  'ALIPAY_KEY',
  'ALIPAY_PRIVATE_KEY_FILE',
  'ALIPAY_PUBLIC_KEY_FILE',
  'ALIPAY_SIGN_TYPE',
  'ALIPAY_INPUT_CHARSET',
  'ALIPAY_GATEWAY',
  'ALIPAY_SELLER_EMAIL',
  'ALIPAY_SELLER_USER_ID',
  'ALIREFUND_PUBLIC_URL',
  'ALIREFUND_DATABASE_URL',
  'ALIREFUND_API_TOKEN',
  'ALIREFUND_ADMIN_PASSWORD',
  'ALIREFUND_BATCH_SIZE',
  'ALIREFUND_NEXT_BATCH_WAIT',
  'ALIREFUND_RECONCILE_INTERVAL',
  'ALIREFUND_METRICS_TOKEN',
  'ALIREFUND_METRICS_PORT',
  'ALIREFUND_SHUTDOWN_TIMEOUT',
  'ALIREFUND_APPROVAL_THRESHOLD',
  'ALIREFUND_APPROVAL_ALL',
  'ALIREFUND_TRUSTED_PROXIES',
] as const;
export type EnvVar = (typeof ENV_VARS)[number];

const SECRET_VARS: ReadonlySet<string> = new Set([
  'ALIPAY_KEY',
  'ALIREFUND_API_TOKEN',
  'ALIREFUND_ADMIN_PASSWORD',
  'ALIREFUND_METRICS_TOKEN',
]);

/** Maps createConfig's fields back to the variables they came from. */
const FIELD_TO_VAR: Record<string, EnvVar> = {
  partner: 'ALIPAY_PARTNER',
  key: 'ALIPAY_KEY',
  privateKey: 'ALIPAY_PRIVATE_KEY_FILE',
  alipayPublicKey: 'ALIPAY_PUBLIC_KEY_FILE',
  signType: 'ALIPAY_SIGN_TYPE',
  inputCharset: 'ALIPAY_INPUT_CHARSET',
  gateway: 'ALIPAY_GATEWAY',
  sellerEmail: 'ALIPAY_SELLER_EMAIL',
  sellerUserId: 'ALIPAY_SELLER_USER_ID',
  notifyUrl: 'ALIREFUND_PUBLIC_URL',
};

/**
 * Parses a comma-separated list of IP addresses and CIDR ranges (`10.0.0.0/8, 192.168.1.10, fd00::/8`).
 * Returns the entries (trimmed) or the first bad entry.
 * @example parseProxyList('127.0.0.1, 10.0.0.0/8') // { ok: true, value: ['127.0.0.1', '10.0.0.0/8'] }
 */
export function parseProxyList(
  text: string,
): { ok: true; value: string[] } | { ok: false; entry: string; reason: string } {
  const value: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [ip = '', prefix, extra] = entry.split('/');
    const family = isIP(ip);
    if (family === 0 || extra !== undefined) {
      return { ok: false, entry, reason: 'is not an IP address or a CIDR range such as 10.0.0.0/8' };
    }
    if (prefix !== undefined) {
      const bits = Number(prefix);
      const max = family === 4 ? 32 : 128;
      if (!/^\d{1,3}$/.test(prefix) || bits > max) {
        return { ok: false, entry, reason: `has a prefix length outside 0..${max}` };
      }
    }
    value.push(entry);
  }
  return { ok: true, value };
}

/**
 * Parses a duration: `500ms`, `30s`, `10m`, `2h`, or a bare number of seconds. Returns milliseconds, or null.
 * @example parseDuration('10m') // 600000
 */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

const optionalText = z
  .string()
  .transform((v) => v.trim())
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const duration = (fallbackMs: number, min: number, example: string) =>
  optionalText.transform((v, ctx) => {
    if (v === undefined) return fallbackMs;
    const ms = parseDuration(v);
    if (ms === null || ms < min) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration of at least ${min} ms such as ${example} (units ms, s, m, h; a bare number is seconds)`,
      });
      return z.NEVER;
    }
    return ms;
  });

const envSchema = z.object({
  ALIPAY_PARTNER: optionalText,
  ALIPAY_KEY: optionalText,
  ALIPAY_PRIVATE_KEY_FILE: optionalText,
  ALIPAY_PUBLIC_KEY_FILE: optionalText,
  ALIPAY_SIGN_TYPE: optionalText.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const up = v.toUpperCase();
    if (up !== 'MD5' && up !== 'RSA') {
      ctx.addIssue({ code: 'custom', message: 'must be MD5 or RSA (DSA is not supported)' });
      return z.NEVER;
    }
    return up;
  }),
  ALIPAY_INPUT_CHARSET: optionalText,
  ALIPAY_GATEWAY: optionalText,
  ALIPAY_SELLER_EMAIL: optionalText,
  ALIPAY_SELLER_USER_ID: optionalText,
  ALIREFUND_PUBLIC_URL: optionalText.transform((v, ctx) => {
    if (v === undefined) {
      ctx.addIssue({
        code: 'custom',
        message:
          'is required: the base URL at which the gateway can reach this server, e.g. https://shop.example.com (notify_url is derived from it)',
      });
      return z.NEVER;
    }
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `must be an absolute http(s) URL such as https://shop.example.com`,
      });
      return z.NEVER;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `must use http or https, not ${u.protocol}` });
      return z.NEVER;
    }
    if (u.search !== '' || u.hash !== '' || v.includes('?')) {
      ctx.addIssue({
        code: 'custom',
        message: 'must not carry a query string or #fragment: Alipay forbids custom parameters in notify_url',
      });
      return z.NEVER;
    }
    return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
  }),
  ALIREFUND_DATABASE_URL: optionalText,
  ALIREFUND_API_TOKEN: optionalText.refine(
    (v) => v === undefined || (v.length >= 16 && /^[\x21-\x7e]+$/.test(v)),
    'must be at least 16 printable ASCII characters without spaces (e.g. the output of `openssl rand -hex 24`)',
  ),
  ALIREFUND_ADMIN_PASSWORD: optionalText.refine(
    (v) => v === undefined || v.length >= 8,
    'must be at least 8 characters long',
  ),
  ALIREFUND_BATCH_SIZE: optionalText.transform((v, ctx) => {
    if (v === undefined) return DEFAULT_BATCH_SIZE;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > MAX_BATCH_SIZE) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a whole number from 1 to ${MAX_BATCH_SIZE} (records per batch; 50 is the efficient size)`,
      });
      return z.NEVER;
    }
    return n;
  }),
  ALIREFUND_NEXT_BATCH_WAIT: duration(DEFAULT_NEXT_BATCH_WAIT_MS, 1000, '10m'),
  ALIREFUND_RECONCILE_INTERVAL: duration(DEFAULT_RECONCILE_INTERVAL_MS, 100, '1m'),
  ALIREFUND_METRICS_TOKEN: optionalText.refine(
    (v) => v === undefined || (v.length >= 16 && /^[\x21-\x7e]+$/.test(v)),
    'must be at least 16 printable ASCII characters without spaces (e.g. the output of `openssl rand -hex 24`)',
  ),
  ALIREFUND_METRICS_PORT: optionalText.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > 65535) {
      ctx.addIssue({ code: 'custom', message: 'must be a port number from 1 to 65535' });
      return z.NEVER;
    }
    return n;
  }),
  ALIREFUND_SHUTDOWN_TIMEOUT: duration(DEFAULT_SHUTDOWN_TIMEOUT_MS, 0, '20s'),
  ALIREFUND_APPROVAL_THRESHOLD: optionalText.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const fen = parseYuan(v);
    if (fen === null) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be an amount in yuan with at most 2 decimals, such as 5000 or 5000.00: batches above it wait for a second person to approve them',
      });
      return z.NEVER;
    }
    return fen;
  }),
  ALIREFUND_APPROVAL_ALL: optionalText.transform((v, ctx) => {
    if (v === undefined) return false;
    const low = v.toLowerCase();
    if (['true', '1', 'yes'].includes(low)) return true;
    if (['false', '0', 'no'].includes(low)) return false;
    ctx.addIssue({
      code: 'custom',
      message: 'must be true or false (true: every batch waits for a second person to approve it)',
    });
    return z.NEVER;
  }),
  ALIREFUND_TRUSTED_PROXIES: optionalText.transform((v, ctx) => {
    if (v === undefined) return [];
    const parsed = parseProxyList(v);
    if (!parsed.ok) {
      ctx.addIssue({
        code: 'custom',
        message: `"${parsed.entry}" ${parsed.reason}; list the reverse proxies in front of this server, comma-separated (e.g. 127.0.0.1,10.0.0.0/8)`,
      });
      return z.NEVER;
    }
    return parsed.value;
  }),
});

/** Options of {@link parseServerEnv}. */
export interface ParseEnvOptions {
  /** Reads the PEM files of ALIPAY_PRIVATE_KEY_FILE / ALIPAY_PUBLIC_KEY_FILE (default: fs.readFileSync utf8). */
  readFile?: (path: string) => string;
  /** Values used when a variable is unset (e.g. the CLI's `--db` flag or a derived public URL). */
  defaults?: Partial<Record<EnvVar, string>>;
}

/**
 * Validates the server's environment variables at once.
 * @throws ServerConfigError naming every bad variable with a fix; secret values are never part of a message.
 * @example
 * const settings = parseServerEnv(process.env); // in the CLI only
 */
export function parseServerEnv(
  env: Readonly<Record<string, string | undefined>>,
  opts: ParseEnvOptions = {},
): ServerSettings {
  const merged: Record<string, string | undefined> = {};
  for (const name of ENV_VARS) {
    const v = env[name];
    merged[name] = v === undefined || v.trim() === '' ? opts.defaults?.[name] : v;
  }
  const problems: EnvProblem[] = [];
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? '(environment)');
      problems.push({ variable, message: issue.message });
    }
  }
  const e = parsed.success ? parsed.data : undefined;
  const raw = (name: EnvVar) => {
    const v = merged[name]?.trim();
    return v === '' ? undefined : v;
  };

  // The SDK configuration: partner, keys, charset, gateway, seller; its own rules apply.
  const signType = e?.ALIPAY_SIGN_TYPE ?? (raw('ALIPAY_SIGN_TYPE')?.toUpperCase() === 'RSA' ? 'RSA' : 'MD5');
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const input: Record<string, unknown> = { signType };
  const partner = raw('ALIPAY_PARTNER');
  if (partner === undefined) {
    problems.push({
      variable: 'ALIPAY_PARTNER',
      message: 'is required: your 合作者身份ID (partner id), 2088 followed by 12 digits',
    });
  } else input['partner'] = partner;
  if (signType === 'MD5') {
    const key = raw('ALIPAY_KEY');
    if (key === undefined) {
      problems.push({
        variable: 'ALIPAY_KEY',
        message:
          'is required when ALIPAY_SIGN_TYPE is MD5: the 32-character 安全校验码 (or set ALIPAY_SIGN_TYPE=RSA with ALIPAY_PRIVATE_KEY_FILE and ALIPAY_PUBLIC_KEY_FILE)',
      });
    } else input['key'] = key;
  } else {
    for (const [variable, field, what] of [
      ['ALIPAY_PRIVATE_KEY_FILE', 'privateKey', 'your RSA private key (PEM) that signs requests'],
      [
        'ALIPAY_PUBLIC_KEY_FILE',
        'alipayPublicKey',
        "Alipay's RSA public key (PEM) that verifies notifications",
      ],
    ] as const) {
      const path = raw(variable);
      if (path === undefined) {
        problems.push({ variable, message: `is required when ALIPAY_SIGN_TYPE is RSA: the path of ${what}` });
        continue;
      }
      try {
        input[field] = readFile(path);
      } catch (err) {
        const code = (err as { code?: string }).code;
        problems.push({
          variable,
          message: `cannot read ${path}${code ? ` (${code})` : ''}: check the path and the file's permissions`,
        });
      }
    }
  }
  for (const [variable, field] of [
    ['ALIPAY_INPUT_CHARSET', 'inputCharset'],
    ['ALIPAY_GATEWAY', 'gateway'],
    ['ALIPAY_SELLER_EMAIL', 'sellerEmail'],
    ['ALIPAY_SELLER_USER_ID', 'sellerUserId'],
  ] as const) {
    const v = raw(variable);
    if (v !== undefined) input[field] = v;
  }
  const publicUrl = e?.ALIREFUND_PUBLIC_URL;
  if (publicUrl !== undefined) input['notifyUrl'] = `${publicUrl}/alipay/notify`;

  let alipay: AlipayConfig | undefined;
  const needed = problems.some((p) => ['ALIPAY_PARTNER', 'ALIPAY_KEY'].includes(p.variable))
    ? undefined
    : input;
  try {
    alipay = createConfig(
      needed ?? { ...input, partner: partner ?? '2088000000000000', key: '0'.repeat(32) },
    );
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) {
      const variable = FIELD_TO_VAR[p.field] ?? p.field;
      if (problems.some((q) => q.variable === variable)) continue;
      problems.push({ variable, message: scrub(p.message, variable, merged) });
    }
  }
  if (
    problems.length > 0 ||
    e === undefined ||
    alipay === undefined ||
    publicUrl === undefined ||
    needed === undefined
  ) {
    throw new ServerConfigError(dedupe(problems));
  }
  return makeSettings({
    alipay,
    publicUrl,
    databaseUrl: e.ALIREFUND_DATABASE_URL ?? DEFAULT_DATABASE_URL,
    ...(e.ALIREFUND_API_TOKEN !== undefined ? { apiToken: e.ALIREFUND_API_TOKEN } : {}),
    ...(e.ALIREFUND_ADMIN_PASSWORD !== undefined ? { adminPassword: e.ALIREFUND_ADMIN_PASSWORD } : {}),
    batchSize: e.ALIREFUND_BATCH_SIZE,
    nextBatchWaitMs: e.ALIREFUND_NEXT_BATCH_WAIT,
    reconcileIntervalMs: e.ALIREFUND_RECONCILE_INTERVAL,
    ...(e.ALIREFUND_METRICS_TOKEN !== undefined ? { metricsToken: e.ALIREFUND_METRICS_TOKEN } : {}),
    ...(e.ALIREFUND_METRICS_PORT !== undefined ? { metricsPort: e.ALIREFUND_METRICS_PORT } : {}),
    shutdownTimeoutMs: e.ALIREFUND_SHUTDOWN_TIMEOUT,
    ...(e.ALIREFUND_APPROVAL_THRESHOLD !== undefined
      ? { approvalThresholdFen: e.ALIREFUND_APPROVAL_THRESHOLD }
      : {}),
    approvalAll: e.ALIREFUND_APPROVAL_ALL,
    trustedProxies: e.ALIREFUND_TRUSTED_PROXIES,
  });
}

/** Never let a secret's value through in a message, even if a validator quoted it. */
function scrub(message: string, variable: string, env: Record<string, string | undefined>): string {
  let out = message;
  for (const name of SECRET_VARS) {
    const v = env[name];
    if (v !== undefined && v.length >= 4) out = out.split(v).join('***');
  }
  return variable === 'ALIPAY_KEY' ? out.replace(/"[^"]*"/g, '"***"') : out;
}

function dedupe(problems: EnvProblem[]): EnvProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.variable}\u0000${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** What {@link makeSettings} takes: the SDK config (its notifyUrl is replaced) and the server's options. */
export interface SettingsInput {
  alipay: AlipayConfig;
  publicUrl: string;
  databaseUrl?: string;
  apiToken?: string;
  adminPassword?: string;
  batchSize?: number;
  nextBatchWaitMs?: number;
  reconcileIntervalMs?: number;
  metricsToken?: string;
  metricsPort?: number;
  shutdownTimeoutMs?: number;
  approvalThresholdFen?: number;
  approvalAll?: boolean;
  trustedProxies?: readonly string[];
}

/**
 * Builds settings from an SDK configuration (tests, the demo). The notify URL is derived from `publicUrl`, and
 * the SDK config is re-created with it when it differs.
 */
export function makeSettings(input: SettingsInput): ServerSettings {
  const publicUrl = input.publicUrl.replace(/\/+$/, '');
  const notifyUrl = `${publicUrl}/alipay/notify`;
  const batchSize = input.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new TypeError(`batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`);
  }
  const alipay = input.alipay.notifyUrl === notifyUrl ? input.alipay : withNotifyUrl(input.alipay, notifyUrl);
  const settings = {
    alipay,
    publicUrl,
    notifyUrl,
    tradeNotifyUrl: `${publicUrl}/alipay/trade-notify`,
    databaseUrl: input.databaseUrl ?? DEFAULT_DATABASE_URL,
    batchSize,
    nextBatchWaitMs: input.nextBatchWaitMs ?? DEFAULT_NEXT_BATCH_WAIT_MS,
    reconcileIntervalMs: input.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
    ...(input.metricsPort !== undefined ? { metricsPort: input.metricsPort } : {}),
    shutdownTimeoutMs: input.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    ...(input.approvalThresholdFen !== undefined ? { approvalThresholdFen: input.approvalThresholdFen } : {}),
    approvalAll: input.approvalAll ?? false,
    trustedProxies: Object.freeze([...(input.trustedProxies ?? [])]),
  } as ServerSettings;
  for (const k of ['apiToken', 'adminPassword', 'metricsToken'] as const) {
    const v = input[k];
    if (v !== undefined) Object.defineProperty(settings, k, { value: v, enumerable: false });
  }
  return Object.freeze(settings);
}

/** The SDK config with another notify_url (the keys are carried over as they are). */
function withNotifyUrl(config: AlipayConfig, notifyUrl: string): AlipayConfig {
  const copy: AlipayConfig = { ...config, notifyUrl };
  Object.defineProperty(copy, 'signingKey', { value: config.signingKey, enumerable: false });
  Object.defineProperty(copy, 'verifyingKey', { value: config.verifyingKey, enumerable: false });
  return Object.freeze(copy);
}

/** A loggable summary of the settings: no secret values, only whether they are set. */
export function describeSettings(s: ServerSettings): Record<string, string | number | boolean> {
  return {
    partner: s.alipay.partner,
    signType: s.alipay.signType,
    inputCharset: s.alipay.inputCharset,
    gateway: s.alipay.gateway,
    publicUrl: s.publicUrl,
    notifyUrl: s.notifyUrl,
    databaseUrl: s.databaseUrl.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@'),
    apiToken: s.apiToken !== undefined,
    adminPassword: s.adminPassword !== undefined,
    batchSize: s.batchSize,
    nextBatchWaitMs: s.nextBatchWaitMs,
    reconcileIntervalMs: s.reconcileIntervalMs,
    metricsToken: s.metricsToken !== undefined,
    ...(s.metricsPort !== undefined ? { metricsPort: s.metricsPort } : {}),
    shutdownTimeoutMs: s.shutdownTimeoutMs,
    ...(s.approvalThresholdFen !== undefined ? { approvalThresholdFen: s.approvalThresholdFen } : {}),
    approvalAll: s.approvalAll,
    trustedProxies: s.trustedProxies.join(',') || 'none',
  };
}
