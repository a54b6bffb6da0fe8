/**
 * Merchant configuration (the seeds' `alipay_config`), validated once and frozen.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { type Charset, normalizeCharset } from './charset.js';
import type { SignType, SigningKey, VerifyingKey } from './sign.js';

export const DEFAULT_GATEWAY = 'https://mapi.alipay.com/gateway.do';

/** One problem with the configuration: the field and what to do. Never contains a secret. */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** Thrown by {@link createConfig}; lists every problem at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'INVALID_CONFIG';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`invalid Alipay configuration:\n${problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n')}`);
  }
}

const httpUrl = (field: string, allowQuery: boolean) =>
  z.string().superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be an absolute http(s) URL (got "${v}")` });
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `must use http or https, not ${u.protocol}` });
    }
    if (!allowQuery && (u.search !== '' || v.includes('?'))) {
      ctx.addIssue({
        code: 'custom',
        message: `must not carry a query string ("${u.search || '?'}"): Alipay forbids custom parameters in ${field} (seed §5.2C); put the id in the path or look it up by batch_no`,
      });
    }
    if (u.hash !== '') ctx.addIssue({ code: 'custom', message: 'must not contain a #fragment' });
  });

const schema = z
  .strictObject({
    partner: z
      .string({ message: 'is required: your 合作者身份ID, 2088 followed by 12 digits' })
      .refine((v) => v.trim() === v, 'has leading or trailing spaces; remove them')
      .refine((v) => /^2088\d{12}$/.test(v.trim()), 'must be 2088 followed by 12 digits (16 digits in all)'),
    signType: z.enum(['MD5', 'RSA'], { message: 'must be MD5 or RSA' }).default('MD5'),
    key: z
      .string()
      .refine((v) => v.trim() === v, 'has leading or trailing spaces; remove them')
      .refine((v) => v.trim().length === 32, 'must be the 32-character 安全校验码 (MD5 key)')
      .refine((v) => /^[0-9a-zA-Z]*$/.test(v.trim()), 'must contain only letters and digits')
      .optional(),
    privateKey: z.string().optional(),
    alipayPublicKey: z.string().optional(),
    inputCharset: z
      .string()
      .default('utf-8')
      .refine((v) => normalizeCharset(v) !== null, 'must be utf-8 or gbk (gb2312 is accepted as gbk)'),
    gateway: httpUrl('gateway', true).default(DEFAULT_GATEWAY),
    sellerEmail: z.string().email('must be the seller Alipay login email').optional(),
    sellerUserId: z
      .string()
      .regex(/^2088\d{12}$/, 'must be 2088 followed by 12 digits')
      .optional(),
    notifyUrl: httpUrl('notify_url', false).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.signType === 'MD5' && c.key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'is required when signType is MD5' });
    }
    if (c.signType === 'RSA') {
      for (const [field, kind] of [
        ['privateKey', 'private'],
        ['alipayPublicKey', 'public'],
      ] as const) {
        const pem = c[field];
        if (pem === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `is required when signType is RSA (a PEM ${kind} key)`,
          });
          continue;
        }
        try {
          const k = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
          if (k.asymmetricKeyType !== 'rsa') throw new Error('not rsa');
        } catch {
          ctx.addIssue({ code: 'custom', path: [field], message: `is not a readable PEM RSA ${kind} key` });
        }
      }
    }
  });

/** What callers pass in (e.g. from environment variables or a file). */
export type AlipayConfigInput = z.input<typeof schema>;

/** A validated, frozen configuration. */
export interface AlipayConfig {
  readonly partner: string;
  readonly signType: SignType;
  readonly inputCharset: Charset;
  readonly gateway: string;
  readonly sellerEmail?: string;
  readonly sellerUserId?: string;
  readonly notifyUrl?: string;
  /** What the merchant signs requests with. */
  readonly signingKey: SigningKey;
  /** What the merchant verifies notifications with (MD5 key, or Alipay's public key). */
  readonly verifyingKey: VerifyingKey;
}

function fieldOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(config)' : path.map(String).join('.');
}

/**
 * Validates a configuration once and returns a frozen copy. Unknown keys are rejected.
 * @throws ConfigError listing every problem by field; secrets are never echoed.
 * @example createConfig({ partner: '2088101122136241', key: '760bdzec6y9goq7ctyx96ezkz78287de' })
 */
export function createConfig(input: unknown): AlipayConfig {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        field: fieldOf(i.path),
        message:
          i.code === 'unrecognized_keys'
            ? `unknown option(s) ${i.keys.map((k) => `"${k}"`).join(', ')}; accepted: ${Object.keys(schema.shape).join(', ')}`
            : i.code === 'invalid_type'
              ? `is required (expected ${i.expected})`
              : i.message,
      })),
    );
  }
  const c = parsed.data;
  let signingKey: SigningKey;
  let verifyingKey: VerifyingKey;
  if (c.signType === 'MD5') {
    signingKey = { signType: 'MD5', key: c.key! };
    verifyingKey = signingKey;
  } else {
    const priv: KeyObject = createPrivateKey(c.privateKey!);
    const pub: KeyObject = createPublicKey(c.alipayPublicKey!);
    signingKey = { signType: 'RSA', privateKey: priv };
    verifyingKey = { signType: 'RSA', publicKey: pub };
  }
  const config: AlipayConfig = {
    partner: c.partner,
    signType: c.signType,
    inputCharset: normalizeCharset(c.inputCharset)!,
    gateway: c.gateway,
    ...(c.sellerEmail !== undefined ? { sellerEmail: c.sellerEmail } : {}),
    ...(c.sellerUserId !== undefined ? { sellerUserId: c.sellerUserId } : {}),
    ...(c.notifyUrl !== undefined ? { notifyUrl: c.notifyUrl } : {}),
    signingKey: Object.freeze(signingKey),
    verifyingKey: Object.freeze(verifyingKey),
  };
  // Keep the key out of JSON.stringify / util.inspect of the config.
  Object.defineProperty(config, 'signingKey', { enumerable: false });
  Object.defineProperty(config, 'verifyingKey', { enumerable: false });
  return Object.freeze(config);
}
