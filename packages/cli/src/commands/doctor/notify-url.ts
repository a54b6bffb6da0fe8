/**
 * notify_url (ALIREFUND_PUBLIC_URL + /alipay/notify): absolute, http(s), no query string or fragment, public
 * when the gateway is, and answering an empty, unsigned probe with exactly `fail`: no redirect, cookie, BOM,
 * HTML or whitespace; its declared charset is that of ALIPAY_INPUT_CHARSET (seeds §5.2 第一步).
 */
import { DEFAULT_GATEWAY } from '@alirefund/protocol';
import { inputCharset, notePageCharset } from './charset.js';
import { type DoctorCheck, Findings, type Note } from './findings.js';
import { declaredCharset, isPrivateHost, isRedirect, looksHtml, probe } from './http.js';

/** The notify_url of ALIREFUND_PUBLIC_URL, or null (and a finding) when it cannot be one. */
function notifyUrlOf(base: string | undefined, note: Note): URL | null {
  if (!base) {
    note(
      'NOTIFY_URL_MISSING',
      'error',
      'ALIREFUND_PUBLIC_URL is not set: there is no notify_url to send with the batches',
      'set ALIREFUND_PUBLIC_URL to the base URL at which Alipay reaches this server, e.g. https://shop.example.com (notify_url = it + /alipay/notify)',
    );
    return null;
  }
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    note(
      'NOTIFY_URL_NOT_ABSOLUTE',
      'error',
      `ALIREFUND_PUBLIC_URL "${base}" is not an absolute URL`,
      'write the full address with its scheme and host, e.g. https://shop.example.com (seeds §3.2: "http:// 格式的完整路径")',
    );
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    note(
      'NOTIFY_URL_SCHEME',
      'error',
      `ALIREFUND_PUBLIC_URL uses ${u.protocol}; Alipay notifies over http or https`,
      'use an http:// or https:// URL',
    );
    return null;
  }
  if (u.search !== '' || base.includes('?')) {
    note(
      'NOTIFY_URL_QUERY',
      'error',
      `the notify_url carries a query string (${u.search || '?'}): Alipay forbids custom parameters in notify_url, and they break the sign`,
      'remove everything from "?" on (seeds §5.2 第一步 C: 不要带自定义参数, e.g. ?id=123); the notification identifies the batch by batch_no',
    );
    return null;
  }
  if (u.hash !== '') {
    note('NOTIFY_URL_FRAGMENT', 'error', 'ALIREFUND_PUBLIC_URL has a #fragment', 'remove the #fragment');
    return null;
  }
  return u;
}

function gatewayHostOf(env: Record<string, string | undefined>): string {
  try {
    return new URL(env['ALIPAY_GATEWAY']?.trim() || DEFAULT_GATEWAY).hostname;
  } catch {
    return '';
  }
}

/** The probe's answer: status, cookies, BOM, HTML, whitespace and the word itself. */
function noteAnswer(res: Response, bytes: Uint8Array, body: string, html: boolean, note: Note): void {
  if (isRedirect(res)) {
    note(
      'NOTIFY_URL_REDIRECT',
      'error',
      `notify_url answered HTTP ${res.status} redirecting to ${res.headers.get('location') ?? '(no location)'}; Alipay does not follow redirects`,
      'point ALIREFUND_PUBLIC_URL at the final address (scheme, host, path) and remove redirects from the notify page (seeds §5.2 第一步 F: 不要做页面自动跳转)',
    );
  } else if (res.status !== 200) {
    note(
      'NOTIFY_URL_STATUS',
      'error',
      `notify_url answered HTTP ${res.status} to the probe; Alipay counts anything but 200 + "success" as not delivered`,
      'the page must answer 200 with a plain body: look at the server log for the error behind this status',
    );
  }
  const cookies = res.headers.getSetCookie();
  if (cookies.length > 0) {
    note(
      'NOTIFY_URL_COOKIE',
      'warning',
      `notify_url sets ${cookies.length} cookie(s) (${cookies.map((c) => c.split('=')[0]).join(', ')}); sessions and cookies do not work for server-to-server notifications`,
      'remove session and cookie handling from the notify page (seeds §3.4 注意 1 and §5.2 第一步 F)',
    );
  }
  if (hasBom(bytes)) {
    note(
      'NOTIFY_URL_BOM',
      'error',
      'the answer starts with a UTF-8 byte order mark (EF BB BF): "\\ufeffsuccess" is not "success" to Alipay',
      'save the notify page as UTF-8 without BOM, or write the answer from code (seeds §5.2 第一步 E)',
    );
  }
  const contentType = res.headers.get('content-type') ?? '';
  if (html) {
    note(
      'NOTIFY_URL_HTML',
      'error',
      `the answer is HTML (${contentType || 'markup in the body'}): ${JSON.stringify(body.slice(0, 80))}`,
      'the notify page must print only success or fail: no HTML tags, no template, no error page (seeds §5.2 第一步 E: 无任何 HTML 标签)',
    );
  } else if (body !== body.trim()) {
    note(
      'NOTIFY_URL_WHITESPACE',
      'error',
      `the answer ${JSON.stringify(body.slice(0, 40))} has ${/\s$/.test(body) ? 'trailing' : 'leading'} whitespace or line breaks`,
      'print the word without a line break (e.g. Java out.print, not out.println) and nothing before it (seeds §5.2 第一步 E: 空格、回车换行)',
    );
  }
  if (html || res.status !== 200) return;
  const word = body.trim();
  if (word === 'success') {
    note(
      'NOTIFY_URL_ACCEPTS_UNSIGNED',
      'error',
      'notify_url answered "success" to an empty, unsigned probe: it acknowledges notifications it did not verify',
      'verify the sign and call notify_verify before answering success; answer fail otherwise (seeds §4.3 第二步: 只显示 fail)',
    );
  } else if (word === '') {
    note(
      'NOTIFY_URL_EMPTY',
      'error',
      'notify_url answered an empty body to the probe',
      'the page must answer fail to a request without notification parameters; a blank page means the program failed (seeds §4.3 第二步)',
    );
  } else if (word !== 'fail') {
    note(
      'NOTIFY_URL_UNEXPECTED',
      'error',
      `notify_url answered ${JSON.stringify(word.slice(0, 80))} instead of fail`,
      'answer exactly fail (or success after a verified notification) and nothing else (seeds §5.2 第一步 E)',
    );
  }
}

function hasBom(bytes: Uint8Array): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

export const notifyUrl: DoctorCheck = {
  async run(ctx, found) {
    const note = found.note('notify_url');
    const u = notifyUrlOf(ctx.env['ALIREFUND_PUBLIC_URL']?.trim(), note);
    if (u === null) return;
    const url = `${u.origin}${u.pathname.replace(/\/+$/, '')}/alipay/notify`;
    const gatewayHost = gatewayHostOf(ctx.env);
    if (isPrivateHost(u.hostname) && !isPrivateHost(gatewayHost)) {
      note(
        'NOTIFY_URL_NOT_PUBLIC',
        'warning',
        `notify_url ${url} names a local or private host; the gateway (${gatewayHost}) cannot reach it from the internet`,
        'use the public address of this server (seeds §5.2 第一步 B: 互联网上需要能够访问得到)',
      );
    }
    const started = Date.now();
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    };
    const res = await probe(ctx, url, init, note, {
      codePrefix: 'NOTIFY_URL',
      message: (detail) => `the probe POST to ${url} failed: ${detail}`,
      fixes: {
        TIMEOUT:
          'the page must answer at once (Alipay gives up and retries): look for slow work before the answer, a firewall dropping packets, or a hung process (seeds §5.2 第二步 C–D)',
        DNS: 'the host name does not resolve: fix ALIREFUND_PUBLIC_URL or the DNS record',
        TLS: 'the https certificate is not accepted: install a valid certificate chain for this host',
        UNREACHABLE:
          'nothing answers there: start the server (alirefund serve) and check the port, the firewall and ALIREFUND_PUBLIC_URL (seeds §5.2 第二步 C–D)',
      },
    });
    if (res === null) return;
    const bytes = new Uint8Array(await res.arrayBuffer());
    const ms = Date.now() - started;
    const text = Buffer.from(bytes).toString('utf8');
    const body = hasBom(bytes) ? text.slice(1) : text;
    const contentType = res.headers.get('content-type') ?? '';
    // The answer's findings are listed after NOTIFY_URL_OK, when there is no problem with the notify page.
    const answer = new Findings();
    noteAnswer(res, bytes, body, looksHtml(body, contentType), answer.note('notify_url'));
    notePageCharset(answer.note('charset'), declaredCharset(contentType, body), inputCharset(ctx.env));
    if (!answer.some((p) => p.check === 'notify_url'))
      note(
        'NOTIFY_URL_OK',
        'ok',
        `${url} answered the probe with exactly "fail" (HTTP 200, ${ms} ms, no BOM, HTML, whitespace or cookie)`,
      );
    found.list.push(...answer.list);
  },
};
