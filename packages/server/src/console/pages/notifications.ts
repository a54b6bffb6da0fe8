/**
 * The notification log: every delivery to /alipay/notify and /alipay/trade-notify with its verdict, searchable
 * by batch_no, verdict, kind and text; and one delivery with its decoded parameters, raw body and headers.
 */
import type { Hono } from 'hono';
import type { NotificationVerdict } from '../../db.js';
import { ServiceError } from '../../errors.js';
import { type ConsoleEnv, enumQuery, intQuery } from '../env.js';
import { exportLinks } from '../export.js';
import { explainCode, h, pager, render, storedMessage, verdictBadge, when } from '../ui.js';

const VERDICTS: readonly NotificationVerdict[] = ['accepted', 'duplicate', 'rejected'];
const KINDS = ['batch_refund_notify', 'trade_status_sync'] as const;

export function registerNotifications(con: Hono<ConsoleEnv>): void {
  con.get('/notifications', async (c) => {
    const t = c.get('t');
    const lang = c.get('lang');
    const { services } = c.get('ctx');
    const batchNo = (c.req.query('batch_no') ?? '').trim().slice(0, 64);
    const q = (c.req.query('q') ?? '').trim().slice(0, 100);
    const verdict = enumQuery(c, 'verdict', VERDICTS);
    const kind = enumQuery(c, 'kind', KINDS);
    const pageNo = intQuery(c, 'page', 1);
    const list = await services.notifications.list({
      ...(batchNo !== '' ? { batchNo } : {}),
      ...(q !== '' ? { q } : {}),
      ...(verdict !== undefined ? { verdict } : {}),
      ...(kind !== undefined ? { kind } : {}),
      page: pageNo,
      pageSize: 50,
    });
    const body = h`<form method="get" action="/notifications" class="toolbar" role="search">
<div class="field"><label for="batch_no">${t.batchNo}</label><input type="search" id="batch_no" name="batch_no" value="${batchNo}" class="mono"></div>
<div class="field grow"><label for="q">${t.searchText}</label><input type="search" id="q" name="q" value="${q}" placeholder="${t.searchNotificationsPlaceholder}"></div>
<div class="field"><label for="verdict">${t.verdictCol}</label><select id="verdict" name="verdict"><option value="">${t.all}</option>
${VERDICTS.map((v) => h`<option value="${v}"${verdict === v ? ' selected' : ''}>${t.verdict[v]}</option>`)}</select></div>
<div class="field"><label for="kind">${t.kind}</label><select id="kind" name="kind"><option value="">${t.all}</option>
${KINDS.map((k) => h`<option value="${k}"${kind === k ? ' selected' : ''}>${k}</option>`)}</select></div>
<button type="submit" class="btn">${t.search}</button>
${batchNo !== '' || q !== '' || verdict || kind ? h`<a class="btn btn-ghost" href="/notifications">${t.clear}</a>` : ''}
${exportLinks(t, 'notifications', { batch_no: batchNo, q, verdict, kind })}
</form>
<div class="table-wrap"><table id="notifications-table">
<thead><tr><th>ID</th><th>${t.receivedAt}</th><th>${t.kind}</th><th>${t.batchNo} / ${t.tradeNo}</th><th>${t.verdictCol}</th><th>${t.reasonCol}</th><th>notify_id</th><th>${t.appliedAt}</th><th>${t.answer}</th><th>${t.from}</th></tr></thead>
<tbody>${
      list.items.length === 0
        ? h`<tr><td colspan="10" class="empty">${t.noNotifications}</td></tr>`
        : list.items.map(
            (n) => h`<tr data-verdict="${n.verdict}">
<td><a href="/notifications/${n.id}">${n.id}</a></td><td>${when(n.receivedAt)}</td><td class="small mono">${n.kind}</td>
<td>${n.batchNo ? h`<a class="mono" href="/batches/${n.batchNo}">${n.batchNo}</a>` : ''}${n.tradeNo ? h`<div><a class="mono small" href="/trades/${n.tradeNo}">${n.tradeNo}</a></div>` : ''}</td>
<td>${verdictBadge(t, n.verdict)}</td>
<td>${n.reasonCode ? explainCode(t, lang, n.reasonCode, { advice: false }) : ''}${storedMessage(t, lang, n.reason, n.reasonCode)}</td>
<td class="mono small">${n.notifyId ?? '—'}</td><td>${when(n.appliedAt)}</td><td class="mono">${n.response}</td><td class="mono small">${n.remoteAddr ?? '—'}</td></tr>`,
          )
    }</tbody></table></div>
${pager(t, list, '/notifications', { batch_no: batchNo, q, verdict, kind })}`;
    return render(c, { title: t.nav.notifications, active: 'notifications', body });
  });

  con.get('/notifications/:id{[0-9]{1,12}}', async (c) => {
    const t = c.get('t');
    const lang = c.get('lang');
    const { services } = c.get('ctx');
    const n = await services.notifications.get(Number(c.req.param('id')));
    if (!n) throw new ServiceError('NOT_FOUND', `no notification ${c.req.param('id')}`, 'id');
    const body = h`<div class="card">
<div class="card-head"><h2>#${n.id} · <span class="mono">${n.kind}</span></h2>${verdictBadge(t, n.verdict)}</div>
<dl class="fields">
<div><dt>${t.batchNo}</dt><dd>${n.batchNo ? h`<a class="mono" href="/batches/${n.batchNo}">${n.batchNo}</a>` : '—'}</dd></div>
<div><dt>${t.tradeNo}</dt><dd class="mono">${n.tradeNo ?? '—'}</dd></div>
<div><dt>notify_id</dt><dd class="mono small">${n.notifyId ?? '—'}</dd></div>
<div><dt>notify_time</dt><dd class="mono">${n.notifyTime ?? '—'}</dd></div>
<div><dt>${t.receivedAt}</dt><dd>${when(n.receivedAt)}</dd></div>
<div><dt>${t.appliedAt}</dt><dd>${when(n.appliedAt)}</dd></div>
<div><dt>${t.answer}</dt><dd class="mono">${n.response}</dd></div>
<div><dt>${t.charset}</dt><dd class="mono">${n.charset ?? '—'}</dd></div>
<div><dt>${t.from}</dt><dd class="mono">${n.remoteAddr ?? '—'}</dd></div>
</dl>
${n.reasonCode || n.reason ? h`<div class="flash ${n.verdict === 'rejected' ? 'flash-error' : 'flash-info'}">${n.reasonCode ? explainCode(t, lang, n.reasonCode) : ''}${storedMessage(t, lang, n.reason, n.reasonCode)}</div>` : ''}
</div>
<div class="card"><h2>${t.parameters}</h2>
${
  n.params
    ? h`<div class="table-wrap"><table><thead><tr><th>${t.name}</th><th>${t.value}</th></tr></thead><tbody>${Object.entries(n.params).map(([k, v]) => h`<tr><td class="mono">${k}</td><td class="mono small">${v}</td></tr>`)}</tbody></table></div>`
    : h`<p class="muted">${t.paramsUndecodable}</p>`
}
<h3>${t.rawBody}</h3><pre>${n.rawBody}</pre>
<h3>${t.headers}</h3>
<div class="table-wrap"><table><tbody>${Object.entries(n.headers).map(([k, v]) => h`<tr><td class="mono">${k}</td><td class="mono small">${v}</td></tr>`)}</tbody></table></div>
</div>`;
    return render(c, { title: t.notificationTitle, active: 'notifications', body });
  });
}
