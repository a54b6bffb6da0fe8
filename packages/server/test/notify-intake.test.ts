/**
 * peekParam reads batch_no from the raw body bytes before the batch's charset is known: exactly the value a
 * split of the form on `&` and `=` gives (null when absent, repeated or not a plain token), without making a
 * string of the whole body.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { peekParam } from '../src/services/notify-intake.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');

/** The reference: the form split into pairs. */
function bySplit(raw: string, name: string): string | null {
  let found: string | null = null;
  for (const part of raw.split('&')) {
    const eq = part.indexOf('=');
    if ((eq < 0 ? part : part.slice(0, eq)) !== name) continue;
    if (found !== null) return null;
    let value = eq < 0 ? '' : part.slice(eq + 1);
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value);
      } catch {
        return null;
      }
    }
    found = value;
  }
  return found !== null && /^[0-9A-Za-z]{1,64}$/.test(found) ? found : null;
}

describe('peekParam', () => {
  it.each([
    ['batch_no=20260101001&notify_id=x', '20260101001'],
    ['notify_id=x&batch_no=20260101001', '20260101001'],
    ['a=1&batch_no=2026%30101&b=2', '20260101'],
    ['xbatch_no=1&batch_no_=2', null],
    ['memo=batch_no%3D9&batch_no=7', '7'],
    ['batch_no=1&batch_no=1', null],
    ['batch_no&batch_no=5', null],
    ['batch_no=', null],
    ['batch_no=%E4', null],
    ['batch_no=12-3', null],
    ['', null],
  ])('%s → %s', (body, expected) => {
    expect(peekParam(bytes(body), 'batch_no')).toBe(expected);
    expect(bySplit(body, 'batch_no')).toBe(expected);
  });

  it('agrees with the split of the form on arbitrary form-ish bodies', () => {
    const piece = fc.constantFrom(
      'batch_no',
      'batch_n',
      'o',
      '=',
      '&',
      '%',
      '3',
      '0',
      'A',
      'x',
      '%30',
      '%zz',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (parts) => {
        const body = parts.join('');
        expect(peekParam(bytes(body), 'batch_no')).toBe(bySplit(body, 'batch_no'));
      }),
      { numRuns: 3000 },
    );
  });
});
