/** The doctor's probes over HTTP: one request with a timeout, a failure classified with its fix, and what replies look like. */
import type { DoctorContext, Note } from './findings.js';

/** Loopback, private and link-local hosts (not reachable from Alipay). */
export function isPrivateHost(host: string): boolean {
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

export type TransportKind = 'TIMEOUT' | 'DNS' | 'TLS' | 'UNREACHABLE';

/** Classifies a fetch failure: DNS, TLS, refused, timeout or other. */
function transportProblem(e: unknown, timeoutMs: number): { kind: TransportKind; detail: string } {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError')
    return { kind: 'TIMEOUT', detail: `no answer within ${timeoutMs} ms` };
  const code = err.cause?.code ?? (err as { code?: string }).code ?? '';
  const detail = `${code ? `${code}: ` : ''}${err.cause?.message ?? err.message}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return { kind: 'DNS', detail };
  if (/CERT|TLS|SSL|EPROTO|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code) || /certificate|ssl|tls/i.test(detail))
    return { kind: 'TLS', detail };
  return { kind: 'UNREACHABLE', detail };
}

export interface ProbeFailure {
  /** The finding's code is `${codePrefix}_${kind}` (e.g. GATEWAY_DNS). */
  codePrefix: string;
  /** The finding's message, given the failure's detail. */
  message(detail: string): string;
  /** The fix for each kind of failure. */
  fixes: Readonly<Record<TransportKind, string>>;
}

/**
 * Sends one request (no redirects followed, --timeout) and returns its response; when it cannot be sent, notes
 * the failure as an error and returns null.
 */
export async function probe(
  ctx: DoctorContext,
  url: string,
  init: RequestInit,
  note: Note,
  failure: ProbeFailure,
): Promise<Response | null> {
  try {
    return await ctx.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(ctx.timeoutMs) });
  } catch (e) {
    const p = transportProblem(e, ctx.timeoutMs);
    note(`${failure.codePrefix}_${p.kind}`, 'error', failure.message(p.detail), failure.fixes[p.kind]);
    return null;
  }
}

export function isRedirect(res: Response): boolean {
  return res.status >= 300 && res.status < 400;
}

export function looksHtml(text: string, contentType: string): boolean {
  return (
    /text\/html/i.test(contentType) ||
    /<\s*(!doctype|html|head|body|br|p|div|script|meta|title)\b/i.test(text)
  );
}

/** The charset a reply declares (content-type, or an HTML meta tag), normalised; null when none. */
export function declaredCharset(contentType: string, text: string): string | null {
  const m =
    /charset\s*=\s*"?([\w-]+)/i.exec(contentType) ?? /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(text);
  return m?.[1] ?? null;
}
