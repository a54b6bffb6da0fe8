/**
 * Fixed SQL texts for the hot paths (the notification apply, createBatches): building and compiling a
 * 50–1000-row Kysely statement cost more CPU than running it. Texts use `?` placeholders, numbered `$1…` once per
 * text for PostgreSQL; on SQLite the store keeps each text's prepared statement (packages/store/src/sqlite.ts).
 */
import type { Dialect } from '@alirefund/store';
import { CompiledQuery } from 'kysely';

/** Rows per multi-row statement (SQLite allows 32,766 parameters, PostgreSQL 65,535). */
export const CHUNK = 500;

const pgTexts = new Map<string, string>();

/** `text` with `parameters`, its `?` numbered `$1…` for PostgreSQL (cached per text). */
export function compiled(dialect: Dialect, text: string, parameters: unknown[]): CompiledQuery {
  if (dialect !== 'postgres') return CompiledQuery.raw(text, parameters);
  let numbered = pgTexts.get(text);
  if (numbered === undefined) {
    let i = 0;
    numbered = text.replace(/\?/g, () => `$${++i}`);
    pgTexts.set(text, numbered);
  }
  return CompiledQuery.raw(numbered, parameters);
}

const valuesTexts = new Map<string, string>();

/** `row, row, …` (`count` times), cached by row template and count. */
export function valuesText(row: string, count: number): string {
  const key = `${count}:${row}`;
  let text = valuesTexts.get(key);
  if (text === undefined) {
    text = Array.from({ length: count }, () => row).join(', ');
    valuesTexts.set(key, text);
  }
  return text;
}
