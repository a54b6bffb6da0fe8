/**
 * Every string of the console, in Simplified Chinese (the default) and English: one catalogue per language in
 * i18n/ (zh.ts defines the keys; en.ts must have exactly those keys, the type says so).
 */
import { en } from './i18n/en.js';
import { enTrust, type TrustDict, zhTrust } from './i18n/trust.js';
import { type Dict as BaseDict, zh } from './i18n/zh.js';

/** `tr`: texts of issue 13 point 10 (i18n/trust.ts). */
export type Dict = BaseDict & { tr: TrustDict };

export type Lang = 'zh-CN' | 'en';
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];

export function isLang(v: string): v is Lang {
  return (LANGS as readonly string[]).includes(v);
}

const DICTS: Record<Lang, Dict> = { 'zh-CN': { ...zh, tr: zhTrust }, en: { ...en, tr: enTrust } };

export function dictionary(lang: Lang): Dict {
  return DICTS[lang];
}
