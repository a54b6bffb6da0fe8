/**
 * The seed file (design.md "Contracts"): partners, accounts and paid trades, amounts as yuan strings.
 *
 * ```json
 * {"partners":[{"partner","key","email","paymentPassword","balance","services":[…],"rsaPublicKey"?}],
 *  "accounts":[{"userId","email","balance"}],
 *  "trades":[{"tradeNo","partner","outTradeNo"?,"amount","status","notifyUrl"?,"royalties"?:[{"userId"|"email","amount"}]}]}
 * ```
 *
 * Optional extensions (absent = the contract's behaviour): `accounts[].signedWith` (partners the account signed
 * sign_protocol_with_partner with; default: every partner of the same file, or every partner in the database
 * when the file has none), `trades[].buyerEmail` (shown on the pwd confirmation page), `trades[].sellerId`
 * (default: the partner itself), `partners[].frozen` (frozen funds: `[{"freezeOrderNo","amount"}]`, on top of
 * `balance`), `trades[].paidWith` (`balance` (default) or `bank_card`: refunds are then 充退) and `trades[].fee`
 * (the service fee Alipay charged the seller at payment; refunds hand it back pro rata).
 */
import { createPublicKey } from 'node:crypto';
import {
  ALIPAY_EMAIL_RE,
  ALIPAY_USER_ID_RE,
  SERVICE_NOPWD,
  SERVICE_PWD,
  SERVICE_QUERY,
  TRADE_NO_RE,
  parseYuan,
} from '@alirefund/protocol';
import { z } from 'zod';

const yuan = z
  .string({ message: 'must be a yuan amount as a string, e.g. "100.00"' })
  .refine((v) => parseYuan(v) !== null, {
    message: 'must be a yuan amount as a string with at most 2 decimals and no sign, e.g. "100.00"',
  });
const positiveYuan = yuan.refine((v) => (parseYuan(v) ?? 1) > 0, { message: 'must be more than 0' });
const userId = z
  .string()
  .regex(ALIPAY_USER_ID_RE, { message: 'must be an Alipay user id: 2088 followed by 12 digits' });
const email = z
  .string()
  .regex(ALIPAY_EMAIL_RE, { message: 'must be an email address (Alipay logins here are emails)' });
const httpUrl = z.string().refine(
  (v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && !v.includes('?');
    } catch {
      return false;
    }
  },
  { message: 'must be an absolute http(s) URL without a query string' },
);

/** Service names a partner may contract. */
export const SANDBOX_SERVICES = [SERVICE_PWD, SERVICE_NOPWD, SERVICE_QUERY] as const;

/** Trade statuses a seeded trade may have. */
export const TRADE_STATUSES = ['TRADE_SUCCESS', 'TRADE_FINISHED', 'TRADE_CLOSED', 'WAIT_BUYER_PAY'] as const;

/** A freeze order number: letters, digits, `_` and `-` (no separator of `unfreezed_details`). */
export const FREEZE_ORDER_NO_RE = /^[0-9A-Za-z_-]{1,64}$/;

export const freezeSeedSchema = z.strictObject({
  freezeOrderNo: z.string().regex(FREEZE_ORDER_NO_RE, {
    message: 'must be 1 to 64 letters, digits, "_" or "-"',
  }),
  amount: positiveYuan,
});

/** How a trade was paid: from the buyer's balance, or by bank card (refunds then go back to the card: 充退). */
export const PAID_WITH = ['balance', 'bank_card'] as const;

export const partnerSeedSchema = z.strictObject({
  partner: userId,
  key: z.string().regex(/^[0-9A-Za-z]{32}$/, {
    message: 'must be the 32-character MD5 key (安全校验码): letters and digits',
  }),
  email,
  paymentPassword: z
    .string()
    .min(6, { message: 'must be at least 6 characters' })
    .max(64, { message: 'must be at most 64 characters' }),
  balance: yuan,
  services: z.array(z.enum(SANDBOX_SERVICES, { message: `must be one of ${SANDBOX_SERVICES.join(', ')}` })),
  rsaPublicKey: z
    .string()
    .refine(
      (pem) => {
        try {
          return createPublicKey(pem).asymmetricKeyType === 'rsa';
        } catch {
          return false;
        }
      },
      { message: 'must be a PEM RSA public key (-----BEGIN PUBLIC KEY-----…)' },
    )
    .optional(),
  frozen: z.array(freezeSeedSchema).optional(),
});

export const accountSeedSchema = z.strictObject({
  userId,
  email,
  balance: yuan,
  signedWith: z.array(userId).optional(),
});

export const royaltySeedSchema = z
  .strictObject({ userId: userId.optional(), email: email.optional(), amount: positiveYuan })
  .refine((r) => r.userId !== undefined || r.email !== undefined, {
    message: 'give the royalty account as "userId" or "email"',
  });

export const tradeSeedSchema = z
  .strictObject({
    tradeNo: z.string().regex(TRADE_NO_RE, {
      message: 'must be an Alipay trade number (6 to 64 digits; 16 or 28 in practice)',
    }),
    partner: userId,
    outTradeNo: z.string().min(1).max(64).optional(),
    amount: positiveYuan,
    status: z.enum(TRADE_STATUSES, { message: `must be one of ${TRADE_STATUSES.join(', ')}` }),
    notifyUrl: httpUrl.optional(),
    royalties: z.array(royaltySeedSchema).optional(),
    buyerEmail: email.optional(),
    sellerId: userId.optional(),
    paidWith: z.enum(PAID_WITH, { message: `must be one of ${PAID_WITH.join(', ')}` }).optional(),
    fee: yuan.optional(),
  })
  .superRefine((t, ctx) => {
    if (t.fee !== undefined && (parseYuan(t.fee) ?? 0) > (parseYuan(t.amount) ?? Number.POSITIVE_INFINITY)) {
      ctx.addIssue({ code: 'custom', path: ['fee'], message: `is more than the trade amount ${t.amount}` });
    }
    const total = (t.royalties ?? []).reduce((s, r) => s + (parseYuan(r.amount) ?? 0), 0);
    const amount = parseYuan(t.amount);
    if (amount !== null && total > amount) {
      ctx.addIssue({
        code: 'custom',
        path: ['royalties'],
        message: `royalties add up to more than the trade amount ${t.amount}`,
      });
    }
  });

/** The whole seed file. Cross-references within the file are checked; those to the database at seeding. */
export const sandboxSeedSchema = z
  .strictObject({
    partners: z.array(partnerSeedSchema).default([]),
    accounts: z.array(accountSeedSchema).default([]),
    trades: z.array(tradeSeedSchema).default([]),
  })
  .superRefine((s, ctx) => {
    const ids = new Map<string, string>();
    const emails = new Map<string, string>();
    const claim = (map: Map<string, string>, value: string, path: (string | number)[], what: string) => {
      const first = map.get(value);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path, message: `${what} ${value} is already used by ${first}` });
      else map.set(value, pathText(path));
    };
    const freezes = new Map<string, string>();
    s.partners.forEach((p, i) => {
      claim(ids, p.partner, ['partners', i, 'partner'], 'id');
      claim(emails, p.email, ['partners', i, 'email'], 'email');
      (p.frozen ?? []).forEach((f, j) => {
        claim(freezes, f.freezeOrderNo, ['partners', i, 'frozen', j, 'freezeOrderNo'], 'freezeOrderNo');
      });
    });
    s.accounts.forEach((a, i) => {
      claim(ids, a.userId, ['accounts', i, 'userId'], 'id');
      claim(emails, a.email, ['accounts', i, 'email'], 'email');
    });
    const trades = new Map<string, string>();
    for (const [i, t] of s.trades.entries()) claim(trades, t.tradeNo, ['trades', i, 'tradeNo'], 'tradeNo');
  });

export type SandboxSeed = z.output<typeof sandboxSeedSchema>;
export type SandboxSeedInput = z.input<typeof sandboxSeedSchema>;
export type PartnerSeed = z.output<typeof partnerSeedSchema>;
export type AccountSeed = z.output<typeof accountSeedSchema>;
export type TradeSeed = z.output<typeof tradeSeedSchema>;
export type FreezeSeed = z.output<typeof freezeSeedSchema>;

/** One problem in a seed: the JSON path of the bad field and what is wrong. */
export interface SeedProblem {
  path: string;
  message: string;
}

/** Thrown for an invalid seed; its message lists every problem as `path: message`. */
export class SeedError extends Error {
  override readonly name = 'SeedError';
  constructor(readonly problems: readonly SeedProblem[]) {
    super(`invalid sandbox seed:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
}

/** `['trades', 3, 'amount']` → `trades[3].amount`. */
export function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += (out === '' ? '' : '.') + String(p);
  }
  return out === '' ? '(root)' : out;
}

/** Turns zod issues into seed problems (shared by the admin API). */
export function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): SeedProblem[] {
  return error.issues.map((i) => {
    let message = i.message;
    if (i.code === 'unrecognized_keys')
      message = `unknown field(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    else if (i.code === 'invalid_type' && i.input === undefined) message = `is required (${i.expected})`;
    else if (i.code === 'invalid_type')
      message = `must be ${i.expected === 'array' ? 'an array' : `a ${i.expected}`}`;
    return { path: pathText([...prefix, ...i.path]), message };
  });
}

/**
 * Validates a seed (a JSON text or an already-parsed value).
 * @throws SeedError whose problems name the JSON path of each bad field, e.g. `trades[3].amount: …`.
 */
export function parseSeed(json: unknown): SandboxSeed {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new SeedError([{ path: '(root)', message: `is not valid JSON: ${(e as Error).message}` }]);
    }
  }
  const r = sandboxSeedSchema.safeParse(value);
  if (!r.success) throw new SeedError(zodProblems(r.error));
  return r.data;
}

/** What seeding did. Rows that already existed are left unchanged (seeding is idempotent). */
export interface SeedSummary {
  partners: Array<{ partner: string; email: string; services: string[]; created: boolean }>;
  accounts: { created: number; existing: number };
  trades: { created: number; existing: number };
}
