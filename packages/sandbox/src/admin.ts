/**
 * The admin JSON API under `/sandbox/api/`: create partners, accounts and paid trades; read trades, batches,
 * notifications and delivery attempts; redeliver; move the clock; inject faults. Every request with a body must
 * be `application/json` (a browser cannot send that cross-site without a CORS preflight, which is never
 * granted), so pages elsewhere cannot drive the API.
 */
import { beijingDate, formatBeijing, formatYuan } from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import { type Context, Hono } from 'hono';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import { type Core, type Faults, noFaults } from './core.js';
import { existingFreezes, frozenAccountId, insertAccount, insertPartner, insertTrade } from './entities.js';
import { freezeFromBalance, settleDback } from './funds.js';
import type { Dispatcher } from './dispatcher.js';
import {
  effectiveStatus,
  feeRefundedFor,
  refundedSums,
  resultFromRow,
  unfreezeRecordOf,
} from './processing/records.js';
import type { DeliveryTable } from './schema.js';
import {
  type SeedProblem,
  accountSeedSchema,
  freezeSeedSchema,
  partnerSeedSchema,
  tradeSeedSchema,
  zodProblems,
} from './seed.js';

const settleSchema = z.strictObject({
  status: z.enum(['S', 'F'], { message: 'must be "S" (the card received it) or "F" (the card refused it)' }),
});

const nonNegInt = z.number().int().min(0);

export const faultsPatchSchema = z.strictObject({
  notify: z
    .strictObject({
      duplicate: nonNegInt.optional(),
      drop: nonNegInt.optional(),
      delayMs: nonNegInt.max(86_400_000).optional(),
      reorder: nonNegInt.max(1000).optional(),
    })
    .optional(),
  forceCodes: z
    .array(
      z.strictObject({
        tradeNo: z.string().min(1),
        code: z.string().regex(/^[A-Z][A-Z0-9_]*$/, {
          message: 'must be an upper-case result code such as SELLER_BALANCE_NOT_ENOUGH',
        }),
        times: z.number().int().min(1).default(1),
      }),
    )
    .optional(),
  systemErrorAfterAccept: nonNegInt.optional(),
  slowResponseMs: nonNegInt.max(120_000).optional(),
  pauseProcessing: z.boolean().optional(),
});

const clockSchema = z.union([
  z.strictObject({ offsetMs: z.number().int() }),
  z.strictObject({ advanceMs: z.number().int() }),
  z.strictObject({ now: z.string() }),
]);

function yuan(fen: number | string | bigint | null): string | null {
  if (fen === null) return null;
  const n = Number(fen);
  return n < 0 ? `-${formatYuan(-n)}` : formatYuan(n);
}

async function jsonBody(
  c: Context,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    return {
      ok: false,
      response: c.json(
        { error: 'unsupported_media_type', message: 'send the body as application/json' },
        415,
      ),
    };
  }
  try {
    return { ok: true, value: await c.req.json() };
  } catch (e) {
    return { ok: false, response: c.json({ error: 'invalid_json', message: (e as Error).message }, 400) };
  }
}

function invalid(c: Context, problems: SeedProblem[]): Response {
  return c.json(
    { error: 'invalid', message: problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems },
    400,
  );
}

function limitOf(c: Context, dflt = 100): number {
  const n = Number(c.req.query('limit') ?? dflt);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1000) : dflt;
}

/** Parses a clock target: ISO-8601 or `yyyy-MM-dd HH:mm:ss` (Beijing). */
function parseInstant(text: string): number | null {
  const bj = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (bj) {
    const [y, mo, d, hh, mi, s] = bj.slice(1).map(Number) as [number, number, number, number, number, number];
    return Date.UTC(y, mo - 1, d, hh, mi, s) - 8 * 3_600_000;
  }
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

export function clockView(core: Core) {
  const now = core.now();
  return {
    now: new Date(now).toISOString(),
    beijing: formatBeijing(now),
    beijingDate: beijingDate(now),
    offsetMs: core.clockOffsetMs,
  };
}

export function adminRoutes(core: Core, dispatcher: Dispatcher, onUnpause: () => void): Hono {
  const app = new Hono();
  const db = core.db;

  app.get('/', (c) =>
    c.json({
      endpoints: [
        'GET/POST /sandbox/api/partners',
        'GET /sandbox/api/partners/:partner',
        'POST /sandbox/api/partners/:partner/freezes',
        'GET /sandbox/api/freezes',
        'GET/POST /sandbox/api/accounts',
        'GET /sandbox/api/accounts/:accountId',
        'GET/POST /sandbox/api/trades',
        'GET /sandbox/api/trades/:tradeNo',
        'GET /sandbox/api/batches',
        'GET /sandbox/api/batches/:partner/:batchNo',
        'GET /sandbox/api/notifications',
        'GET /sandbox/api/notifications/:id',
        'POST /sandbox/api/notifications/:id/redeliver',
        'GET /sandbox/api/deliveries',
        'GET /sandbox/api/dbacks',
        'POST /sandbox/api/dbacks/:partner/:batchNo/:recordNo',
        'POST /sandbox/api/dispatch',
        'GET /sandbox/api/ledger',
        'GET/PUT /sandbox/api/clock',
        'GET/PUT/DELETE /sandbox/api/faults',
        'GET /sandbox/api/requests',
        'GET /sandbox/api/alipay-public-key',
      ],
    }),
  );

  // ---- partners
  app.get('/partners', async (c) => {
    const rows = await db
      .selectFrom('sbx_partners')
      .innerJoin('sbx_accounts', 'sbx_accounts.account_id', 'sbx_partners.partner')
      .select(['partner', 'sbx_partners.email', 'services', 'balance_fen', 'rsa_public_key', 'md5_key'])
      .orderBy('partner')
      .execute();
    return c.json({
      partners: rows.map((r) => ({
        partner: r.partner,
        email: r.email,
        services: r.services.split(',').filter(Boolean),
        balance: yuan(r.balance_fen),
        balanceFen: Number(r.balance_fen),
        rsa: r.rsa_public_key !== null,
        keyHint: `…${r.md5_key.slice(-4)}`,
      })),
    });
  });
  app.get('/partners/:partner', async (c) => {
    const r = await db
      .selectFrom('sbx_partners')
      .innerJoin('sbx_accounts', 'sbx_accounts.account_id', 'sbx_partners.partner')
      .select(['partner', 'sbx_partners.email', 'services', 'balance_fen', 'rsa_public_key', 'md5_key'])
      .where('partner', '=', c.req.param('partner'))
      .executeTakeFirst();
    if (!r) return c.json({ error: 'not_found', message: `no partner ${c.req.param('partner')}` }, 404);
    const signed = await db
      .selectFrom('sbx_protocols')
      .select('user_id')
      .where('partner', '=', r.partner)
      .execute();
    const frozen = await freezeViews(r.partner);
    const frozenFen = frozen.reduce((sum, f) => sum + f.leftFen, 0);
    return c.json({
      partner: r.partner,
      email: r.email,
      services: r.services.split(',').filter(Boolean),
      balance: yuan(r.balance_fen),
      balanceFen: Number(r.balance_fen),
      frozen: yuan(frozenFen),
      frozenFen,
      freezes: frozen,
      rsa: r.rsa_public_key !== null,
      keyHint: `…${r.md5_key.slice(-4)}`,
      signedAccounts: signed.map((s) => s.user_id),
    });
  });
  app.post('/partners', async (c) => {
    const body = await jsonBody(c);
    if (!body.ok) return body.response;
    const parsed = partnerSeedSchema.safeParse(body.value);
    if (!parsed.success) return invalid(c, zodProblems(parsed.error));
    const created = await withTransaction(core.database, async (trx) => {
      const clash = await trx
        .selectFrom('sbx_accounts')
        .select('account_id')
        .where((eb) =>
          eb.or([eb('account_id', '=', parsed.data.partner), eb('email', '=', parsed.data.email)]),
        )
        .executeTakeFirst();
      if (clash) return false;
      if (
        (
          await existingFreezes(
            trx,
            (parsed.data.frozen ?? []).map((f) => f.freezeOrderNo),
          )
        ).length > 0
      )
        return false;
      return insertPartner(trx, parsed.data, core.now());
    });
    if (!created)
      return c.json(
        {
          error: 'conflict',
          message: `partner ${parsed.data.partner}, email ${parsed.data.email} or one of its freeze orders already exists`,
        },
        409,
      );
    return c.json({ partner: parsed.data.partner, created: true }, 201);
  });

  // ---- frozen funds
  async function freezeViews(partner?: string) {
    let q = db.selectFrom('sbx_freezes').selectAll().orderBy('created_at').orderBy('freeze_order_no');
    if (partner) q = q.where('account_id', '=', partner);
    const rows = await q.execute();
    const left = new Map<string, number>();
    const releases = new Map<string, Array<ReturnType<typeof unfreezeRecordOf> & { batchNo: string }>>();
    for (let i = 0; i < rows.length; i += 400) {
      const part = rows.slice(i, i + 400).map((f) => f.freeze_order_no);
      for (const a of await db
        .selectFrom('sbx_accounts')
        .select(['account_id', 'balance_fen'])
        .where(
          'account_id',
          'in',
          part.map((n) => frozenAccountId(n)),
        )
        .execute())
        left.set(a.account_id, Number(a.balance_fen));
      for (const u of await db
        .selectFrom('sbx_unfreezes')
        .selectAll()
        .where('freeze_order_no', 'in', part)
        .orderBy('processed_at')
        .orderBy('unfreeze_order_no')
        .execute()) {
        const list = releases.get(u.freeze_order_no) ?? [];
        list.push({ ...unfreezeRecordOf(u), batchNo: u.batch_no });
        releases.set(u.freeze_order_no, list);
      }
    }
    return rows.map((f) => {
      const leftFen = left.get(frozenAccountId(f.freeze_order_no)) ?? 0;
      return {
        freezeOrderNo: f.freeze_order_no,
        partner: f.account_id,
        ledgerAccount: frozenAccountId(f.freeze_order_no),
        amount: yuan(f.amount_fen),
        amountFen: Number(f.amount_fen),
        left: yuan(leftFen),
        leftFen,
        createdAt: new Date(Number(f.created_at)).toISOString(),
        releases: releases.get(f.freeze_order_no) ?? [],
      };
    });
  }
  app.get('/freezes', async (c) => c.json({ freezes: await freezeViews(c.req.query('partner')) }));
  app.post('/partners/:partner/freezes', async (c) => {
    const body = await jsonBody(c);
    if (!body.ok) return body.response;
    const parsed = freezeSeedSchema.safeParse(body.value);
    if (!parsed.success) return invalid(c, zodProblems(parsed.error));
    const r = await freezeFromBalance(core, c.req.param('partner'), parsed.data);
    if (!r.ok)
      return c.json(
        { error: r.error, message: r.message },
        r.error === 'not_found' ? 404 : r.error === 'conflict' ? 409 : 400,
      );
    return c.json({ freezeOrderNo: parsed.data.freezeOrderNo, created: true }, 201);
  });

  // ---- 充退 (refunds to bank cards)
  app.get('/dbacks', async (c) => {
    let q = db
      .selectFrom('sbx_batch_records')
      .innerJoin('sbx_batches', (j) =>
        j
          .onRef('sbx_batches.partner', '=', 'sbx_batch_records.partner')
          .onRef('sbx_batches.batch_no', '=', 'sbx_batch_records.batch_no'),
      )
      .select([
        'sbx_batch_records.partner',
        'sbx_batch_records.batch_no',
        'sbx_batch_records.record_no',
        'sbx_batch_records.trade_no',
        'sbx_batch_records.amount_fen',
        'sbx_batch_records.dback_status',
        'sbx_batch_records.dback_settled_at',
        'sbx_batch_records.processed_at',
        'sbx_batches.dback_notify_url',
      ])
      .where('sbx_batch_records.dback_status', 'is not', null)
      .orderBy('sbx_batch_records.processed_at', 'desc')
      .orderBy('sbx_batch_records.batch_no', 'desc')
      .orderBy('sbx_batch_records.record_no')
      .limit(limitOf(c));
    const status = c.req.query('status');
    if (status === 'P' || status === 'S' || status === 'F')
      q = q.where('sbx_batch_records.dback_status', '=', status);
    const partner = c.req.query('partner');
    if (partner) q = q.where('sbx_batch_records.partner', '=', partner);
    const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
    return c.json({
      dbacks: (await q.execute()).map((r) => ({
        partner: r.partner,
        batchNo: r.batch_no,
        recordNo: Number(r.record_no),
        tradeNo: r.trade_no,
        amount: yuan(r.amount_fen),
        amountFen: Number(r.amount_fen),
        status: r.dback_status,
        processedAt: iso(r.processed_at),
        settledAt: iso(r.dback_settled_at),
        dbackNotifyUrl: r.dback_notify_url,
      })),
    });
  });
  app.post('/dbacks/:partner/:batchNo/:recordNo', async (c) => {
    const body = await jsonBody(c);
    if (!body.ok) return body.response;
    const parsed = settleSchema.safeParse(body.value);
    if (!parsed.success) return invalid(c, zodProblems(parsed.error));
    const recordNo = Number(c.req.param('recordNo'));
    if (!Number.isSafeInteger(recordNo))
      return c.json({ error: 'not_found', message: `no record ${c.req.param('recordNo')}` }, 404);
    const r = await settleDback(
      core,
      { partner: c.req.param('partner'), batchNo: c.req.param('batchNo'), recordNo },
      parsed.data.status,
    );
    if (!r.ok) return c.json({ error: r.error, message: r.message }, r.error === 'not_found' ? 404 : 409);
    return c.json({ status: r.status, notifyId: r.notification?.notifyId ?? null });
  });

  // ---- accounts
  app.get('/accounts', async (c) => {
    const rows = await db
      .selectFrom('sbx_accounts')
      .selectAll()
      .orderBy('kind')
      .orderBy('account_id')
      .execute();
    return c.json({
      accounts: rows.map((r) => ({
        accountId: r.account_id,
        email: r.email,
        kind: r.kind,
        balance: yuan(r.balance_fen),
        balanceFen: Number(r.balance_fen),
      })),
    });
  });
  app.get('/accounts/:id', async (c) => {
    const id = c.req.param('id');
    const r = await db.selectFrom('sbx_accounts').selectAll().where('account_id', '=', id).executeTakeFirst();
    if (!r) return c.json({ error: 'not_found', message: `no account ${id}` }, 404);
    const entries = await db
      .selectFrom('sbx_entries')
      .selectAll()
      .where('account_id', '=', id)
      .orderBy('id', 'desc')
      .limit(limitOf(c))
      .execute();
    const signed = await db.selectFrom('sbx_protocols').select('partner').where('user_id', '=', id).execute();
    return c.json({
      accountId: r.account_id,
      email: r.email,
      kind: r.kind,
      balance: yuan(r.balance_fen),
      balanceFen: Number(r.balance_fen),
      signedWith: signed.map((s) => s.partner),
      entries: entries.map((e) => ({
        id: Number(e.id),
        txnId: e.txn_id,
        amount: yuan(e.amount_fen),
        amountFen: Number(e.amount_fen),
        kind: e.kind,
        partner: e.partner,
        batchNo: e.batch_no,
        tradeNo: e.trade_no,
        at: new Date(Number(e.created_at)).toISOString(),
      })),
    });
  });
  app.post('/accounts', async (c) => {
    const body = await jsonBody(c);
    if (!body.ok) return body.response;
    const parsed = accountSeedSchema.safeParse(body.value);
    if (!parsed.success) return invalid(c, zodProblems(parsed.error));
    const a = parsed.data;
    const result = await withTransaction(core.database, async (trx) => {
      const problems: SeedProblem[] = [];
      for (const [i, p] of (a.signedWith ?? []).entries()) {
        if (
          !(await trx
            .selectFrom('sbx_partners')
            .select('partner')
            .where('partner', '=', p)
            .executeTakeFirst())
        ) {
          problems.push({ path: `signedWith[${i}]`, message: `partner ${p} does not exist` });
        }
      }
      if (problems.length > 0) return { problems };
      const clash = await trx
        .selectFrom('sbx_accounts')
        .select('account_id')
        .where((eb) => eb.or([eb('account_id', '=', a.userId), eb('email', '=', a.email)]))
        .executeTakeFirst();
      if (clash) return { conflict: true };
      const all =
        a.signedWith ??
        (await trx.selectFrom('sbx_partners').select('partner').execute()).map((r) => r.partner);
      await insertAccount(trx, a, all, core.now());
      return { created: true };
    });
    if ('problems' in result) return invalid(c, result.problems);
    if ('conflict' in result)
      return c.json(
        { error: 'conflict', message: `account ${a.userId} or email ${a.email} already exists` },
        409,
      );
    return c.json({ accountId: a.userId, created: true }, 201);
  });

  // ---- trades
  app.get('/trades', async (c) => {
    let q = db
      .selectFrom('sbx_trades')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('trade_no')
      .limit(limitOf(c, 200));
    const partner = c.req.query('partner');
    if (partner) q = q.where('partner', '=', partner);
    const rows = await q.execute();
    const refunds = await refundedSums(
      db,
      rows.map((r) => r.trade_no),
    );
    return c.json({ trades: rows.map((r) => tradeView(r, refunds.get(r.trade_no))) });
  });
  app.get('/trades/:tradeNo', async (c) => {
    const tradeNo = c.req.param('tradeNo');
    const r = await db
      .selectFrom('sbx_trades')
      .selectAll()
      .where('trade_no', '=', tradeNo)
      .executeTakeFirst();
    if (!r) return c.json({ error: 'not_found', message: `no trade ${tradeNo}` }, 404);
    const refunds = await refundedSums(db, [tradeNo]);
    const records = await db
      .selectFrom('sbx_batch_records')
      .selectAll()
      .where('trade_no', '=', tradeNo)
      .orderBy('processed_at')
      .execute();
    const royalties = await db
      .selectFrom('sbx_trade_royalties')
      .selectAll()
      .where('trade_no', '=', tradeNo)
      .execute();
    return c.json({
      ...tradeView(r, refunds.get(tradeNo)),
      royalties: royalties.map((y) => ({
        accountId: y.account_id,
        amount: yuan(y.amount_fen),
        amountFen: Number(y.amount_fen),
      })),
      refunds: records.map((b) => ({
        partner: b.partner,
        batchNo: b.batch_no,
        recordNo: Number(b.record_no),
        amount: yuan(b.amount_fen),
        code: b.code,
        succeeded: Number(b.succeeded) === 1,
        dbackStatus: b.dback_status,
        at: new Date(Number(b.processed_at)).toISOString(),
      })),
    });
  });
  app.post('/trades', async (c) => {
    const body = await jsonBody(c);
    if (!body.ok) return body.response;
    const parsed = tradeSeedSchema.safeParse(body.value);
    if (!parsed.success) return invalid(c, zodProblems(parsed.error));
    const problems: SeedProblem[] = [];
    const created = await withTransaction(core.database, (trx) => {
      problems.length = 0;
      return insertTrade(trx, parsed.data, '(body)', core.now(), problems);
    });
    if (problems.length > 0)
      return invalid(
        c,
        problems.map((p) => ({ ...p, path: p.path.replace(/^\(body\)\./, '') })),
      );
    if (!created)
      return c.json({ error: 'conflict', message: `trade ${parsed.data.tradeNo} already exists` }, 409);
    return c.json({ tradeNo: parsed.data.tradeNo, created: true }, 201);
  });

  function tradeView(
    r: {
      trade_no: string;
      partner: string;
      seller_id: string;
      out_trade_no: string | null;
      buyer_email: string | null;
      amount_fen: number;
      status: string;
      notify_url: string | null;
      paid_with: string;
      fee_fen: number | null;
    },
    refunded: { fen: number; count: number } | undefined,
  ) {
    const fen = refunded?.fen ?? 0;
    const feeFen = r.fee_fen === null ? null : Number(r.fee_fen);
    const feeRefundedFen = feeFen === null ? null : feeRefundedFor(feeFen, Number(r.amount_fen), fen);
    return {
      tradeNo: r.trade_no,
      partner: r.partner,
      sellerId: r.seller_id,
      outTradeNo: r.out_trade_no,
      buyerEmail: r.buyer_email,
      amount: yuan(r.amount_fen),
      amountFen: Number(r.amount_fen),
      status: effectiveStatus(r.status, Number(r.amount_fen), fen),
      createdStatus: r.status,
      refunded: yuan(fen),
      refundedFen: fen,
      refundCount: refunded?.count ?? 0,
      notifyUrl: r.notify_url,
      paidWith: r.paid_with,
      fee: feeFen === null ? null : yuan(feeFen),
      feeFen,
      feeRefunded: feeRefundedFen === null ? null : yuan(feeRefundedFen),
      feeRefundedFen,
    };
  }

  // ---- batches
  app.get('/batches', async (c) => {
    let q = db
      .selectFrom('sbx_batches')
      .select([
        'partner',
        'batch_no',
        'service',
        'status',
        'locked',
        'record_count',
        'success_num',
        'notify_url',
        'created_at',
        'accepted_at',
        'processed_at',
        'wrong_passwords',
      ])
      .orderBy('created_at', 'desc')
      .orderBy('batch_no', 'desc')
      .limit(limitOf(c));
    const partner = c.req.query('partner');
    if (partner) q = q.where('partner', '=', partner);
    const status = c.req.query('status');
    if (status === 'awaiting_confirmation' || status === 'queued' || status === 'done')
      q = q.where('status', '=', status);
    const rows = await q.execute();
    return c.json({ batches: rows.map(batchView) });
  });
  app.get('/batches/:partner/:batchNo', async (c) => {
    const partner = c.req.param('partner');
    const batchNo = c.req.param('batchNo');
    const b = await db
      .selectFrom('sbx_batches')
      .selectAll()
      .where('partner', '=', partner)
      .where('batch_no', '=', batchNo)
      .executeTakeFirst();
    if (!b) return c.json({ error: 'not_found', message: `no batch ${partner}/${batchNo}` }, 404);
    const records = await db
      .selectFrom('sbx_batch_records')
      .selectAll()
      .where('partner', '=', partner)
      .where('batch_no', '=', batchNo)
      .orderBy('record_no')
      .execute();
    const notifications = await db
      .selectFrom('sbx_notifications')
      .selectAll()
      .where('partner', '=', partner)
      .where('batch_no', '=', batchNo)
      .orderBy('id')
      .execute();
    const unfreezes = await db
      .selectFrom('sbx_unfreezes')
      .selectAll()
      .where('partner', '=', partner)
      .where('batch_no', '=', batchNo)
      .orderBy('record_no')
      .orderBy('unfreeze_order_no')
      .execute();
    return c.json({
      ...batchView(b),
      charset: b.charset,
      signType: b.sign_type,
      sellerId: b.seller_id,
      useFreezeAmount: Number(b.use_freeze) === 1,
      dbackNotifyUrl: b.dback_notify_url,
      detailData: b.detail_data,
      resultDetails: b.result_details,
      unfreezedDetails: b.unfreezed_details,
      unfreezes: unfreezes.map((u) => ({ recordNo: Number(u.record_no), ...unfreezeRecordOf(u) })),
      records: records.map((r) => ({
        recordNo: Number(r.record_no),
        tradeNo: r.trade_no,
        amount: yuan(r.amount_fen),
        code: r.code,
        succeeded: Number(r.succeeded) === 1,
        dbackStatus: r.dback_status,
        result: resultFromRow(r),
      })),
      notifications: notifications.map(notificationView),
    });
  });

  function batchView(b: {
    partner: string;
    batch_no: string;
    service: string;
    status: string;
    locked: number;
    record_count: number;
    success_num: number | null;
    notify_url: string | null;
    created_at: number;
    accepted_at: number | null;
    processed_at: number | null;
    wrong_passwords: number;
  }) {
    const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
    return {
      partner: b.partner,
      batchNo: b.batch_no,
      service: b.service,
      status: b.status,
      lockError: Number(b.locked) === 1,
      recordCount: Number(b.record_count),
      successNum: b.success_num === null ? null : Number(b.success_num),
      notifyUrl: b.notify_url,
      wrongPasswords: Number(b.wrong_passwords),
      createdAt: iso(b.created_at),
      acceptedAt: iso(b.accepted_at),
      processedAt: iso(b.processed_at),
    };
  }

  // ---- notifications and deliveries
  function notificationView(n: {
    id: number;
    partner: string;
    batch_no: string | null;
    trade_no: string | null;
    kind: string;
    notify_id: string;
    url: string;
    charset: string;
    sign_type: string;
    status: string;
    attempts: number;
    max_attempts: number;
    next_attempt_at: number;
    last_attempt_at: number | null;
    created_at: number;
    delivered_at: number | null;
    params_json: string;
  }) {
    const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
    return {
      id: Number(n.id),
      partner: n.partner,
      batchNo: n.batch_no,
      tradeNo: n.trade_no,
      kind: n.kind,
      notifyId: n.notify_id,
      url: n.url,
      charset: n.charset,
      signType: n.sign_type,
      status: n.status,
      attempts: Number(n.attempts),
      maxAttempts: Number(n.max_attempts),
      nextAttemptAt: n.status === 'pending' || n.status === 'held' ? iso(n.next_attempt_at) : null,
      lastAttemptAt: iso(n.last_attempt_at),
      createdAt: iso(n.created_at),
      deliveredAt: iso(n.delivered_at),
      params: JSON.parse(n.params_json) as Record<string, string>,
    };
  }
  app.get('/notifications', async (c) => {
    let q = db.selectFrom('sbx_notifications').selectAll().orderBy('id', 'desc').limit(limitOf(c));
    const partner = c.req.query('partner');
    if (partner) q = q.where('partner', '=', partner);
    const batchNo = c.req.query('batchNo');
    if (batchNo) q = q.where('batch_no', '=', batchNo);
    const kind = c.req.query('kind');
    if (kind === 'batch_refund_notify' || kind === 'trade_status_sync' || kind === 'dback_notify')
      q = q.where('kind', '=', kind);
    const status = c.req.query('status');
    if (status === 'pending' || status === 'held' || status === 'delivered' || status === 'failed')
      q = q.where('status', '=', status);
    return c.json({ notifications: (await q.execute()).map(notificationView) });
  });
  app.get('/notifications/:id', async (c) => {
    const id = Number(c.req.param('id'));
    const n = Number.isSafeInteger(id)
      ? await db.selectFrom('sbx_notifications').selectAll().where('id', '=', id).executeTakeFirst()
      : undefined;
    if (!n) return c.json({ error: 'not_found', message: `no notification ${c.req.param('id')}` }, 404);
    const deliveries = await db
      .selectFrom('sbx_deliveries')
      .selectAll()
      .where('notification_id', '=', id)
      .orderBy('id')
      .execute();
    return c.json({ ...notificationView(n), deliveries: deliveries.map(deliveryView) });
  });
  app.post('/notifications/:id/redeliver', async (c) => {
    const id = Number(c.req.param('id'));
    const n = Number.isSafeInteger(id)
      ? await db.selectFrom('sbx_notifications').selectAll().where('id', '=', id).executeTakeFirst()
      : undefined;
    if (!n) return c.json({ error: 'not_found', message: `no notification ${c.req.param('id')}` }, 404);
    await db
      .updateTable('sbx_notifications')
      .set({
        status: 'pending',
        next_attempt_at: core.now(),
        max_attempts: Math.max(Number(n.max_attempts), Number(n.attempts) + 1),
      })
      .where('id', '=', id)
      .execute();
    const sent = c.req.query('wait') === 'false' ? null : await dispatcher.runDue();
    const after = await db
      .selectFrom('sbx_notifications')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return c.json({ ...notificationView(after), handled: sent });
  });
  function deliveryView(d: Selectable<DeliveryTable>) {
    return {
      id: Number(d.id),
      notificationId: Number(d.notification_id),
      attempt: Number(d.attempt),
      at: new Date(Number(d.started_at)).toISOString(),
      outcome: d.outcome,
      httpStatus: d.http_status === null ? null : Number(d.http_status),
      latencyMs: d.latency_ms === null ? null : Number(d.latency_ms),
      requestBody: d.request_body,
      responseBody: d.response_body,
      error: d.error,
    };
  }
  app.get('/deliveries', async (c) => {
    let q = db.selectFrom('sbx_deliveries').selectAll().orderBy('id', 'desc').limit(limitOf(c));
    const nid = c.req.query('notificationId');
    if (nid !== undefined && Number.isSafeInteger(Number(nid)))
      q = q.where('notification_id', '=', Number(nid));
    return c.json({ deliveries: (await q.execute()).map(deliveryView) });
  });
  app.post('/dispatch', async (c) => c.json({ handled: await dispatcher.runDue() }));

  // ---- ledger
  // One snapshot for every read: under PostgreSQL's default READ COMMITTED, separate statements could straddle a
  // batch being processed and report a mismatch that never existed (SQLite's read transaction is a snapshot).
  app.get('/ledger', async (c) => {
    const report = await withTransaction(core.database, (trx) => ledgerReport(trx), {
      isolationLevel: 'repeatable read',
    });
    return c.json(report);
  });
  const ledgerReport = async (trx: typeof db) => {
    const sums = await trx
      .selectFrom('sbx_entries')
      .select((eb) => [
        'account_id',
        eb.fn.sum<number>('amount_fen').as('fen'),
        eb.fn.countAll<number>().as('n'),
      ])
      .groupBy('account_id')
      .execute();
    const byAccount = new Map(sums.map((s) => [s.account_id, { fen: Number(s.fen), n: Number(s.n) }]));
    const accounts = await trx.selectFrom('sbx_accounts').selectAll().orderBy('account_id').execute();
    const txns = await trx
      .selectFrom('sbx_entries')
      .select((eb) => ['txn_id', eb.fn.sum<number>('amount_fen').as('fen')])
      .groupBy('txn_id')
      .having((eb) => eb.fn.sum('amount_fen'), '!=', 0)
      .execute();
    const total = sums.reduce((s, x) => s + Number(x.fen), 0);
    const rows = accounts.map((a) => ({
      accountId: a.account_id,
      kind: a.kind,
      balanceFen: Number(a.balance_fen),
      entriesFen: byAccount.get(a.account_id)?.fen ?? 0,
      entries: byAccount.get(a.account_id)?.n ?? 0,
    }));
    return {
      sumFen: total,
      entryCount: sums.reduce((s, x) => s + Number(x.n), 0),
      unbalancedTxns: txns.map((t) => t.txn_id),
      balancesMatchEntries: rows.every((r) => r.balanceFen === r.entriesFen),
      accounts: rows,
    };
  };

  // ---- clock
  app.get('/clock', (c) => c.json(clockView(core)));
  const setClock = async (c: Context) => {
    const body = await jsonBody(c);
    if (!body.ok) return body.response;
    const parsed = clockSchema.safeParse(body.value);
    if (!parsed.success)
      return invalid(c, [
        {
          path: '(body)',
          message: 'give {"offsetMs": n}, {"advanceMs": n} or {"now": "2026-01-02 03:04:05"}',
        },
      ]);
    const v = parsed.data;
    if ('offsetMs' in v) core.clockOffsetMs = v.offsetMs;
    else if ('advanceMs' in v) core.clockOffsetMs += v.advanceMs;
    else {
      const t = parseInstant(v.now);
      if (t === null)
        return invalid(c, [{ path: 'now', message: 'must be ISO-8601 or yyyy-MM-dd HH:mm:ss (Beijing)' }]);
      core.clockOffsetMs += t - core.now();
    }
    await core.saveSettings();
    core.kick();
    return c.json(clockView(core));
  };
  app.put('/clock', setClock);
  app.post('/clock', setClock);

  // ---- faults
  app.get('/faults', (c) => c.json(core.faults));
  const patchFaults = async (c: Context) => {
    const body = await jsonBody(c);
    if (!body.ok) return body.response;
    const parsed = faultsPatchSchema.safeParse(body.value);
    if (!parsed.success) return invalid(c, zodProblems(parsed.error));
    const f: Faults = core.faults;
    const v = parsed.data;
    const wasPaused = f.pauseProcessing;
    if (v.notify)
      f.notify = {
        ...f.notify,
        ...Object.fromEntries(Object.entries(v.notify).filter(([, x]) => x !== undefined)),
      };
    if (v.forceCodes)
      f.forceCodes = v.forceCodes.map((x) => ({ tradeNo: x.tradeNo, code: x.code, times: x.times }));
    if (v.systemErrorAfterAccept !== undefined) f.systemErrorAfterAccept = v.systemErrorAfterAccept;
    if (v.slowResponseMs !== undefined) f.slowResponseMs = v.slowResponseMs;
    if (v.pauseProcessing !== undefined) f.pauseProcessing = v.pauseProcessing;
    await core.saveSettings();
    if (wasPaused && !f.pauseProcessing) onUnpause();
    return c.json(f);
  };
  app.put('/faults', patchFaults);
  app.post('/faults', patchFaults);
  app.delete('/faults', async (c) => {
    const wasPaused = core.faults.pauseProcessing;
    core.faults = noFaults();
    await core.saveSettings();
    if (wasPaused) onUnpause();
    return c.json(core.faults);
  });

  // ---- misc
  app.get('/requests', async (c) => {
    const rows = await db
      .selectFrom('sbx_requests')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limitOf(c))
      .execute();
    return c.json({
      requests: rows.map((r) => ({
        id: Number(r.id),
        at: new Date(Number(r.at)).toISOString(),
        method: r.method,
        service: r.service,
        partner: r.partner,
        batchNo: r.batch_no,
        outcome: r.outcome,
        message: r.message,
      })),
    });
  });
  app.get('/alipay-public-key', (c) => c.json({ pem: core.alipayKey.publicKeyPem }));
  return app;
}
