/**
 * The state page at `/sandbox`: partners, accounts, trades, batches, notifications and deliveries, and buttons
 * for the common faults. The buttons are driven by a static script (`/sandbox/state.js`, no inline script) that
 * sends JSON to the admin API (`PUT`/`DELETE /sandbox/api/faults`), as the admin API requires, then reloads.
 */
import { formatBeijing, formatYuan } from '@alirefund/protocol';
import { raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Core } from './core.js';
import { h, pageHeaders } from './pages.js';
import { effectiveStatus, refundedSums } from './processing/records.js';
import { formatSchedule } from './schedule.js';

const STYLE = `body{font:13px/1.5 "WenQuanYi Zen Hei",sans-serif;margin:16px;color:#222}
h1{font-size:18px}h2{font-size:15px;margin-top:24px;border-bottom:2px solid #1e8bd5}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef5fb}.num{text-align:right;font-family:monospace}.mono{font-family:monospace;word-break:break-all;max-width:520px}
.ok{color:#080}.bad{color:#c00}.muted{color:#888}
.faults{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:6px 0}.faults button{font:inherit;padding:3px 8px;cursor:pointer}
.faults input,.faults select{font:inherit}#fault-status{min-height:1.5em}`;

/** The state page's headers: the sandbox pages' own, plus its one script and its fetches to itself. */
export function statePageHeaders(): Record<string, string> {
  return {
    ...pageHeaders(),
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  };
}

/** Common faults, one button each: the JSON merged into the faults (`PUT /sandbox/api/faults`). */
export const FAULT_BUTTONS: readonly { id: string; label: string; patch: unknown }[] = [
  { id: 'drop', label: '丢弃下一条通知 · drop the next notification', patch: { notify: { drop: 1 } } },
  {
    id: 'duplicate',
    label: '重复下一条通知 · send the next notification twice',
    patch: { notify: { duplicate: 1 } },
  },
  { id: 'delay', label: '通知延迟 30 秒 · delay notifications 30 s', patch: { notify: { delayMs: 30_000 } } },
  {
    id: 'reorder',
    label: '打乱下两条通知 · reorder the next 2 notifications',
    patch: { notify: { reorder: 2 } },
  },
  {
    id: 'system-error',
    label: '受理后回 SYSTEM_ERROR · SYSTEM_ERROR after accepting the next batch',
    patch: { systemErrorAfterAccept: 1 },
  },
  { id: 'slow', label: '网关慢 10 秒 · gateway answers after 10 s', patch: { slowResponseMs: 10_000 } },
  { id: 'pause', label: '暂停处理 · pause processing', patch: { pauseProcessing: true } },
  { id: 'resume', label: '恢复处理 · resume processing', patch: { pauseProcessing: false } },
];

/** Result codes the "force a code" form offers (a record of the given trade fails with it). */
export const FORCE_CODES: readonly string[] = [
  'SELLER_BALANCE_NOT_ENOUGH',
  'TRADE_HAS_CLOSED',
  'TRADE_HAS_FINISHED',
  'TRADE_NOT_EXISTS',
  'REFUND_AMOUNT_NOT_VALID',
  'BUYER_ERROR',
];

/** The state page's script: the fault buttons and the force-code form, as JSON to the admin API. */
export const STATE_JS = `(function(){
  'use strict';
  var status=document.getElementById('fault-status');
  function send(method,body){
    if(status){status.textContent='…';}
    fetch('/sandbox/api/faults',{method:method,headers:{'content-type':'application/json'},body:body===null?'{}':JSON.stringify(body),credentials:'same-origin'})
      .then(function(r){return r.json().then(function(j){return {ok:r.ok,j:j};});})
      .then(function(x){
        if(!x.ok){if(status){status.textContent=(x.j&&x.j.message)||'error';}return;}
        window.location.reload();
      })
      .catch(function(e){if(status){status.textContent=String(e);}});
  }
  document.addEventListener('click',function(e){
    var b=e.target&&e.target.closest&&e.target.closest('button[data-fault]');
    if(!b){return;}
    e.preventDefault();
    if(b.getAttribute('data-fault')==='clear'){send('DELETE',null);return;}
    send('PUT',JSON.parse(b.getAttribute('data-patch')));
  });
  document.addEventListener('submit',function(e){
    var f=e.target;
    if(!f||f.id!=='force-code'){return;}
    e.preventDefault();
    var trade=f.elements.namedItem('tradeNo').value.trim();
    var code=f.elements.namedItem('code').value;
    if(!trade){if(status){status.textContent='trade_no?';}return;}
    send('PUT',{forceCodes:[{tradeNo:trade,code:code,times:1}]});
  });
})();
`;

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
faults <code id="faults">${JSON.stringify(core.faults)}</code> · JSON: <a href="/sandbox/api/">/sandbox/api/</a></p>
<h2>故障注入 · Faults</h2>
<div class="faults">${FAULT_BUTTONS.map((b) => h`<button type="button" data-fault="${b.id}" data-patch="${JSON.stringify(b.patch)}">${b.label}</button>`)}<button type="button" data-fault="clear">清除全部故障 · clear all faults</button></div>
<form class="faults" id="force-code"><label>下一笔退款失败 · fail the next refund of trade <input name="tradeNo" size="30" placeholder="trade_no" class="mono"></label>
<label>with <select name="code">${FORCE_CODES.map((c) => h`<option>${c}</option>`)}</select></label><button type="submit">强制结果码 · force the code</button></form>
<p id="fault-status" class="muted" role="status"></p>
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
<script src="/sandbox/state.js"></script>
</body></html>`;
}
