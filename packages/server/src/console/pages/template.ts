/**
 * The seeds' refund template page (退款模板界面, pwd guide §4.2 fig. 4.2): 退款笔数 (batch_num) and 退款详细
 * (detail_data) typed by hand. The SDK decodes and validates them (every problem with its record number and
 * the gateway code it would cause) and the refund service checks them against local state before anything
 * leaves; then the batch is submitted like any other (pwd: the password page; nopwd: the server).
 */
import { decodeDetailData, formatYuan } from '@alirefund/protocol';
import type { Hono } from 'hono';
import type { RefundMode } from '../../db.js';
import { actorOf, type CCtx, type ConsoleEnv, readForm } from '../env.js';
import { csrf, type Flash, h, type Html, issueList, render } from '../ui.js';
import { submitPwd, tickQueue } from './batches.js';

/** Longest detail_data accepted from the form (1000 records of generous size). */
const MAX_DETAIL_CHARS = 400_000;

interface TemplateInput {
  batchNum: string;
  detailData: string;
  mode: RefundMode;
}

type TemplateIssue = { record: number | null; field: string; code: string; message: string };

function templatePage(
  c: CCtx,
  input: TemplateInput,
  opts: { issues?: TemplateIssue[]; flash?: Flash; parsed?: Html } = {},
  status = 200,
): Response {
  const t = c.get('t');
  const lang = c.get('lang');
  const { settings } = c.get('ctx');
  const issues = opts.issues ?? [];
  const body = h`<div class="split">
<div class="card template-form">
<h2>${t.templateHeading}</h2>
<form method="post" action="/template" id="template-form">
${csrf(c)}
<div class="form-row"><label for="batch_num">${t.batchNumLabel}</label>
<input type="text" id="batch_num" name="batch_num" value="${input.batchNum}" inputmode="numeric" autocomplete="off" required>
<div class="hint">batch_num</div></div>
<div class="form-row"><label for="detail_data">${t.detailDataLabel}</label>
<textarea id="detail_data" name="detail_data" rows="8" spellcheck="false" autocomplete="off" required placeholder="2010120607408670^0.01^备注说明一">${input.detailData}</textarea>
<div class="hint">detail_data · ${t.detailDataHint}</div></div>
<div class="form-row"><div class="radio-group">
<label><input type="radio" name="mode" value="pwd"${input.mode === 'pwd' ? ' checked' : ''}><span>${t.modePwd}<span class="hint">${t.modePwdHint}</span></span></label>
<label><input type="radio" name="mode" value="nopwd"${input.mode === 'nopwd' ? ' checked' : ''}><span>${t.modeNopwd}<span class="hint">${t.modeNopwdHint}</span></span></label>
</div></div>
<div class="actions">
<button type="submit" class="btn" name="action" value="validate" id="template-validate">${t.validateOnly}</button>
<button type="submit" class="btn btn-primary" name="action" value="submit" id="template-submit">${t.templateSubmit}</button>
</div>
</form>
${
  issues.length > 0
    ? h`<div id="template-issues"><h3>${t.validationIssues} (${issues.length})</h3>${issueList(t, lang, issues)}</div>`
    : ''
}
${opts.parsed ?? ''}
</div>
<div class="card">
<h2>${t.formatTitle}</h2>
<p>${t.formatIntro}</p>
<pre>交易号^退款金额^退款理由#交易号^退款金额^退款理由</pre>
<ul class="small">
<li>${t.formatRule1}</li>
<li>${t.formatRule2}</li>
<li>${t.formatRule3}</li>
<li>${t.formatRule4}</li>
</ul>
<p class="muted small">${t.templateAuto(settings.alipay.inputCharset)}</p>
</div>
</div>`;
  return render(c, { title: t.templateTitle, active: 'template', body, flash: opts.flash ?? null }, status);
}

export function registerTemplate(con: Hono<ConsoleEnv>): void {
  con.get('/template', (c) => templatePage(c, { batchNum: '', detailData: '', mode: 'pwd' }));

  con.post('/template', async (c) => {
    const t = c.get('t');
    const { services, settings } = c.get('ctx');
    const form = await readForm(c);
    const input: TemplateInput = {
      batchNum: form.str('batch_num').slice(0, 20),
      detailData: form.str('detail_data', { raw: true }).slice(0, MAX_DETAIL_CHARS),
      mode: form.str('mode') === 'nopwd' ? 'nopwd' : 'pwd',
    };
    // Records may be typed one per line: line breaks next to a `#` are dropped (nothing else is changed).
    const detail = input.detailData
      .trim()
      .replace(/#[ \t]*(?:\r?\n)+[ \t]*/g, '#')
      .replace(/[ \t]*(?:\r?\n)+[ \t]*#/g, '#');
    // 1. The SDK: format, amounts, reasons, batch_num against the record count.
    const decoded = decodeDetailData(detail, {
      charset: settings.alipay.inputCharset,
      mode: input.mode,
      batchNum: input.batchNum,
    });
    if (!decoded.ok) {
      return templatePage(
        c,
        input,
        { issues: decoded.issues, flash: { kind: 'error', text: t.templateRejected } },
        422,
      );
    }
    const records = decoded.value;
    const parsed = h`<h3>${t.parsedRecords(records.length)}</h3><div class="table-wrap"><table id="template-records">
<thead><tr><th class="num">#</th><th>${t.tradeNo}</th><th class="num">${t.amount}</th><th>${t.reason}</th><th>${t.royaltyParts}</th></tr></thead>
<tbody>${records.map(
      (r, i) =>
        h`<tr><td class="num">${i + 1}</td><td class="mono">${r.tradeNo}</td><td class="num mono">${formatYuan(r.amountFen)}</td><td>${r.reason}</td><td>${r.royalties?.length ?? 0}</td></tr>`,
    )}</tbody></table></div>`;
    if (form.str('action') !== 'submit') {
      // 2. Local state (registered, refundable, not in an open batch), without creating anything.
      const preview = await services.refunds.preview(
        records.map((r) => ({
          tradeNo: r.tradeNo,
          amountFen: r.amountFen,
          reason: r.reason,
          ...(r.royalties ? { royalties: r.royalties } : {}),
        })),
        { mode: input.mode, batchSize: Math.max(1, records.length) },
      );
      const issues = preview.issues.map((i) => ({ ...i, record: i.index === null ? null : i.index + 1 }));
      return templatePage(
        c,
        input,
        {
          issues,
          parsed,
          flash:
            issues.length === 0
              ? { kind: 'ok', text: t.templateValid }
              : { kind: 'error', text: t.templateRejected },
        },
        issues.length === 0 ? 200 : 422,
      );
    }
    // 3. Create (validated again by the service, atomically) and submit.
    const res = await services.refunds.createFromDetailData(
      { batchNum: input.batchNum, detailData: detail, mode: input.mode },
      { actor: actorOf(c), queue: input.mode === 'nopwd' },
    );
    if (!res.batch) {
      return templatePage(
        c,
        input,
        { issues: res.issues, parsed, flash: { kind: 'error', text: t.templateRejected } },
        422,
      );
    }
    if (input.mode === 'pwd') return submitPwd(c, res.batch.batchNo);
    await tickQueue(c.get('ctx'));
    return c.redirect(`/batches/${res.batch.batchNo}?msg=created`, 303);
  });
}
