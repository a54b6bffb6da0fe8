/**
 * The partner id and the MD5 key: set, without spaces, not swapped, in their formats ({@link partnerAndKey});
 * and accepted by the gateway for a signed refund_fastpay_query ({@link keyAccepted}).
 */
import { buildRefundQuery, sendRefundQuery } from '@alirefund/protocol';
import { parseServerEnv } from '@alirefund/server';
import type { DoctorCheck, Note } from './findings.js';

const PARTNER_RE = /^2088\d{12}$/;
const KEY_RE = /^[0-9a-zA-Z]{32}$/;

/** ALIREFUND_PUBLIC_URL is checked on its own: settings are parsed without needing it. */
export const SETTINGS_DEFAULTS = { defaults: { ALIREFUND_PUBLIC_URL: 'http://127.0.0.1:3000' } };

function noteSpaces(note: Note, check: string, name: string, what: string, value: string): void {
  if (!/\s/.test(value)) return;
  const inside = /\S\s+\S/.test(value);
  note(
    `${check.toUpperCase()}_HAS_SPACE`,
    'error',
    `${name} contains ${inside ? 'a space inside it' : 'leading or trailing whitespace'} (${value.length} characters in all)`,
    `copy ${what} again from 商家服务中心 → 技术服务 and set ${name} without any space, tab or line break (seeds §5.2 第一步 A: "没有空格")`,
  );
}

export const partnerAndKey: DoctorCheck = {
  run(ctx, found) {
    const partnerNote = found.note('partner');
    const keyNote = found.note('key');
    const partnerRaw = ctx.env['ALIPAY_PARTNER'];
    const keyRaw = ctx.env['ALIPAY_KEY'];
    const signType = (ctx.env['ALIPAY_SIGN_TYPE'] ?? 'MD5').trim().toUpperCase() || 'MD5';
    const md5 = signType === 'MD5';
    if (partnerRaw === undefined || partnerRaw.trim() === '') {
      partnerNote(
        'PARTNER_MISSING',
        'error',
        'ALIPAY_PARTNER is not set',
        'set ALIPAY_PARTNER to your 合作者身份ID: 2088 followed by 12 digits',
      );
    } else noteSpaces(partnerNote, 'partner', 'ALIPAY_PARTNER', 'the partner id', partnerRaw);
    if (md5 && (keyRaw === undefined || keyRaw.trim() === '')) {
      keyNote(
        'KEY_MISSING',
        'error',
        'ALIPAY_KEY is not set (ALIPAY_SIGN_TYPE is MD5)',
        'set ALIPAY_KEY to the 32-character 安全校验码, or use ALIPAY_SIGN_TYPE=RSA with ALIPAY_PRIVATE_KEY_FILE and ALIPAY_PUBLIC_KEY_FILE',
      );
    } else if (md5 && keyRaw !== undefined) noteSpaces(keyNote, 'key', 'ALIPAY_KEY', 'the key', keyRaw);
    const partner = partnerRaw?.trim() ?? '';
    const key = keyRaw?.trim() ?? '';
    if (partner === '') return;
    if (md5 && key !== '' && PARTNER_RE.test(key) && !PARTNER_RE.test(partner)) {
      partnerNote(
        'PARTNER_KEY_SWAPPED',
        'error',
        `ALIPAY_KEY looks like a partner id (2088…, 16 digits) and ALIPAY_PARTNER does not (${partner.length} characters): the two are swapped`,
        'swap them: ALIPAY_PARTNER = 合作者身份ID (2088 + 12 digits), ALIPAY_KEY = 安全校验码 (32 letters and digits) (seeds §5.2 第一步 A: "没有填反")',
      );
      return;
    }
    if (!PARTNER_RE.test(partner.replace(/\s+/g, ''))) {
      partnerNote(
        'PARTNER_FORMAT',
        'error',
        `ALIPAY_PARTNER is not 2088 followed by 12 digits (${partner.length} characters${KEY_RE.test(partner) ? '; it looks like a key' : ''})`,
        'copy the 合作者身份ID from 商家服务中心 → 技术服务 (16 digits starting with 2088)',
      );
    }
    if (md5 && key !== '' && !KEY_RE.test(key.replace(/\s+/g, ''))) {
      keyNote(
        'KEY_FORMAT',
        'error',
        `ALIPAY_KEY is not 32 letters and digits (it has ${key.length} characters)`,
        'copy the 安全校验码 (key) again from 商家服务中心 → 技术服务: 32 letters and digits',
      );
    }
    if (
      !found.some((f) => f.check === 'partner' || f.check === 'key') &&
      PARTNER_RE.test(partner) &&
      (!md5 || KEY_RE.test(key))
    ) {
      partnerNote(
        'PARTNER_KEY_FORMAT_OK',
        'ok',
        `partner ${partner}${md5 ? ' and a 32-character key' : ''}: format fine, no spaces`,
      );
    }
  },
};

/**
 * A signed refund_fastpay_query for a batch that cannot exist: REFUND_NOT_EXIST means partner and key work.
 * Asked only when the gateway answers and partner and key have no error.
 */
export const keyAccepted: DoctorCheck = {
  when: (found) =>
    found.some((f) => f.code === 'GATEWAY_OK') &&
    !found.some((f) => f.severity === 'error' && (f.check === 'partner' || f.check === 'key')),
  async run(ctx, found) {
    const note = found.note('key');
    let settings: ReturnType<typeof parseServerEnv>;
    try {
      settings = parseServerEnv(ctx.env, SETTINGS_DEFAULTS);
    } catch {
      return;
    }
    const config = settings.alipay;
    const r = await sendRefundQuery(buildRefundQuery(config, { batchNo: '19700101000000000001' }), config, {
      fetch: ctx.fetch,
      timeoutMs: ctx.timeoutMs,
    });
    if (r.status === 'not-found' || r.status === 'found') {
      note(
        'KEY_ACCEPTED',
        'ok',
        'a signed refund_fastpay_query was accepted: partner and key match (reconcile can ask the gateway)',
      );
      return;
    }
    if (r.status === 'unavailable') {
      note(
        'QUERY_UNAVAILABLE',
        'warning',
        `refund_fastpay_query could not be asked: ${r.message}`,
        'reconciliation (alirefund reconcile) needs refund_fastpay_query: check ALIPAY_GATEWAY',
      );
      return;
    }
    const bad = r.code === 'ILLEGAL_SIGN' || r.code === 'ILLEGAL_PARTNER' || r.code === 'ILLEGAL_KEY';
    note(
      r.code === 'ILLEGAL_SIGN'
        ? 'KEY_REJECTED'
        : r.code === 'ILLEGAL_PARTNER'
          ? 'PARTNER_REJECTED'
          : 'QUERY_REFUSED',
      bad ? 'error' : 'warning',
      `the gateway refused a signed refund_fastpay_query: ${r.code} (${r.info.zh}; ${r.info.en})`,
      bad
        ? 'partner and key do not match the contract: copy both again from 商家服务中心 → 技术服务 (seeds §5.1 ILLEGAL_SIGN / ILLEGAL_PARTNER)'
        : `${r.info.advice.en} (reconciliation needs refund_fastpay_query)`,
    );
  },
};
