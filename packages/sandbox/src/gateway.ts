/**
 * `/gateway.do`: the two batch refund services, `refund_fastpay_query` and `notify_verify`, with the request
 * checks in the fixed order documented in the README ("Check order"), and the pwd confirmation step.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type Charset,
  type CodecIssue,
  type ResultRecord,
  SERVICE_NOPWD,
  SERVICE_NOTIFY_VERIFY,
  SERVICE_PWD,
  SERVICE_QUERY,
  type VerifyingKey,
  batchNoProblem,
  beijingDate,
  canonicalize,
  decodeDetailData,
  encodeResultDetails,
  encodeUnfreezedDetails,
  encodeText,
  formatYuan,
  isDocumentedParam,
  normalizeCharset,
  parseBeijing,
  parseFormBody,
  verifyParams,
  ALIPAY_EMAIL_RE,
  ALIPAY_USER_ID_RE,
  type DetailRecord,
} from '@alirefund/protocol';
import { isUniqueViolation, withTransaction } from '@alirefund/store';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { type Core, type SandboxTrx, sleep } from './core.js';
import { isNotifyIdLive } from './outbox.js';
import {
  pageHeaders,
  type ConfirmRow,
  confirmPage,
  errorPage,
  maskEmail,
  messagePage,
  resultPage,
} from './pages.js';
import { processBatch, rememberDecoded } from './processing/process.js';
import { resultFromRow, unfreezeRecordOf } from './processing/records.js';
import type { PartnerTable } from './schema.js';

/** The refund services and the query. */
const SERVICES = new Set([SERVICE_PWD, SERVICE_NOPWD, SERVICE_QUERY]);

/** Which detail_data code wins when a batch has several problems (step 10, then step 11). */
export const DETAIL_CODE_ORDER = [
  'BATCH_NUM_ERROR',
  'BATCH_NUM_EXCEED_LIMIT',
  'BATCH_NUM_NOT_EQUAL_TOTAL',
  'DETAIL_DATA_FORMAT_ERROR',
  'SINGLE_DETAIL_DATA_ENCODING_NOT_SUPPORT',
  'BATCH_MEMO_LENGTH_EXCEED_LIMIT',
  'DUBL_TRADE_NO_IN_SAME_BATCH',
  'DUBL_ROYALTY_IN_DETAIL',
  'PWD_REFUND_NOT_ALLOW_ROYALTY',
] as const;

/** A parsed gateway request: query string and body merged, decoded in `_input_charset`. */
export interface GatewayRequest {
  method: string;
  params: Record<string, string>;
  /** Parameters sent twice with different values. */
  conflicts: string[];
  /** Parameters sent with an empty value. */
  empties: string[];
  /** `_input_charset` as normalised, or null when missing / not supported. */
  charset: Charset | null;
}

type Refusal = { ok: false; code: string; detail: string };
const refuse = (code: string, detail: string): Refusal => ({ ok: false, code, detail });

function findRawCharset(...texts: string[]): string | undefined {
  for (const t of texts) {
    for (const [k, v] of parseFormBody(t, 'utf-8')) if (k === '_input_charset' && v !== '') return v;
  }
  return undefined;
}

/** Parses a gateway request: `_input_charset` from the query string (or else the body) decides the decoding. */
export async function parseGatewayRequest(req: Request): Promise<GatewayRequest> {
  const url = new URL(req.url);
  const query = url.search.startsWith('?') ? url.search.slice(1) : url.search;
  const body = req.method === 'POST' ? Buffer.from(await req.arrayBuffer()).toString('latin1') : '';
  const raw = findRawCharset(query, body);
  const charset = raw === undefined ? null : normalizeCharset(raw);
  const decodeIn: Charset = charset ?? 'utf-8';
  const params: Record<string, string> = {};
  const conflicts = new Set<string>();
  const empties = new Set<string>();
  // The body wins over the query string (which should carry only _input_charset); a differing repeat is
  // refused at step 7.
  for (const [k, v] of [...parseFormBody(body, decodeIn), ...parseFormBody(query, decodeIn)]) {
    if (v === '') {
      empties.add(k);
      continue;
    }
    const prev = params[k];
    if (prev !== undefined && prev !== v) conflicts.add(k);
    if (prev === undefined) params[k] = v;
  }
  for (const k of Object.keys(params)) empties.delete(k);
  return { method: req.method, params, conflicts: [...conflicts], empties: [...empties], charset };
}

type PartnerRow = Pick<
  PartnerTable,
  'partner' | 'md5_key' | 'email' | 'payment_password' | 'rsa_public_key' | 'services'
>;

interface CommonOk {
  ok: true;
  service: string;
  partner: PartnerRow;
  charset: Charset;
}

/** Steps 1–6 of the check order (all services but notify_verify). */
async function checkCommon(core: Core, r: GatewayRequest): Promise<CommonOk | Refusal> {
  const p = r.params;
  const service = p['service'];
  if (service === undefined || !SERVICES.has(service)) {
    return refuse(
      'ILLEGAL_SERVICE',
      service === undefined
        ? 'the request has no service parameter (were all parameters lost?)'
        : `unknown service "${service}"`,
    );
  }
  const partnerId = p['partner'];
  const partner =
    partnerId === undefined
      ? undefined
      : await core.db
          .selectFrom('sbx_partners')
          .select(['partner', 'md5_key', 'email', 'payment_password', 'rsa_public_key', 'services'])
          .where('partner', '=', partnerId)
          .executeTakeFirst();
  if (!partner)
    return refuse(
      'ILLEGAL_PARTNER',
      partnerId === undefined
        ? 'the partner parameter is missing'
        : `partner "${partnerId}" is not known to this sandbox`,
    );
  const signType = p['sign_type'];
  let key: VerifyingKey;
  if (signType === 'MD5') key = { signType: 'MD5', key: partner.md5_key };
  else if (signType === 'RSA' && partner.rsa_public_key)
    key = { signType: 'RSA', publicKey: partner.rsa_public_key };
  else {
    return refuse(
      'ILLEGAL_SIGN_TYPE',
      signType === undefined
        ? 'sign_type is missing; send MD5 or RSA (upper case)'
        : signType === 'RSA'
          ? 'sign_type is RSA but no RSA public key is registered for this partner'
          : `sign_type "${signType}" is not supported; send MD5 or RSA (upper case; DSA is not implemented by the sandbox)`,
    );
  }
  let valid = false;
  try {
    valid = verifyParams(p, key, r.charset ?? 'utf-8');
  } catch {
    valid = false;
  }
  if (!valid) {
    const canonical = canonicalize(p);
    return refuse(
      'ILLEGAL_SIGN',
      `${p['sign'] === undefined ? 'the sign parameter is missing. ' : ''}The sandbox verified this string (the key is appended for MD5, not shown here), in ${r.charset ?? 'utf-8'} bytes: ${canonical.length > 600 ? `${canonical.slice(0, 600)}…` : canonical}`,
    );
  }
  const services = partner.services.split(',');
  if (!services.includes(service)) {
    return refuse(
      'HAS_NO_PRIVILEGE',
      `partner ${partner.partner} has not contracted ${service} (contracted: ${services.join(', ') || 'nothing'})`,
    );
  }
  if (r.charset === null) {
    const raw = p['_input_charset'];
    return refuse(
      'ILLEGAL_CHARSET',
      raw === undefined
        ? '_input_charset is missing; send utf-8 or gbk, in the query string and signed'
        : `_input_charset "${raw}" is not supported; use utf-8 or gbk (gb2312)`,
    );
  }
  for (const [k, v] of Object.entries(p)) {
    if (v.includes('\ufffd'))
      return refuse('ILLEGAL_CHARSET', `parameter ${k} is not valid ${r.charset} text`);
  }
  return { ok: true, service, partner, charset: r.charset };
}

function httpUrlProblem(name: string, v: string): string | null {
  if (v.length > 200) return `${name} is ${v.length} characters; the limit is 200`;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `${name} "${v}" is not an absolute URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${name} must be http or https`;
  if (v.includes('?'))
    return `${name} must not carry a query string (custom parameters such as ?id=123 are forbidden)`;
  return null;
}

/** Step 7: parameters. */
function checkArguments(r: GatewayRequest, service: string): Refusal | null {
  const p = r.params;
  if (r.conflicts.length > 0)
    return refuse(
      'ILLEGAL_ARGUMENT',
      `parameter(s) ${r.conflicts.join(', ')} were sent twice with different values`,
    );
  const unknown = [...Object.keys(p), ...r.empties].filter((k) => !isDocumentedParam(service, k));
  if (unknown.length > 0) {
    return refuse(
      'ILLEGAL_ARGUMENT',
      `parameter(s) ${unknown.join(', ')} are not parameters of ${service}; the form may contain only the documented parameters`,
    );
  }
  if (r.empties.length > 0) {
    return refuse(
      'ILLEGAL_ARGUMENT',
      `parameter(s) ${r.empties.join(', ')} were sent empty; leave out optional parameters you do not use`,
    );
  }
  if (service === SERVICE_QUERY) {
    if (p['batch_no'] === undefined && p['trade_no'] === undefined)
      return refuse('ILLEGAL_ARGUMENT', 'give batch_no or trade_no (or both)');
    return null;
  }
  for (const name of ['batch_no', 'batch_num', 'detail_data']) {
    if (p[name] === undefined) return refuse('ILLEGAL_ARGUMENT', `required parameter ${name} is missing`);
  }
  for (const name of ['notify_url', 'dback_notify_url']) {
    const v = p[name];
    const problem = v === undefined ? null : httpUrlProblem(name, v);
    if (problem) return refuse('ILLEGAL_ARGUMENT', problem);
  }
  const freeze = p['use_freeze_amount'];
  if (freeze !== undefined && freeze !== 'Y' && freeze !== 'N')
    return refuse('ILLEGAL_ARGUMENT', `use_freeze_amount must be Y or N, not "${freeze}"`);
  const rt = p['return_type'];
  if (rt !== undefined && rt !== 'xml')
    return refuse('ILLEGAL_ARGUMENT', `return_type must be xml, not "${rt}"`);
  const sellerId = p['seller_user_id'];
  const sellerEmail = p['seller_email'];
  if (sellerId !== undefined && !ALIPAY_USER_ID_RE.test(sellerId))
    return refuse('ILLEGAL_ARGUMENT', `seller_user_id "${sellerId}" is not 2088 followed by 12 digits`);
  if (sellerEmail !== undefined && !ALIPAY_EMAIL_RE.test(sellerEmail) && !/^1\d{10}$/.test(sellerEmail)) {
    return refuse('ILLEGAL_ARGUMENT', `seller_email "${sellerEmail}" is not an email or mobile login`);
  }
  if (service === SERVICE_PWD && sellerId === undefined && sellerEmail === undefined) {
    return refuse(
      'ILLEGAL_ARGUMENT',
      'the pwd service needs seller_user_id or seller_email (one of the two)',
    );
  }
  return null;
}

/** Step 8: refund_date is well-formed, on the date of batch_no, and today (Beijing). */
function checkRefundDate(core: Core, p: Record<string, string>): Refusal | null {
  const rd = p['refund_date'];
  if (rd === undefined) return refuse('REFUND_DATE_ERROR', 'refund_date is missing');
  if (parseBeijing(rd) === null)
    return refuse(
      'REFUND_DATE_ERROR',
      `refund_date "${rd}" is not yyyy-MM-dd HH:mm:ss (24-hour, Beijing time)`,
    );
  const day = rd.slice(0, 10).replace(/-/g, '');
  const bn = p['batch_no'] ?? '';
  if (/^\d{8}/.test(bn) && bn.slice(0, 8) !== day) {
    return refuse(
      'REFUND_DATE_ERROR',
      `refund_date is on ${day} but batch_no starts with ${bn.slice(0, 8)}; make both from one clock reading`,
    );
  }
  const today = beijingDate(core.now());
  if (day !== today)
    return refuse(
      'REFUND_DATE_ERROR',
      `refund_date is on ${day} but today is ${today} (Beijing time, sandbox clock)`,
    );
  return null;
}

/** Steps 10–11: batch_num and detail_data (the SDK's validator, one code by {@link DETAIL_CODE_ORDER}). */
function checkDetail(
  p: Record<string, string>,
  charset: Charset,
  mode: 'pwd' | 'nopwd',
): { ok: true; records: DetailRecord[] } | Refusal {
  const decoded = decodeDetailData(p['detail_data'] ?? '', { charset, mode, batchNum: p['batch_num'] ?? '' });
  if (decoded.ok) return { ok: true, records: decoded.value };
  const pick = (issues: CodecIssue[]): CodecIssue => {
    for (const code of DETAIL_CODE_ORDER) {
      const hit = issues.find((i) => i.code === code);
      if (hit) return hit;
    }
    return issues[0]!;
  };
  const issue = pick(decoded.issues);
  return refuse(
    issue.code,
    `${issue.record === null ? '' : `record ${issue.record}, `}${issue.field}: ${issue.message}`,
  );
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

async function logRequest(
  core: Core,
  r: GatewayRequest,
  outcome: string,
  message: string | null,
): Promise<void> {
  await core.db
    .insertInto('sbx_requests')
    .values({
      at: core.now(),
      service: r.params['service'] ?? null,
      partner: r.params['partner'] ?? null,
      batch_no: r.params['batch_no'] ?? null,
      method: r.method,
      outcome,
      message: message === null ? null : message.slice(0, 1000),
    })
    .execute();
  core.log({
    event: 'gateway_request',
    service: r.params['service'],
    partner: r.params['partner'],
    batchNo: r.params['batch_no'],
    outcome,
  });
}

/** ASCII-safe header value with the sandbox's explanation. */
function detailHeader(detail: string): string {
  return encodeURIComponent(detail.slice(0, 1500))
    .replace(/%20/g, ' ')
    .replace(/%2C/g, ',')
    .replace(/%3A/g, ':')
    .replace(/%22/g, '"');
}

function xmlReply(charset: Charset | null, code: string | null, detail?: string): Response {
  const cs: Charset = charset ?? 'utf-8';
  const enc = cs === 'gbk' ? 'GBK' : 'utf-8';
  const body =
    code === null
      ? `<?xml version="1.0" encoding="${enc}"?><alipay><is_success>T</is_success></alipay>`
      : `<?xml version="1.0" encoding="${enc}"?><alipay><is_success>F</is_success><error>${code}</error></alipay>`;
  const headers: Record<string, string> = { 'content-type': `text/xml; charset=${enc}` };
  if (detail) headers['x-sandbox-detail'] = detailHeader(detail);
  return new Response(encodeText(body, cs), { status: 200, headers });
}

function queryReply(charset: Charset | null, text: string, detail?: string): Response {
  const cs: Charset = charset ?? 'utf-8';
  const headers: Record<string, string> = {
    'content-type': `text/plain; charset=${cs === 'gbk' ? 'GBK' : 'utf-8'}`,
  };
  if (detail) headers['x-sandbox-detail'] = detailHeader(detail);
  return new Response(encodeText(text, cs), { status: 200, headers });
}

function page(body: string, status = 200, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...pageHeaders(), ...extra } });
}

/** How a refusal is shown: the pwd error page, nopwd XML, or the query's key=value reply. */
function refusalResponse(kind: 'html' | 'xml' | 'query', charset: Charset | null, f: Refusal): Response {
  if (kind === 'html')
    return page(String(errorPage(f.code, f.detail)), 200, { 'x-sandbox-detail': detailHeader(f.detail) });
  if (kind === 'xml') return xmlReply(charset, f.code, f.detail);
  return queryReply(charset, `is_success=F&error_code=${f.code}`, f.detail);
}

function kindOf(service: string | undefined, accept: string | undefined): 'html' | 'xml' | 'query' {
  if (service === SERVICE_PWD) return 'html';
  if (service === SERVICE_NOPWD) return 'xml';
  if (service === SERVICE_QUERY) return 'query';
  return (accept ?? '').includes('text/html') ? 'html' : 'xml';
}

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

/** Locks the partner row on PostgreSQL so that acceptance decisions (lock, duplicates) are serialised. */
async function lockPartner(core: Core, trx: SandboxTrx, partner: string): Promise<void> {
  if (core.database.dialect !== 'postgres') return;
  await trx.selectFrom('sbx_partners').select('partner').where('partner', '=', partner).forUpdate().execute();
}

/** Whether the partner has a batch that was accepted and is not processed yet (the batch lock). */
async function partnerBusy(trx: SandboxTrx, partner: string, except?: string): Promise<boolean> {
  // A batch that was itself accepted under the lock (locked = 1) does not hold it.
  let q = trx
    .selectFrom('sbx_batches')
    .select('batch_no')
    .where('partner', '=', partner)
    .where('status', '=', 'queued')
    .where('locked', '=', 0);
  if (except !== undefined) q = q.where('batch_no', '!=', except);
  return (await q.limit(1).executeTakeFirst()) !== undefined;
}

/** Work to run once the reply has been written (see `handle`). */
type Defer = (fn: () => void) => void;

/** Processes a just-accepted batch right after the reply is sent (unless processing is paused). */
function processSoon(core: Core, defer: Defer, partner: string, batchNo: string): void {
  defer(() => {
    if (core.faults.pauseProcessing) return;
    processBatch(core, partner, batchNo).catch((e: unknown) =>
      core.log({ event: 'process_error', partner, batchNo, error: (e as Error).message }),
    );
  });
}

/** The Node response under Hono (when served by @hono/node-server), to learn when the reply is written. */
function outgoingOf(c: Context): { once(event: 'finish' | 'close', fn: () => void): unknown } | undefined {
  const env = c.env as { outgoing?: { once?: unknown } } | undefined;
  return typeof env?.outgoing?.once === 'function'
    ? (env.outgoing as ReturnType<typeof outgoingOf>)
    : undefined;
}

async function takeSystemErrorFault(core: Core): Promise<boolean> {
  if (core.faults.systemErrorAfterAccept <= 0) return false;
  core.faults.systemErrorAfterAccept--;
  await core.saveSettings();
  return true;
}

export function gatewayRoutes(core: Core): Hono {
  const app = new Hono();

  const handle = async (c: Context): Promise<Response> => {
    const r = await parseGatewayRequest(c.req.raw);
    const later: Array<() => void> = [];
    const response = await handleGateway(core, r, c.req.header('accept'), (fn) => later.push(fn));
    if (later.length > 0) {
      // Run deferred work (processing the batch) once the reply is on the wire, so that it never delays it.
      let ran = false;
      const run = () => {
        if (ran) return;
        ran = true;
        for (const fn of later) fn();
      };
      const out = outgoingOf(c);
      if (out) {
        out.once('finish', run);
        out.once('close', run);
      } else setImmediate(run);
    }
    if (core.faults.slowResponseMs > 0) await sleep(core.faults.slowResponseMs);
    return response;
  };
  app.get('/gateway.do', handle);
  app.post('/gateway.do', handle);

  app.post('/pwd/confirm', async (c) => {
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
  });
  return app;
}

async function handleGateway(
  core: Core,
  r: GatewayRequest,
  accept: string | undefined,
  defer: Defer,
): Promise<Response> {
  const service = r.params['service'];
  if (service === SERVICE_NOTIFY_VERIFY) {
    const partner = r.params['partner'] ?? '';
    const notifyId = r.params['notify_id'] ?? '';
    const live = partner !== '' && notifyId !== '' && (await isNotifyIdLive(core, partner, notifyId));
    await logRequest(core, r, live ? 'true' : 'false', `notify_id ${notifyId}`);
    return new Response(live ? 'true' : 'false', {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  const kind = kindOf(service, accept);
  const common = await checkCommon(core, r);
  if (!common.ok) {
    await logRequest(core, r, common.code, common.detail);
    return refusalResponse(kind, r.charset, common);
  }
  const fail = async (f: Refusal) => {
    await logRequest(core, r, f.code, f.detail);
    return refusalResponse(kind, common.charset, f);
  };
  const args = checkArguments(r, common.service);
  if (args) return fail(args);
  if (common.service === SERVICE_QUERY) return query(core, r, common);

  const p = r.params;
  const mode = common.service === SERVICE_PWD ? 'pwd' : 'nopwd';
  const date = checkRefundDate(core, p);
  if (date) return fail(date);
  const batchNo = p['batch_no']!;
  const bnProblem = batchNoProblem(batchNo);
  if (bnProblem) return fail(refuse('BATCH_NO_FORMAT_ERROR', bnProblem));
  const existing = await core.db
    .selectFrom('sbx_batches')
    .select(['status', 'service', 'detail_data', 'notify_url', 'charset'])
    .where('partner', '=', common.partner.partner)
    .where('batch_no', '=', batchNo)
    .executeTakeFirst();
  const reshow =
    existing !== undefined &&
    mode === 'pwd' &&
    existing.status === 'awaiting_confirmation' &&
    existing.service === common.service &&
    existing.detail_data === p['detail_data'] &&
    existing.notify_url === (p['notify_url'] ?? null);
  if (existing && !reshow)
    return fail(
      refuse(
        'DUPLICATE_BATCH_NO',
        `batch_no ${batchNo} was already used by partner ${common.partner.partner}`,
      ),
    );
  const detail = checkDetail(p, common.charset, mode);
  if (!detail.ok) return fail(detail);
  // Step 12: the seller named by seller_user_id (wins) or seller_email must exist.
  let sellerId: string | null = null;
  const sellerRef = p['seller_user_id'] ?? p['seller_email'];
  if (sellerRef !== undefined) {
    const row = await core.db
      .selectFrom('sbx_accounts')
      .select('account_id')
      .where(p['seller_user_id'] !== undefined ? 'account_id' : 'email', '=', sellerRef)
      .executeTakeFirst();
    if (!row)
      return fail(refuse('SELLER_INFO_NOT_EXIST', `seller ${sellerRef} is not an account of this sandbox`));
    sellerId = row.account_id;
  }

  const now = core.now();
  const base = {
    partner: common.partner.partner,
    batch_no: batchNo,
    service: common.service,
    charset: common.charset,
    sign_type: p['sign_type']!,
    notify_url: p['notify_url'] ?? null,
    seller_id: sellerId,
    use_freeze: p['use_freeze_amount'] === 'Y' ? 1 : 0,
    dback_notify_url: p['dback_notify_url'] ?? null,
    detail_data: p['detail_data']!,
    record_count: detail.records.length,
    wrong_passwords: 0,
    created_at: now,
    processed_at: null,
    success_num: null,
    result_details: null,
  };

  if (mode === 'pwd') {
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
      if (isUniqueViolation(e))
        return fail(
          refuse('DUPLICATE_BATCH_NO', `batch_no ${batchNo} was already used by partner ${base.partner}`),
        );
      throw e;
    }
    await logRequest(core, r, 'confirm_page', null);
    const rows = await confirmRows(core, base.partner, detail.records);
    const total = detail.records.reduce((s, x) => s + x.amountFen, 0);
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

  // nopwd: accept (the batch lock is decided here), reply, process right after.
  let accepted: boolean;
  try {
    accepted = await withTransaction(core.database, async (trx) => {
      await lockPartner(core, trx, base.partner);
      const dup = await trx
        .selectFrom('sbx_batches')
        .select('batch_no')
        .where('partner', '=', base.partner)
        .where('batch_no', '=', batchNo)
        .executeTakeFirst();
      if (dup) return false;
      const busy = await partnerBusy(trx, base.partner);
      await trx
        .insertInto('sbx_batches')
        .values({
          ...base,
          status: 'queued',
          locked: busy ? 1 : 0,
          confirm_token_hash: null,
          accepted_at: now,
        })
        .execute();
      return true;
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    accepted = false;
  }
  if (!accepted)
    return fail(
      refuse('DUPLICATE_BATCH_NO', `batch_no ${batchNo} was already used by partner ${base.partner}`),
    );
  rememberDecoded(base.partner, batchNo, detail.records);
  processSoon(core, defer, base.partner, batchNo);
  if (await takeSystemErrorFault(core)) {
    await logRequest(
      core,
      r,
      'SYSTEM_ERROR',
      'fault: SYSTEM_ERROR after accepting (the batch was accepted and is processed)',
    );
    return xmlReply(
      common.charset,
      'SYSTEM_ERROR',
      'fault injection: the batch WAS accepted and will be processed',
    );
  }
  await logRequest(core, r, 'T', null);
  return xmlReply(common.charset, null);
}

/** refund_fastpay_query (protocol.md §13): results of processed batches, `batch_no^`-prefixed. */
async function query(core: Core, r: GatewayRequest, common: CommonOk): Promise<Response> {
  const batchNo = r.params['batch_no'];
  const tradeNo = r.params['trade_no'];
  let q = core.db
    .selectFrom('sbx_batch_records')
    .select([
      'batch_no',
      'record_no',
      'trade_no',
      'amount_fen',
      'amount_text',
      'code',
      'parts_json',
      'dback_status',
    ])
    .where('partner', '=', common.partner.partner)
    .orderBy('processed_at', 'asc')
    .orderBy('batch_no', 'asc')
    .orderBy('record_no', 'asc');
  if (batchNo !== undefined) q = q.where('batch_no', '=', batchNo);
  if (tradeNo !== undefined) q = q.where('trade_no', '=', tradeNo);
  const rows = await q.execute();
  if (rows.length === 0) {
    await logRequest(core, r, 'REFUND_NOT_EXIST', null);
    return queryReply(
      common.charset,
      'is_success=F&error_code=REFUND_NOT_EXIST',
      'no processed refund matches batch_no/trade_no for this partner',
    );
  }
  const records: ResultRecord[] = rows.map((row) => ({
    ...resultFromRow(row),
    batchNo: row.batch_no,
  }));
  let text = `is_success=T&result_details=${encodeResultDetails(records, { withBatchNo: true })}`;
  // Frozen funds released by the records found (protocol.md §13: `[&unfreezed_details=…]`).
  let uq = core.db
    .selectFrom('sbx_unfreezes')
    .selectAll()
    .where('partner', '=', common.partner.partner)
    .orderBy('processed_at', 'asc')
    .orderBy('batch_no', 'asc')
    .orderBy('record_no', 'asc')
    .orderBy('unfreeze_order_no', 'asc');
  if (batchNo !== undefined) uq = uq.where('batch_no', '=', batchNo);
  if (tradeNo !== undefined) uq = uq.where('trade_no', '=', tradeNo);
  const unfreezes = await uq.execute();
  if (unfreezes.length > 0)
    text += `&unfreezed_details=${encodeUnfreezedDetails(unfreezes.map(unfreezeRecordOf))}`;
  await logRequest(core, r, 'T', null);
  return queryReply(common.charset, text);
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
