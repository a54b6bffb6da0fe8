/**
 * Roles, and the one table of who may call what: every console page and action and every JSON API endpoint,
 * keyed `METHOD /path` (Hono's route pattern without its `{regex}` parts), maps to the roles allowed. Console
 * sessions are checked against an operator's role, API calls against the token's scope (a role too). A route
 * missing from the table is refused to everyone but `admin` (and the test that walks every route with every role
 * fails, test/roles.test.ts). The two-person rule on top of this (nobody approves a batch they prepared) is in
 * services/approval.ts.
 */

/** `admin`: operators, tokens, settings and everything else; `approver`: reads, approves or rejects batches;
 * `operator`: prepares, submits and settles batches; `viewer`: reads. */
export type Role = 'admin' | 'approver' | 'operator' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'approver', 'operator', 'viewer'];

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

/** Who may call a route: `public` needs no session or token (the login, assets, machine endpoints). */
export type Access = 'public' | readonly Role[];

const ALL: readonly Role[] = ROLES;
const ADMIN: readonly Role[] = ['admin'];
/** Preparing, submitting and settling batches. */
const PREPARE: readonly Role[] = ['admin', 'operator'];
/** The second person of the two-person rule. */
const APPROVE: readonly Role[] = ['admin', 'approver'];
/** Reading the audit log. */
const AUDIT: readonly Role[] = ['admin', 'approver'];

/** Every route of the server (console, JSON API, and the machine endpoints), and who may call it. */
export const ROUTE_ROLES: Readonly<Record<string, Access>> = {
  // Machine endpoints: the gateway's notifications (signed), health and metrics (their own token or port).
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'public',
  'POST /alipay/notify': 'public',
  'POST /alipay/trade-notify': 'public',

  // JSON API (bearer token; the token's scope is its role).
  'POST /api/trades': PREPARE,
  'GET /api/trades': ALL,
  'GET /api/trades/:tradeNo': ALL,
  'POST /api/refunds': PREPARE,
  'GET /api/batches': ALL,
  'GET /api/batches/:batchNo': ALL,
  'POST /api/batches/:batchNo/queue': PREPARE,
  'POST /api/batches/:batchNo/cancel': PREPARE,
  'POST /api/batches/:batchNo/approve': APPROVE,
  'POST /api/batches/:batchNo/reject': APPROVE,
  'GET /api/notifications': ALL,
  'GET /api/dashboard': ALL,
  // Names, prefixes, last use and expiry of the tokens (never a secret); `current` is the caller's own.
  'GET /api/tokens': ALL,

  // Console: no session needed.
  'GET /assets/console.css': 'public',
  'GET /assets/console.js': 'public',
  'GET /assets/favicon.svg': 'public',
  'GET /favicon.ico': 'public',
  'GET /login': 'public',
  'POST /login': 'public',
  'POST /logout': 'public',
  // Console: reading.
  'GET /': ALL,
  'GET /dashboard': ALL,
  'GET /trades': ALL,
  'GET /trades/:tradeNo': ALL,
  'GET /batches': ALL,
  'GET /batches/:batchNo': ALL,
  'GET /notifications': ALL,
  'GET /notifications/:id': ALL,
  'GET /audit': AUDIT,
  // Console: read-only exports, the failed-refunds view, and the pages' live fragments.
  'GET /export/:file': ALL,
  'GET /failed': ALL,
  'GET /live/dashboard': ALL,
  'GET /live/batches/:batchNo': ALL,
  // Console: one's own account.
  'GET /account': ALL,
  'POST /account/password': ALL,
  // Console: preparing and settling batches.
  'POST /trades/pick': PREPARE,
  'POST /refunds/preview': PREPARE,
  'POST /refunds': PREPARE,
  'GET /template': PREPARE,
  'POST /template': PREPARE,
  'GET /import': PREPARE,
  'GET /import/template.csv': PREPARE,
  'POST /import': PREPARE,
  'POST /batches/:batchNo/submit': PREPARE,
  'POST /batches/:batchNo/queue': PREPARE,
  'POST /batches/:batchNo/cancel': PREPARE,
  'POST /batches/:batchNo/reconcile': PREPARE,
  'POST /batches/:batchNo/resolve': PREPARE,
  // Console: the second person.
  'POST /batches/:batchNo/approve': APPROVE,
  'POST /batches/:batchNo/reject': APPROVE,
  // Console: administration.
  'GET /tokens': ADMIN,
  'POST /tokens': ADMIN,
  'POST /tokens/:id/revoke': ADMIN,
  'GET /operators': ADMIN,
  'POST /operators': ADMIN,
  'POST /operators/:id/password': ADMIN,
  'POST /operators/:id/disable': ADMIN,
  'POST /operators/:id/enable': ADMIN,
  'POST /operators/:id/role': ADMIN,
};

/**
 * The table key of a Hono route: `METHOD /path` with the `{regex}` of every parameter left out.
 * @example routeKey('GET', '/trades/:tradeNo{[0-9]{6,64}}') // 'GET /trades/:tradeNo'
 */
export function routeKey(method: string, path: string): string {
  let out = '';
  let depth = 0;
  for (const ch of path) {
    if (ch === '{') depth++;
    else if (ch === '}') depth = Math.max(0, depth - 1);
    else if (depth === 0) out += ch;
  }
  return `${method.toUpperCase()} ${out}`;
}

/** Who may call the route (`routeKey`); a route that is not in the table: `admin` only. */
export function accessOf(key: string): Access {
  return ROUTE_ROLES[key] ?? ADMIN;
}

/** Whether `role` may call the route (`routeKey`). */
export function allows(key: string, role: Role): boolean {
  const access = accessOf(key);
  return access === 'public' || access.includes(role);
}
