/**
 * The refund file read in chunks (readRefundChunks, the CLI's bulk runs) gives the same rows and issues, on the
 * same lines, as the whole-file reader (readRefundInput): CSV in UTF-8 (BOM) and GBK, quoted fields spanning
 * lines across the decoder's pieces, JSON Lines, empty files and files without rows.
 */
import { encodeText } from '@alirefund/protocol';
import { describe, expect, it } from 'vitest';
import { readRefundChunks, readRefundInput } from '../src/services/refund-input/index.js';

async function chunked(name: string, bytes: Uint8Array, rowsPerChunk: number) {
  const rows = [];
  const issues = [];
  let chunks = 0;
  for await (const c of readRefundChunks(name, bytes, rowsPerChunk)) {
    chunks++;
    rows.push(...c.rows);
    issues.push(...c.issues);
  }
  return { rows, issues, chunks };
}

async function expectSame(name: string, bytes: Uint8Array, rowsPerChunk = 997) {
  const whole = await readRefundInput(name, bytes);
  const parts = await chunked(name, bytes, rowsPerChunk);
  expect(parts.rows).toEqual(whole.rows);
  expect([...parts.issues].sort((a, b) => a.line - b.line)).toEqual(
    [...whole.issues].sort((a, b) => a.line - b.line),
  );
  return parts;
}

/** 40,000 lines (over 1 MB, several decoder pieces), with quoted reasons spanning lines and bad lines here and there. */
function bigCsv(): string {
  const lines = ['trade_no,amount,reason'];
  for (let i = 0; i < 40_000; i++) {
    const no = `2024010122001${String(i).padStart(15, '0')}`;
    if (i % 997 === 0) lines.push(`${no},1.00,"多行\n原因, 含逗号 ""引号"""`);
    else if (i % 1999 === 0) lines.push(`${no},1.00`);
    else if (i % 2999 === 0) lines.push(`${no},abc,演出取消`);
    else lines.push(`${no},${(i % 500) + 1}.50,演出取消，全额退款`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

describe('readRefundChunks', () => {
  it('CSV in UTF-8 with a BOM, over several pieces: the same rows, issues and lines as the whole-file reader', async () => {
    const text = `\uFEFF${bigCsv()}`;
    const parts = await expectSame('big.csv', Buffer.from(text, 'utf8'));
    expect(parts.chunks).toBeGreaterThan(30);
    expect(parts.rows.length).toBeGreaterThan(39_000);
  });

  it('CSV in GBK', async () => {
    const text = bigCsv().slice(0, 200_000);
    const bytes = encodeText(`${text.slice(0, text.lastIndexOf('\r\n'))}\r\n`, 'gbk');
    const whole = await readRefundInput('gbk.csv', bytes);
    expect(whole.encoding).toBe('gbk');
    await expectSame('gbk.csv', bytes, 500);
  });

  it('a quoted field left open to the end of the file', async () => {
    await expectSame(
      'open.csv',
      Buffer.from('trade_no,amount,reason\n2024,1.00,"never closed\nmore\n', 'utf8'),
    );
  });

  it('JSON Lines, empty files and files without rows', async () => {
    const jsonl = Array.from({ length: 3000 }, (_, i) =>
      i % 700 === 0
        ? '{bad json'
        : JSON.stringify({ trade_no: `2024${i}000000`, amount: '1.00', reason: '退款' }),
    ).join('\n');
    await expectSame('r.jsonl', Buffer.from(jsonl, 'utf8'), 250);
    await expectSame('empty.jsonl', Buffer.from('', 'utf8'));
    await expectSame('blank.jsonl', Buffer.from('\n\n', 'utf8'));
    await expectSame('empty.csv', Buffer.from('', 'utf8'));
    await expectSame('header.csv', Buffer.from('trade_no,amount,reason\n', 'utf8'));
    await expectSame('noheader.csv', Buffer.from('2024,1.00,x\n', 'utf8'));
  });
});
