/**
 * The demo's world: one partner, a few royalty accounts and ~200 paid trades, known to both the
 * sandbox (Alipay's ledger) and the merchant server (the shop's orders). Deterministic.
 */
import { formatYuan } from '@alirefund/protocol';

export const DEMO_PARTNER = '2088101122136241';
export const DEMO_SELLER_EMAIL = 'demo-seller@example.com';
export const ROYALTY_ACCOUNTS = [
  { userId: '2088102000000011', email: 'agent.a@example.com', balance: '500.00' },
  { userId: '2088102000000022', email: 'agent.b@example.com', balance: '300.00' },
];

export interface DemoTrade {
  tradeNo: string;
  outTradeNo: string;
  amountFen: number;
  subject: string;
  buyer: string;
  paidAt: string;
  royalty?: { userId: string; amountFen: number };
}

const SUBJECTS = [
  '演唱会门票',
  '机票改签费',
  'Conference pass',
  '酒店预订',
  'T-shirt (L)',
  '课程报名费',
  '快递服务',
  'Gift card',
];

/** ~200 trades paid over the last 30 days; every 7th shares a royalty with an agent. */
export function demoTrades(count = 200, now = Date.now()): DemoTrade[] {
  const out: DemoTrade[] = [];
  let seed = 20261121;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 1; i <= count; i++) {
    const amountFen = Math.round(50 + rnd() * 60000);
    const t: DemoTrade = {
      tradeNo: `2026${String(1100 + Math.floor(i / 40)).padStart(4, '0')}21001004${String(180000000000 + i * 7919).slice(0, 12)}`,
      outTradeNo: `ORDER-${String(i).padStart(5, '0')}`,
      amountFen,
      subject: SUBJECTS[i % SUBJECTS.length]!,
      buyer: `buyer${String(i).padStart(3, '0')}@example.com`,
      paidAt: new Date(now - (count - i) * 3.6 * 3600_000).toISOString(),
    };
    if (i % 7 === 0)
      t.royalty = { userId: ROYALTY_ACCOUNTS[i % 2]!.userId, amountFen: Math.floor(amountFen / 10) };
    out.push(t);
  }
  return out;
}

/** The sandbox seed for the demo world. */
export function demoSeed(opts: {
  key: string;
  paymentPassword: string;
  tradeNotifyUrl: string;
  trades: readonly DemoTrade[];
}): unknown {
  return {
    partners: [
      {
        partner: DEMO_PARTNER,
        key: opts.key,
        email: DEMO_SELLER_EMAIL,
        paymentPassword: opts.paymentPassword,
        balance: '100000.00',
        services: [
          'refund_fastpay_by_platform_pwd',
          'refund_fastpay_by_platform_nopwd',
          'refund_fastpay_query',
        ],
      },
    ],
    accounts: ROYALTY_ACCOUNTS.map((a) => ({ ...a, signedWith: [DEMO_PARTNER] })),
    trades: opts.trades.map((t) => ({
      tradeNo: t.tradeNo,
      partner: DEMO_PARTNER,
      outTradeNo: t.outTradeNo,
      amount: formatYuan(t.amountFen),
      status: 'TRADE_SUCCESS',
      notifyUrl: opts.tradeNotifyUrl,
      buyerEmail: t.buyer,
      ...(t.royalty
        ? { royalties: [{ userId: t.royalty.userId, amount: formatYuan(t.royalty.amountFen) }] }
        : {}),
    })),
  };
}
