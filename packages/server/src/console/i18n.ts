/**
 * Every string of the console, in Simplified Chinese (the default) and English: one catalogue per language in
 * i18n/ (zh.ts defines the keys; en.ts must have exactly those keys, the type says so), and under `ev` the texts
 * of stored facts (batch events, notification reason codes, audit actions: zh-events.ts, en-events.ts, same rule).
 */
import { en } from './i18n/en.js';
import { enEvents } from './i18n/en-events.js';
import { enFilters, type FiltersDict, zhFilters } from './i18n/filters.js';
import { type EventsDict, zhEvents } from './i18n/zh-events.js';
import { enTrust, type TrustDict, zhTrust } from './i18n/trust.js';
import { type Dict as BaseDict, zh } from './i18n/zh.js';

export type { EventData } from './i18n/zh-events.js';

/** `tr`: texts of issue 13 point 10 (i18n/trust.ts); `fl`: its last points (i18n/filters.ts). */
export type Dict = BaseDict & { ev: EventsDict; tr: TrustDict; fl: FiltersDict };

export type Lang = 'zh-CN' | 'en';
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];

export function isLang(v: string): v is Lang {
  return (LANGS as readonly string[]).includes(v);
}

const DICTS: Record<Lang, Dict> = {
  'zh-CN': { ...zh, ev: zhEvents, tr: zhTrust, fl: zhFilters },
  en: { ...en, ev: enEvents, tr: enTrust, fl: enFilters },
};

export function dictionary(lang: Lang): Dict {
  return DICTS[lang];
}
