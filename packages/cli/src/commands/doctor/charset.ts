/**
 * Charset consistency: ALIPAY_INPUT_CHARSET names utf-8 or gbk ({@link charsetSetting}), and the notify page
 * declares the same ({@link notePageCharset}, run with the notify_url probe).
 */
import { normalizeCharset } from '@alirefund/protocol';
import type { DoctorCheck, Note } from './findings.js';

function rawCharset(env: Record<string, string | undefined>): string {
  return env['ALIPAY_INPUT_CHARSET']?.trim() || 'utf-8';
}

/** The charset sent as _input_charset, or null when ALIPAY_INPUT_CHARSET names none Alipay takes. */
export function inputCharset(env: Record<string, string | undefined>): string | null {
  return normalizeCharset(rawCharset(env));
}

export const charsetSetting: DoctorCheck = {
  run(ctx, found) {
    const note = found.note('charset');
    const raw = rawCharset(ctx.env);
    const cs = normalizeCharset(raw);
    if (cs === null) {
      note(
        'CHARSET_INVALID',
        'error',
        `ALIPAY_INPUT_CHARSET is "${raw}": Alipay takes utf-8 or gbk`,
        'set ALIPAY_INPUT_CHARSET to the encoding of your site: utf-8 or gbk (gb2312 is read as gbk)',
      );
      return;
    }
    if (raw.toLowerCase() !== cs) {
      note(
        'CHARSET_NORMALISED',
        'info',
        `ALIPAY_INPUT_CHARSET "${raw}" is sent as _input_charset=${cs}${raw.toLowerCase() === 'gb2312' ? ' (GB2312 is a subset of GBK; the gateway reads GBK bytes)' : ''}`,
        `none needed; writing ${cs} avoids the question`,
      );
    }
  },
};

/** The charset the notify page declares (`declared`, null when none) against ALIPAY_INPUT_CHARSET (`charset`). */
export function notePageCharset(note: Note, declared: string | null, charset: string | null): void {
  if (declared === null || charset === null) return;
  const norm = normalizeCharset(declared);
  if (norm !== null && norm !== charset) {
    note(
      'CHARSET_MISMATCH',
      'warning',
      `ALIPAY_INPUT_CHARSET is ${charset} but the notify page declares charset=${declared}${norm !== declared.toLowerCase() ? ` (= ${norm})` : ''}: Chinese reasons may turn to mojibake and signs fail`,
      'use one encoding everywhere: _input_charset, the notify page and the site (seeds §5.2 第一步 D)',
    );
  } else if (norm === null && !/^(us-)?ascii$|^iso-8859-1$/i.test(declared)) {
    note(
      'CHARSET_MISMATCH',
      'warning',
      `the notify page declares charset=${declared}, which Alipay does not use (utf-8 or gbk)`,
      `declare ${charset} on the notify page, as ALIPAY_INPUT_CHARSET says`,
    );
  } else if (norm === charset) {
    note(
      'CHARSET_OK',
      'ok',
      `the notify page declares ${declared}, consistent with ALIPAY_INPUT_CHARSET ${charset}`,
    );
  }
}
