/**
 * Failed records: the "refund the failed records again" form (on a finished batch's page and on the failed
 * records page), the failed records page (`/failed`: failed records of finished batches that no later batch
 * retried) and the trade page's note about a failed last attempt.
 *
 * The form posts the failed trades, their amounts and reasons and the batch's mode to `/refunds/preview`: the
 * operator sees a preview (with every issue the SDK and the local state find) and creates a new batch from it;
 * nothing is created before that.
 */
import { formatYuan, isKnownCode, lookupCode } from '@alirefund/protocol';
import type { Hono } from 'hono';
import type { FailedRecord } from '../../services/dashboard.js';
import type { BatchDetail } from '../../services/refund-types.js';
import { type CCtx, type ConsoleEnv, intQuery } from '../env.js';
import { exportLinks } from '../export.js';
import type { Dict, Lang } from '../i18n.js';
import { can, csrf, explainCode, h, type Html, modeBadge, money, pager, render, when } from '../ui.js';

const PAGE_SIZE = 100;

interface Redo {
  tradeNo: string;
  amountFen: number;
  reason: string;
}

/** The form that previews a new batch with these records (unique trades, first occurrence). */
export function redoForm(c: CCtx, records: readonly Redo[], mode: string): Html {
  const t = c.get('t');
  const seen = new Set<string>();
  const unique = records.filter((r) => !seen.has(r.tradeNo) && seen.add(r.tradeNo));
  return h`<form method="post" action="/refunds/preview" class="actions redo-form">${csrf(c)}
<input type="hidden" name="mode" value="${mode === 'nopwd' ? 'nopwd' : 'pwd'}">
${unique.map(
  (r) =>
    h`<input type="hidden" name="t" value="${r.tradeNo}"><input type="hidden" name="amount.${r.tradeNo}" value="${formatYuan(r.amountFen)}"><input type="hidden" name="reason.${r.tradeNo}" value="${r.reason}">`,
)}<button type="submit" class="btn btn-primary" id="redo-failed">${t.work.redoButton(unique.length)}</button></form>`;
}

/** The batch page's card for a finished batch with failed records ('' otherwise). */
export function redoPanel(c: CCtx, b: BatchDetail): Html | '' {
  const t = c.get('t');
  const failed = b.records.filter((r) => r.succeeded === false);
  if (b.state !== 'finished' || failed.length === 0) return '';
  const allowed = can(c, 'POST /refunds/preview');
  return h`<div class="card" id="redo"><div class="card-head"><h2>${t.work.redoTitle} (${failed.length})</h2>${exportLinks(t, 'records', { batch_no: b.batchNo, failed: '1' })}</div>
<p class="muted small">${t.work.redoHelp}</p>
${allowed ? redoForm(c, failed, b.mode) : ''}</div>`;
}

/** The trade page's warning when the trade's latest refund attempt failed ('' otherwise). */
export function lastAttemptNotice(
  t: Dict,
  lang: Lang,
  refunds: readonly {
    batchNo: string;
    succeeded: boolean | null;
    resultCode: string | null;
    createdAt: string;
  }[],
): Html | '' {
  const last = [...refunds].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  if (last?.succeeded !== false) return '';
  return h`<div class="flash flash-error" id="last-attempt-failed"><strong>${t.work.lastAttemptFailed}</strong> · <a class="mono" href="/batches/${last.batchNo}">${last.batchNo}</a><div>${last.resultCode ? explainCode(t, lang, last.resultCode) : ''}</div></div>`;
}

function adviceOf(lang: Lang, code: string | null): string {
  if (!code || !isKnownCode(code)) return '';
  const info = lookupCode(code);
  return lang === 'en' ? info.advice.en : info.advice.zh;
}

export function registerFailed(con: Hono<ConsoleEnv>): void {
  con.get('/failed', async (c) => {
    const t = c.get('t');
    const lang = c.get('lang');
    const { services } = c.get('ctx');
    const pageNo = intQuery(c, 'page', 1);
    const { items, total } = await services.dashboard.failedRecords({
      outstandingOnly: true,
      limit: PAGE_SIZE,
      offset: (pageNo - 1) * PAGE_SIZE,
    });
    const all: FailedRecord[] =
      total <= PAGE_SIZE
        ? items
        : (await services.dashboard.failedRecords({ outstandingOnly: true, limit: 1000 })).items;
    const byMode = new Map<string, FailedRecord[]>();
    for (const r of all) byMode.set(r.mode, [...(byMode.get(r.mode) ?? []), r]);
    const body = h`<div class="card"><div class="card-head"><h2>${t.work.failedTitle} (${total})</h2>${exportLinks(t, 'failed', { outstanding: '1' })}</div>
<p class="muted small">${t.work.failedHelp} ${total > 0 ? t.work.redoHelp : ''}</p>
${can(c, 'POST /refunds/preview') ? [...byMode].map(([mode, list]) => h`<div class="toolbar">${modeBadge(t, mode)}${redoForm(c, list, mode)}</div>`) : ''}
<div class="table-wrap"><table id="failed-table">
<thead><tr><th>${t.batchNo}</th><th>${t.tradeNo}</th><th class="num">${t.amount}</th><th>${t.reason}</th><th>${t.codeMeaning}</th><th>${t.finishedAt}</th></tr></thead>
<tbody>${
      items.length === 0
        ? h`<tr><td colspan="6" class="empty">${t.work.noFailed}</td></tr>`
        : items.map(
            (r) => h`<tr data-trade="${r.tradeNo}" data-result="${r.resultCode ?? ''}">
<td><a class="mono" href="/batches/${r.batchNo}">${r.batchNo}</a> ${modeBadge(t, r.mode)}</td>
<td><a class="mono" href="/trades/${r.tradeNo}">${r.tradeNo}</a></td>
<td class="num">${money(r.amountFen)}</td><td>${r.reason}</td>
<td>${r.resultCode ? explainCode(t, lang, r.resultCode, { advice: false }) : ''}${adviceOf(lang, r.resultCode) ? h`<span class="advice">${adviceOf(lang, r.resultCode)}</span>` : ''}</td>
<td>${when(r.finishedAt)}</td></tr>`,
          )
    }</tbody></table></div>
${pager(t, { page: pageNo, pageSize: PAGE_SIZE, total }, '/failed', {})}</div>`;
    return render(c, { title: t.work.failedTitle, active: 'dashboard', body });
  });
}
