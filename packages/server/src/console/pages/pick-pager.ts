/**
 * The trades list's pager: previous / next as submit buttons of the pick form, so that the page's ticks are kept
 * (`POST /trades/pick`, go=page:N).
 */
import type { Dict } from '../i18n.js';
import { h, type Html, pagerWith } from '../ui.js';

/** Previous / next as submit buttons of the pick form (so that the page's ticks are kept). */
export function pickPager(t: Dict, p: { page: number; pageSize: number; total: number }): Html {
  return pagerWith(
    t,
    p,
    (page, rel, label) =>
      h`<button type="submit" class="btn btn-small" name="go" value="page:${page}" formaction="/trades/pick" formnovalidate data-rel="${rel}">${label}</button>`,
  );
}
