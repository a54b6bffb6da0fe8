/**
 * Importing paid trades from a CSV file. The format is documented on the page and downloadable as a template;
 * the trade service validates every row and writes all or nothing; every problem is shown with its line
 * number (as an editor shows it) and field.
 */
import type { Hono } from 'hono';
import { type CCtx, type ConsoleEnv, actorOf, readForm } from '../env.js';
import type { RegisterNotice } from '../../services/trades.js';
import { decodeText, looksLikeZip, xlsxToCsv } from '../../services/refund-input/index.js';
import { CSV_ALIASES, CSV_COLUMNS, CSV_TEMPLATE, prepareCsv } from '../csv.js';
import { csrf, type Flash, h, type Html, money, render } from '../ui.js';

function importPage(
  c: CCtx,
  opts: { result?: Html; flash?: Flash; text?: string } = {},
  status = 200,
): Response {
  const t = c.get('t');
  const body = h`<div class="card">
<h2>${t.importUpload}</h2>
<form method="post" action="/import" enctype="multipart/form-data" id="import-form">
${csrf(c)}
<div class="form-row"><label for="file">${t.csvFile}</label><input type="file" id="file" name="file" accept=".csv,.xlsx,text/csv"></div>
<div class="form-row"><label for="csv">${t.orPaste}</label><textarea id="csv" name="csv" rows="6" spellcheck="false">${opts.text ?? ''}</textarea></div>
<div class="actions"><button type="submit" class="btn btn-primary" id="import-submit">${t.importButton}</button>
<a class="btn btn-ghost" href="/import/template.csv" download>${t.downloadTemplate}</a></div>
<p class="muted small">${t.importAllOrNothing}</p>
</form>
</div>
${opts.result ?? ''}
<div class="card" id="csv-format">
<h2>${t.csvFormat}</h2>
<p>${t.csvIntro}</p>
<div class="table-wrap"><table id="csv-columns"><thead><tr><th>${t.column}</th><th>${t.required}</th><th>${t.meaningCol}</th></tr></thead><tbody>
${CSV_COLUMNS.map(
  (
    col,
  ) => h`<tr><td><code>${col}</code><div class="small muted">${CSV_ALIASES[col].filter((a) => a !== col).join(' · ')}</div></td>
<td>${col === 'trade_no' || col === 'amount' ? t.yes : t.no}</td><td class="small">${t.csvColumn[col]}</td></tr>`,
)}
</tbody></table></div>
<h3>${t.example}</h3>
<pre class="plain">${CSV_TEMPLATE}</pre>
</div>`;
  return render(c, { title: t.importTitle, active: 'import', body, flash: opts.flash ?? null }, status);
}

/**
 * What went wrong after the trades were written (the demo could not create them in the sandbox): a warning
 * that says what will happen to refunds of them, the trades and the underlying error.
 */
function noticeBoxes(c: CCtx, notices: readonly RegisterNotice[]): Html | '' {
  const t = c.get('t');
  if (notices.length === 0) return '';
  return h`${notices.map(
    (n) => h`<div class="flash flash-warn" role="alert" id="sandbox-mirror-failed" data-code="${n.code}">
<strong>${t.fl.sandboxMirrorFailed(n.tradeNos.length)}</strong>
<div class="small mono">${n.tradeNos.slice(0, 50).join(' · ')}${n.tradeNos.length > 50 ? ' …' : ''}</div>
<details><summary class="small">${t.fl.sandboxMirrorDetail}</summary><pre class="plain">${n.message}</pre></details></div>`,
  )}`;
}

export function registerImport(con: Hono<ConsoleEnv>): void {
  con.get('/import', (c) => importPage(c));

  con.get('/import/template.csv', (c) =>
    c.body(`\ufeff${CSV_TEMPLATE}`, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="alirefund-trades-template.csv"',
    }),
  );

  con.post('/import', async (c) => {
    const t = c.get('t');
    const { services } = c.get('ctx');
    const form = await readForm(c);
    const file = form.file('file');
    let text = form.str('csv', { raw: true });
    let encoding = 'utf-8';
    const cellIssues: { line: number; field: string; code: string; message: string }[] = [];
    if (file) {
      // The refund files' decoding (UTF-8 with or without BOM, else GBK), and .xlsx workbooks as CSV.
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (looksLikeZip(bytes) || file.name.toLowerCase().endsWith('.xlsx')) {
        try {
          const sheet = await xlsxToCsv(bytes);
          text = sheet.text;
          for (const i of sheet.issues) cellIssues.push({ ...i, code: 'CELL_NOT_TEXT' });
        } catch (e) {
          cellIssues.push({ line: 0, field: 'file', code: 'XLSX_UNREADABLE', message: (e as Error).message });
          text = '';
        }
        encoding = 'xlsx';
      } else {
        const decoded = decodeText(bytes);
        text = decoded.text;
        encoding = decoded.encoding;
      }
    }
    if (text.trim() === '' && cellIssues.length === 0) {
      return importPage(c, { flash: { kind: 'error', text: t.importEmpty } }, 422);
    }
    const prepared = prepareCsv(text);
    const problems: { line: number | null; field: string; code: string; message: string }[] = [
      ...prepared.headerIssues,
      ...cellIssues,
    ];
    let created = 0;
    let unchanged = 0;
    let createdRows: Html | '' = '';
    let notices: Html | '' = '';
    if (problems.length === 0) {
      const res = await services.trades.importCsv(prepared.text, actorOf(c));
      for (const i of res.issues) {
        problems.push({
          line: i.field === 'header' ? prepared.headerLine : prepared.lineOf(i.index),
          field: i.field,
          code: i.code,
          message: i.message.replace(/^row \d+: /, ''),
        });
      }
      created = res.created.length;
      unchanged = res.unchanged.length;
      notices = noticeBoxes(c, res.notices ?? []);
      if (res.issues.length === 0) {
        createdRows = h`<div class="table-wrap"><table id="imported"><thead><tr><th>${t.tradeNo}</th><th>${t.outTradeNo}</th><th class="num">${t.paid}</th><th>${t.royalty}</th></tr></thead><tbody>
${res.created.slice(0, 200).map((tr) => h`<tr><td><a class="mono" href="/trades/${tr.tradeNo}">${tr.tradeNo}</a></td><td class="mono">${tr.outTradeNo ?? '—'}</td><td class="num">${money(tr.paidFen)}</td><td>${tr.hasRoyalty ? t.yes : ''}</td></tr>`)}
</tbody></table></div>`;
      }
    }
    if (problems.length > 0) {
      problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
      const result = h`<div class="card" id="import-problems"><h2>${t.importProblems(problems.length)}</h2>
<div class="table-wrap"><table><thead><tr><th class="num">${t.line}</th><th>${t.field}</th><th>${t.codeCol}</th><th>${t.problem}</th></tr></thead><tbody>
${problems.map((p) => h`<tr data-line="${p.line ?? ''}"><td class="num">${p.line ?? '—'}</td><td class="mono">${p.field}</td><td><span class="code">${p.code}</span> ${t.localCodes[p.code] ?? ''}</td><td class="small">${p.message}</td></tr>`)}
</tbody></table></div></div>`;
      return importPage(
        c,
        { result, text: file ? '' : text, flash: { kind: 'error', text: t.importRefused(problems.length) } },
        422,
      );
    }
    const result = h`${notices}<div class="card" id="import-result"><h2>${t.importDone}</h2>${createdRows}</div>`;
    return importPage(c, {
      result,
      flash: { kind: 'ok', text: t.importSummary(created, unchanged, encoding) },
    });
  });
}
