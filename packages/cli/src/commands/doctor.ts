/**
 * `alirefund doctor`: checks the configuration the way the seeds' checklist does (pwd integration guide §5.2,
 * 通知页面处理异常): partner and key (format, spaces, swapped), notify_url (absolute, no query string, answers a
 * probe with exactly `fail`: no HTML, BOM, whitespace, redirect, cookie), the gateway (reachable, notify_verify
 * answers `false` for an unknown id, the key is accepted) and charset consistency. Every finding has a fix.
 * Reads the same variables as `alirefund serve`; never prints a secret.
 */
import {
  buildRefundQuery,
  DEFAULT_GATEWAY,
  normalizeCharset,
  notifyVerifyUrl,
  sendRefundQuery,
} from '@alirefund/protocol';
import { parseDuration, parseServerEnv, ServerConfigError } from '@alirefund/server';
import { CliError, type Io } from '../io.js';

export type Severity = 'error' | 'warning' | 'info' | 'ok';

export interface Finding {
  /** What was checked: partner, key, config, notify_url, gateway, charset. */
  check: string;
  /** Stable code, e.g. NOTIFY_URL_BOM. */
  code: string;
  severity: Severity;
  message: string;
  fix: string;
}

export interface DoctorOptions {
  json?: boolean;
  timeout?: string;
}

const PARTNER_RE = /^2088\d{12}$/;
const KEY_RE = /^[0-9a-zA-Z]{32}$/;
/** A notify_id no gateway has issued. */
const PROBE_NOTIFY_ID = 'alirefunddoctorprobe000000000000';

/** Loopback, private and link-local hosts (not reachable from Alipay). */
function isPrivateHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    h === '::1' ||
    /^127\./.test(h) ||
    /^10\./.test(h) ||
    /^192\.168\./.test(h) ||
    /^172\.(1[6-9]|2\d|3[01])\./.test(h) ||
    /^169\.254\./.test(h) ||
    /^f[cd][0-9a-f]{2}:/.test(h)
  );
}

/** Classifies a fetch failure: DNS, TLS, refused, timeout or other. */
function transportProblem(e: unknown, timeoutMs: number): { kind: string; detail: string } {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError')
    return { kind: 'TIMEOUT', detail: `no answer within ${timeoutMs} ms` };
  const code = err.cause?.code ?? (err as { code?: string }).code ?? '';
  const detail = `${code ? `${code}: ` : ''}${err.cause?.message ?? err.message}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return { kind: 'DNS', detail };
  if (/CERT|TLS|SSL|EPROTO|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code) || /certificate|ssl|tls/i.test(detail))
    return { kind: 'TLS', detail };
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return { kind: 'UNREACHABLE', detail };
  return { kind: 'UNREACHABLE', detail };
}

function looksHtml(text: string, contentType: string): boolean {
  return (
    /text\/html/i.test(contentType) ||
    /<\s*(!doctype|html|head|body|br|p|div|script|meta|title)\b/i.test(text)
  );
}

/** The charset a reply declares (content-type, or an HTML meta tag), normalised; null when none. */
function declaredCharset(contentType: string, text: string): string | null {
  const m =
    /charset\s*=\s*"?([\w-]+)/i.exec(contentType) ?? /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(text);
  return m?.[1] ?? null;
}

interface Context {
  env: Record<string, string | undefined>;
  timeoutMs: number;
  fetch: typeof fetch;
}

function checkPartnerAndKey(ctx: Context, out: Finding[]): void {
  const partnerRaw = ctx.env['ALIPAY_PARTNER'];
  const keyRaw = ctx.env['ALIPAY_KEY'];
  const signType = (ctx.env['ALIPAY_SIGN_TYPE'] ?? 'MD5').trim().toUpperCase() || 'MD5';
  const md5 = signType === 'MD5';
  const spaces = (name: string, what: string, value: string, check: string) => {
    if (!/\s/.test(value)) return;
    const inside = /\S\s+\S/.test(value);
    out.push({
      check,
      code: `${check.toUpperCase()}_HAS_SPACE`,
      severity: 'error',
      message: `${name} contains ${inside ? 'a space inside it' : 'leading or trailing whitespace'} (${value.length} characters in all)`,
      fix: `copy ${what} again from 商家服务中心 → 技术服务 and set ${name} without any space, tab or line break (seeds §5.2 第一步 A: "没有空格")`,
    });
  };
  if (partnerRaw === undefined || partnerRaw.trim() === '') {
    out.push({
      check: 'partner',
      code: 'PARTNER_MISSING',
      severity: 'error',
      message: 'ALIPAY_PARTNER is not set',
      fix: 'set ALIPAY_PARTNER to your 合作者身份ID: 2088 followed by 12 digits',
    });
  } else spaces('ALIPAY_PARTNER', 'the partner id', partnerRaw, 'partner');
  if (md5 && (keyRaw === undefined || keyRaw.trim() === '')) {
    out.push({
      check: 'key',
      code: 'KEY_MISSING',
      severity: 'error',
      message: 'ALIPAY_KEY is not set (ALIPAY_SIGN_TYPE is MD5)',
      fix: 'set ALIPAY_KEY to the 32-character 安全校验码, or use ALIPAY_SIGN_TYPE=RSA with ALIPAY_PRIVATE_KEY_FILE and ALIPAY_PUBLIC_KEY_FILE',
    });
  } else if (md5 && keyRaw !== undefined) spaces('ALIPAY_KEY', 'the key', keyRaw, 'key');
  const partner = partnerRaw?.trim() ?? '';
  const key = keyRaw?.trim() ?? '';
  if (partner === '') return;
  if (md5 && key !== '' && PARTNER_RE.test(key) && !PARTNER_RE.test(partner)) {
    out.push({
      check: 'partner',
      code: 'PARTNER_KEY_SWAPPED',
      severity: 'error',
      message: `ALIPAY_KEY looks like a partner id (2088…, 16 digits) and ALIPAY_PARTNER does not (${partner.length} characters): the two are swapped`,
      fix: 'swap them: ALIPAY_PARTNER = 合作者身份ID (2088 + 12 digits), ALIPAY_KEY = 安全校验码 (32 letters and digits) (seeds §5.2 第一步 A: "没有填反")',
    });
    return;
  }
  if (!PARTNER_RE.test(partner.replace(/\s+/g, ''))) {
    out.push({
      check: 'partner',
      code: 'PARTNER_FORMAT',
      severity: 'error',
      message: `ALIPAY_PARTNER is not 2088 followed by 12 digits (${partner.length} characters${KEY_RE.test(partner) ? '; it looks like a key' : ''})`,
      fix: 'copy the 合作者身份ID from 商家服务中心 → 技术服务 (16 digits starting with 2088)',
    });
  }
  if (md5 && key !== '' && !KEY_RE.test(key.replace(/\s+/g, ''))) {
    out.push({
      check: 'key',
      code: 'KEY_FORMAT',
      severity: 'error',
      message: `ALIPAY_KEY is not 32 letters and digits (it has ${key.length} characters)`,
      fix: 'copy the 安全校验码 (key) again from 商家服务中心 → 技术服务: 32 letters and digits',
    });
  }
  if (
    !out.some((f) => f.check === 'partner' || f.check === 'key') &&
    PARTNER_RE.test(partner) &&
    (!md5 || KEY_RE.test(key))
  ) {
    out.push({
      check: 'partner',
      code: 'PARTNER_KEY_FORMAT_OK',
      severity: 'ok',
      message: `partner ${partner}${md5 ? ' and a 32-character key' : ''}: format fine, no spaces`,
      fix: 'none',
    });
  }
}

function checkCharset(ctx: Context, out: Finding[]): string | null {
  const raw = ctx.env['ALIPAY_INPUT_CHARSET']?.trim() || 'utf-8';
  const cs = normalizeCharset(raw);
  if (cs === null) {
    out.push({
      check: 'charset',
      code: 'CHARSET_INVALID',
      severity: 'error',
      message: `ALIPAY_INPUT_CHARSET is "${raw}": Alipay takes utf-8 or gbk`,
      fix: 'set ALIPAY_INPUT_CHARSET to the encoding of your site: utf-8 or gbk (gb2312 is read as gbk)',
    });
    return null;
  }
  if (raw.toLowerCase() !== cs) {
    out.push({
      check: 'charset',
      code: 'CHARSET_NORMALISED',
      severity: 'info',
      message: `ALIPAY_INPUT_CHARSET "${raw}" is sent as _input_charset=${cs}${raw.toLowerCase() === 'gb2312' ? ' (GB2312 is a subset of GBK; the gateway reads GBK bytes)' : ''}`,
      fix: `none needed; writing ${cs} avoids the question`,
    });
  }
  return cs;
}

async function checkNotifyUrl(ctx: Context, out: Finding[], charset: string | null): Promise<void> {
  const base = ctx.env['ALIREFUND_PUBLIC_URL']?.trim();
  if (!base) {
    out.push({
      check: 'notify_url',
      code: 'NOTIFY_URL_MISSING',
      severity: 'error',
      message: 'ALIREFUND_PUBLIC_URL is not set: there is no notify_url to send with the batches',
      fix: 'set ALIREFUND_PUBLIC_URL to the base URL at which Alipay reaches this server, e.g. https://shop.example.com (notify_url = it + /alipay/notify)',
    });
    return;
  }
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    out.push({
      check: 'notify_url',
      code: 'NOTIFY_URL_NOT_ABSOLUTE',
      severity: 'error',
      message: `ALIREFUND_PUBLIC_URL "${base}" is not an absolute URL`,
      fix: 'write the full address with its scheme and host, e.g. https://shop.example.com (seeds §3.2: "http:// 格式的完整路径")',
    });
    return;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    out.push({
      check: 'notify_url',
      code: 'NOTIFY_URL_SCHEME',
      severity: 'error',
      message: `ALIREFUND_PUBLIC_URL uses ${u.protocol}; Alipay notifies over http or https`,
      fix: 'use an http:// or https:// URL',
    });
    return;
  }
  if (u.search !== '' || base.includes('?')) {
    out.push({
      check: 'notify_url',
      code: 'NOTIFY_URL_QUERY',
      severity: 'error',
      message: `the notify_url carries a query string (${u.search || '?'}): Alipay forbids custom parameters in notify_url, and they break the sign`,
      fix: 'remove everything from "?" on (seeds §5.2 第一步 C: 不要带自定义参数, e.g. ?id=123); the notification identifies the batch by batch_no',
    });
    return;
  }
  if (u.hash !== '') {
    out.push({
      check: 'notify_url',
      code: 'NOTIFY_URL_FRAGMENT',
      severity: 'error',
      message: 'ALIREFUND_PUBLIC_URL has a #fragment',
      fix: 'remove the #fragment',
    });
    return;
  }
  const notifyUrl = `${u.origin}${u.pathname.replace(/\/+$/, '')}/alipay/notify`;
  const gatewayHost = (() => {
    try {
      return new URL(ctx.env['ALIPAY_GATEWAY']?.trim() || DEFAULT_GATEWAY).hostname;
    } catch {
      return '';
    }
  })();
  if (isPrivateHost(u.hostname) && !isPrivateHost(gatewayHost)) {
    out.push({
      check: 'notify_url',
      code: 'NOTIFY_URL_NOT_PUBLIC',
      severity: 'warning',
      message: `notify_url ${notifyUrl} names a local or private host; the gateway (${gatewayHost}) cannot reach it from the internet`,
      fix: 'use the public address of this server (seeds §5.2 第一步 B: 互联网上需要能够访问得到)',
    });
  }
  let res: Response;
  const started = Date.now();
  try {
    res = await ctx.fetch(notifyUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
      redirect: 'manual',
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
  } catch (e) {
    const p = transportProblem(e, ctx.timeoutMs);
    out.push({
      check: 'notify_url',
      code: p.kind === 'TIMEOUT' ? 'NOTIFY_URL_TIMEOUT' : `NOTIFY_URL_${p.kind}`,
      severity: 'error',
      message: `the probe POST to ${notifyUrl} failed: ${p.detail}`,
      fix:
        p.kind === 'TIMEOUT'
          ? 'the page must answer at once (Alipay gives up and retries): look for slow work before the answer, a firewall dropping packets, or a hung process (seeds §5.2 第二步 C–D)'
          : p.kind === 'DNS'
            ? 'the host name does not resolve: fix ALIREFUND_PUBLIC_URL or the DNS record'
            : p.kind === 'TLS'
              ? 'the https certificate is not accepted: install a valid certificate chain for this host'
              : 'nothing answers there: start the server (alirefund serve) and check the port, the firewall and ALIREFUND_PUBLIC_URL (seeds §5.2 第二步 C–D)',
    });
    return;
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const ms = Date.now() - started;
  const contentType = res.headers.get('content-type') ?? '';
  const text = Buffer.from(bytes).toString('utf8');
  const problems: Finding[] = [];
  const add = (code: string, message: string, fix: string, severity: Severity = 'error') =>
    problems.push({ check: 'notify_url', code, severity, message, fix });
  if (res.status >= 300 && res.status < 400) {
    add(
      'NOTIFY_URL_REDIRECT',
      `notify_url answered HTTP ${res.status} redirecting to ${res.headers.get('location') ?? '(no location)'}; Alipay does not follow redirects`,
      'point ALIREFUND_PUBLIC_URL at the final address (scheme, host, path) and remove redirects from the notify page (seeds §5.2 第一步 F: 不要做页面自动跳转)',
    );
  } else if (res.status !== 200) {
    add(
      'NOTIFY_URL_STATUS',
      `notify_url answered HTTP ${res.status} to the probe; Alipay counts anything but 200 + "success" as not delivered`,
      'the page must answer 200 with a plain body: look at the server log for the error behind this status',
    );
  }
  const cookies = res.headers.getSetCookie();
  if (cookies.length > 0) {
    add(
      'NOTIFY_URL_COOKIE',
      `notify_url sets ${cookies.length} cookie(s) (${cookies.map((c) => c.split('=')[0]).join(', ')}); sessions and cookies do not work for server-to-server notifications`,
      'remove session and cookie handling from the notify page (seeds §3.4 注意 1 and §5.2 第一步 F)',
      'warning',
    );
  }
  const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  if (hasBom) {
    add(
      'NOTIFY_URL_BOM',
      'the answer starts with a UTF-8 byte order mark (EF BB BF): "\\ufeffsuccess" is not "success" to Alipay',
      'save the notify page as UTF-8 without BOM, or write the answer from code (seeds §5.2 第一步 E)',
    );
  }
  const body = hasBom ? text.slice(1) : text;
  const html = looksHtml(body, contentType);
  if (html) {
    add(
      'NOTIFY_URL_HTML',
      `the answer is HTML (${contentType || 'markup in the body'}): ${JSON.stringify(body.slice(0, 80))}`,
      'the notify page must print only success or fail: no HTML tags, no template, no error page (seeds §5.2 第一步 E: 无任何 HTML 标签)',
    );
  } else if (body !== body.trim()) {
    add(
      'NOTIFY_URL_WHITESPACE',
      `the answer ${JSON.stringify(body.slice(0, 40))} has ${/\s$/.test(body) ? 'trailing' : 'leading'} whitespace or line breaks`,
      'print the word without a line break (e.g. Java out.print, not out.println) and nothing before it (seeds §5.2 第一步 E: 空格、回车换行)',
    );
  }
  if (!html && res.status === 200) {
    const word = body.trim();
    if (word === 'success') {
      add(
        'NOTIFY_URL_ACCEPTS_UNSIGNED',
        'notify_url answered "success" to an empty, unsigned probe: it acknowledges notifications it did not verify',
        'verify the sign and call notify_verify before answering success; answer fail otherwise (seeds §4.3 第二步: 只显示 fail)',
      );
    } else if (word === '') {
      add(
        'NOTIFY_URL_EMPTY',
        'notify_url answered an empty body to the probe',
        'the page must answer fail to a request without notification parameters; a blank page means the program failed (seeds §4.3 第二步)',
      );
    } else if (word !== 'fail') {
      add(
        'NOTIFY_URL_UNEXPECTED',
        `notify_url answered ${JSON.stringify(word.slice(0, 80))} instead of fail`,
        'answer exactly fail (or success after a verified notification) and nothing else (seeds §5.2 第一步 E)',
      );
    }
  }
  const declared = declaredCharset(contentType, body);
  if (declared !== null && charset !== null) {
    const norm = normalizeCharset(declared);
    if (norm !== null && norm !== charset) {
      problems.push({
        check: 'charset',
        code: 'CHARSET_MISMATCH',
        severity: 'warning',
        message: `ALIPAY_INPUT_CHARSET is ${charset} but the notify page declares charset=${declared}${norm !== declared.toLowerCase() ? ` (= ${norm})` : ''}: Chinese reasons may turn to mojibake and signs fail`,
        fix: 'use one encoding everywhere: _input_charset, the notify page and the site (seeds §5.2 第一步 D)',
      });
    } else if (norm === null && !/^(us-)?ascii$|^iso-8859-1$/i.test(declared)) {
      problems.push({
        check: 'charset',
        code: 'CHARSET_MISMATCH',
        severity: 'warning',
        message: `the notify page declares charset=${declared}, which Alipay does not use (utf-8 or gbk)`,
        fix: `declare ${charset} on the notify page, as ALIPAY_INPUT_CHARSET says`,
      });
    } else if (norm === charset) {
      problems.push({
        check: 'charset',
        code: 'CHARSET_OK',
        severity: 'ok',
        message: `the notify page declares ${declared}, consistent with ALIPAY_INPUT_CHARSET ${charset}`,
        fix: 'none',
      });
    }
  }
  if (!problems.some((p) => p.check === 'notify_url')) {
    problems.unshift({
      check: 'notify_url',
      code: 'NOTIFY_URL_OK',
      severity: 'ok',
      message: `${notifyUrl} answered the probe with exactly "fail" (HTTP 200, ${ms} ms, no BOM, HTML, whitespace or cookie)`,
      fix: 'none',
    });
  }
  out.push(...problems);
}

async function checkGateway(ctx: Context, out: Finding[]): Promise<boolean> {
  const gateway = ctx.env['ALIPAY_GATEWAY']?.trim() || DEFAULT_GATEWAY;
  let u: URL;
  try {
    u = new URL(gateway);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    out.push({
      check: 'gateway',
      code: 'GATEWAY_URL',
      severity: 'error',
      message: `ALIPAY_GATEWAY "${gateway}" is not an http(s) URL`,
      fix: `leave ALIPAY_GATEWAY unset for ${DEFAULT_GATEWAY}, or give the sandbox's http://HOST:PORT/gateway.do`,
    });
    return false;
  }
  if (u.protocol === 'http:' && !isPrivateHost(u.hostname)) {
    out.push({
      check: 'gateway',
      code: 'GATEWAY_NOT_HTTPS',
      severity: 'warning',
      message: `ALIPAY_GATEWAY uses plain http on a public host (${u.host})`,
      fix: `Alipay requires https: use ${DEFAULT_GATEWAY}`,
    });
  }
  const partner = ctx.env['ALIPAY_PARTNER']?.trim() || '2088000000000000';
  let res: Response;
  try {
    res = await ctx.fetch(notifyVerifyUrl(gateway, partner, PROBE_NOTIFY_ID), {
      redirect: 'manual',
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
  } catch (e) {
    const p = transportProblem(e, ctx.timeoutMs);
    out.push({
      check: 'gateway',
      code: `GATEWAY_${p.kind}`,
      severity: 'error',
      message: `notify_verify at ${gateway} could not be called: ${p.detail}`,
      fix:
        p.kind === 'DNS'
          ? 'the gateway host does not resolve: check ALIPAY_GATEWAY and this machine’s DNS (the seeds: use DNS, do not pin Alipay’s IP addresses)'
          : p.kind === 'TLS'
            ? 'the gateway’s certificate is not accepted: check the system CA store and any TLS-intercepting proxy'
            : p.kind === 'TIMEOUT'
              ? 'the gateway did not answer in time: check the firewall and proxy between this server and Alipay'
              : 'nothing answers at ALIPAY_GATEWAY: check the URL, the firewall and the proxy',
    });
    return false;
  }
  const text = Buffer.from(await res.arrayBuffer())
    .toString('utf8')
    .replace(/^\ufeff/, '');
  const contentType = res.headers.get('content-type') ?? '';
  const word = text.trim();
  if (res.status >= 300 && res.status < 400) {
    out.push({
      check: 'gateway',
      code: 'GATEWAY_REDIRECT',
      severity: 'error',
      message: `the gateway answered HTTP ${res.status} to ${res.headers.get('location') ?? '(no location)'}`,
      fix: 'set ALIPAY_GATEWAY to the final gateway.do address',
    });
    return false;
  }
  if (looksHtml(text, contentType)) {
    out.push({
      check: 'gateway',
      code: 'GATEWAY_HTML',
      severity: 'error',
      message: `notify_verify answered HTML (HTTP ${res.status}): ${JSON.stringify(word.slice(0, 80))}; this is not the mapi gateway (a proxy, captive portal or wrong URL)`,
      fix: `ALIPAY_GATEWAY must be the mapi gateway.do (${DEFAULT_GATEWAY}, or the sandbox's /gateway.do); check any proxy on the way`,
    });
    return false;
  }
  if (res.status !== 200) {
    out.push({
      check: 'gateway',
      code: 'GATEWAY_STATUS',
      severity: 'error',
      message: `notify_verify answered HTTP ${res.status}`,
      fix: 'check ALIPAY_GATEWAY (it must end with /gateway.do)',
    });
    return false;
  }
  if (/^false$/i.test(word)) {
    out.push({
      check: 'gateway',
      code: 'GATEWAY_OK',
      severity: 'ok',
      message: `${gateway} is reachable; notify_verify answered false for an unknown notify_id, as it should`,
      fix: 'none',
    });
    return true;
  }
  out.push({
    check: 'gateway',
    code: /^true$/i.test(word) ? 'GATEWAY_SAYS_TRUE' : 'GATEWAY_UNEXPECTED',
    severity: 'error',
    message: /^true$/i.test(word)
      ? 'notify_verify answered true for a notify_id nobody issued: notifications could not be told from forgeries'
      : `notify_verify answered ${JSON.stringify(word.slice(0, 80))} instead of true/false`,
    fix: `ALIPAY_GATEWAY must be the mapi gateway.do (${DEFAULT_GATEWAY}, or the sandbox's /gateway.do)`,
  });
  return false;
}

/** A signed refund_fastpay_query for a batch that cannot exist: REFUND_NOT_EXIST means partner and key work. */
async function checkKeyAccepted(ctx: Context, out: Finding[]): Promise<void> {
  let settings: ReturnType<typeof parseServerEnv>;
  try {
    settings = parseServerEnv(ctx.env, { defaults: { ALIREFUND_PUBLIC_URL: 'http://127.0.0.1:3000' } });
  } catch {
    return;
  }
  const config = settings.alipay;
  const r = await sendRefundQuery(buildRefundQuery(config, { batchNo: '19700101000000000001' }), config, {
    fetch: ctx.fetch,
    timeoutMs: ctx.timeoutMs,
  });
  if (r.status === 'not-found' || r.status === 'found') {
    out.push({
      check: 'key',
      code: 'KEY_ACCEPTED',
      severity: 'ok',
      message:
        'a signed refund_fastpay_query was accepted: partner and key match (reconcile can ask the gateway)',
      fix: 'none',
    });
    return;
  }
  if (r.status === 'unavailable') {
    out.push({
      check: 'key',
      code: 'QUERY_UNAVAILABLE',
      severity: 'warning',
      message: `refund_fastpay_query could not be asked: ${r.message}`,
      fix: 'reconciliation (alirefund reconcile) needs refund_fastpay_query: check ALIPAY_GATEWAY',
    });
    return;
  }
  const bad = r.code === 'ILLEGAL_SIGN' || r.code === 'ILLEGAL_PARTNER' || r.code === 'ILLEGAL_KEY';
  out.push({
    check: 'key',
    code:
      r.code === 'ILLEGAL_SIGN'
        ? 'KEY_REJECTED'
        : r.code === 'ILLEGAL_PARTNER'
          ? 'PARTNER_REJECTED'
          : 'QUERY_REFUSED',
    severity: bad ? 'error' : 'warning',
    message: `the gateway refused a signed refund_fastpay_query: ${r.code} (${r.info.zh}; ${r.info.en})`,
    fix: bad
      ? 'partner and key do not match the contract: copy both again from 商家服务中心 → 技术服务 (seeds §5.1 ILLEGAL_SIGN / ILLEGAL_PARTNER)'
      : `${r.info.advice.en} (reconciliation needs refund_fastpay_query)`,
  });
}

/** Runs every check against `env`. */
export async function diagnoseConfig(
  env: Record<string, string | undefined>,
  opts: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<Finding[]> {
  const ctx: Context = { env, timeoutMs: opts.timeoutMs ?? 5000, fetch: opts.fetch ?? fetch };
  const out: Finding[] = [];
  checkPartnerAndKey(ctx, out);
  const charset = checkCharset(ctx, out);
  // What parseServerEnv says beyond what is checked here (RSA key files, sign type, seller, numbers…).
  try {
    parseServerEnv(env, { defaults: { ALIREFUND_PUBLIC_URL: 'http://127.0.0.1:3000' } });
  } catch (e) {
    if (!(e instanceof ServerConfigError)) throw e;
    const covered = new Set(['ALIPAY_PARTNER', 'ALIPAY_KEY', 'ALIPAY_INPUT_CHARSET', 'ALIREFUND_PUBLIC_URL']);
    for (const p of e.problems) {
      if (covered.has(p.variable)) continue;
      out.push({
        check: 'config',
        code: `CONFIG_${p.variable}`,
        severity: 'error',
        message: `${p.variable} ${p.message}`,
        fix: `fix ${p.variable} as the message says (alirefund serve refuses to start otherwise)`,
      });
    }
  }
  await checkNotifyUrl(ctx, out, charset);
  if (await checkGateway(ctx, out)) {
    if (!out.some((f) => f.severity === 'error' && (f.check === 'partner' || f.check === 'key'))) {
      await checkKeyAccepted(ctx, out);
    }
  }
  return out;
}

const LABEL: Record<Severity, string> = { error: 'ERROR', warning: 'WARN', info: 'INFO', ok: 'OK' };

export async function runDoctor(opts: DoctorOptions, io: Io): Promise<number> {
  const timeoutMs = opts.timeout === undefined ? 5000 : parseDuration(opts.timeout);
  if (timeoutMs === null || timeoutMs <= 0)
    throw new CliError(`--timeout: "${opts.timeout}" is not a duration such as 500ms or 5s`);
  const findings = await diagnoseConfig(io.env, { timeoutMs });
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  if (opts.json) {
    io.stdout(`${JSON.stringify({ ok: errors === 0, errors, warnings, findings }, null, 2)}\n`);
  } else {
    for (const f of findings) {
      io.stdout(`${LABEL[f.severity].padEnd(5)} ${f.code}: ${f.message}\n`);
      if (f.severity === 'error' || f.severity === 'warning') io.stdout(`      fix: ${f.fix}\n`);
    }
    io.stdout(
      `\n${errors === 0 ? 'no errors' : `${errors} error(s)`}, ${warnings} warning(s) (seeds: pwd guide §5.2 checklist)\n`,
    );
  }
  return errors > 0 ? 1 : 0;
}
