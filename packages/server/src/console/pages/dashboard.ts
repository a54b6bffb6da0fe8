/**
 * The dashboard: refunds per day, success rate, open and needs-attention batches, notification latency and
 * verdicts, all drawn as SVG on the server.
 */
import type { Hono } from 'hono';
import type { BatchState } from '../../db.js';
import { type ConsoleEnv, intQuery } from '../env.js';
import { liveMarker } from '../live.js';
import { barChart, gauge, hbars } from '../svg.js';
import { displayYuan, duration, groupYuan, h, modeBadge, money, render, stateBadge, when } from '../ui.js';

const WINDOWS = [7, 14, 30, 90];

export function registerDashboard(con: Hono<ConsoleEnv>): void {
  con.get('/', (c) => c.redirect('/dashboard', 302));

  con.get('/dashboard', async (c) => {
    const t = c.get('t');
    const { services } = c.get('ctx');
    const daysParam = intQuery(c, 'days', 14);
    const days = WINDOWS.includes(daysParam) ? daysParam : 14;
    const [version, stats, attention, recent, inFlight, awaiting] = await Promise.all([
      services.dashboard.version(),
      services.dashboard.stats({ days }),
      services.refunds.listBatches({ state: 'needs_attention', pageSize: 5 }),
      services.refunds.listBatches({ pageSize: 8 }),
      services.submission.inFlight(),
      services.refunds.listBatches({ state: 'awaiting_approval', pageSize: 5 }),
    ]);
    const { settings } = c.get('ctx');
    const rule = settings.approvalAll
      ? t.approval.ruleAll
      : settings.approvalThresholdFen !== undefined
        ? t.approval.ruleAbove(displayYuan(settings.approvalThresholdFen))
        : t.approval.ruleNone;
    const perDay = stats.refundsPerDay;
    const labels = perDay.map((d) => d.day.slice(5));
    const today = perDay.at(-1);
    const totalRefunded = perDay.reduce((s, d) => s + d.refundedFen, 0);
    const succeeded = perDay.reduce((s, d) => s + d.succeeded, 0);
    const failed = perDay.reduce((s, d) => s + d.failed, 0);
    const rate = stats.successRate;
    const lat = stats.notificationLatency;
    const n = stats.notifications;
    const body = h`${liveMarker(t.work.live, '/live/dashboard', version)}<div class="toolbar"><span class="muted">${t.window}</span>${WINDOWS.map(
      (w) =>
        w === days
          ? h`<span class="btn btn-small btn-primary">${t.nDays(w)}</span>`
          : h`<a class="btn btn-small" href="/dashboard?days=${w}">${t.nDays(w)}</a>`,
    )}</div>
<div class="kpis">
<div class="kpi"><div class="label">${t.refundedToday}</div><div class="value" id="kpi-today">${displayYuan(today?.refundedFen ?? 0)}</div><div class="sub">${t.yuan} · ${t.nRecords(today?.succeeded ?? 0)}</div></div>
<div class="kpi"><div class="label">${t.refundedInWindow(days)}</div><div class="value" id="kpi-window">${displayYuan(totalRefunded)}</div><div class="sub">${t.yuan} · ${t.nRecords(succeeded)}</div></div>
<div class="kpi"><div class="label">${t.successRate}</div><div class="value" id="kpi-success">${rate === null ? '—' : `${(rate * 100).toFixed(1)}%`}</div><div class="sub">${t.finishedRecords}</div></div>
<a class="kpi" href="/batches?state=open"><div class="label">${t.openBatches}</div><div class="value" id="kpi-open">${stats.openBatches}</div><div class="sub">${inFlight.batchNo ? h`${t.inFlight}: <span class="mono">${inFlight.batchNo}</span>` : t.queueFree}</div></a>
<a class="kpi${stats.needsAttention + stats.failedOutstanding > 0 ? ' warn' : ''}" href="${stats.needsAttention === 0 && stats.failedOutstanding > 0 ? '/failed' : '/batches?state=needs_attention'}"><div class="label">${t.needsAttention}</div><div class="value" id="kpi-attention" data-batches="${stats.needsAttention}" data-failed="${stats.failedOutstanding}">${stats.needsAttention + stats.failedOutstanding}</div><div class="sub">${stats.failedOutstanding > 0 ? t.work.attentionSub(stats.needsAttention, stats.failedOutstanding) : t.needsAttentionSub}</div></a>
<a class="kpi${awaiting.total > 0 ? ' warn' : ''}" href="/batches?state=awaiting_approval"><div class="label">${t.approval.title}</div><div class="value" id="kpi-approval">${awaiting.total}</div><div class="sub">${t.approval.kpiSub}</div></a>
<div class="kpi"><div class="label">${t.notifyLatency} p50 / p95</div><div class="value">${duration(lat.p50Ms)}</div><div class="sub">p95 ${duration(lat.p95Ms)} · max ${duration(lat.maxMs)} · ${t.nBatches(lat.count)}</div></div>
</div>
<div class="grid grid-2">
<div class="card"><h2>${t.recordsPerDay}</h2>
${barChart({
  title: t.recordsPerDay,
  labels,
  series: [
    { name: t.resultSuccess, cls: 's-ok', values: perDay.map((d) => d.succeeded) },
    { name: t.resultFailed, cls: 's-bad', values: perDay.map((d) => d.failed) },
  ],
  integer: true,
})}
<div class="legend"><span><i class="l-ok"></i>${t.resultSuccess}</span><span><i class="l-bad"></i>${t.resultFailed}</span></div></div>
<div class="card"><h2>${t.amountPerDay}</h2>
${barChart({
  title: t.amountPerDay,
  labels,
  series: [{ name: t.refundedAmount, cls: 's-amount', values: perDay.map((d) => d.refundedFen / 100) }],
  format: (v) =>
    v >= 10_000 ? `${(v / 10_000).toFixed(1)}${t.tenThousand}` : groupYuan(String(Math.round(v * 100) / 100)),
})}
<div class="legend"><span><i class="l-amount"></i>${t.refundedAmount} (${t.yuan})</span></div></div>
</div>
<div class="grid grid-2">
<div class="card"><h2>${t.successRate}</h2>
<div class="gauge-row">${gauge({ title: t.successRate, ratio: rate, label: rate === null ? '—' : `${(rate * 100).toFixed(1)}%` })}
<dl><dt>${t.resultSuccess}</dt><dd>${succeeded}</dd><dt>${t.resultFailed}</dt><dd>${failed}</dd><dt>${t.nav.batches}</dt><dd>${perDay.reduce((s, d) => s + d.batches, 0)}</dd></dl></div>
<p class="muted small">${t.finishedRecords} · ${t.nDays(days)}</p>
<h3>${t.batchesByState}</h3>
<div class="toolbar">${Object.entries(stats.batchesByState).map(
      ([s, count]) =>
        h`<a href="/batches?state=${s}">${stateBadge(t, s as BatchState)} <strong>${count}</strong></a>`,
    )}</div></div>
<div class="card"><h2>${t.notificationsTitle}</h2>
${hbars({
  title: t.notificationsByVerdict,
  rows: [
    { label: t.verdict.accepted, value: n.accepted, cls: 's-accepted', text: String(n.accepted) },
    { label: t.verdict.duplicate, value: n.duplicate, cls: 's-duplicate', text: String(n.duplicate) },
    { label: t.verdict.rejected, value: n.rejected, cls: 's-rejected', text: String(n.rejected) },
  ],
})}
<p class="muted small">${t.notificationsByVerdict}</p>
<h3>${t.notifyLatency}</h3>
${hbars({
  title: t.notifyLatency,
  rows: [
    { label: 'p50', value: lat.p50Ms ?? 0, cls: 's-p50', text: duration(lat.p50Ms) },
    { label: 'p95', value: lat.p95Ms ?? 0, cls: 's-p95', text: duration(lat.p95Ms) },
    { label: 'max', value: lat.maxMs ?? 0, cls: 's-max', text: duration(lat.maxMs) },
  ],
})}
<p class="muted small" id="latency-hint">${t.fl.latencyHint}</p></div>
</div>
<div class="card" id="awaiting-approval"><div class="card-head"><h2>${t.approval.title}</h2><a href="/batches?state=awaiting_approval">${t.all}</a></div>
<p class="muted small">${t.approval.help(rule)}</p>
${
  awaiting.items.length === 0
    ? h`<p class="muted">${t.approval.none}</p>`
    : h`<ul>${awaiting.items.map((b) => h`<li data-batch="${b.batchNo}"><a class="mono" href="/batches/${b.batchNo}">${b.batchNo}</a> ${modeBadge(t, b.mode)} ${money(b.totalFen)} ${t.yuan} · <span class="small">${b.createdBy}</span> · ${when(b.createdAt)}</li>`)}</ul>`
}
</div>
<div class="grid grid-2">
<div class="card"><div class="card-head"><h2>${t.needsAttention}</h2><a href="/batches?state=needs_attention">${t.all}</a></div>
${stats.failedOutstanding > 0 ? h`<p id="failed-outstanding"><a href="/failed">${t.work.failedSub(stats.failedOutstanding)}</a></p>` : ''}
${
  attention.items.length === 0 && stats.failedOutstanding > 0
    ? ''
    : attention.items.length === 0
      ? h`<p class="muted">${t.nothingNeedsAttention}</p>`
      : h`<ul>${attention.items.map((b) => h`<li><a class="mono" href="/batches/${b.batchNo}">${b.batchNo}</a> ${modeBadge(t, b.mode)} ${b.gatewayCode ? h`<span class="code code-bad">${b.gatewayCode}</span>` : ''} · ${when(b.submittedAt)}</li>`)}</ul>`
}
</div>
<div class="card"><div class="card-head"><h2>${t.recentBatches}</h2><a href="/batches">${t.all}</a></div>
<div class="table-wrap"><table><tbody>${
      recent.items.length === 0
        ? h`<tr><td class="empty">${t.noBatches}</td></tr>`
        : recent.items.map(
            (b) =>
              h`<tr><td class="nowrap"><a class="mono small" href="/batches/${b.batchNo}">${b.batchNo}</a></td><td>${stateBadge(t, b.state)}</td><td class="num">${money(b.totalFen)}</td><td class="nowrap recent-when">${when(b.createdAt)}</td></tr>`,
          )
    }</tbody></table></div></div>
</div>`;
    return render(c, { title: t.nav.dashboard, active: 'dashboard', body });
  });
}
