/** The state page at `/sandbox`: partners, accounts, trades, batches, notifications and deliveries. */
import { formatBeijing, formatYuan } from '@alirefund/protocol';
import { raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Core } from './core.js';
import { h } from './pages.js';
import { effectiveStatus, refundedSums } from './processing/records.js';
import { formatSchedule } from './schedule.js';

const STYLE = `body{font:13px/1.5 "WenQuanYi Zen Hei",sans-serif;margin:16px;color:#222}
h1{font-size:18px}h2{font-size:15px;margin-top:24px;border-bottom:2px solid #1e8bd5}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef5fb}.num{text-align:right;font-family:monospace}.mono{font-family:monospace;word-break:break-all;max-width:520px}
.ok{color:#080}.bad{color:#c00}.muted{color:#888}`;

function yuan(fen: number): string {
  return fen < 0 ? `-${formatYuan(-fen)}` : formatYuan(fen);
}
function when(t: number | null): string {
  return t === null ? '—' : formatBeijing(Number(t));
}

export async function renderStatePage(core: Core): Promise<HtmlEscapedString> {
  const db = core.db;
  const partners = await db
    .selectFrom('sbx_partners')
    .innerJoin('sbx_accounts', 'sbx_accounts.account_id', 'sbx_partners.partner')
    .select(['partner', 'sbx_partners.email', 'services', 'balance_fen'])
    .orderBy('partner')
    .execute();
  const accounts = await db
    .selectFrom('sbx_accounts')
    .selectAll()
    .where('kind', '!=', 'partner')
    .orderBy('kind')
    .orderBy('account_id')
    .execute();
  const trades = await db
    .selectFrom('sbx_trades')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('trade_no')
    .limit(200)
    .execute();
  const refunded = await refundedSums(
    db,
    trades.map((t) => t.trade_no),
  );
  const batches = await db
    .selectFrom('sbx_batches')
    .selectAll()
    .orderBy('created_at', 'desc')
    .limit(50)
    .execute();
  const notifications = await db
    .selectFrom('sbx_notifications')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(50)
    .execute();
  const deliveries = await db
    .selectFrom('sbx_deliveries')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(50)
    .execute();
  const now = core.now();
  return h`<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>alirefund sandbox · state</title><style>${raw(STYLE)}</style></head>
<body>
<h1>alirefund sandbox — state</h1>
<p class="muted">Sandbox time ${formatBeijing(now)} (Beijing), clock offset ${core.clockOffsetMs} ms · notify schedule ${formatSchedule(core.schedule)} ·
faults ${JSON.stringify(core.faults)} · JSON: <a href="/sandbox/api/">/sandbox/api/</a></p>
<h2>Partners</h2>
<table><tr><th>partner</th><th>email</th><th>services</th><th>balance</th></tr>
${partners.map((p) => h`<tr><td class="mono">${p.partner}</td><td>${p.email}</td><td>${p.services.split(',').join(', ')}</td><td class="num">${yuan(Number(p.balance_fen))}</td></tr>`)}
</table>
<h2>Accounts</h2>
<table><tr><th>account</th><th>email</th><th>kind</th><th>balance</th></tr>
${accounts.map((a) => h`<tr><td class="mono">${a.account_id}</td><td>${a.email ?? ''}</td><td>${a.kind}</td><td class="num">${yuan(Number(a.balance_fen))}</td></tr>`)}
</table>
<h2>Trades (latest 200)</h2>
<table><tr><th>trade_no</th><th>partner</th><th>out_trade_no</th><th>amount</th><th>refunded</th><th>status</th><th>notify_url</th></tr>
${trades.map((t) => {
  const r = refunded.get(t.trade_no)?.fen ?? 0;
  return h`<tr><td class="mono">${t.trade_no}</td><td class="mono">${t.partner}</td><td>${t.out_trade_no ?? ''}</td><td class="num">${yuan(Number(t.amount_fen))}</td><td class="num">${yuan(r)}</td><td>${effectiveStatus(t.status, Number(t.amount_fen), r)}</td><td class="mono">${t.notify_url ?? ''}</td></tr>`;
})}
</table>
<h2>Batches (latest 50)</h2>
<table><tr><th>partner</th><th>batch_no</th><th>service</th><th>status</th><th>records</th><th>success_num</th><th>accepted</th><th>result_details</th></tr>
${batches.map(
  (b) =>
    h`<tr><td class="mono">${b.partner}</td><td class="mono"><a href="/sandbox/api/batches/${b.partner}/${b.batch_no}">${b.batch_no}</a></td><td>${b.service.replace('refund_fastpay_by_platform_', '')}</td><td>${b.status}${Number(b.locked) === 1 ? ' (lock error)' : ''}</td><td class="num">${Number(b.record_count)}</td><td class="num">${b.success_num ?? '—'}</td><td>${when(b.accepted_at)}</td><td class="mono">${(b.result_details ?? '').slice(0, 300)}</td></tr>`,
)}
</table>
<h2>Notifications (latest 50)</h2>
<table><tr><th>id</th><th>kind</th><th>batch / trade</th><th>notify_id</th><th>url</th><th>status</th><th>attempts</th><th>next</th></tr>
${notifications.map(
  (n) =>
    h`<tr><td class="num"><a href="/sandbox/api/notifications/${Number(n.id)}">${Number(n.id)}</a></td><td>${n.kind}</td><td class="mono">${n.batch_no ?? ''} ${n.trade_no ?? ''}</td><td class="mono">${n.notify_id}</td><td class="mono">${n.url}</td><td class="${n.status === 'delivered' ? 'ok' : n.status === 'failed' ? 'bad' : ''}">${n.status}</td><td class="num">${Number(n.attempts)}/${Number(n.max_attempts)}</td><td>${n.status === 'pending' ? when(n.next_attempt_at) : '—'}</td></tr>`,
)}
</table>
<h2>Delivery attempts (latest 50)</h2>
<table><tr><th>notification</th><th>attempt</th><th>time</th><th>outcome</th><th>HTTP</th><th>latency</th><th>response</th></tr>
${deliveries.map(
  (d) =>
    h`<tr><td class="num">${Number(d.notification_id)}</td><td class="num">${Number(d.attempt)}</td><td>${when(d.started_at)}</td><td class="${d.outcome === 'acknowledged' ? 'ok' : 'bad'}">${d.outcome}</td><td class="num">${d.http_status ?? '—'}</td><td class="num">${d.latency_ms === null ? '—' : `${Number(d.latency_ms)} ms`}</td><td class="mono">${(d.response_body ?? d.error ?? '').slice(0, 200)}</td></tr>`,
)}
</table>
</body></html>`;
}
