/**
 * How the gateway answers: the nopwd XML, the query's `key=value` text, the HTML pages (the pwd error page for
 * a refusal), each refusal with the sandbox's explanation in `x-sandbox-detail`; and the request log
 * (`sbx_requests`, `GET /sandbox/api/requests`).
 */
import { type Charset, SERVICE_NOPWD, SERVICE_PWD, SERVICE_QUERY, encodeText } from '@alirefund/protocol';
import type { Core } from '../core.js';
import { errorPage, pageHeaders } from '../pages.js';
import type { Refusal } from './checks.js';
import type { GatewayRequest } from './request.js';

/** How a reply is shown: an HTML page (pwd, browsers), nopwd XML, or the query's key=value text. */
export type ReplyKind = 'html' | 'xml' | 'query';

/** Logs a refusal and answers it in the request's reply kind (the services' way out of the check order). */
export type Fail = (f: Refusal) => Promise<Response>;

export async function logRequest(
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

export function xmlReply(charset: Charset | null, code: string | null, detail?: string): Response {
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

export function queryReply(charset: Charset | null, text: string, detail?: string): Response {
  const cs: Charset = charset ?? 'utf-8';
  const headers: Record<string, string> = {
    'content-type': `text/plain; charset=${cs === 'gbk' ? 'GBK' : 'utf-8'}`,
  };
  if (detail) headers['x-sandbox-detail'] = detailHeader(detail);
  return new Response(encodeText(text, cs), { status: 200, headers });
}

export function page(body: string, status = 200, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...pageHeaders(), ...extra } });
}

/** How a refusal is shown: the pwd error page, nopwd XML, or the query's key=value reply. */
export function refusalResponse(kind: ReplyKind, charset: Charset | null, f: Refusal): Response {
  if (kind === 'html')
    return page(String(errorPage(f.code, f.detail)), 200, { 'x-sandbox-detail': detailHeader(f.detail) });
  if (kind === 'xml') return xmlReply(charset, f.code, f.detail);
  return queryReply(charset, `is_success=F&error_code=${f.code}`, f.detail);
}

export function kindOf(service: string | undefined, accept: string | undefined): ReplyKind {
  if (service === SERVICE_PWD) return 'html';
  if (service === SERVICE_NOPWD) return 'xml';
  if (service === SERVICE_QUERY) return 'query';
  return (accept ?? '').includes('text/html') ? 'html' : 'xml';
}
