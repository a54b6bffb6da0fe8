/**
 * The one CSV reader of the project (RFC 4180: `""` in quoted fields, a quoted field may span lines, CRLF or LF),
 * used by the trade import (API and console) and by the CLI's bulk refunds. Every record keeps the line it starts
 * on, so errors can name it.
 */

/** One CSV record: its fields and the (1-based) line it starts on; `error` when its quoting is broken. */
export interface CsvRecord {
  line: number;
  fields: string[];
  error?: string;
}

/** Splits CSV text into records (RFC 4180 quoting, CRLF or LF), each with the line it starts on. */
export function splitCsv(text: string): CsvRecord[] {
  return [...csvRecords(text)];
}

/**
 * The records of CSV text one at a time (RFC 4180 quoting, CRLF or LF), each with the line it starts on: a
 * reader of a 100,000-line file keeps its own rows and never the whole list of records besides.
 */
export function* csvRecords(text: string): Generator<CsvRecord> {
  const n = text.length;
  let line = 1;
  let i = 0;
  while (i < n) {
    let eol = text.indexOf('\n', i);
    if (eol < 0) eol = n;
    const raw = text.slice(i, eol > i && text[eol - 1] === '\r' ? eol - 1 : eol);
    if (!raw.includes('"')) {
      // The common case: no quotes, fields are what lies between commas.
      yield { line, fields: raw.split(',') };
      i = eol + 1;
      line++;
      continue;
    }
    // Quoted fields: "" is a quote; a quoted field may span lines.
    const start = line;
    const fields: string[] = [];
    let error: string | undefined;
    let j = i;
    for (;;) {
      let field = '';
      if (text[j] === '"') {
        j++;
        let closed = false;
        while (j < n) {
          const q = text.indexOf('"', j);
          if (q < 0) {
            field += text.slice(j);
            j = n;
            break;
          }
          const part = text.slice(j, q);
          for (let k = part.indexOf('\n'); k >= 0; k = part.indexOf('\n', k + 1)) line++;
          field += part;
          if (text[q + 1] === '"') {
            field += '"';
            j = q + 2;
            continue;
          }
          j = q + 1;
          closed = true;
          break;
        }
        if (!closed) error = 'a quoted field is not closed (missing ")';
        let k = j;
        while (k < n && text[k] !== ',' && text[k] !== '\n' && text[k] !== '\r') k++;
        if (k > j) {
          error ??= 'text after a closing quote; quote the whole field';
          field += text.slice(j, k);
        }
        j = k;
      } else {
        let k = j;
        while (k < n && text[k] !== ',' && text[k] !== '\n' && text[k] !== '\r') k++;
        field = text.slice(j, k);
        j = k;
      }
      fields.push(field);
      if (j >= n) break;
      if (text[j] === ',') {
        j++;
        continue;
      }
      if (text[j] === '\r') j++;
      if (text[j] === '\n') j++;
      break;
    }
    line++;
    yield error === undefined ? { line: start, fields } : { line: start, fields, error };
    i = j;
  }
}
