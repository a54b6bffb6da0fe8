/** The one CSV reader (services/csv.ts) and the trade import's use of it. */
import { describe, expect, it } from 'vitest';
import { splitCsv } from '../src/services/csv.js';
import { parseCsv } from '../src/services/trades.js';

describe('splitCsv', () => {
  it('splits plain, quoted and multi-line records and keeps the line each starts on', () => {
    const text = 'a,b\r\n"x, y","say ""hi"""\n"two\nlines",z\nlast,';
    expect(splitCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['two\nlines', 'z'] },
      { line: 5, fields: ['last', ''] },
    ]);
  });

  it('reports an unclosed quote and text after a closing quote on the record, keeping the text', () => {
    expect(splitCsv('ok,"open\nmore')).toEqual([
      { line: 1, fields: ['ok', 'open\nmore'], error: 'a quoted field is not closed (missing ")' },
    ]);
    expect(splitCsv('"a"b,c')).toEqual([
      { line: 1, fields: ['ab', 'c'], error: 'text after a closing quote; quote the whole field' },
    ]);
  });
});

describe('parseCsv (trade import)', () => {
  it('drops a BOM and rows whose fields are all empty', () => {
    expect(parseCsv('\ufefftrade_no,amount\n\n,\n2026,1.00\n')).toEqual([
      ['trade_no', 'amount'],
      ['2026', '1.00'],
    ]);
  });
});
