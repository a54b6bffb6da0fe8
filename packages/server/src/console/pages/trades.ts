/**
 * Trades: the list (search, filters, pagination, refundable amounts, checkboxes), a trade's page, and the
 * refund flow: pick → preview (detail_data, issues by record, the split into batches, royalty pull-backs for
 * nopwd) → create and submit (pwd: the auto-submit form to the gateway; nopwd: the server sends it, then the
 * batch page).
 *
 * Picks survive paging and searching: the list is one POST form whose search and pager buttons go through
 * `POST /trades/pick`, which stores the ticks of the page in the session (`srv_session_picks`) and redirects
 * to the list asked for; the preview of the list (`from=list`) takes every pick of the session.
 */
import { formatYuan, MAX_BATCH_RECORDS, parseYuan, type RoyaltyItem, TRADE_NO_RE } from '@alirefund/protocol';
import type { Hono } from 'hono';
import type { RefundMode } from '../../db.js';
import type { ItemIssue } from '../../errors.js';
import type { PreviewResult, RefundItem } from '../../services/refunds.js';
import type { TradeView } from '../../services/trades.js';
import { actorOf, type CCtx, type ConsoleEnv, enumQuery, type Form, intQuery, readForm } from '../env.js';
import type { Dict, Lang } from '../i18n.js';
import {
  csrf,
  displayYuan,
  explainCode,
  type Flash,
  h,
  type Html,
  href,
  issueList,
  modeBadge,
  money,
  render,
  resultBadge,
  stateBadge,
  tradeBadge,
  when,
} from '../ui.js';
import { exportLinks } from '../export.js';
import { lastAttemptNotice } from './failed.js';
import { pickPager } from './pick-pager.js';
import { dateFields, dateFilter } from '../date-filter.js';
import { submitPwd, tickQueue } from './batches.js';

const STATUS_FILTERS = ['refundable', 'paid', 'partially_refunded', 'fully_refunded'] as const;
const PAGE_SIZES = [20, 50, 100, 200] as const;
/** Most trades one preview takes (the largest batch). */
const MAX_PICK = MAX_BATCH_RECORDS;

function royaltyText(t: TradeView): string {
  return t.royalties.map((r) => `${r.account ?? r.userId ?? '?'} ${displayYuan(r.amountFen)}`).join('; ');
}

/** A `2088…` Alipay user id (else the text is taken as an account email). */
const USER_ID_RE = /^2088\d{12}$/;

/** Where royalties go back to by default: the configured seller, else the partner (decision 11). */
function defaultRoyaltyTo(c: CCtx): string {
  const a = c.get('ctx').settings.alipay;
  return a.sellerUserId ?? a.sellerEmail ?? a.partner;
}

/** The session token of a protected route (the middleware guarantees it). */
function tokenOf(c: CCtx): string {
  const token = c.get('sessionToken');
  if (!token) throw new TypeError('trades: route is not protected');
  return token;
}

/** The list's state (search, filters, page size, page) as it comes back in the pick form. */
function listParams(form: Form): Record<string, string | undefined> {
  const status = form.str('status');
  const royalty = form.str('royalty');
  const size = form.str('size');
  return {
    q: form.str('q').slice(0, 100),
    status: (STATUS_FILTERS as readonly string[]).includes(status) ? status : undefined,
    royalty: royalty === 'yes' || royalty === 'no' ? royalty : undefined,
    size: (PAGE_SIZES as readonly number[]).map(String).includes(size) && size !== '50' ? size : undefined,
    // The day inputs are `day_from` / `day_to` in this form (its `from` says where a preview comes from).
    from: form.str('day_from').slice(0, 40),
    to: form.str('day_to').slice(0, 40),
  };
}

/** Stores the ticks of one list page: ticked trades are added, the page's unticked ones removed. */
async function savePageTicks(c: CCtx, form: Form): Promise<{ picks: string[]; refused: number }> {
  const valid = (xs: string[]) => [...new Set(xs.map((x) => x.trim()).filter((x) => TRADE_NO_RE.test(x)))];
  const ticked = valid(form.all('t'));
  const tickedSet = new Set(ticked);
  const unticked = valid(form.all('shown')).filter((x) => !tickedSet.has(x));
  return c.get('ctx').services.sessions.updatePicks(tokenOf(c), { add: ticked, remove: unticked }, MAX_PICK);
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
    const days = dateFilter(c);
    const list = await services.trades.list({
      ...days.range,
      ...(q !== '' ? { q } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(royalty !== undefined ? { hasRoyalty: royalty === 'yes' } : {}),
      page: pageNo,
      pageSize: size,
    });
    const picks = await services.sessions.picks(tokenOf(c));
    const picked = new Set(picks);
    const onPage = new Set(list.items.map((tr) => tr.tradeNo));
    const elsewhere = picks.filter((no) => !onPage.has(no)).length;
    const msg = c.req.query('msg');
    const refused = intQuery(c, 'n', 0, MAX_PICK * 10);
    const flash: Flash | null =
      days.flash ??
      (msg === 'none'
        ? { kind: 'warn', text: t.pickNone }
        : msg === 'cleared'
          ? { kind: 'ok', text: t.picksCleared }
          : msg === 'limit' && refused > 0
            ? { kind: 'warn', text: t.pickLimit(MAX_PICK, refused) }
            : null);
    const body = h`<form method="post" action="/refunds/preview" id="pick-form" data-picks-base="${elsewhere}">
${csrf(c)}
<input type="hidden" name="from" value="list">
<input type="hidden" name="page" value="${list.page}">
<div class="toolbar" role="search">
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
${dateFields(t, days, t.fl.tradesDayHint, { from: 'day_from', to: 'day_to' })}
<button type="submit" class="btn" name="go" value="search" formaction="/trades/pick" formnovalidate id="search-button">${t.search}</button>
${exportLinks(t, 'trades', { q, status, royalty, from: days.from, to: days.to })}
${q !== '' || status || royalty || days.from || days.to ? h`<button type="submit" class="btn btn-ghost" name="go" value="reset" formaction="/trades/pick" formnovalidate>${t.clear}</button>` : ''}
</div>
<div class="picks-bar${picks.length === 0 ? ' muted' : ''}" id="picks-bar" data-picks="${picks.length}">
<span>${t.picksSelected} <strong data-selected-count id="picks-count">${picks.length}</strong> ${t.picksKept}${elsewhere > 0 ? h` · <span id="picks-elsewhere">${t.picksElsewhere(elsewhere)}</span>` : ''}</span>
${picks.length > 0 ? h`<button type="submit" class="btn btn-ghost btn-small" name="go" value="clear" formaction="/trades/pick" formnovalidate id="clear-picks">${t.clearPicks}</button>` : ''}
</div>
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
        const on = picked.has(tr.tradeNo);
        return h`<tr data-trade="${tr.tradeNo}"${on ? h` data-picked="1"` : ''}>
<td class="check">${pickable ? h`<input type="hidden" name="shown" value="${tr.tradeNo}">` : ''}<input type="checkbox" name="t" value="${tr.tradeNo}" data-pick aria-label="${t.pick} ${tr.tradeNo}"${on ? ' checked' : ''}${pickable ? '' : ' disabled'}></td>
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
${pickPager(t, list)}
<div class="card actions-card">
<div class="toolbar">
<div class="field grow"><label for="reason_all">${t.reasonForAll}</label>
<input type="text" id="reason_all" name="reason_all" maxlength="80" placeholder="${t.reasonPlaceholder}" data-enter="preview-button"></div>
<button type="submit" class="btn btn-primary" id="preview-button"><span>${t.previewRefund} (<span data-selected-count>0</span>)</span></button>
</div>
<p class="muted small">${t.pickHint}</p>
</div>
</form>`;
    return render(c, { title: t.nav.trades, active: 'trades', body, flash }, days.flash ? 400 : 200);
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
${lastAttemptNotice(t, lang, refunds)}
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

  con.post('/trades/pick', async (c) => {
    const form = await readForm(c);
    const params = listParams(form);
    const go = form.str('go');
    if (go === 'clear') {
      await c.get('ctx').services.sessions.clearPicks(tokenOf(c));
      return c.redirect(href('/trades', { ...params, msg: 'cleared' }), 303);
    }
    const { refused } = await savePageTicks(c, form);
    const to = /^page:(\d{1,9})$/.exec(go);
    const target =
      go === 'reset'
        ? { size: params.size }
        : {
            ...params,
            page: to ? Math.max(1, Number(to[1])) : go === 'search' ? undefined : form.str('page'),
          };
    return c.redirect(
      href('/trades', { ...target, ...(refused > 0 ? { msg: 'limit', n: refused } : {}) }),
      303,
    );
  });

  con.post('/refunds/preview', async (c) => {
    const form = await readForm(c);
    let flash: Flash | null = null;
    if (form.str('from') === 'list') {
      const { refused } = await savePageTicks(c, form);
      if (refused > 0) flash = { kind: 'warn', text: c.get('t').pickLimit(MAX_PICK, refused) };
    }
    const sel = await selection(c, form);
    if (sel.dropped.length > 0 && sel.fromPicks) {
      await c.get('ctx').services.sessions.clearPicks(tokenOf(c), sel.dropped);
    }
    if (sel.tradeNos.length === 0) return c.redirect('/trades?msg=none', 303);
    return renderPreview(c, sel, await computePreview(c, sel), 200, flash);
  });

  con.post('/refunds', async (c) => {
    const { services } = c.get('ctx');
    const form = await readForm(c);
    const sel = await selection(c, form);
    if (sel.dropped.length > 0 && sel.fromPicks) {
      await services.sessions.clearPicks(tokenOf(c), sel.dropped);
    }
    if (sel.tradeNos.length === 0) return c.redirect('/trades', 303);
    // Rows ticked "remove": show the preview without them rather than create something not previewed.
    if (sel.dropped.length > 0) return renderPreview(c, sel, await computePreview(c, sel));
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
    // The refunded trades leave the session's picks (the others stay for the next preview).
    await services.sessions.clearPicks(tokenOf(c), sel.tradeNos);
    if (sel.mode === 'pwd' && batchNos.length === 1) return submitPwd(c, batchNos[0]!);
    if (sel.mode === 'nopwd') await tickQueue(c.get('ctx'));
    if (batchNos.length === 1) return c.redirect(`/batches/${batchNos[0]}?msg=created`, 303);
    return c.redirect(`/batches?created=${batchNos.join(',')}`, 303);
  });
}

/** The royalty pull-back of one trade as the operator set it (for redisplay). */
interface RoyaltyChoice {
  /** Where the royalties go back to (email or 2088 user id). */
  to: string;
  /** One per royalty part of the trade, in the trade's order. */
  parts: { included: boolean; amountText: string }[];
}

interface Selection {
  tradeNos: string[];
  trades: Map<string, TradeView>;
  mode: RefundMode;
  batchSize: number;
  /** The selection is the session's picks (the preview form says so to itself). */
  fromPicks: boolean;
  /** Trades ticked "remove" in the preview (left out of `tradeNos`). */
  dropped: string[];
  /** What the operator typed, for redisplay. */
  amountText: Map<string, string>;
  reason: Map<string, string>;
  royalty: Map<string, RoyaltyChoice>;
  items: RefundItem[];
  /** Amounts that are not yuan amounts, royalty amounts above their part (index = item index). */
  localIssues: ItemIssue[];
}

/**
 * Reads the picked trades (the session's picks when the list or a picks preview asks; else the form's `t`),
 * amounts (default: the full refundable amount), reasons, royalty pull-backs, mode and batch size.
 */
async function selection(c: CCtx, form: Form): Promise<Selection> {
  const { services, settings } = c.get('ctx');
  const t = c.get('t');
  const from = form.str('from');
  const fromPicks = from === 'list' || (from === 'preview' && form.str('picks') === '1');
  const drop = new Set(form.all('drop').map((s) => s.trim()));
  const asked =
    from === 'list' ? await services.sessions.picks(tokenOf(c)) : form.all('t').map((s) => s.trim());
  // A pick may name its trade by merchant order number (商户订单号): resolved through the store.
  const refs = await services.trades.resolveRefs(asked.filter((s) => s !== '' && !TRADE_NO_RE.test(s)));
  const unique = [
    ...new Set(
      asked.map((s) => {
        const r = refs.get(s);
        return r && 'tradeNo' in r ? r.tradeNo : s;
      }),
    ),
  ].filter((s) => TRADE_NO_RE.test(s));
  const dropped = unique.filter((s) => drop.has(s));
  const tradeNos = unique.filter((s) => !drop.has(s)).slice(0, MAX_PICK);
  const trades = await services.trades.getMany(tradeNos);
  const mode: RefundMode = form.str('mode') === 'nopwd' ? 'nopwd' : 'pwd';
  const sizeText = form.str('batch_size');
  const batchSize = /^\d{1,4}$/.test(sizeText)
    ? Math.min(MAX_BATCH_RECORDS, Math.max(1, Number(sizeText)))
    : settings.batchSize;
  const reasonAll = form.str('reason_all');
  const amountText = new Map<string, string>();
  const reason = new Map<string, string>();
  const royalty = new Map<string, RoyaltyChoice>();
  const localIssues: ItemIssue[] = [];
  const items = tradeNos.map((no, index): RefundItem => {
    const trade = trades.get(no);
    const typed = form.all(`amount.${no}`)[0];
    const text = typed !== undefined ? typed.trim().replace(/^¥/, '') : formatYuan(trade?.refundableFen ?? 0);
    amountText.set(no, text);
    const r = (form.all(`reason.${no}`)[0] ?? reasonAll).trim();
    reason.set(no, r);
    const fen = parseYuan(text);
    if (fen === null) {
      localIssues.push({ index, field: 'amount', code: 'INVALID_AMOUNT', message: t.notAYuanAmount(text) });
    }
    const item: RefundItem = { tradeNo: no, amountFen: fen ?? 0, reason: r };
    if (trade && trade.royalties.length > 0) {
      // The parts come from the trade (who received how much); the form only says which, how much, and to whom.
      const ticked = new Set(form.all(`roy.${no}`));
      const to = (form.all(`roy_to.${no}`)[0] ?? defaultRoyaltyTo(c)).trim().slice(0, 100);
      const choice: RoyaltyChoice = { to, parts: [] };
      const pulled: RoyaltyItem[] = [];
      trade.royalties.forEach((part, k) => {
        const included = ticked.has(String(k));
        const typedPart = form.all(`roy_amount.${no}.${k}`)[0];
        const partText =
          typedPart !== undefined ? typedPart.trim().replace(/^¥/, '') : formatYuan(part.amountFen);
        choice.parts.push({ included, amountText: partText });
        if (!included) return;
        const field = `royalties[${pulled.length}].amount`;
        const partFen = parseYuan(partText);
        if (partFen === null) {
          localIssues.push({ index, field, code: 'INVALID_AMOUNT', message: t.notAYuanAmount(partText) });
        } else if (partFen > part.amountFen) {
          localIssues.push({
            index,
            field,
            code: 'ROYALTY_EXCEEDS_PART',
            message: `${displayYuan(partFen)} > ${displayYuan(part.amountFen)} (${part.account ?? part.userId ?? '?'})`,
          });
        }
        pulled.push({
          outAccount: part.account ?? '',
          outUserId: part.userId ?? '',
          inAccount: USER_ID_RE.test(to) ? '' : to,
          inUserId: USER_ID_RE.test(to) ? to : '',
          amountFen: partFen ?? 0,
          reason: r,
        });
      });
      royalty.set(no, choice);
      if (pulled.length > 0) item.royalties = pulled;
    }
    return item;
  });
  return {
    tradeNos,
    trades,
    mode,
    batchSize,
    fromPicks,
    dropped,
    amountText,
    reason,
    royalty,
    items,
    localIssues,
  };
}

async function computePreview(c: CCtx, sel: Selection): Promise<PreviewResult> {
  const { services } = c.get('ctx');
  const res = await services.refunds.preview(sel.items, { mode: sel.mode, batchSize: sel.batchSize });
  // A local issue (a bad amount) stands for what the service then says about the same field.
  const bad = new Set(sel.localIssues.map((i) => `${i.index}|${i.field}`));
  const issues = [...sel.localIssues, ...res.issues.filter((i) => !bad.has(`${i.index}|${i.field}`))];
  issues.sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
  return { batches: res.batches, issues };
}

function cellIssues(t: Dict, lang: Lang, issues: readonly ItemIssue[]): Html | '' {
  if (issues.length === 0) return '';
  return h`<ul class="cell-issues">${issues.map((i) => h`<li>${explainCode(t, lang, i.code, { advice: false })}</li>`)}</ul>`;
}

/** The royalty parts of a trade under its preview row: which to pull back, how much, and to whom. */
function royaltyRow(t: Dict, tr: TradeView, choice: RoyaltyChoice): Html {
  const no = tr.tradeNo;
  return h`<tr class="royalty-row" data-royalty-for="${no}"><td></td><td colspan="8">
<div class="royalty-box"><div class="royalty-head"><strong>${t.royaltyBack}</strong> <span class="muted small">${t.royaltyBackHint}</span></div>
<table class="royalty-parts"><thead><tr><th class="check">${t.royaltyInclude}</th><th>${t.royaltyFrom}</th><th class="num">${t.royaltyOriginal}</th><th>${t.royaltyAmount}</th></tr></thead>
<tbody>${tr.royalties.map((part, k) => {
    const ch = choice.parts[k];
    const who = part.account ?? part.userId ?? '?';
    return h`<tr data-part="${k}"><td class="check"><input type="checkbox" name="roy.${no}" value="${k}"${ch?.included ? ' checked' : ''} aria-label="${t.royaltyInclude} ${who}"></td>
<td class="mono">${who}</td><td class="num">${money(part.amountFen)}</td>
<td><input class="amount" type="text" inputmode="decimal" name="roy_amount.${no}.${k}" value="${ch?.amountText ?? formatYuan(part.amountFen)}" aria-label="${t.royaltyAmount} ${who}"></td></tr>`;
  })}</tbody></table>
<div class="royalty-to"><label for="roy_to.${no}">${t.royaltyTo}</label> <input type="text" id="roy_to.${no}" name="roy_to.${no}" value="${choice.to}" maxlength="100"> <span class="muted small">${t.royaltyToHint}</span></div>
</div></td></tr>`;
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
  // Only valid rows count (issue 13 point 10): a sum with rejected amounts in it would mislead.
  const totalFen = sel.items.reduce((s, it, k) => s + (byIndex.has(k) ? 0 : it.amountFen), 0);
  const royaltyFen = sel.items.reduce(
    (s, it) => s + (it.royalties ?? []).reduce((x, y) => x + y.amountFen, 0),
    0,
  );
  const withRoyalty = sel.items.some((it) => (it.royalties ?? []).length > 0);
  const ok = preview.issues.length === 0;
  const body = h`<form method="post" action="/refunds/preview" id="preview-form">
${csrf(c)}
<input type="hidden" name="from" value="preview">
${sel.fromPicks ? h`<input type="hidden" name="picks" value="1">` : ''}
<div class="kpis">
<div class="kpi"><div class="label">${t.tradesSelected}</div><div class="value" id="preview-count">${sel.items.length}</div></div>
<div class="kpi"><div class="label">${t.totalRefund}</div><div class="value" id="preview-total">${displayYuan(totalFen)}</div><div class="sub">${byIndex.size > 0 ? t.tr.totalExcludes(byIndex.size) : t.yuan}</div></div>
${withRoyalty ? h`<div class="kpi"><div class="label">${t.royaltyTotal}</div><div class="value" id="preview-royalty-total">${displayYuan(royaltyFen)}</div><div class="sub">${t.yuan}</div></div>` : ''}
<div class="kpi"><div class="label">${t.batchesPlanned}</div><div class="value" id="preview-batches">${preview.batches.length}</div><div class="sub">${t.batchSizeIs(sel.batchSize)}</div></div>
<div class="kpi${ok ? '' : ' warn'}"><div class="label">${t.issues}</div><div class="value" id="preview-issue-count">${preview.issues.length}</div></div>
</div>
<div class="card">
<div class="card-head"><h2>${t.refundItems}</h2><span class="muted small">${t.itemsHint}</span></div>
<div class="table-wrap"><table id="preview-items">
<thead><tr><th class="num">#</th><th>${t.tradeNo}</th><th>${t.outTradeNo}</th><th class="num">${t.paid}</th><th class="num">${t.refunded}</th><th class="num">${t.refundable}</th><th>${t.refundAmount}</th><th>${t.reason}</th><th></th></tr></thead>
<tbody>
${sel.tradeNos.map((no, index) => {
  const tr = sel.trades.get(no);
  const its = byIndex.get(index) ?? [];
  const choice = sel.royalty.get(no);
  return h`<tr${its.length > 0 ? h` class="row-bad"` : ''} data-trade="${no}">
<td class="num">${index + 1}</td>
<td><input type="hidden" name="t" value="${no}"><a class="mono" href="/trades/${no}">${no}</a>${cellIssues(t, lang, its)}</td>
<td class="mono">${tr?.outTradeNo ?? '—'}</td>
<td class="num">${tr ? money(tr.paidFen) : '—'}</td>
<td class="num">${tr ? money(tr.refundedFen) : '—'}</td>
<td class="num">${tr ? money(tr.refundableFen) : '—'}</td>
<td><input class="amount" type="text" inputmode="decimal" name="amount.${no}" value="${sel.amountText.get(no) ?? ''}" aria-label="${t.refundAmount} ${no}"></td>
<td><input class="reason" type="text" name="reason.${no}" value="${sel.reason.get(no) ?? ''}" maxlength="80" aria-label="${t.reason} ${no}"></td>
<td><label class="drop nowrap" title="${t.removeTrade(no)}"><input type="checkbox" name="drop" value="${no}" aria-label="${t.removeTrade(no)}"> ${t.removeFromSelection}</label></td>
</tr>${tr && choice ? royaltyRow(t, tr, choice) : ''}`;
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
${
  withRoyalty && sel.mode === 'pwd'
    ? h`<div class="flash flash-error" role="alert" id="royalty-pwd-warning">${explainCode(t, lang, 'PWD_REFUND_NOT_ALLOW_ROYALTY', { advice: false })}<br>${t.royaltyPwdWarning}</div>`
    : ''
}
<div class="form-row"><div class="radio-group" role="radiogroup" aria-label="${t.mode}">
<label><input type="radio" name="mode" value="pwd"${sel.mode === 'pwd' ? ' checked' : ''}><span>${t.modePwd}<span class="hint">${t.modePwdHint}</span></span></label>
<label><input type="radio" name="mode" value="nopwd"${sel.mode === 'nopwd' ? ' checked' : ''}><span>${t.modeNopwd}<span class="hint">${t.modeNopwdHint}</span></span></label>
</div></div>
<div class="form-row"><label for="batch_size">${t.batchSize}</label>
<input type="number" id="batch_size" name="batch_size" min="1" max="${MAX_BATCH_RECORDS}" value="${sel.batchSize}">
<div class="hint">${t.batchSizeHint}</div></div>
<div class="actions">
<button type="submit" class="btn" formaction="/refunds/preview" id="update-preview">${t.updatePreview}</button>
<button type="submit" class="btn btn-primary" formaction="/refunds" id="submit-refund"${ok ? '' : ' disabled'} data-confirm="${t.tr.confirmSubmitN(sel.items.length, displayYuan(totalFen))}">${t.submitRefund}</button>
<a class="btn btn-ghost" href="/trades">${t.backToTrades}</a>
</div>
${ok ? '' : h`<p class="muted small">${t.fixIssuesFirst}</p>`}
</div>
<div class="card" id="preview-batches-card">
<h2>${t.batchSplit}</h2>
<p class="muted small">${t.batchNoAssigned}</p>
${preview.batches.map(
  (b, k) => h`<div class="batch-plan" data-batch="${k + 1}">
<h3>${t.batchKOfN(k + 1, preview.batches.length)} · ${t.nRecords(b.recordCount)}${ok ? h` · ${displayYuan(b.totalFen)} ${t.yuan}` : ''}</h3>
<div class="muted small">batch_num = ${b.recordCount} · detail_data:</div>
${b.detailData !== '' ? h`<pre class="detail-data">${b.detailData}</pre>` : h`<p class="muted detail-data-pending">${t.tr.detailDataAfterFix}</p>`}</div>`,
)}
</div>
</form>`;
  return render(c, { title: t.previewTitle, active: 'trades', body, flash }, status);
}
