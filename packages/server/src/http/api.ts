/**
 * The JSON API under `/api/`, bearer tokens only. Errors are `{code, message, field?, issues?}` with a stable
 * code (see errors.ts). Amounts go in as yuan strings (`"12.50"`) or integer fen (`amountFen`), and come out as
 * integer fen (`…Fen`).
 */
import { parseYuan } from '@alirefund/protocol';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { ServiceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ServerServices } from '../services/index.js';
import { resolveOrderItems } from '../services/refund-input/index.js';
import type { ApiToken } from '../services/tokens.js';
import { endpointKey } from '../auth/endpoint.js';
import { accessOf, allows, type Role } from '../auth/roles.js';
import { ownerOf } from '../services/approval.js';
import { errorResponse } from './util.js';

const amountField = {
  amount: z.string().optional(),
  amountFen: z.number().int().optional(),
};

function fenOf(
  v: { amount?: string | undefined; amountFen?: number | undefined },
  ctx: z.RefinementCtx,
): number {
  if (v.amountFen !== undefined) return v.amountFen;
  if (v.amount === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['amount'],
      message: 'amount (yuan, e.g. "12.50") or amountFen is required',
    });
    return z.NEVER;
  }
  const fen = parseYuan(v.amount);
  if (fen === null) {
    ctx.addIssue({
      code: 'custom',
      path: ['amount'],
      message: `amount "${v.amount}" is not a yuan amount with at most 2 decimals, e.g. "12.50"`,
    });
    return z.NEVER;
  }
  return fen;
}

const tradeSchema = z
  .object({
    tradeNo: z.string(),
    outTradeNo: z.string().optional(),
    subject: z.string().max(256).optional(),
    buyer: z.string().max(128).optional(),
    paidAt: z.string().optional(),
    royalties: z
      .array(
        z
          .object({ account: z.string().optional(), userId: z.string().optional(), ...amountField })
          .transform((r, ctx) => {
            const amountFen = fenOf(r, ctx);
            return {
              amountFen,
              ...(r.account !== undefined ? { account: r.account } : {}),
              ...(r.userId !== undefined ? { userId: r.userId } : {}),
            };
          }),
      )
      .optional(),
    ...amountField,
  })
  .transform((t, ctx) => {
    const amountFen = fenOf(t, ctx);
    return {
      tradeNo: t.tradeNo,
      amountFen,
      ...(t.outTradeNo !== undefined ? { outTradeNo: t.outTradeNo } : {}),
      ...(t.subject !== undefined ? { subject: t.subject } : {}),
      ...(t.buyer !== undefined ? { buyer: t.buyer } : {}),
      ...(t.paidAt !== undefined ? { paidAt: t.paidAt } : {}),
      ...(t.royalties !== undefined ? { royalties: t.royalties } : {}),
    };
  });

const tradesBody = z.union([
  z.object({ trades: z.array(tradeSchema).min(1).max(5000) }),
  z.array(tradeSchema).min(1).max(5000),
  tradeSchema,
]);

const royaltyItem = z.object({
  outAccount: z.string().default(''),
  outUserId: z.string().default(''),
  inAccount: z.string().default(''),
  inUserId: z.string().default(''),
  reason: z.string().default(''),
  ...amountField,
});

const refundsBody = z.object({
  mode: z.enum(['nopwd', 'pwd'], { message: 'mode must be "nopwd" or "pwd"' }),
  batchSize: z.number().int().min(1).max(1000).optional(),
  queue: z.boolean().optional(),
  items: z
    .array(
      z
        .object({
          tradeNo: z.string().optional(),
          /** The merchant order number (商户订单号) instead of tradeNo: resolved through the store. */
          outTradeNo: z.string().max(64).optional(),
          reason: z.string().default(''),
          royalties: z.array(royaltyItem).optional(),
          ...amountField,
        })
        .refine((it) => it.tradeNo !== undefined || it.outTradeNo !== undefined, {
          message: 'give tradeNo (the Alipay trade number) or outTradeNo (the merchant order number)',
          path: ['tradeNo'],
        })
        .transform((it, ctx) => {
          const amountFen = fenOf(it, ctx);
          const royalties = it.royalties?.map((r) => ({
            outAccount: r.outAccount,
            outUserId: r.outUserId,
            inAccount: r.inAccount,
            inUserId: r.inUserId,
            reason: r.reason,
            amountFen: fenOf(r, ctx),
          }));
          return {
            tradeNo: it.tradeNo ?? '',
            ...(it.outTradeNo !== undefined ? { outTradeNo: it.outTradeNo } : {}),
            amountFen,
            reason: it.reason,
            ...(royalties ? { royalties } : {}),
          };
        }),
    )
    .min(1, 'items must list at least one refund')
    .max(10_000),
});

function fromZod(err: z.ZodError): ServiceError {
  const issues = err.issues.map((i) => {
    const path = i.path.map(String);
    const itemsAt = path[0] === 'items' || path[0] === 'trades' ? 1 : 0;
    const index = /^\d+$/.test(path[itemsAt] ?? '') ? Number(path[itemsAt]) : null;
    return {
      index,
      field: path.slice(index === null ? 0 : itemsAt + 1).join('.') || '(body)',
      code: 'INVALID_FIELD',
      message: i.message,
    };
  });
  const first = issues[0];
  return new ServiceError(
    'INVALID_REQUEST',
    first
      ? `${first.index === null ? '' : `item ${first.index}: `}${first.field}: ${first.message}`
      : 'invalid body',
    first?.field,
    issues,
  );
}

async function jsonBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new ServiceError(
      'INVALID_REQUEST',
      'the body must be JSON (content-type: application/json)',
      '(body)',
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

/** `from` / `to` (Beijing days `yyyy-MM-dd`) of a list, as given; the service checks them (400 when bad). */
function dayParams(c: Context): { from?: string; to?: string } {
  const from = c.req.query('from');
  const to = c.req.query('to');
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

function intParam(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

type Env = { Variables: { token: ApiToken; scope: Role } };

/** Mounts `/api/*` on `app`. */
export function mountApi(app: Hono, services: ServerServices, log: Logger): void {
  const api = new Hono<Env>();

  api.use('*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) {
      return errorResponse(
        new ServiceError('UNAUTHORIZED', 'send an API token: Authorization: Bearer <token>', 'authorization'),
      );
    }
    const token = await services.tokens.authenticate(m[1]!);
    if (!token) {
      return errorResponse(
        new ServiceError(
          'UNAUTHORIZED',
          "the API token is unknown, revoked or expired; create a new one on the console's tokens page",
          'authorization',
        ),
      );
    }
    c.set('token', token);
    // The token's scope against the one table of who may call what (auth/roles.ts).
    const scope = await services.tokenScopes.of(token.id);
    const key = endpointKey(c);
    if (key !== null && !allows(key, scope)) {
      const access = accessOf(key);
      return errorResponse(
        new ServiceError(
          'FORBIDDEN',
          `this token's scope is ${scope}; ${key} needs ${access === 'public' ? 'none' : access.join(' or ')}`,
          'scope',
        ),
      );
    }
    c.set('scope', scope);
    await next();
    c.header('cache-control', 'no-store');
  });

  const actor = (c: Context<Env>) => `api:${c.get('token').name}`;
  /** The two-person rule's view of the caller: the token, the operator who made it, its scope. */
  const approver = (c: Context<Env>) => ({
    actor: actor(c),
    owner: ownerOf(c.get('token').createdBy),
    role: c.get('scope'),
  });

  api.post('/trades', async (c) => {
    const body = await jsonBody(c, tradesBody);
    const list = Array.isArray(body) ? body : 'trades' in body ? body.trades : [body];
    const res = await services.trades.register(list, actor(c));
    if (res.issues.length > 0) {
      throw new ServiceError(
        res.issues.some((i) => i.code === 'TRADE_EXISTS') ? 'TRADE_EXISTS' : 'VALIDATION_FAILED',
        `${res.issues.length} problem(s); nothing was registered. First: ${res.issues[0]!.message}`,
        res.issues[0]!.field,
        res.issues,
      );
    }
    return c.json(
      {
        created: res.created,
        unchanged: res.unchanged,
        // e.g. the demo's SANDBOX_MIRROR_FAILED: registered here, but a refund of them will fail elsewhere
        ...(res.notices !== undefined && res.notices.length > 0 ? { notices: res.notices } : {}),
      },
      res.created.length > 0 ? 201 : 200,
    );
  });

  api.get('/trades', async (c) => {
    const status = c.req.query('status');
    const page = await services.trades.list({
      ...(c.req.query('q') !== undefined ? { q: c.req.query('q')! } : {}),
      ...(status === 'paid' ||
      status === 'partially_refunded' ||
      status === 'fully_refunded' ||
      status === 'refundable'
        ? { status }
        : {}),
      ...dayParams(c),
      ...(intParam(c.req.query('page')) !== undefined ? { page: intParam(c.req.query('page'))! } : {}),
      ...(intParam(c.req.query('pageSize')) !== undefined
        ? { pageSize: intParam(c.req.query('pageSize'))! }
        : {}),
    });
    return c.json(page);
  });

  api.get('/trades/:tradeNo', async (c) => {
    const detail = await services.trades.detail(c.req.param('tradeNo'));
    return c.json(detail);
  });

  api.post('/refunds', async (c) => {
    const body = await jsonBody(c, refundsBody);
    // Items may name their trade by merchant order number: resolved first, reported with the other problems.
    const unresolved = await resolveOrderItems(body.items, services.trades);
    const items = body.items.map(({ outTradeNo: _, ...it }) => it);
    if (unresolved.length > 0) {
      const known = new Set(unresolved.map((i) => i.index));
      const rest = (await services.refunds.preview(items, { mode: body.mode })).issues.filter(
        (i) => !(i.index !== null && known.has(i.index) && i.field === 'tradeNo'),
      );
      const all = [...unresolved, ...rest].sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
      throw new ServiceError(
        'VALIDATION_FAILED',
        `${all.length} problem(s); no batch was created. First: item ${unresolved[0]!.index}: ${unresolved[0]!.message}`,
        unresolved[0]!.field,
        all,
      );
    }
    const res = await services.refunds.createBatches(items, {
      mode: body.mode,
      actor: actor(c),
      owner: ownerOf(c.get('token').createdBy),
      ...(body.batchSize !== undefined ? { batchSize: body.batchSize } : {}),
      ...(body.queue !== undefined ? { queue: body.queue } : {}),
    });
    if (res.issues.length > 0) {
      throw new ServiceError(
        'VALIDATION_FAILED',
        `${res.issues.length} problem(s); no batch was created. First: ${res.issues[0]!.index === null ? '' : `item ${res.issues[0]!.index}: `}${res.issues[0]!.message}`,
        res.issues[0]!.field,
        res.issues,
      );
    }
    return c.json({ batches: res.batches }, 201);
  });

  api.get('/batches', async (c) => {
    const state = c.req.query('state');
    const page = await services.refunds.listBatches({
      ...(state !== undefined ? { state: state as never } : {}),
      ...(c.req.query('q') !== undefined ? { q: c.req.query('q')! } : {}),
      ...dayParams(c),
      ...(intParam(c.req.query('page')) !== undefined ? { page: intParam(c.req.query('page'))! } : {}),
      ...(intParam(c.req.query('pageSize')) !== undefined
        ? { pageSize: intParam(c.req.query('pageSize'))! }
        : {}),
    });
    return c.json(page);
  });

  api.get('/batches/:batchNo', async (c) => {
    const batch = await services.refunds.getBatch(c.req.param('batchNo'));
    if (!batch) throw new ServiceError('BATCH_NOT_FOUND', `no batch ${c.req.param('batchNo')}`, 'batchNo');
    return c.json(batch);
  });

  api.post('/batches/:batchNo/queue', async (c) =>
    c.json(await services.submission.enqueue(c.req.param('batchNo'), actor(c))),
  );
  api.post('/batches/:batchNo/cancel', async (c) =>
    c.json(await services.refunds.cancel(c.req.param('batchNo'), actor(c))),
  );
  // The two-person rule (services/approval.ts): not by the token that prepared the batch, nor its operator.
  api.post('/batches/:batchNo/approve', async (c) =>
    c.json(await services.approval.approve(c.req.param('batchNo'), approver(c))),
  );
  api.post('/batches/:batchNo/reject', async (c) => {
    const body = await jsonBody(c, z.object({ reason: z.string() }));
    return c.json(await services.approval.reject(c.req.param('batchNo'), approver(c), body.reason));
  });

  api.get('/notifications', async (c) => {
    const verdict = c.req.query('verdict');
    const page = await services.notifications.list({
      ...(c.req.query('batchNo') !== undefined ? { batchNo: c.req.query('batchNo')! } : {}),
      ...(c.req.query('tradeNo') !== undefined ? { tradeNo: c.req.query('tradeNo')! } : {}),
      ...(verdict === 'accepted' || verdict === 'duplicate' || verdict === 'rejected' ? { verdict } : {}),
      ...(c.req.query('q') !== undefined ? { q: c.req.query('q')! } : {}),
      ...(intParam(c.req.query('page')) !== undefined ? { page: intParam(c.req.query('page'))! } : {}),
      ...(intParam(c.req.query('pageSize')) !== undefined
        ? { pageSize: intParam(c.req.query('pageSize'))! }
        : {}),
    });
    return c.json(page);
  });

  api.get('/dashboard', async (c) => c.json(await services.dashboard.stats()));

  // The tokens without their secrets: name, prefix, last use, expiry, revoked; `current` is the caller's.
  api.get('/tokens', async (c) =>
    c.json({ tokens: await services.tokens.list(), current: c.get('token').id }),
  );

  api.all('*', () => {
    throw new ServiceError('NOT_FOUND', 'no such API endpoint', 'path');
  });

  api.onError((err) => {
    if (err instanceof ServiceError) return errorResponse(err);
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'API error');
    return errorResponse(new ServiceError('INTERNAL', 'internal error; see the server log'));
  });
  app.route('/api', api);
}
