/**
 * The audit log: every operator and API action, newest first.
 */
import type { Hono } from 'hono';
import { type ConsoleEnv, intQuery } from '../env.js';
import { exportLinks } from '../export.js';
import type { Dict } from '../i18n.js';
import { auditAction, h, type Html, pager, render, when } from '../ui.js';

const PAGE_SIZE = 50;

/** The list an `export` entry names, in the page's language. */
function exportedList(t: Dict, name: string): string | undefined {
  const lists: Record<string, string> = {
    batches: t.nav.batches,
    trades: t.nav.trades,
    notifications: t.nav.notifications,
    audit: t.nav.audit,
    records: t.work.recordsSheet,
    failed: t.work.failedSheet,
  };
  return Object.hasOwn(lists, name) ? lists[name] : undefined;
}

/** A target as stored; `N trades` (trades.register) and an export's list in the page's language. */
function auditTarget(t: Dict, action: string, target: string | null): string {
  const m = /^([0-9]+) trades$/.exec(target ?? '');
  if (m) return t.ev.nTrades(Number(m[1]));
  if (action === 'export' && target !== null) return exportedList(t, target) ?? target;
  return target ?? '';
}

/** A value as stored (strings as they are, the rest as JSON), cut at `max` characters. */
function valueText(v: unknown, max: number): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/**
 * An entry's details: each key through the catalogue (`fl.auditKeys`), its value as stored. A key the
 * catalogue does not know is shown as is and marked `data-untranslated` (the zh test fails on it).
 */
export function auditDetails(t: Dict, details: unknown): Html | '' {
  if (details === null || details === undefined) return '';
  if (typeof details !== 'object' || Array.isArray(details)) {
    return h`<code>${valueText(details, 160)}</code>`;
  }
  return h`${Object.entries(details as Record<string, unknown>).map(([k, v]) => {
    const label = t.fl.auditKeys[k];
    return h`<span class="audit-kv"><span class="audit-key" data-key="${k}"${label === undefined ? h` data-untranslated="1"` : ''}>${label ?? k}</span> <code>${valueText(v, 80)}</code></span> `;
  })}`;
}

export function registerAudit(con: Hono<ConsoleEnv>): void {
  con.get('/audit', async (c) => {
    const t = c.get('t');
    const { services } = c.get('ctx');
    const pageNo = intQuery(c, 'page', 1);
    const actor = (c.req.query('actor') ?? '').trim().slice(0, 120);
    const { items, total } = await services.audit.list({
      ...(actor !== '' ? { actor } : {}),
      limit: PAGE_SIZE,
      offset: (pageNo - 1) * PAGE_SIZE,
    });
    const body = h`<form method="get" action="/audit" class="toolbar" role="search">
<div class="field grow"><label for="actor">${t.actor}</label><input type="search" id="actor" name="actor" value="${actor}" placeholder="operator:admin"></div>
<button type="submit" class="btn">${t.search}</button>
${exportLinks(t, 'audit', { actor })}</form>
<div class="table-wrap"><table id="audit-table"><thead><tr><th>${t.time}</th><th>${t.actor}</th><th>${t.action}</th><th>${t.target}</th><th>IP</th><th>${t.details}</th></tr></thead>
<tbody>${
      items.length === 0
        ? h`<tr><td colspan="6" class="empty">${t.noAudit}</td></tr>`
        : items.map(
            (e) =>
              h`<tr><td>${when(e.at)}</td><td class="small">${e.actor}</td><td class="small" data-action="${e.action}">${auditAction(t, e.action)}</td><td class="mono small">${auditTarget(t, e.action, e.target)}</td><td class="mono small">${e.ip ?? ''}</td><td class="small audit-details">${auditDetails(t, e.details)}</td></tr>`,
          )
    }</tbody></table></div>
${pager(t, { page: pageNo, pageSize: PAGE_SIZE, total }, '/audit', { actor })}`;
    return render(c, { title: t.nav.audit, active: 'audit', body });
  });
}
