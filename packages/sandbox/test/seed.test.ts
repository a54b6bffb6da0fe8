/** The seed file contract, the demo seed, idempotent seeding, and the --notify-schedule syntax. */
import { readFileSync } from 'node:fs';
import { openTestDatabase } from '@alirefund/store/testing';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NOTIFY_SCHEDULE,
  SeedError,
  createSandbox,
  formatSchedule,
  parseScheduleList,
  parseSeed,
} from '../src/index.js';

const demo = readFileSync(new URL('../seeds/demo.json', import.meta.url), 'utf8');

function problemsOf(input: unknown): string[] {
  try {
    parseSeed(input);
  } catch (e) {
    if (e instanceof SeedError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('seed files', () => {
  it('accepts the demo seed: one partner with all three services, royalty trades, a closed and a finished trade', () => {
    const seed = parseSeed(demo);
    expect(seed.partners).toHaveLength(1);
    expect(seed.partners[0]!.services).toEqual([
      'refund_fastpay_by_platform_pwd',
      'refund_fastpay_by_platform_nopwd',
      'refund_fastpay_query',
    ]);
    expect(seed.trades.length).toBeGreaterThanOrEqual(20);
    expect(seed.trades.filter((t) => t.royalties).length).toBeGreaterThanOrEqual(2);
    expect(seed.trades.map((t) => t.status)).toEqual(
      expect.arrayContaining(['TRADE_CLOSED', 'TRADE_FINISHED']),
    );
  });

  it('names the JSON path of every bad field', () => {
    const seed = JSON.parse(demo) as {
      partners: Array<Record<string, unknown>>;
      trades: Array<Record<string, unknown>>;
      accounts: Array<Record<string, unknown>>;
    };
    seed.trades[3]!['amount'] = '12.345';
    seed.trades[5]!['status'] = 'PAID';
    seed.partners[0]!['key'] = 'short';
    seed.trades[2]!['royalties'] = [{ amount: '1.00' }];
    seed.trades[7]!['colour'] = 'red';
    const problems = problemsOf(seed);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^trades\[3\]\.amount: must be a yuan amount/),
        expect.stringMatching(/^trades\[5\]\.status: must be one of/),
        expect.stringMatching(/^partners\[0\]\.key: must be the 32-character MD5 key/),
        expect.stringMatching(/^trades\[2\]\.royalties\[0\]: give the royalty account/),
        expect.stringMatching(/^trades\[7\]: unknown field\(s\) "colour"/),
      ]),
    );
    expect(problems).toHaveLength(5);
    // Cross-field rules run once the fields themselves are valid.
    const dup = JSON.parse(demo) as typeof seed;
    dup.accounts[1]!['email'] = dup.accounts[0]!['email'];
    dup.trades[4]!['tradeNo'] = dup.trades[0]!['tradeNo'];
    expect(problemsOf(dup)).toEqual([
      expect.stringMatching(/^accounts\[1\]\.email: email .* is already used by accounts\[0\]\.email/),
      expect.stringMatching(/^trades\[4\]\.tradeNo: tradeNo .* is already used by trades\[0\]\.tradeNo/),
    ]);
    expect(problemsOf('{not json')).toEqual([expect.stringMatching(/^\(root\): is not valid JSON/)]);
    expect(problemsOf({ partners: [{}] })[0]).toMatch(/^partners\[0\]\.partner: is required/);
  });

  it('seeds idempotently and reports references to missing partners/accounts by path', async () => {
    const database = await openTestDatabase('sqlite');
    try {
      const sandbox = await createSandbox({ database, autoDispatch: false });
      const first = await sandbox.seed(JSON.parse(demo));
      expect(first.partners[0]).toMatchObject({ partner: '2088101122136241', created: true });
      expect(first.trades).toEqual({ created: 20, existing: 0 });
      const again = await sandbox.seed(JSON.parse(demo));
      expect(again.partners[0]!.created).toBe(false);
      expect(again.trades).toEqual({ created: 0, existing: 20 });
      expect(again.accounts.created).toBe(0);
      await expect(
        sandbox.seed({
          trades: [
            {
              tradeNo: '2026011521001004189999999999',
              partner: '2088000000000000',
              amount: '1.00',
              status: 'TRADE_SUCCESS',
              royalties: [{ email: 'ghost@example.com', amount: '0.50' }],
            },
          ],
        }),
      ).rejects.toThrow(
        /trades\[0\]\.partner: partner 2088000000000000 does not exist[\s\S]*trades\[0\]\.royalties\[0\]\.email: account ghost@example.com does not exist/,
      );
      const ledger = await (await sandbox.app.request('/sandbox/api/ledger')).json();
      expect(ledger).toMatchObject({ sumFen: 0, balancesMatchEntries: true, unbalancedTxns: [] });
      await sandbox.close();
    } finally {
      await database.cleanup();
    }
  });
});

describe('--notify-schedule', () => {
  it('parses units and round-trips the default', () => {
    expect(parseScheduleList('0,4m,10m,10m,1h,2h,6h,15h')).toEqual([...DEFAULT_NOTIFY_SCHEDULE]);
    expect(parseScheduleList('0, 200ms,1.5s,2d')).toEqual([0, 200, 1500, 172_800_000]);
    expect(formatSchedule(DEFAULT_NOTIFY_SCHEDULE)).toBe('0,4m,10m,10m,1h,2h,6h,15h');
  });
  it('refuses bad items by position', () => {
    expect(() => parseScheduleList('0,200')).toThrow(/item 2 "200" has no unit/);
    expect(() => parseScheduleList('0,4x')).toThrow(/item 2 "4x" is not an interval/);
    expect(() => parseScheduleList('')).toThrow(/empty/);
  });
});

describe('seeds/funds.json (frozen funds, bank-card trades, fees)', () => {
  it('validates, loads next to demo.json, and seeds idempotently', async () => {
    const funds = readFileSync(new URL('../seeds/funds.json', import.meta.url), 'utf8');
    const seed = parseSeed(funds);
    expect(seed.partners[0]!.frozen?.map((f) => f.freezeOrderNo)).toEqual([
      'FUNDS-FRZ-0001',
      'FUNDS-FRZ-0002',
    ]);
    expect(seed.trades.map((t) => t.paidWith ?? 'balance')).toEqual([
      'bank_card',
      'balance',
      'bank_card',
      'balance',
    ]);
    const database = await openTestDatabase('sqlite');
    try {
      const sandbox = await createSandbox({ database, autoDispatch: false });
      await sandbox.seed(demo);
      const first = await sandbox.seed(funds);
      expect(first.trades).toEqual({ created: 4, existing: 0 });
      const again = await sandbox.seed(funds);
      expect(again.trades).toEqual({ created: 0, existing: 4 });
      const res = await sandbox.app.request('/sandbox/api/partners/2088606677781796');
      expect(await res.json()).toMatchObject({ balanceFen: 50000, frozenFen: 25000 });
      const ledger = (await (await sandbox.app.request('/sandbox/api/ledger')).json()) as Record<
        string,
        unknown
      >;
      expect(ledger).toMatchObject({ sumFen: 0, unbalancedTxns: [], balancesMatchEntries: true });
      await sandbox.close();
    } finally {
      await database.cleanup();
    }
  });
});
