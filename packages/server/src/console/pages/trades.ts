/**
 * Trades: the list (search, filters, pagination, refundable amounts, checkboxes), a trade's page, and the
 * refund flow: pick → preview (detail_data, issues by record, the split into batches) → create and submit
 * (pwd: the auto-submit form to the gateway; nopwd: the server sends it, then the batch page).
 */
import { formatYuan, MAX_BATCH_RECORDS, parseYuan, TRADE_NO_RE } from '@alirefund/protocol';
import type { Hono } from 'hono';
import type { RefundMode } from '../../db.js';
import type { ItemIssue } from '../../errors.js';
import type { PreviewResult, RefundItem } from '../../services/refunds.js';
import type { TradeView } from '../../services/trades.js';
import { actorOf, type CCtx, type ConsoleEnv, enumQuery, type Form, intQuery, readForm } from '../env.js';
import type { Dict, Lang } from '../i18n.js';
import {
  csrf,
  explainCode,
  type Flash,
  h,
  type Html,
  issueList,
  modeBadge,
  money,
  pager,
  render,
  resultBadge,
  stateBadge,
  tradeBadge,
  when,
} from '../ui.js';
import { submitPwd, tickQueue } from './batches.js';

const STATUS_FILTERS = ['refundable', 'paid', 'partially_refunded', 'fully_refunded'] as const;
const PAGE_SIZES = [20, 50, 100, 200] as const;
/** Most trades one preview takes (the largest batch). */
const MAX_PICK = MAX_BATCH_RECORDS;

function royaltyText(t: TradeView): string {
  return t.royalties.map((r) => `${r.account ?? r.userId ?? '?'} ${formatYuan(r.amountFen)}`).join('; ');
}

export function registerTrades(con: Hono<ConsoleEnv>): void {
  con.get('/trades', async (c) => {
    const t = c.get('t');
    const { services } = c.get('ctx');
    const q = (c.req.query('q') ?? '').trim().slice(0, 100);
    const status = enumQuery(c, 'status', STATUS_FILTERS);
    const royalty = enumQuery(c, 'royalty', ['yes', 'no'] as const);
    const sizeParam = intQuery(c, 'size', 50);
    const size = (PAGE_SIZES as readonly number[]).includes(sizeParam) ? sizeParam : 50;
    const pageNo = intQuery(c, 'page', 1);
    const list = await services.trades.list({
      ...(q !== '' ? { q } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(royalty !== undefined ? { hasRoyalty: royalty === 'yes' } : {}),
      page: pageNo,
      pageSize: size,
    });
    const params = { q, status, royalty, size: size === 50 ? undefined : size };
    const flash: Flash | null = c.req.query('msg') === 'none' ? { kind: 'warn', text: t.pickNone } : null;
    const body = h`<form method="get" action="/trades" class="toolbar" role="search">
<div class="field grow"><label for="q">${t.searchTrades}</label>
<input type="search" id="q" name="q" value="${q}" placeholder="${t.searchTradesPlaceholder}"></div>
<div class="field"><label for="status">${t.status}</label>
<select id="status" name="status">
<option value="">${t.all}</option>
${STATUS_FILTERS.map(
  (s) =>
    h`<option value="${s}"${status === s ? ' selected' : ''}>${s === 'refundable' ? t.refundableOnly : t.tradeStatus[s]}</option>`,
)}
</select></div>
<div class="field"><label for="royalty">${t.royalty}</label>
<select id="royalty" name="royalty">
<option value="">${t.all}</option>
<option value="yes"${royalty === 'yes' ? ' selected' : ''}>${t.withRoyalty}</option>
<option value="no"${royalty === 'no' ? ' selected' : ''}>${t.withoutRoyalty}</option>
</select></div>
<div class="field"><label for="size">${t.pageSize}</label>
<select id="size" name="size">${PAGE_SIZES.map((s) => h`<option value="${s}"${s === size ? ' selected' : ''}>${s}</option>`)}</select></div>
<button type="submit" class="btn">${t.search}</button>
${q !== '' || status || royalty ? h`<a class="btn btn-ghost" href="/trades">${t.clear}</a>` : ''}
</form>
<form method="post" action="/refunds/preview" id="pick-form">
${csrf(c)}
<div class="table-wrap"><table id="trades-table">
<thead><tr>
<th class="check"><input type="checkbox" data-select-all aria-label="${t.selectAll}"></th>
<th>${t.tradeNo}</th><th>${t.outTradeNo}</th><th>${t.subject}</th>
<th class="num">${t.paid}</th><th class="num">${t.refunded}</th><th class="num">${t.refundable}</th>
<th class="num">${t.refundCount}</th><th>${t.status}</th><th>${t.openBatch}</th>
</tr></thead>
<tbody>
${
  list.items.length === 0
    ? h`<tr><td colspan="10" class="empty">${t.noTrades}</td></tr>`
    : list.items.map((tr) => {
        const pickable = tr.refundableFen > 0 && tr.openBatchNo === null;
        return h`<tr data-trade="${tr.tradeNo}">
<td class="check"><input type="checkbox" name="t" value="${tr.tradeNo}" data-pick aria-label="${t.pick} ${tr.tradeNo}"${pickable ? '' : ' disabled'}></td>
<td><a class="mono" href="/trades/${tr.tradeNo}">${tr.tradeNo}</a></td>
<td class="mono">${tr.outTradeNo ?? '—'}</td>
<td>${tr.subject ?? ''}${tr.hasRoyalty ? h` <span class="tag" title="${royaltyText(tr)}">${t.royaltyTag}</span>` : ''}</td>
<td class="num">${money(tr.paidFen)}</td>
<td class="num">${money(tr.refundedFen)}</td>
<td class="num"><strong>${money(tr.refundableFen)}</strong></td>
<td class="num">${tr.refundCount}</td>
<td>${tradeBadge(t, tr.status)}</td>
<td>${tr.openBatchNo ? h`<a class="mono small" href="/batches/${tr.openBatchNo}">${tr.openBatchNo}</a>` : h`<span class="muted">—</span>`}</td>
</tr>`;
      })
}
</tbody></table></div>
${pager(t, list, '/trades', params)}
<div class="card actions-card">
<div class="toolbar">
<div class="field grow"><label for="reason_all">${t.reasonForAll}</label>
<input type="text" id="reason_all" name="reason_all" maxlength="80" placeholder="${t.reasonPlaceholder}"></div>
<button type="submit" class="btn btn-primary" id="preview-button"><span>${t.previewRefund} (<span data-selected-count>0</span>)</span></button>
</div>
<p class="muted small">${t.pickHint}</p>
</div>
</form>`;
    return render(c, { title: t.nav.trades, active: 'trades', body, flash });
  });

  con.get('/trades/:tradeNo{[0-9]{6,64}}', async (c) => {
    const t = c.get('t');
    const lang = c.get('lang');
    const { services } = c.get('ctx');
    const { trade, refunds } = await services.trades.detail(c.req.param('tradeNo'));
    const body = h`<div class="card">
<div class="card-head"><h2 class="mono">${trade.tradeNo}</h2>${tradeBadge(t, trade.status)}</div>
<dl class="fields">
<div><dt>${t.outTradeNo}</dt><dd class="mono">${trade.outTradeNo ?? '—'}</dd></div>
<div><dt>${t.subject}</dt><dd>${trade.subject ?? '—'}</dd></div>
<div><dt>${t.buyer}</dt><dd>${trade.buyer ?? '—'}</dd></div>
<div><dt>${t.paidAt}</dt><dd>${when(trade.paidAt)}</dd></div>
<div><dt>${t.paid}</dt><dd>${money(trade.paidFen)}</dd></div>
<div><dt>${t.refunded}</dt><dd>${money(trade.refundedFen)}</dd></div>
<div><dt>${t.reserved}</dt><dd>${money(trade.reservedFen)}</dd></div>
<div><dt>${t.refundable}</dt><dd><strong>${money(trade.refundableFen)}</strong></dd></div>
<div><dt>${t.refundCount}</dt><dd>${trade.refundCount} / 99</dd></div>
<div><dt>${t.openBatch}</dt><dd>${trade.openBatchNo ? h`<a class="mono" href="/batches/${trade.openBatchNo}">${trade.openBatchNo}</a>` : '—'}</dd></div>
<div><dt>${t.gatewayStatus}</dt><dd>${trade.gatewayStatus ?? '—'}</dd></div>
<div><dt>${t.registeredAt}</dt><dd>${when(trade.createdAt)}</dd></div>
</dl>
${trade.reconcileNote ? h`<div class="flash flash-warn">${t.reconcileNote}: ${trade.reconcileNote}</div>` : ''}
${
  trade.royalties.length > 0
    ? h`<h3>${t.royaltyParts}</h3><ul>${trade.royalties.map((r) => h`<li><span class="mono">${r.account ?? r.userId ?? '?'}</span> · ${money(r.amountFen)}</li>`)}</ul>`
    : ''
}
${
  trade.refundableFen > 0 && trade.openBatchNo === null
    ? h`<form method="post" action="/refunds/preview" class="actions">${csrf(c)}<input type="hidden" name="t" value="${trade.tradeNo}"><button class="btn btn-primary" type="submit">${t.refundThisTrade}</button></form>`
    : ''
}
</div>
<div class="card"><h2>${t.refundHistory}</h2>
<div class="table-wrap"><table>
<thead><tr><th>${t.batchNo}</th><th>${t.mode}</th><th>${t.batchStateCol}</th><th class="num">${t.amount}</th><th>${t.reason}</th><th>${t.result}</th><th>${t.createdAt}</th><th>${t.finishedAt}</th></tr></thead>
<tbody>${
      refunds.length === 0
        ? h`<tr><td colspan="8" class="empty">${t.noRefundsYet}</td></tr>`
        : refunds.map(
            (
              r,
            ) => h`<tr><td><a class="mono" href="/batches/${r.batchNo}">${r.batchNo}</a></td><td>${modeBadge(t, r.mode)}</td>
<td>${stateBadge(t, r.batchState as never)}</td><td class="num">${money(r.amountFen)}</td><td>${r.reason}</td>
<td>${resultBadge(t, r.succeeded)} ${r.resultCode && r.resultCode !== 'SUCCESS' ? explainCode(t, lang, r.resultCode, { advice: false }) : ''}</td>
<td>${when(r.createdAt)}</td><td>${when(r.finishedAt)}</td></tr>`,
          )
    }</tbody></table></div></div>`;
    return render(c, { title: t.tradeTitle, active: 'trades', body });
  });

  con.post('/refunds/preview', async (c) => {
    const form = await readForm(c);
    const sel = await selection(c, form);
    if (sel.tradeNos.length === 0) return c.redirect('/trades?msg=none', 303);
    return renderPreview(c, sel, await computePreview(c, sel));
  });

  con.post('/refunds', async (c) => {
    const { services } = c.get('ctx');
    const form = await readForm(c);
    const sel = await selection(c, form);
    if (sel.tradeNos.length === 0) return c.redirect('/trades', 303);
    if (sel.localIssues.length > 0) return renderPreview(c, sel, await computePreview(c, sel), 422);
    const res = await services.refunds.createBatches(sel.items, {
      mode: sel.mode,
      batchSize: sel.batchSize,
      actor: actorOf(c),
      queue: sel.mode === 'nopwd',
    });
    if (res.issues.length > 0) {
      const preview = await computePreview(c, sel);
      return renderPreview(c, sel, { ...preview, issues: res.issues }, 422, {
        kind: 'error',
        text: c.get('t').notCreated,
      });
    }
    const batchNos = res.batches.map((b) => b.batchNo);
    if (sel.mode === 'pwd' && batchNos.length === 1) return submitPwd(c, batchNos[0]!);
    if (sel.mode === 'nopwd') await tickQueue(c.get('ctx'));
    if (batchNos.length === 1) return c.redirect(`/batches/${batchNos[0]}?msg=created`, 303);
    return c.redirect(`/batches?created=${batchNos.join(',')}`, 303);
  });
}

interface Selection {
  tradeNos: string[];
  trades: Map<string, TradeView>;
  mode: RefundMode;
  batchSize: number;
  /** What the operator typed, for redisplay. */
  amountText: Map<string, string>;
  reason: Map<string, string>;
  items: RefundItem[];
  /** Amounts that are not yuan amounts (index = item index). */
  localIssues: ItemIssue[];
}

/** Reads the picked trades, amounts (default: the full refundable amount), reasons, mode and batch size. */
async function selection(c: CCtx, form: Form): Promise<Selection> {
  const { services, settings } = c.get('ctx');
  const t = c.get('t');
  const tradeNos = [...new Set(form.all('t').map((s) => s.trim()))]
    .filter((s) => TRADE_NO_RE.test(s))
    .slice(0, MAX_PICK);
  const trades = await services.trades.getMany(tradeNos);
  const mode: RefundMode = form.str('mode') === 'nopwd' ? 'nopwd' : 'pwd';
  const sizeText = form.str('batch_size');
  const batchSize = /^\d{1,4}$/.test(sizeText)
    ? Math.min(MAX_BATCH_RECORDS, Math.max(1, Number(sizeText)))
    : settings.batchSize;
  const reasonAll = form.str('reason_all');
  const amountText = new Map<string, string>();
  const reason = new Map<string, string>();
  const localIssues: ItemIssue[] = [];
  const items = tradeNos.map((no, index): RefundItem => {
    const typed = form.all(`amount.${no}`)[0];
    const text =
      typed !== undefined ? typed.trim().replace(/^¥/, '') : formatYuan(trades.get(no)?.refundableFen ?? 0);
    amountText.set(no, text);
    const r = (form.all(`reason.${no}`)[0] ?? reasonAll).trim();
    reason.set(no, r);
    const fen = parseYuan(text);
    if (fen === null) {
      localIssues.push({ index, field: 'amount', code: 'INVALID_AMOUNT', message: t.notAYuanAmount(text) });
    }
    return { tradeNo: no, amountFen: fen ?? 0, reason: r };
  });
  return { tradeNos, trades, mode, batchSize, amountText, reason, items, localIssues };
}

async function computePreview(c: CCtx, sel: Selection): Promise<PreviewResult> {
  const { services } = c.get('ctx');
  const res = await services.refunds.preview(sel.items, { mode: sel.mode, batchSize: sel.batchSize });
  const bad = new Set(sel.localIssues.map((i) => i.index));
  const issues = [
    ...sel.localIssues,
    ...res.issues.filter((i) => !(bad.has(i.index) && i.field === 'amount')),
  ];
  issues.sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
  return { batches: res.batches, issues };
}

function cellIssues(t: Dict, lang: Lang, issues: readonly ItemIssue[]): Html | '' {
  if (issues.length === 0) return '';
  return h`<ul class="cell-issues">${issues.map((i) => h`<li>${explainCode(t, lang, i.code, { advice: false })}</li>`)}</ul>`;
}

function renderPreview(
  c: CCtx,
  sel: Selection,
  preview: PreviewResult,
  status = 200,
  flash: Flash | null = null,
): Response {
  const t = c.get('t');
  const lang = c.get('lang');
  const byIndex = new Map<number, ItemIssue[]>();
  for (const i of preview.issues) {
    if (i.index !== null) byIndex.set(i.index, [...(byIndex.get(i.index) ?? []), i]);
  }
  const totalFen = sel.items.reduce((s, it) => s + it.amountFen, 0);
  const ok = preview.issues.length === 0;
  const body = h`<form method="post" action="/refunds/preview" id="preview-form">
${csrf(c)}
<div class="kpis">
<div class="kpi"><div class="label">${t.tradesSelected}</div><div class="value" id="preview-count">${sel.items.length}</div></div>
<div class="kpi"><div class="label">${t.totalRefund}</div><div class="value">${formatYuan(totalFen)}</div><div class="sub">${t.yuan}</div></div>
<div class="kpi"><div class="label">${t.batchesPlanned}</div><div class="value" id="preview-batches">${preview.batches.length}</div><div class="sub">${t.batchSizeIs(sel.batchSize)}</div></div>
<div class="kpi${ok ? '' : ' warn'}"><div class="label">${t.issues}</div><div class="value" id="preview-issue-count">${preview.issues.length}</div></div>
</div>
<div class="card">
<div class="card-head"><h2>${t.refundItems}</h2><span class="muted small">${t.itemsHint}</span></div>
<div class="table-wrap"><table id="preview-items">
<thead><tr><th class="num">#</th><th>${t.tradeNo}</th><th>${t.outTradeNo}</th><th class="num">${t.paid}</th><th class="num">${t.refunded}</th><th class="num">${t.refundable}</th><th>${t.refundAmount}</th><th>${t.reason}</th></tr></thead>
<tbody>
${sel.tradeNos.map((no, index) => {
  const tr = sel.trades.get(no);
  const its = byIndex.get(index) ?? [];
  return h`<tr${its.length > 0 ? h` class="row-bad"` : ''} data-trade="${no}">
<td class="num">${index + 1}</td>
<td><input type="hidden" name="t" value="${no}"><a class="mono" href="/trades/${no}">${no}</a>${cellIssues(t, lang, its)}</td>
<td class="mono">${tr?.outTradeNo ?? '—'}</td>
<td class="num">${tr ? money(tr.paidFen) : '—'}</td>
<td class="num">${tr ? money(tr.refundedFen) : '—'}</td>
<td class="num">${tr ? money(tr.refundableFen) : '—'}</td>
<td><input class="amount" type="text" inputmode="decimal" name="amount.${no}" value="${sel.amountText.get(no) ?? ''}" aria-label="${t.refundAmount} ${no}"></td>
<td><input class="reason" type="text" name="reason.${no}" value="${sel.reason.get(no) ?? ''}" maxlength="80" aria-label="${t.reason} ${no}"></td>
</tr>`;
})}
</tbody></table></div>
</div>
${
  preview.issues.length > 0
    ? h`<div class="card" id="preview-issues"><h2>${t.validationIssues}</h2><p class="muted">${t.issuesHint}</p>
${issueList(
  t,
  lang,
  preview.issues.map((i) => ({
    record: i.index === null ? null : i.index + 1,
    label: i.index === null ? undefined : sel.tradeNos[i.index],
    field: i.field,
    code: i.code,
    message: i.message,
  })),
)}</div>`
    : ''
}
<div class="card">
<h2>${t.submission}</h2>
<div class="form-row"><div class="radio-group" role="radiogroup" aria-label="${t.mode}">
<label><input type="radio" name="mode" value="pwd"${sel.mode === 'pwd' ? ' checked' : ''}><span>${t.modePwd}<span class="hint">${t.modePwdHint}</span></span></label>
<label><input type="radio" name="mode" value="nopwd"${sel.mode === 'nopwd' ? ' checked' : ''}><span>${t.modeNopwd}<span class="hint">${t.modeNopwdHint}</span></span></label>
</div></div>
<div class="form-row"><label for="batch_size">${t.batchSize}</label>
<input type="number" id="batch_size" name="batch_size" min="1" max="${MAX_BATCH_RECORDS}" value="${sel.batchSize}">
<div class="hint">${t.batchSizeHint}</div></div>
<div class="actions">
<button type="submit" class="btn" formaction="/refunds/preview" id="update-preview">${t.updatePreview}</button>
<button type="submit" class="btn btn-primary" formaction="/refunds" id="submit-refund"${ok ? '' : ' disabled'} data-confirm="${t.confirmSubmit}">${t.submitRefund}</button>
<a class="btn btn-ghost" href="/trades">${t.backToTrades}</a>
</div>
${ok ? '' : h`<p class="muted small">${t.fixIssuesFirst}</p>`}
</div>
<div class="card" id="preview-batches-card">
<h2>${t.batchSplit}</h2>
<p class="muted small">${t.batchNoAssigned}</p>
${preview.batches.map(
  (b, k) => h`<div class="batch-plan" data-batch="${k + 1}">
<h3>${t.batchKOfN(k + 1, preview.batches.length)} · ${t.nRecords(b.recordCount)} · ${formatYuan(b.totalFen)} ${t.yuan}</h3>
<div class="muted small">batch_num = ${b.recordCount} · detail_data:</div>
<pre class="detail-data">${b.detailData}</pre></div>`,
)}
</div>
</form>`;
  return render(c, { title: t.previewTitle, active: 'trades', body, flash }, status);
}
