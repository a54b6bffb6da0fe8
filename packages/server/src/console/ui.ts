/**
 * Page layout and the small building blocks of every page: money, times, badges, pagination, issues.
 * Everything goes through `hono/html`, which escapes every interpolated value; `raw` is never used on data.
 */
import { formatBeijing, isKnownCode, lookupCode } from '@alirefund/protocol';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { allows } from '../auth/roles.js';
import type { BatchState, NotificationVerdict, TradeStatus } from '../db.js';
import type { CCtx } from './env.js';
import type { Dict, EventData, Lang } from './i18n.js';
import { CSRF_FIELD } from './security.js';
import { ASSET_VERSION } from './style.js';
import { displayYuan, groupAmountsIn } from './yuan.js';

export type Html = HtmlEscapedString;

/** `html` for templates without async parts (none of ours have any). */
export function h(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return html(strings, ...values) as Html;
}

/** Integer fen as `12.50` (yuan), in a span that lines up in tables. */
export function money(fen: number | null | undefined): Html {
  if (fen === null || fen === undefined) return h`<span class="muted">—</span>`;
  return h`<span class="num">${displayYuan(fen)}</span>`;
}

export { displayYuan, groupYuan } from './yuan.js';

/** An ISO-8601 instant as Beijing time `yyyy-MM-dd HH:mm:ss`, or a dash. */
export function when(iso: string | null | undefined): Html {
  if (!iso) return h`<span class="muted">—</span>`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return h`${iso}`;
  return h`<time datetime="${iso}">${formatBeijing(ms)}</time>`;
}

/** A duration in ms as `850 ms`, `3.2 s`, `4 min`, `2.5 h`. */
export function duration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const STATE_TONE: Record<BatchState, string> = {
  awaiting_approval: 'warn',
  draft: 'neutral',
  queued: 'info',
  submitted: 'info',
  accepted: 'progress',
  finished: 'ok',
  rejected: 'bad',
  needs_attention: 'warn',
  resubmit_manually: 'warn',
  cancelled: 'off',
};

export function stateBadge(t: Dict, state: BatchState): Html {
  return h`<span class="badge badge-${STATE_TONE[state] ?? 'neutral'}" data-state="${state}">${t.batchState[state] ?? state}</span>`;
}

const TRADE_TONE: Record<TradeStatus, string> = {
  paid: 'info',
  partially_refunded: 'progress',
  fully_refunded: 'ok',
};

export function tradeBadge(t: Dict, status: TradeStatus): Html {
  return h`<span class="badge badge-${TRADE_TONE[status] ?? 'neutral'}" data-status="${status}">${t.tradeStatus[status] ?? status}</span>`;
}

const VERDICT_TONE: Record<NotificationVerdict, string> = {
  accepted: 'ok',
  duplicate: 'neutral',
  rejected: 'bad',
};

export function verdictBadge(t: Dict, verdict: NotificationVerdict): Html {
  return h`<span class="badge badge-${VERDICT_TONE[verdict] ?? 'neutral'}" data-verdict="${verdict}">${t.verdict[verdict] ?? verdict}</span>`;
}

export function modeBadge(t: Dict, mode: string): Html {
  return h`<span class="tag" title="${mode === 'pwd' ? t.modePwdHint : t.modeNopwdHint}">${mode === 'pwd' ? t.modePwd : t.modeNopwd}</span>`;
}

/** Success / failure of one record. */
export function resultBadge(t: Dict, succeeded: boolean | null): Html {
  if (succeeded === null) return h`<span class="badge badge-neutral">${t.resultPending}</span>`;
  return succeeded
    ? h`<span class="badge badge-ok">${t.resultSuccess}</span>`
    : h`<span class="badge badge-bad">${t.resultFailed}</span>`;
}

/** A code with its meaning in the page's language (and the advice), from the SDK's catalogue or ours. */
export function explainCode(t: Dict, lang: Lang, code: string, opts: { advice?: boolean } = {}): Html {
  if (isKnownCode(code)) {
    const info = lookupCode(code);
    const meaning = lang === 'en' ? info.en : info.zh;
    const advice = lang === 'en' ? info.advice.en : info.advice.zh;
    const cls = code === 'SUCCESS' ? 'code code-ok' : info.channel === 'local' ? 'code' : 'code code-bad';
    return h`<span class="${cls}">${code}</span> <span class="meaning">${meaning}</span>${
      opts.advice !== false ? h`<span class="advice">${advice}</span>` : ''
    }`;
  }
  const local = t.localCodes[code] ?? (t.ev.notifyCodes as Record<string, string>)[code];
  if (local !== undefined)
    return h`<span class="code code-bad">${code}</span> <span class="meaning">${local}</span>`;
  return h`<span class="code code-bad">${code}</span>`;
}

/**
 * A message a service stored in English (a gateway or verifier's detail): shown as is in English; in Chinese,
 * when the code beside it is explained by the catalogue, kept only as the tooltip of a small marker (the text
 * itself is data for the API and the logs).
 */
export function storedMessage(t: Dict, lang: Lang, message: string | null, code: string | null): Html | '' {
  if (!message) return '';
  const explained =
    code !== null &&
    (isKnownCode(code) ||
      t.localCodes[code] !== undefined ||
      (t.ev.notifyCodes as Record<string, string>)[code] !== undefined);
  if (lang === 'en' || !explained) return h`<div class="small muted">${message}</div>`;
  return h`<div class="small muted"><span class="stored-message" title="${message}">ⓘ</span></div>`;
}

/** A batch event's kind in the page's language. */
export function eventKind(t: Dict, kind: string): string {
  return (t.ev.eventKinds as Record<string, string>)[kind] ?? kind;
}

/**
 * A batch event's message: in English the stored message (the most specific, as the API gives it; its amounts
 * with thousands separators); in Chinese
 * rendered from its kind, state and stored data, the stored English as the tooltip; an unknown kind keeps the
 * stored message.
 */
export function eventMessage(
  t: Dict,
  lang: Lang,
  e: { kind: string; state: string | null; message: string; data: unknown },
): Html {
  const text = (t.ev.events as Record<string, ((d: EventData, s: string | null) => string) | undefined>)[
    e.kind
  ];
  if (lang === 'en' || !text) return h`${groupAmountsIn(e.message)}`;
  const data = e.data !== null && typeof e.data === 'object' ? (e.data as EventData) : {};
  return h`<span title="${e.message}">${text(data, e.state)}</span>`;
}

/** An event's actor: `system` and `gateway` in the page's language, an operator as stored. */
export function actorName(t: Dict, actor: string): string {
  return (t.ev.actors as Record<string, string>)[actor] ?? actor;
}

/** An audit action's name in the page's language (the stored name as the tooltip). */
export function auditAction(t: Dict, action: string): Html {
  const label = (t.ev.auditActions as Record<string, string>)[action];
  return label === undefined ? h`${action}` : h`<span title="${action}">${label}</span>`;
}

/**
 * Whether the signed-in operator's role may call `METHOD /path` (a key of auth/roles.ts): pages show only the
 * links and buttons that would be allowed (the middleware refuses the others anyway).
 */
export function can(c: CCtx, key: string): boolean {
  const session = c.get('session');
  return session !== null && allows(key, session.operator.role);
}

/** The hidden CSRF field of a form. */
export function csrf(c: CCtx): Html {
  return h`<input type="hidden" name="${CSRF_FIELD}" value="${c.get('session')?.csrfToken ?? ''}">`;
}

/** Builds `path?query` from parameters, leaving out empty ones. */
export function href(path: string, params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}

/** Previous / next links and "showing a–b of n". */
export function pager(
  t: Dict,
  p: { page: number; pageSize: number; total: number },
  path: string,
  params: Record<string, string | number | undefined>,
): Html {
  return pagerWith(
    t,
    p,
    (page, rel, label) =>
      h`<a class="btn btn-small" rel="${rel}" href="${href(path, { ...params, page })}">${label}</a>`,
  );
}

/**
 * The pager's frame: "showing a–b of n", "page x of y", and previous / next made by `control` (a link, or a
 * submit button of a form), disabled at either end.
 */
export function pagerWith(
  t: Dict,
  p: { page: number; pageSize: number; total: number },
  control: (page: number, rel: 'prev' | 'next', label: Html) => Html,
): Html {
  const pages = Math.max(1, Math.ceil(p.total / p.pageSize));
  const from = p.total === 0 ? 0 : (p.page - 1) * p.pageSize + 1;
  const to = Math.min(p.total, p.page * p.pageSize);
  const prev = h`‹ ${t.prev}`;
  const next = h`${t.next} ›`;
  return h`<nav class="pager" aria-label="${t.pagination}">
<span class="muted">${t.showing(from, to, p.total)}</span>
<span class="pager-links">${
    p.page > 1 ? control(p.page - 1, 'prev', prev) : h`<span class="btn btn-small disabled">${prev}</span>`
  }<span class="muted">${t.pageOf(p.page, pages)}</span>${
    p.page < pages
      ? control(p.page + 1, 'next', next)
      : h`<span class="btn btn-small disabled">${next}</span>`
  }</span></nav>`;
}

export type Flash = { kind: 'ok' | 'info' | 'warn' | 'error'; text: string | Html };

export function flashBox(f: Flash | null | undefined): Html | '' {
  if (!f) return '';
  return h`<div class="flash flash-${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}">${f.text}</div>`;
}

export type NavKey =
  | 'dashboard'
  | 'trades'
  | 'batches'
  | 'template'
  | 'notifications'
  | 'import'
  | 'tokens'
  | 'operators'
  | 'audit'
  | 'none';

export interface PageOptions {
  title: string;
  active: NavKey;
  body: Html;
  flash?: Flash | null;
  /** Extra class on <main> (e.g. `narrow`). */
  mainClass?: string;
}

/** The current URL with `lang` switched, for the language link. */
function langSwitchHref(c: CCtx, to: Lang): string {
  if (c.req.method !== 'GET') return `/dashboard?lang=${to}`;
  const url = new URL(c.req.url);
  url.searchParams.set('lang', to);
  return `${url.pathname}${url.search}`;
}

function logo(): Html {
  return h`<svg class="logo" viewBox="0 0 32 32" width="26" height="26" aria-hidden="true"><rect x="1" y="1" width="30" height="30" rx="8" class="logo-bg"/><path d="M9 17.5h9.5a4.5 4.5 0 0 0 0-9H12M12 5l-3.5 3.5L12 12M9 22h14" class="logo-fg"/></svg>`;
}

/** The whole page: header with navigation, the user and the language switch; main; footer. */
export function page(c: CCtx, o: PageOptions): Html {
  const t = c.get('t');
  const lang = c.get('lang');
  const session = c.get('session');
  const ctx = c.get('ctx');
  const nav: [NavKey, string, string][] = [
    ['dashboard', '/dashboard', t.nav.dashboard],
    ['trades', '/trades', t.nav.trades],
    ['batches', '/batches', t.nav.batches],
    ['template', '/template', t.nav.template],
    ['notifications', '/notifications', t.nav.notifications],
    ['import', '/import', t.nav.import],
    ['tokens', '/tokens', t.nav.tokens],
    ['operators', '/operators', t.nav.operators],
    ['audit', '/audit', t.nav.audit],
  ];
  const other: Lang = lang === 'en' ? 'zh-CN' : 'en';
  return h`<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · ${t.consoleName}</title>
<link rel="stylesheet" href="/assets/console.css?v=${ASSET_VERSION}">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<script src="/assets/console.js?v=${ASSET_VERSION}" defer></script>
</head>
<body>
<header class="topbar">
<div class="topbar-inner">
<a class="brand" href="/dashboard">${logo()}<span class="brand-name">alirefund</span><span class="brand-sub">${t.consoleName}</span></a>
${
  session
    ? h`<input type="checkbox" id="nav-toggle" class="nav-toggle-box" aria-label="${t.work.menu}"><label for="nav-toggle" class="nav-toggle" aria-hidden="true">☰ ${t.work.menu}</label>
<nav class="mainnav" aria-label="${t.mainNav}">${nav
        .filter(([, path]) => can(c, `GET ${path}`))
        .map(
          ([key, path, label]) =>
            h`<a href="${path}"${key === o.active ? h` class="active" aria-current="page"` : ''}>${label}</a>`,
        )}</nav>`
    : ''
}
<div class="userbox">
<a class="lang-switch" href="${langSwitchHref(c, other)}" hreflang="${other}" lang="${other}">${other === 'en' ? 'English' : '中文'}</a>
${
  session
    ? h`<a class="user" href="/account" title="${t.signedInAs} · ${t.account.title}">${session.operator.displayName ?? session.operator.username}</a> <span class="tag" data-role="${session.operator.role}">${t.roles[session.operator.role]}</span>
<form method="post" action="/logout" class="inline">${csrf(c)}<button type="submit" class="btn btn-ghost btn-small">${t.logout}</button></form>`
    : ''
}
</div>
</div>
</header>
<main class="container${o.mainClass ? ` ${o.mainClass}` : ''}">
<h1>${o.title}</h1>
${flashBox(o.flash)}
${o.body}
</main>
<footer class="footer"><div class="container">
<span>${t.partner} <code>${ctx.settings.alipay.partner}</code></span>
<span>${t.charset} <code>${ctx.settings.alipay.inputCharset}</code> · ${t.signType} <code>${ctx.settings.alipay.signType}</code></span>
<span>notify_url <code>${ctx.settings.notifyUrl}</code></span>
<span>${t.timesInBeijing}</span>
</div></footer>
</body>
</html>`;
}

/** Renders a page as the response. */
export function render(c: CCtx, o: PageOptions, status = 200): Response {
  return c.html(String(page(c, o)), status as 200);
}

/** Renders a list of validation issues, each with its record, field, code explained and message. */
export function issueList(
  t: Dict,
  lang: Lang,
  issues: readonly {
    record: number | null;
    label?: string | undefined;
    field: string;
    code: string;
    message: string;
  }[],
): Html {
  return h`<ul class="issues">${issues.map(
    (i) => h`<li class="issue" data-record="${i.record ?? ''}" data-code="${i.code}">
<span class="issue-where">${i.record === null ? t.wholeRequest : t.recordN(i.record)}${i.label ? h` · <span class="mono">${i.label}</span>` : ''} · <span class="field">${i.field}</span></span>
<span class="issue-what">${explainCode(t, lang, i.code)}</span>
<span class="issue-msg">${i.message}</span></li>`,
  )}</ul>`;
}
