/**
 * The audit log: every operator and API action, newest first.
 */
import type { Hono } from 'hono';
import { type ConsoleEnv, intQuery } from '../env.js';
import { exportLinks } from '../export.js';
import type { Dict } from '../i18n.js';
import { auditAction, h, pager, render, when } from '../ui.js';

const PAGE_SIZE = 50;

/** A target as stored; `N trades` (trades.register) in the page's language. */
function auditTarget(t: Dict, target: string | null): string {
  const m = /^([0-9]+) trades$/.exec(target ?? '');
  return m ? t.ev.nTrades(Number(m[1])) : (target ?? '');
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
        : items.map((e) => {
            const details = e.details === null ? '' : JSON.stringify(e.details);
            return h`<tr><td>${when(e.at)}</td><td class="small">${e.actor}</td><td class="small" data-action="${e.action}">${auditAction(t, e.action)}</td><td class="mono small">${auditTarget(t, e.target)}</td><td class="mono small">${e.ip ?? ''}</td><td class="small"><code>${details.length > 160 ? `${details.slice(0, 160)}…` : details}</code></td></tr>`;
          })
    }</tbody></table></div>
${pager(t, { page: pageNo, pageSize: PAGE_SIZE, total }, '/audit', { actor })}`;
    return render(c, { title: t.nav.audit, active: 'audit', body });
  });
}
