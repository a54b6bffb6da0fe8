/**
 * Batches: the list (filters, search, the batches just created), a batch's page (state timeline, per-record
 * results with the code explained, every notification with its verdict, the event log) and its actions
 * (submit pwd, queue nopwd, cancel, resolve; approve or reject one awaiting approval, services/approval.ts).
 * Buttons show only for roles that may use them (auth/roles.ts).
 */
import type { Hono } from 'hono';
import type { ConsoleContext } from '../../context.js';
import { BATCH_STATES as STATES, type BatchState, type RefundMode } from '../../db.js';
import { ServiceError } from '../../errors.js';
import { RECONCILE_STATES, type ReconcileAttempt } from '../../services/reconcile.js';
import type { BatchDetail, BatchSummary, Resolution } from '../../services/refunds.js';
import { ownerOf } from '../../services/approval.js';
import { GATEWAY_TIMEOUT_MS } from '../../services/submission.js';
import { actorOf, type CCtx, type ConsoleEnv, enumQuery, intQuery, readForm, sessionOf } from '../env.js';
import { exportLinks } from '../export.js';
import { dateFields, dateFilter } from '../date-filter.js';
import type { Dict, Lang } from '../i18n.js';
import { batchFinal, batchVersion, liveMarker } from '../live.js';
import { gatewayFormCsp, randomToken } from '../security.js';
import {
  can,
  csrf,
  actorName,
  displayYuan,
  duration,
  eventKind,
  eventMessage,
  explainCode,
  type Flash,
  h,
  type Html,
  modeBadge,
  money,
  pager,
  render,
  resultBadge,
  stateBadge,
  storedMessage,
  verdictBadge,
  when,
} from '../ui.js';
import { redoPanel } from './failed.js';

const BATCH_NO_RE = /^[0-9A-Za-z]{1,64}$/;

/** Runs the nopwd queue now and waits for it (bounded by the gateway timeout); errors are logged. */
export async function tickQueue(ctx: ConsoleContext): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ctx.services.submission.tick(),
      new Promise((r) => {
        timer = setTimeout(r, GATEWAY_TIMEOUT_MS + 2000);
      }),
    ]);
  } catch (err) {
    ctx.log.error({ err: err instanceof Error ? err.message : String(err) }, 'console: queue tick failed');
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * pwd: the signed auto-submit form for the operator's browser (from the submission service), with a CSP that
 * lets its one script run (nonce) and its form go to the gateway. When the partner is busy or the batch cannot
 * be submitted, the batch page with the reason.
 */
export async function submitPwd(c: CCtx, batchNo: string): Promise<Response> {
  const { services, settings } = c.get('ctx');
  const nonce = randomToken(16);
  try {
    const form = await services.submission.preparePwd(batchNo, actorOf(c), { lang: c.get('lang'), nonce });
    return c.html(form.html, 200, {
      'content-security-policy': gatewayFormCsp(nonce, settings.alipay.gateway),
      'cache-control': 'no-store',
    });
  } catch (err) {
    if (err instanceof ServiceError && err.code !== 'BATCH_NOT_FOUND') {
      return renderBatch(
        c,
        batchNo,
        { kind: 'error', text: h`${c.get('t').submitFailed} ${err.message}` },
        409,
      );
    }
    throw err;
  }
}

function batchRows(t: Dict, items: readonly BatchSummary[], withSubmit?: CCtx): Html {
  return h`<div class="table-wrap"><table class="batches-table">
<thead><tr><th>${t.batchNo}</th><th>${t.mode}</th><th>${t.batchStateCol}</th><th class="num">${t.records}</th><th class="num">${t.amount}</th>
<th class="num">${t.succeededCol}</th><th>${t.createdAt}</th><th>${t.submittedAt}</th><th>${t.finishedAt}</th><th>${t.createdBy}</th>${withSubmit ? h`<th></th>` : ''}</tr></thead>
<tbody>${
    items.length === 0
      ? h`<tr><td colspan="${withSubmit ? 11 : 10}" class="empty">${t.noBatches}</td></tr>`
      : items.map(
          (b) => h`<tr data-batch="${b.batchNo}">
<td><a class="mono" href="/batches/${b.batchNo}">${b.batchNo}</a>${b.groupSize > 1 ? h` <span class="muted small">${b.groupIndex}/${b.groupSize}</span>` : ''}</td>
<td>${modeBadge(t, b.mode)}</td><td>${stateBadge(t, b.state)}</td>
<td class="num">${b.recordCount}</td><td class="num">${money(b.totalFen)}</td>
<td class="num">${b.successNum === null ? h`<span class="muted">—</span>` : `${b.successNum} / ${b.recordCount}`}</td>
<td>${when(b.createdAt)}</td><td>${when(b.submittedAt)}</td><td>${when(b.finishedAt)}</td><td class="small">${b.createdBy}</td>
${
  withSubmit
    ? h`<td>${
        b.mode === 'pwd' && b.state === 'draft' && can(withSubmit, 'POST /batches/:batchNo/submit')
          ? h`<form method="post" action="/batches/${b.batchNo}/submit" class="inline">${csrf(withSubmit)}<button class="btn btn-primary btn-small" type="submit">${t.submitToAlipay}</button></form>`
          : ''
      }</td>`
    : ''
}
</tr>`,
        )
  }</tbody></table></div>`;
}

type StepClass = 'done' | 'current' | 'failed' | 'attention' | '';

function steps(t: Dict, b: BatchDetail): Html {
  const list: { label: string; at: string | null; cls: StepClass }[] = [];
  const add = (label: string, at: string | null) => list.push({ label, at, cls: at ? 'done' : '' });
  add(t.step.created, b.times.createdAt);
  if (b.mode === 'nopwd') add(t.step.queued, b.times.queuedAt);
  add(b.mode === 'pwd' ? t.step.submittedPwd : t.step.submitted, b.times.submittedAt);
  if (b.mode === 'nopwd' || b.times.acceptedAt) add(t.step.accepted, b.times.acceptedAt);
  const end: Partial<Record<BatchState, { label: string; at: string | null; cls: StepClass }>> = {
    rejected: { label: t.batchState.rejected, at: b.times.rejectedAt, cls: 'failed' },
    cancelled: { label: t.batchState.cancelled, at: b.times.cancelledAt, cls: 'failed' },
    needs_attention: { label: t.batchState.needs_attention, at: b.times.attentionAt, cls: 'attention' },
    resubmit_manually: { label: t.batchState.resubmit_manually, at: b.times.resolvedAt, cls: 'attention' },
  };
  const e = end[b.state];
  if (e) list.push(e);
  else {
    add(t.step.finished, b.times.finishedAt);
    if (b.state !== 'finished') {
      const last = [...list].reverse().find((s) => s.at !== null);
      if (last) last.cls = 'current';
    }
  }
  return h`<ol class="steps" aria-label="${t.stateTimeline}">${list.map(
    (s) => h`<li class="${s.cls}">${s.label}${s.at ? h`<span class="at">${when(s.at)}</span>` : ''}</li>`,
  )}</ol>`;
}

/** The approval panel: who prepared it, the decision (or the approve / reject forms for a second person). */
function approvalPanel(c: CCtx, b: BatchDetail): Html {
  if (!b.approval) return h``;
  const t = c.get('t');
  const a = t.approval;
  const me = c.get('session')?.operator;
  const mine = me !== undefined && b.createdBy === `operator:${me.username}`;
  const decide =
    b.state === 'awaiting_approval'
      ? !can(c, 'POST /batches/:batchNo/approve')
        ? h`<p class="muted">${a.cannotApprove}</p>`
        : mine
          ? h`<p class="muted" id="own-batch">${a.ownBatch}</p>`
          : h`<div class="actions"><form method="post" action="/batches/${b.batchNo}/approve" class="inline" data-confirm="${a.confirmApprove}">${csrf(c)}
<button type="submit" class="btn btn-primary" id="approve-batch">${a.approve}</button></form></div>
<form method="post" action="/batches/${b.batchNo}/reject" class="resolve-form" id="reject-form" data-confirm="${a.confirmReject}">${csrf(c)}
<div class="form-row"><label for="reject-reason">${a.reason}</label><input class="wide" type="text" id="reject-reason" name="reason" maxlength="300" required></div>
<button type="submit" class="btn btn-danger" id="reject-batch">${a.reject}</button></form>`
      : h``;
  return h`<div class="card" id="batch-approval" data-approval="${b.approval.status}"><h2>${a.status[b.approval.status]}</h2>
${b.state === 'awaiting_approval' ? h`<div class="flash flash-warn">${a.waiting}</div>` : ''}
<dl class="fields">
<div><dt>${a.preparedBy}</dt><dd class="small" id="prepared-by">${b.createdBy}</dd></div>
${b.approval.by ? h`<div><dt>${a.decidedBy}</dt><dd class="small" id="decided-by">${b.approval.by}</dd></div><div><dt>${a.decidedAt}</dt><dd>${when(b.approval.at)}</dd></div>` : ''}
${b.approval.reason ? h`<div><dt>${a.reason}</dt><dd id="reject-reason-shown">${b.approval.reason}</dd></div>` : ''}
</dl>${decide}</div>`;
}

function actions(c: CCtx, b: BatchDetail, inFlight: { batchNo: string | null; since: string | null }): Html {
  const t = c.get('t');
  if (!can(c, 'POST /batches/:batchNo/queue')) return h``;
  const parts: Html[] = [];
  if (b.state === 'draft' && b.mode === 'pwd') {
    parts.push(h`<form method="post" action="/batches/${b.batchNo}/submit" class="inline">${csrf(c)}
<button type="submit" class="btn btn-primary" id="submit-pwd">${t.submitToAlipay}</button></form>`);
  }
  if (b.state === 'draft' && b.mode === 'nopwd') {
    parts.push(h`<form method="post" action="/batches/${b.batchNo}/queue" class="inline">${csrf(c)}
<button type="submit" class="btn btn-primary">${t.queueNow}</button></form>`);
  }
  if (b.state === 'submitted' && b.mode === 'pwd' && !b.times.appliedAt) {
    parts.push(h`<form method="post" action="/batches/${b.batchNo}/submit" class="inline">${csrf(c)}
<button type="submit" class="btn">${t.reopenPwd}</button></form>`);
  }
  if (b.state === 'draft' || b.state === 'queued' || b.state === 'awaiting_approval') {
    parts.push(h`<form method="post" action="/batches/${b.batchNo}/cancel" class="inline" data-confirm="${t.confirmCancel}">${csrf(c)}
<button type="submit" class="btn btn-danger">${t.cancelBatch}</button></form>`);
  }
  const resolutions: Resolution[] =
    b.state === 'needs_attention'
      ? ['accepted', 'rejected', 'resubmit_manually']
      : (b.state === 'submitted' || b.state === 'accepted') && !b.times.appliedAt
        ? ['resubmit_manually']
        : [];
  const notes: Html[] = [];
  if (b.state === 'queued' && inFlight.batchNo && inFlight.batchNo !== b.batchNo) {
    notes.push(
      h`<p class="muted">${t.waitingFor} <a class="mono" href="/batches/${inFlight.batchNo}">${inFlight.batchNo}</a></p>`,
    );
  }
  if ((b.state === 'submitted' || b.state === 'accepted') && !b.times.appliedAt) {
    notes.push(h`<p class="muted">${t.waitingNotification}</p>`);
  }
  if (b.state === 'needs_attention')
    notes.push(h`<div class="flash flash-warn">${t.needsAttentionHelp}</div>`);
  const resolveForm =
    resolutions.length === 0
      ? ''
      : h`<form method="post" action="/batches/${b.batchNo}/resolve" class="resolve-form">${csrf(c)}
<h3>${t.resolveTitle}</h3>
<div class="radio-group">${resolutions.map(
          (r, i) =>
            h`<label><input type="radio" name="outcome" value="${r}"${i === 0 && resolutions.length === 1 ? ' checked' : ''} required><span>${t.resolution[r]}<span class="hint">${t.resolutionHint[r]}</span></span></label>`,
        )}</div>
<div class="form-row"><label for="note">${t.note}</label><input class="wide" type="text" id="note" name="note" maxlength="300"></div>
<button type="submit" class="btn" data-confirm="${t.confirmResolve}">${t.resolveButton}</button></form>`;
  if (parts.length === 0 && notes.length === 0 && resolveForm === '') return h``;
  return h`<div class="card" id="batch-actions"><h2>${t.actions}</h2>${notes}${
    parts.length > 0 ? h`<div class="actions">${parts}</div>` : ''
  }${resolveForm}</div>`;
}

/** The reconcile panel: the batch's refund_fastpay_query attempts and a "reconcile now" button. */
/**
 * A reconcile attempt in the page's language (its outcome's note); the stored English message is the detail: shown
 * in English, the tooltip of a marker in Chinese. An outcome without a note shows the message, marked untranslated.
 */
function attemptNote(t: Dict, lang: Lang, a: ReconcileAttempt): Html {
  const note = t.fl.reconcileNotes[a.outcome];
  if (note === undefined) return h`<span data-untranslated="1">${a.message}</span>`;
  return h`<span class="reconcile-note">${note}</span>${
    lang === 'en'
      ? h`<div class="small muted">${a.message}</div>`
      : h` <span class="stored-message" title="${a.message}" aria-label="${t.fl.reconcileDetail}">ⓘ</span>`
  }`;
}

function reconcilePanel(c: CCtx, b: BatchDetail, attempts: readonly ReconcileAttempt[]): Html {
  const t = c.get('t');
  const lang = c.get('lang');
  const r = t.reconcile;
  const open =
    RECONCILE_STATES.includes(b.state) && !b.times.appliedAt && can(c, 'POST /batches/:batchNo/reconcile');
  if (!open && attempts.length === 0) return h``;
  const wait = duration(c.get('ctx').settings.nextBatchWaitMs);
  return h`<div class="card" id="reconcile"><div class="card-head"><h2>${r.title}</h2>${
    open
      ? h`<form method="post" action="/batches/${b.batchNo}/reconcile" class="inline">${csrf(c)}<button type="submit" class="btn" id="reconcile-now">${r.now}</button></form>`
      : ''
  }</div>
<p class="muted small">${r.help(wait)}</p>
<div class="table-wrap"><table id="reconcile-attempts">
<thead><tr><th>${r.at}</th><th>${r.actor}</th><th>${r.outcome}</th><th>${r.message}</th></tr></thead>
<tbody>${
    attempts.length === 0
      ? h`<tr><td colspan="4" class="empty">${r.none}</td></tr>`
      : attempts.map(
          (a) => h`<tr data-outcome="${a.outcome}"><td>${when(a.at)}</td><td class="small">${a.actor}</td>
<td>${r.outcomes[a.outcome] ?? a.outcome}${a.code ? h` ${explainCode(t, lang, a.code, { advice: false })}` : ''}</td>
<td class="small">${attemptNote(t, lang, a)}${a.notificationId !== null ? h` <a href="/notifications/${a.notificationId}">#${a.notificationId}</a>` : ''}</td></tr>`,
        )
  }</tbody></table></div></div>`;
}

/** A batch's page. */
export async function renderBatch(
  c: CCtx,
  batchNo: string,
  flash: Flash | null = null,
  status = 200,
): Promise<Response> {
  const t = c.get('t');
  const lang = c.get('lang');
  const { services } = c.get('ctx');
  const b = await services.refunds.getBatch(batchNo);
  if (!b) throw new ServiceError('BATCH_NOT_FOUND', `no batch ${batchNo}`, 'batchNo');
  const inFlight = await services.submission.inFlight();
  const attempts = await services.reconcile.attempts(b.batchNo, 10);
  const msg = c.req.query('msg');
  const notice: Flash | null =
    flash ??
    (msg === 'created'
      ? { kind: 'ok', text: b.mode === 'pwd' ? t.createdPwd : t.createdNopwd }
      : msg === 'queued'
        ? { kind: 'ok', text: t.queuedNotice }
        : msg === 'cancelled'
          ? { kind: 'ok', text: t.cancelledNotice }
          : msg === 'resolved'
            ? { kind: 'ok', text: t.resolvedNotice }
            : msg === 'approved'
              ? { kind: 'ok', text: t.approval.approvedNotice }
              : msg === 'rejected'
                ? { kind: 'ok', text: t.approval.rejectedNotice }
                : msg === 'reconciled'
                  ? { kind: 'ok', text: t.reconcile.notice }
                  : null);
  // pwd: from Alipay's notify_time, not from the form (the operator's time on Alipay's page is not the delay).
  const delay = await services.dashboard.batchDelay(b.batchNo);
  const body = h`${liveMarker(t.work.live, `/live/batches/${b.batchNo}`, batchVersion(b), batchFinal(b))}<div class="card">
<div class="card-head"><h2><span class="mono" id="batch-no">${b.batchNo}</span></h2><span id="batch-state">${stateBadge(t, b.state)}</span></div>
${steps(t, b)}
<dl class="fields">
<div><dt>${t.mode}</dt><dd>${modeBadge(t, b.mode)}</dd></div>
<div><dt>${t.records}</dt><dd>${b.recordCount}</dd></div>
<div><dt>${t.amount}</dt><dd>${money(b.totalFen)} ${t.yuan}</dd></div>
<div><dt>${t.succeededCol}</dt><dd id="success-num">${b.successNum === null ? '—' : `${b.successNum} / ${b.recordCount}`}${b.successFen !== null ? h` · ${money(b.successFen)} ${t.yuan}` : ''}</dd></div>
<div><dt>refund_date</dt><dd class="mono">${b.refundDate}</dd></div>
<div><dt>${t.charset} · ${t.signType}</dt><dd class="mono">${b.charset} · ${b.signType}</dd></div>
<div><dt>${t.group}</dt><dd>${b.groupSize > 1 ? t.batchKOfN(b.groupIndex, b.groupSize) : '—'}</dd></div>
<div><dt>${t.createdBy}</dt><dd class="small">${b.createdBy}</dd></div>
<div><dt>${t.notifyLatency}</dt><dd id="notify-delay" data-from="${delay?.from ?? ''}">${duration(delay?.ms ?? null)}<div class="small muted">${b.mode === 'pwd' ? t.fl.delayPwd : t.fl.delayNopwd}</div></dd></div>
<div><dt>notify_url</dt><dd class="mono small">${b.notifyUrl ?? '—'}</dd></div>
</dl>
${
  b.gatewayCode
    ? h`<div class="flash ${b.state === 'rejected' ? 'flash-error' : 'flash-warn'}" id="gateway-code"><strong>${t.gatewayAnswer}:</strong> ${explainCode(t, lang, b.gatewayCode)}${storedMessage(t, lang, b.gatewayMessage, b.gatewayCode)}</div>`
    : ''
}
</div>
${approvalPanel(c, b)}
${actions(c, b, inFlight)}
${reconcilePanel(c, b, attempts)}
${redoPanel(c, b)}
<div class="card"><div class="card-head"><h2>${t.recordsTitle}</h2>${exportLinks(t, 'records', { batch_no: b.batchNo })}</div>
<div class="table-wrap"><table id="records-table">
<thead><tr><th class="num">#</th><th>${t.tradeNo}</th><th class="num">${t.amount}</th><th>${t.reason}</th><th>${t.result}</th><th class="num">${t.refundedAmount}</th><th>${t.codeMeaning}</th></tr></thead>
<tbody>${b.records.map(
    (r) => h`<tr data-trade="${r.tradeNo}" data-result="${r.resultCode ?? ''}">
<td class="num">${r.seq}</td>
<td><a class="mono" href="/trades/${r.tradeNo}">${r.tradeNo}</a>${
      r.royalties.length > 0
        ? h`<div class="small muted">${t.royaltyParts}: ${r.royalties.map((x) => `${x.outAccount || x.outUserId}→${x.inAccount || x.inUserId} ${displayYuan(x.amountFen)}`).join('; ')}</div>`
        : ''
    }</td>
<td class="num">${money(r.amountFen)}</td><td>${r.reason}</td>
<td>${resultBadge(t, r.succeeded)}</td>
<td class="num">${r.succeeded ? money(r.resultAmountFen) : money(null)}</td>
<td>${
      r.explanation
        ? h`<span class="code ${r.succeeded ? 'code-ok' : 'code-bad'}">${r.explanation.code}</span> <span class="meaning">${lang === 'en' ? r.explanation.en : r.explanation.zh}</span>${
            r.succeeded === false
              ? h`<span class="advice">${lang === 'en' ? r.explanation.advice.en : r.explanation.advice.zh}</span>`
              : ''
          }`
        : h`<span class="muted">—</span>`
    }${r.resultText ? h`<div class="small muted mono">${r.resultText}</div>` : ''}</td>
</tr>`,
  )}</tbody></table></div>
<h3>detail_data</h3><pre class="detail-data">${b.detailData}</pre>
</div>
<div class="card"><div class="card-head"><h2>${t.notificationsTitle}</h2><a href="/notifications?batch_no=${b.batchNo}">${t.openInLog}</a></div>
<div class="table-wrap"><table id="batch-notifications">
<thead><tr><th>ID</th><th>${t.kind}</th><th>${t.verdictCol}</th><th>${t.reasonCol}</th><th>notify_id</th><th>${t.receivedAt}</th><th>${t.appliedAt}</th><th>${t.answer}</th></tr></thead>
<tbody>${
    b.notifications.length === 0
      ? h`<tr><td colspan="8" class="empty">${t.noNotificationsYet}</td></tr>`
      : b.notifications.map(
          (
            n,
          ) => h`<tr><td><a href="/notifications/${n.id}">${n.id}</a></td><td class="small mono">${n.kind}</td><td>${verdictBadge(t, n.verdict as never)}</td>
<td>${n.reasonCode ? explainCode(t, lang, n.reasonCode, { advice: false }) : ''}${storedMessage(t, lang, n.reason, n.reasonCode)}</td>
<td class="mono small">${n.notifyId ?? '—'}</td><td>${when(n.receivedAt)}</td><td>${when(n.appliedAt)}</td><td class="mono">${n.response}</td></tr>`,
        )
  }</tbody></table></div></div>
<div class="card"><h2>${t.eventLog}</h2>
<ol class="timeline">${b.events.map(
    (e) =>
      h`<li data-kind="${e.kind}"><div class="meta">${when(e.at)} <span class="tag">${eventKind(t, e.kind)}</span>${e.state ? stateBadge(t, e.state as BatchState) : ''}<span>${actorName(t, e.actor)}</span></div><div>${eventMessage(t, lang, e)}</div></li>`,
  )}</ol></div>`;
  return render(c, { title: t.batchTitle, active: 'batches', body, flash: notice }, status);
}

export function registerBatches(con: Hono<ConsoleEnv>): void {
  con.get('/batches', async (c) => {
    const t = c.get('t');
    const { services } = c.get('ctx');
    const state = enumQuery(c, 'state', [...STATES, 'open'] as const);
    const mode = enumQuery(c, 'mode', ['pwd', 'nopwd'] as const) as RefundMode | undefined;
    const q = (c.req.query('q') ?? '').trim().slice(0, 64);
    const pageNo = intQuery(c, 'page', 1);
    const days = dateFilter(c);
    const list = await services.refunds.listBatches({
      ...days.range,
      ...(state !== undefined ? { state } : {}),
      ...(mode !== undefined ? { mode } : {}),
      ...(q !== '' ? { q } : {}),
      page: pageNo,
      pageSize: 50,
    });
    const created = (c.req.query('created') ?? '')
      .split(',')
      .filter((s) => BATCH_NO_RE.test(s))
      .slice(0, 50);
    const fresh = (await Promise.all(created.map((bn) => services.refunds.getBatch(bn)))).filter(
      (b): b is BatchDetail => b !== null,
    );
    const body = h`${
      fresh.length > 0
        ? h`<div class="card" id="created-batches"><h2>${t.justCreated(fresh.length)}</h2>
<p class="muted">${fresh[0]?.mode === 'pwd' ? t.pwdOneAtATime : t.nopwdQueued}</p>${batchRows(t, fresh, c)}</div>`
        : ''
    }
<form method="get" action="/batches" class="toolbar" role="search">
<div class="field grow"><label for="q">${t.searchBatches}</label><input type="search" id="q" name="q" value="${q}" placeholder="${t.searchBatchesPlaceholder}"></div>
<div class="field"><label for="state">${t.batchStateCol}</label><select id="state" name="state"><option value="">${t.all}</option>
<option value="open"${state === 'open' ? ' selected' : ''}>${t.openStates}</option>
${STATES.map((s) => h`<option value="${s}"${state === s ? ' selected' : ''}>${t.batchState[s]}</option>`)}</select></div>
<div class="field"><label for="mode">${t.mode}</label><select id="mode" name="mode"><option value="">${t.all}</option>
<option value="pwd"${mode === 'pwd' ? ' selected' : ''}>${t.modePwd}</option><option value="nopwd"${mode === 'nopwd' ? ' selected' : ''}>${t.modeNopwd}</option></select></div>
${dateFields(t, days, t.fl.batchesDayHint)}
<button type="submit" class="btn">${t.search}</button>
${q !== '' || state || mode || days.from || days.to ? h`<a class="btn btn-ghost" href="/batches">${t.clear}</a>` : ''}
${exportLinks(t, 'batches', { q, state, mode, from: days.from, to: days.to })}
</form>
${batchRows(t, list.items)}
${pager(t, list, '/batches', { q, state, mode, from: days.from, to: days.to })}`;
    return render(
      c,
      { title: t.nav.batches, active: 'batches', body, flash: days.flash },
      days.flash ? 400 : 200,
    );
  });

  con.get('/batches/:batchNo{[0-9A-Za-z]{1,64}}', (c) => renderBatch(c, c.req.param('batchNo')));

  con.post('/batches/:batchNo{[0-9A-Za-z]{1,64}}/submit', (c) => submitPwd(c, c.req.param('batchNo')));

  con.post('/batches/:batchNo{[0-9A-Za-z]{1,64}}/queue', async (c) => {
    const batchNo = c.req.param('batchNo');
    try {
      await c.get('ctx').services.submission.enqueue(batchNo, actorOf(c));
    } catch (err) {
      if (err instanceof ServiceError && err.code !== 'BATCH_NOT_FOUND')
        return renderBatch(c, batchNo, { kind: 'error', text: err.message }, 409);
      throw err;
    }
    await tickQueue(c.get('ctx'));
    return c.redirect(`/batches/${batchNo}?msg=queued`, 303);
  });

  con.post('/batches/:batchNo{[0-9A-Za-z]{1,64}}/cancel', async (c) => {
    const batchNo = c.req.param('batchNo');
    try {
      await c.get('ctx').services.refunds.cancel(batchNo, actorOf(c));
    } catch (err) {
      if (err instanceof ServiceError && err.code !== 'BATCH_NOT_FOUND')
        return renderBatch(c, batchNo, { kind: 'error', text: err.message }, 409);
      throw err;
    }
    return c.redirect(`/batches/${batchNo}?msg=cancelled`, 303);
  });

  con.post('/batches/:batchNo{[0-9A-Za-z]{1,64}}/reconcile', async (c) => {
    const batchNo = c.req.param('batchNo');
    const { services } = c.get('ctx');
    await services.reconcile.reconcile({ olderThanMs: 0, batchNo, actor: actorOf(c) });
    await services.audit.record({ actor: actorOf(c), action: 'batch.reconcile', target: batchNo });
    return c.redirect(`/batches/${batchNo}?msg=reconciled#reconcile`, 303);
  });

  // The two-person rule: an approver or admin other than the one who prepared the batch.
  for (const decision of ['approve', 'reject'] as const) {
    con.post(`/batches/:batchNo{[0-9A-Za-z]{1,64}}/${decision}`, async (c) => {
      const batchNo = c.req.param('batchNo');
      const { services } = c.get('ctx');
      const me = sessionOf(c).operator;
      const who = { actor: actorOf(c), owner: ownerOf(actorOf(c)), role: me.role };
      try {
        if (decision === 'approve') await services.approval.approve(batchNo, who);
        else await services.approval.reject(batchNo, who, (await readForm(c)).str('reason'));
      } catch (err) {
        if (err instanceof ServiceError && err.code !== 'BATCH_NOT_FOUND')
          return renderBatch(
            c,
            batchNo,
            { kind: 'error', text: err.message },
            err.status === 422 || err.status === 403 ? err.status : 409,
          );
        throw err;
      }
      return c.redirect(`/batches/${batchNo}?msg=${decision === 'approve' ? 'approved' : 'rejected'}`, 303);
    });
  }

  con.post('/batches/:batchNo{[0-9A-Za-z]{1,64}}/resolve', async (c) => {
    const batchNo = c.req.param('batchNo');
    const form = await readForm(c);
    const outcome = form.str('outcome');
    if (outcome !== 'accepted' && outcome !== 'rejected' && outcome !== 'resubmit_manually') {
      return renderBatch(c, batchNo, { kind: 'error', text: c.get('t').chooseOutcome }, 422);
    }
    const note = form.str('note').slice(0, 300);
    try {
      await c
        .get('ctx')
        .services.refunds.resolve(batchNo, outcome, actorOf(c), note === '' ? undefined : note);
    } catch (err) {
      if (err instanceof ServiceError && err.code !== 'BATCH_NOT_FOUND')
        return renderBatch(c, batchNo, { kind: 'error', text: err.message }, 409);
      throw err;
    }
    return c.redirect(`/batches/${batchNo}?msg=resolved`, 303);
  });
}
