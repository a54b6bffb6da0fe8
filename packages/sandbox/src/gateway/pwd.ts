/**
 * `refund_fastpay_by_platform_pwd`: the request leads to the 批量退款申请 confirmation page (a one-time token
 * per showing, its hash in the batch row), and `POST /pwd/confirm` with Email + 支付密码 accepts the batch and
 * processes it at once. The confirmation must come from the page itself (no cross-site posts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Charset, type DetailRecord, decodeDetailData, formatYuan } from '@alirefund/protocol';
import { isUniqueViolation, withTransaction } from '@alirefund/store';
import type { Context } from 'hono';
import type { Core } from '../core.js';
import { type ConfirmRow, confirmPage, errorPage, maskEmail, messagePage, resultPage } from '../pages.js';
import { processBatch } from '../processing/process.js';
import {
  type CheckedRefund,
  duplicateBatchNo,
  lockPartner,
  partnerBusy,
  takeSystemErrorFault,
} from './accept.js';
import { type Fail, logRequest, page } from './replies.js';
import type { GatewayRequest } from './request.js';

/** Tokens are kept as their sha256; secrets are compared in constant time. */
function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** The page's rows: each record with the masked email of its trade's buyer (— for unknown trades). */
async function confirmRows(
  core: Core,
  partner: string,
  records: readonly DetailRecord[],
): Promise<ConfirmRow[]> {
  const emails = new Map<string, string | null>();
  const nos = [...new Set(records.map((r) => r.tradeNo))];
  for (let i = 0; i < nos.length; i += 400) {
    const rows = await core.db
      .selectFrom('sbx_trades')
      .select(['trade_no', 'buyer_email'])
      .where('partner', '=', partner)
      .where('trade_no', 'in', nos.slice(i, i + 400))
      .execute();
    for (const r of rows) emails.set(r.trade_no, r.buyer_email);
  }
  return records.map((r) => ({
    tradeNo: r.tradeNo,
    payeeEmail: emails.has(r.tradeNo)
      ? maskEmail(emails.get(r.tradeNo) ?? `buyer${r.tradeNo.slice(-4)}@example.com`)
      : '—',
    amount: r.amountText ?? formatYuan(r.amountFen),
    reason: r.reason,
  }));
}

/** Shows the confirmation page of a checked pwd request (a new batch awaiting confirmation, or the same again). */
export async function showConfirmation(
  core: Core,
  r: GatewayRequest,
  checked: CheckedRefund,
  fail: Fail,
): Promise<Response> {
  const { base, batchNo, reshow } = checked;
  const token = randomBytes(24).toString('base64url');
  const tokenHash = sha256(token).toString('hex');
  try {
    if (reshow) {
      await core.db
        .updateTable('sbx_batches')
        .set({ confirm_token_hash: tokenHash })
        .where('partner', '=', base.partner)
        .where('batch_no', '=', batchNo)
        .where('status', '=', 'awaiting_confirmation')
        .execute();
    } else {
      await core.db
        .insertInto('sbx_batches')
        .values({
          ...base,
          status: 'awaiting_confirmation',
          locked: 0,
          confirm_token_hash: tokenHash,
          accepted_at: null,
        })
        .execute();
    }
  } catch (e) {
    if (isUniqueViolation(e)) return fail(duplicateBatchNo(batchNo, base.partner));
    throw e;
  }
  await logRequest(core, r, 'confirm_page', null);
  const rows = await confirmRows(core, base.partner, checked.records);
  const total = checked.records.reduce((s, x) => s + x.amountFen, 0);
  return page(
    String(
      confirmPage({
        partner: base.partner,
        batchNo,
        token,
        rows,
        totalAmount: formatYuan(total),
        email: '',
      }),
    ),
  );
}

/** `POST /pwd/confirm`: refuses cross-site posts, then confirms with the form's fields. */
export async function confirmRoute(core: Core, c: Context): Promise<Response> {
  const site = c.req.header('sec-fetch-site');
  const origin = c.req.header('origin');
  const self = new URL(c.req.url);
  if (site === 'cross-site' || (origin !== undefined && origin !== 'null' && origin !== self.origin)) {
    return page(
      String(
        messagePage(
          '请求被拒绝',
          '确认请求必须来自支付宝确认页面本身。The confirmation must come from the confirmation page itself.',
        ),
      ),
      403,
    );
  }
  const form = await c.req.parseBody();
  const field = (k: string) => (typeof form[k] === 'string' ? (form[k] as string) : '');
  return page(
    ...(await confirm(
      core,
      field('partner'),
      field('batch_no'),
      field('token'),
      field('email'),
      field('password'),
    )),
  );
}

/** The pwd confirmation: token (CSRF), Email + 支付密码, then acceptance and processing. */
async function confirm(
  core: Core,
  partner: string,
  batchNo: string,
  token: string,
  email: string,
  password: string,
): Promise<[string, number]> {
  const batch = await core.db
    .selectFrom('sbx_batches')
    .select(['status', 'confirm_token_hash', 'detail_data', 'charset', 'notify_url', 'record_count'])
    .where('partner', '=', partner)
    .where('batch_no', '=', batchNo)
    .executeTakeFirst();
  if (!batch)
    return [String(messagePage('批次不存在', '没有找到这个退款批次，请回到请求来源地重新发起请求。')), 404];
  if (batch.status !== 'awaiting_confirmation' || batch.confirm_token_hash === null) {
    return [
      String(
        messagePage('批次已确认', '这个退款批次已经确认过，不能重复确认。This batch was already confirmed.'),
      ),
      409,
    ];
  }
  if (token === '' || !timingSafeEqual(sha256(token), Buffer.from(batch.confirm_token_hash, 'hex'))) {
    return [
      String(
        messagePage(
          '请求已失效',
          '确认页面已失效，请回到请求来源地重新发起请求。The confirmation page is stale or forged.',
        ),
      ),
      403,
    ];
  }
  const p = await core.db
    .selectFrom('sbx_partners')
    .select(['email', 'payment_password'])
    .where('partner', '=', partner)
    .executeTakeFirstOrThrow();
  const emailOk = sameSecret(email.trim().toLowerCase(), p.email.toLowerCase());
  const passwordOk = sameSecret(password, p.payment_password);
  if (!emailOk || !passwordOk) {
    await core.db
      .updateTable('sbx_batches')
      .set((eb) => ({ wrong_passwords: eb('wrong_passwords', '+', 1) }))
      .where('partner', '=', partner)
      .where('batch_no', '=', batchNo)
      .execute();
    core.log({ event: 'pwd_refused', partner, batchNo, reason: emailOk ? 'password' : 'email' });
    const decoded = decodeDetailData(batch.detail_data, { charset: batch.charset as Charset, mode: 'pwd' });
    const records = decoded.ok ? decoded.value : [];
    const rows = await confirmRows(core, partner, records);
    const total = records.reduce((s, x) => s + x.amountFen, 0);
    return [
      String(
        confirmPage({
          partner,
          batchNo,
          token,
          rows,
          totalAmount: formatYuan(total),
          email,
          error: emailOk ? '支付密码不正确，请重新输入。' : 'Email地址与签约账号不符，请重新输入。',
        }),
      ),
      200,
    ];
  }
  const now = core.now();
  const accepted = await withTransaction(core.database, async (trx) => {
    await lockPartner(core, trx, partner);
    const busy = await partnerBusy(trx, partner, batchNo);
    const res = await trx
      .updateTable('sbx_batches')
      .set({ status: 'queued', accepted_at: now, locked: busy ? 1 : 0, confirm_token_hash: null })
      .where('partner', '=', partner)
      .where('batch_no', '=', batchNo)
      .where('status', '=', 'awaiting_confirmation')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  });
  if (!accepted) return [String(messagePage('批次已确认', '这个退款批次已经确认过，不能重复确认。')), 409];
  core.log({ event: 'pwd_confirmed', partner, batchNo });
  const outcome = core.faults.pauseProcessing ? null : await processBatch(core, partner, batchNo);
  if (await takeSystemErrorFault(core)) {
    return [String(errorPage('SYSTEM_ERROR', 'fault injection: the batch WAS accepted and processed')), 200];
  }
  return [
    String(
      resultPage({
        batchNo,
        recordCount: Number(batch.record_count),
        successNum: outcome ? outcome.successNum : null,
        notifyUrl: batch.notify_url,
      }),
    ),
    200,
  ];
}
