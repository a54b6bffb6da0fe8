/**
 * The date-range filter of the trade and batch lists (issue 13 point 10): two day inputs (Beijing time), read
 * from the query's `from` / `to` (as the JSON API and the exports take them) and checked by the services'
 * day-range rules. A bad day is named in a flash in the page's language and the list is shown unfiltered by date.
 */
import { checkDayRange, type DayRange } from '../services/day-range.js';
import type { CCtx } from './env.js';
import type { Dict } from './i18n.js';
import { type Flash, h, type Html } from './ui.js';

export interface DateFilter {
  /** As typed (for redisplay and links). */
  from: string;
  to: string;
  /** What the service gets: empty when a day is bad. */
  range: DayRange;
  /** The problem, in the page's language, or null. */
  flash: Flash | null;
}

/** The query's `from` / `to`, checked. */
export function dateFilter(c: CCtx): DateFilter {
  const t = c.get('t');
  const from = (c.req.query('from') ?? '').trim().slice(0, 40);
  const to = (c.req.query('to') ?? '').trim().slice(0, 40);
  const res = checkDayRange({ from, to });
  if (res.ok) {
    return {
      from,
      to,
      range: { ...(from !== '' ? { from } : {}), ...(to !== '' ? { to } : {}) },
      flash: null,
    };
  }
  const text =
    res.problem === 'order'
      ? t.fl.dayOrder(from, to)
      : t.fl.badDay(res.field === 'from' ? t.fl.dayFrom : t.fl.dayTo, res.value);
  return { from, to, range: {}, flash: { kind: 'error', text } };
}

/**
 * The two day inputs of a list's toolbar. `names` are the form's field names (the trades list's form already
 * has a `from` field of its own, so it posts `day_from` / `day_to` and its redirect turns them into `from` / `to`).
 */
export function dateFields(
  t: Dict,
  d: { from: string; to: string },
  hint: string,
  names: { from: string; to: string } = { from: 'from', to: 'to' },
): Html {
  return h`<div class="field"><label for="${names.from}" title="${hint}">${t.fl.dayFrom}</label>
<input type="date" id="${names.from}" name="${names.from}" value="${d.from}" title="${hint}" data-day="from"></div>
<div class="field"><label for="${names.to}" title="${hint}">${t.fl.dayTo}</label>
<input type="date" id="${names.to}" name="${names.to}" value="${d.to}" title="${hint}" data-day="to"></div>`;
}
