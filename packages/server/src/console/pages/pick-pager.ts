/**
 * The trades list's pager: previous / next as submit buttons of the pick form, so that the page's ticks are kept
 * (`POST /trades/pick`, go=page:N).
 */
import type { Dict } from '../i18n.js';
import { h, type Html } from '../ui.js';

export /** Previous / next as submit buttons of the pick form (so that the page's ticks are kept). */
function pickPager(t: Dict, p: { page: number; pageSize: number; total: number }): Html {
  const pages = Math.max(1, Math.ceil(p.total / p.pageSize));
  const from = p.total === 0 ? 0 : (p.page - 1) * p.pageSize + 1;
  const to = Math.min(p.total, p.page * p.pageSize);
  return h`<nav class="pager" aria-label="${t.pagination}">
<span class="muted">${t.showing(from, to, p.total)}</span>
<span class="pager-links">${
    p.page > 1
      ? h`<button type="submit" class="btn btn-small" name="go" value="page:${p.page - 1}" formaction="/trades/pick" formnovalidate data-rel="prev">‹ ${t.prev}</button>`
      : h`<span class="btn btn-small disabled">‹ ${t.prev}</span>`
  }<span class="muted">${t.pageOf(p.page, pages)}</span>${
    p.page < pages
      ? h`<button type="submit" class="btn btn-small" name="go" value="page:${p.page + 1}" formaction="/trades/pick" formnovalidate data-rel="next">${t.next} ›</button>`
      : h`<span class="btn btn-small disabled">${t.next} ›</span>`
  }</span></nav>`;
}
