/**
 * The seeds' refund template page (退款模板界面, pwd guide §4.2 fig. 4.2): 退款笔数 (batch_num) and 退款详细
 * (detail_data) typed by hand. The SDK decodes and validates them (every problem with its record number and
 * the gateway code it would cause) and the refund service checks them against local state before anything
 * leaves; then the batch is submitted like any other (pwd: the password page; nopwd: the server).
 */
import { decodeDetailData, parseYuan, TRADE_NO_RE } from '@alirefund/protocol';
import type { Hono } from 'hono';
import type { RefundMode } from '../../db.js';
import { readRefundInput, resolveOrderNumbers } from '../../services/refund-input/index.js';
import { tradeRefundIssues } from '../../services/refund-checks.js';
import type { Dict } from '../i18n.js';
import { actorOf, type CCtx, type ConsoleEnv, readForm } from '../env.js';
import { csrf, displayYuan, type Flash, h, type Html, issueList, render } from '../ui.js';
import { submitPwd, tickQueue } from './batches.js';

/** Longest detail_data accepted from the form (1000 records of generous size). */
const MAX_DETAIL_CHARS = 400_000;

interface TemplateInput {
  batchNum: string;
  detailData: string;
  mode: RefundMode;
}

type TemplateIssue = {
  record: number | null;
  label?: string | undefined;
  field: string;
  code: string;
  message: string;
};

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
<form method="post" action="/template" id="template-form" enctype="multipart/form-data">
${csrf(c)}
<div class="form-row"><label for="batch_num">${t.batchNumLabel}</label>
<input type="text" id="batch_num" name="batch_num" value="${input.batchNum}" inputmode="numeric" autocomplete="off">
<div class="hint">batch_num</div></div>
<div class="form-row"><label for="detail_data">${t.detailDataLabel}</label>
<textarea id="detail_data" name="detail_data" rows="8" spellcheck="false" autocomplete="off" placeholder="2010120607408670^0.01^备注说明一">${input.detailData}</textarea>
<div class="hint">detail_data · ${t.detailDataHint} ${t.templateRefHint}</div></div>
<div class="form-row"><label for="refund_file">${t.templateFileLabel}</label>
<input type="file" id="refund_file" name="refund_file" accept=".csv,.xlsx,.jsonl,.txt,text/csv">
<div class="hint">${t.templateFileHint}</div></div>
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
    // A refund file (CSV in UTF-8 or GBK, .xlsx, JSON Lines: the CLI's reader) fills the records.
    const fileIssues: TemplateIssue[] = [];
    const upload = form.file('refund_file');
    let lineOfRecord: number[] | null = null;
    if (upload) {
      const parsed = await readRefundInput(upload.name, new Uint8Array(await upload.arrayBuffer()));
      const resolved = await resolveOrderNumbers(parsed.rows, services.trades);
      lineOfRecord = parsed.rows.map((r) => r.line);
      const recordOf = new Map(parsed.rows.map((r, i) => [r.line, i + 1]));
      for (const i of [...parsed.issues, ...resolved])
        fileIssues.push({
          record: recordOf.get(i.line) ?? null,
          label: i.line > 0 ? t.fileLineN(i.line) : upload.name,
          field: i.field,
          code: i.code,
          message: t.fileIssue[i.code]?.(i.field, ...(i.values ?? [])) ?? i.message,
        });
      input.detailData = parsed.rows
        .map((r) => `${r.tradeNo || r.outTradeNo}^${r.amountText}^${r.reason}`)
        .join('#\n')
        .slice(0, MAX_DETAIL_CHARS);
      input.batchNum = String(parsed.rows.length);
    }
    // Records may be typed one per line: line breaks next to a `#` are dropped (nothing else is changed).
    const typed = input.detailData
      .trim()
      .replace(/#[ \t]*(?:\r?\n)+[ \t]*/g, '#')
      .replace(/[ \t]*(?:\r?\n)+[ \t]*#/g, '#');
    // Each record's first field may be a merchant order number (商户订单号): resolved through the store.
    const checked = await checkRecords(c, typed, fileIssues, lineOfRecord);
    const detail = checked.detail;
    // 1. The SDK: format, amounts, reasons, batch_num against the record count; with the store's checks of
    //    every record whose trade and amount are readable, so that every problem shows in one pass.
    const decoded = decodeDetailData(detail, {
      charset: settings.alipay.inputCharset,
      mode: input.mode,
      batchNum: input.batchNum,
    });
    const sdkIssues = decoded.ok
      ? []
      : decoded.issues.filter(
          (i) => !(i.field === 'tradeNo' && i.record !== null && checked.unknown.has(i.record)),
        );
    const firstPass = [
      ...fileIssues,
      ...checked.issues,
      ...sdkIssues.map((i) => withLine(i, lineOfRecord, t)),
    ];
    if (!decoded.ok || firstPass.length > 0) {
      firstPass.sort((x, y) => (x.record ?? 0) - (y.record ?? 0));
      return templatePage(
        c,
        input,
        { issues: firstPass, flash: { kind: 'error', text: t.templateRejected } },
        422,
      );
    }
    const records = decoded.value;
    const parsed = h`<h3>${t.parsedRecords(records.length)}</h3><div class="table-wrap"><table id="template-records">
<thead><tr><th class="num">#</th><th>${t.tradeNo}</th><th class="num">${t.amount}</th><th>${t.reason}</th><th>${t.royaltyParts}</th></tr></thead>
<tbody>${records.map(
      (r, i) =>
        h`<tr><td class="num">${i + 1}</td><td class="mono">${r.tradeNo}</td><td class="num mono">${displayYuan(r.amountFen)}</td><td>${r.reason}</td><td>${r.royalties?.length ?? 0}</td></tr>`,
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
      const issues = preview.issues.map((i) =>
        withLine({ ...i, record: i.index === null ? null : i.index + 1 }, lineOfRecord, t),
      );
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

/** Labels an issue of record `n` with the file line it came from (when the records came from a file). */
function withLine<I extends { record: number | null }>(
  issue: I,
  lineOfRecord: number[] | null,
  t: Dict,
): I & { label?: string } {
  const line = issue.record === null ? undefined : lineOfRecord?.[issue.record - 1];
  return line === undefined ? issue : { ...issue, label: t.fileLineN(line) };
}

/**
 * The records' trades, read once: each record's first field resolved (a trade number, or a merchant order
 * number of exactly one trade), the text rewritten with trade numbers, and the store's checks (registered, free,
 * under 99 refunds, refundable balance) of every record whose trade and amount are readable, with messages in the
 * page's language. Records are split leniently (the SDK reports the format separately).
 */
async function checkRecords(
  c: CCtx,
  text: string,
  fileIssues: readonly TemplateIssue[],
  lineOfRecord: number[] | null,
): Promise<{ detail: string; issues: TemplateIssue[]; unknown: Set<number> }> {
  const t = c.get('t');
  const { services, settings } = c.get('ctx');
  const issues: TemplateIssue[] = [];
  const unknown = new Set<number>();
  if (text === '') return { detail: text, issues, unknown };
  const records = text.split('#');
  if (records.length > 2000) return { detail: text, issues, unknown };
  const refs = records.map((r) => (r.split('^')[0] ?? '').trim());
  const resolved = await services.trades.resolveRefs(refs.filter((r) => r !== ''));
  const tradeNos = refs.map((ref, k) => {
    const got = resolved.get(ref);
    if (got && 'tradeNo' in got) return got.tradeNo;
    if (got && !fileIssues.some((i) => i.record === k + 1 && i.field === 'out_trade_no')) {
      unknown.add(k + 1);
      issues.push(
        withLine(
          {
            record: k + 1,
            field: 'tradeNo',
            code: got.code,
            message:
              got.code === 'ORDER_AMBIGUOUS'
                ? t.refOrderAmbiguous(ref, got.tradeNos.slice(0, 5).join('、'))
                : t.refOrderNotFound(ref),
          },
          lineOfRecord,
          t,
        ),
      );
    } else if (got) unknown.add(k + 1);
    return ref;
  });
  for (const i of fileIssues)
    if (i.record !== null && ['trade_no', 'out_trade_no'].includes(i.field)) unknown.add(i.record);
  const detail = records
    .map((r, k) => {
      const caret = r.indexOf('^');
      return tradeNos[k] === refs[k] || caret < 0 ? r : `${tradeNos[k]}${r.slice(caret)}`;
    })
    .join('#');
  const trades = await services.trades.getMany([...new Set(tradeNos.filter((no) => TRADE_NO_RE.test(no)))]);
  const seen = new Set<string>();
  tradeNos.forEach((no, k) => {
    const record = k + 1;
    if (unknown.has(record) || !TRADE_NO_RE.test(no) || seen.has(no)) return;
    seen.add(no);
    const amountFen = parseYuan((records[k]!.split('^')[1] ?? '').trim());
    const royalties = records[k]!.includes('|') ? [null] : [];
    const trade = trades.get(no);
    for (const i of tradeRefundIssues(
      { tradeNo: no, amountFen: amountFen ?? 0, royalties },
      trade,
      settings.alipay.partner,
    )) {
      if (i.field === 'amount' && amountFen === null) continue;
      const message =
        i.code === 'TRADE_NOT_FOUND'
          ? t.refTradeNotFound(no)
          : i.code === 'TRADE_IN_OPEN_BATCH'
            ? t.refInOpenBatch(no, trade?.openBatchNo ?? '')
            : i.code === 'REFUND_LIMIT_REACHED'
              ? t.refLimit(no, trade?.refundCount ?? 99)
              : i.code === 'EXCEEDS_REFUNDABLE'
                ? t.refExceeds(
                    displayYuan(amountFen ?? 0),
                    displayYuan(
                      Math.max(
                        0,
                        (trade?.paidFen ?? 0) - (trade?.refundedFen ?? 0) - (trade?.reservedFen ?? 0),
                      ),
                    ),
                    no,
                  )
                : i.code === 'NO_ROYALTY_ON_TRADE'
                  ? t.refNoRoyalty(no)
                  : i.message;
      issues.push(withLine({ record, field: i.field, code: i.code, message }, lineOfRecord, t));
    }
  });
  return { detail, issues, unknown };
}
