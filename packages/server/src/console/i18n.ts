/**
 * Every string of the console, in Simplified Chinese (the default) and English: one catalogue per language in
 * i18n/ (zh.ts defines the keys; en.ts must have exactly those keys, the type says so).
 */
import { en } from './i18n/en.js';
import { type Dict, zh } from './i18n/zh.js';

export type { Dict } from './i18n/zh.js';

export type Lang = 'zh-CN' | 'en';
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];

export function isLang(v: string): v is Lang {
  return (LANGS as readonly string[]).includes(v);
}

const DICTS: Record<Lang, Dict> = { 'zh-CN': zh, en };

export function dictionary(lang: Lang): Dict {
  return DICTS[lang];
}
