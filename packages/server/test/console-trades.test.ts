/**
 * The trades list and the refund preview: picks that survive paging and searching (kept per session), and
 * royalty (分润) pull-back segments in the preview (nopwd only; pwd shows PWD_REFUND_NOT_ALLOW_ROYALTY).
 * In-process on every dialect under test, and the royalty batch once over a real socket.
 */
import { dialectsUnderTest } from '@alirefund/store/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleClient, type ConsoleServer, type Page, startConsoleServer } from './console-helpers.js';
import { listen, PARTNER, type StubGateway, startStubGateway } from './helpers.js';

/** 25 trade numbers, more than one page of 20. */
const MANY = Array.from(
  { length: 25 },
  (_, i) => `2026020121001004180000${String(300 + i).padStart(6, '0')}`,
);
const ROY = '2026020121001004180000999001';
const AGENT_ID = '2088102000000011';
const AGENT_MAIL = 'agent@example.com';

const tradesOf = (p: Page) => [...p.html.matchAll(/<tr data-trade="(\d+)"/g)].map((m) => m[1]!);
const pickedOf = (p: Page) =>
  [...p.html.matchAll(/<tr data-trade="(\d+)" data-picked="1"/g)].map((m) => m[1]!);
const detailData = (p: Page) =>
  [...p.html.matchAll(/<pre class="detail-data">([^<]*)<\/pre>/g)].map((m) => m[1]!).join('#');
/** A list form's ticks: each ticked trade (`t`), then each trade the page showed (`shown`). */
const ticks = (ticked: readonly string[], shown: readonly string[]): Array<[string, string]> => [
  ...ticked.map((no) => ['t', no] as [string, string]),
  ...shown.map((no) => ['shown', no] as [string, string]),
];
const previewTrades = (p: Page) =>
  [...p.html.matchAll(/<tr(?: class="row-bad")? data-trade="(\d+)">/g)].map((m) => m[1]!);
const issueCodes = (p: Page) =>
  [...p.html.matchAll(/<li class="issue" data-record="(\d*)" data-code="([A-Z_]+)">/g)].map(
    (m) => `${m[1]}:${m[2]}`,
  );

describe.each(dialectsUnderTest())('console trades (%s)', (dialect) => {
  let stub: StubGateway;
  let s: ConsoleServer;
  let b: ConsoleClient;

  beforeAll(async () => {
    stub = await startStubGateway();
  });
  afterAll(async () => {
    await stub.close();
  });
  beforeEach(async () => {
    s = await startConsoleServer({ gateway: stub.gateway, dialect });
    b = new ConsoleClient(s.app);
    expect((await b.login()).status).toBe(303);
    const res = await s.server.services.trades.register(
      [
        ...MANY.map((tradeNo, i) => ({ tradeNo, amountFen: 1000 + i, outTradeNo: `ORDER-${i}` })),
        {
          tradeNo: ROY,
          amountFen: 10_000,
          outTradeNo: 'ROYALTY-1',
          royalties: [
            { userId: AGENT_ID, amountFen: 500 },
            { account: AGENT_MAIL, amountFen: 150 },
          ],
        },
      ],
      'test',
    );
    expect(res.issues).toEqual([]);
  });
  afterEach(async () => {
    await s.cleanup();
  });

  describe('picks across pages', () => {
    it('keeps the picks of page 1 while paging to page 2, and the preview shows all of them', async () => {
      const page1 = await b.get('/trades?size=20');
      const on1 = tradesOf(page1);
      expect(on1).toHaveLength(20);
      const [a, c] = [on1[2]!, on1[7]!];
      // Tick two on page 1, then "next page" (a submit button of the same form).
      const next = await b.post('/trades/pick', [
        ...ticks([a, c], on1),
        ['go', 'page:2'],
        ['page', '1'],
        ['size', '20'],
      ]);
      expect(next.status).toBe(303);
      expect(next.location).toBe('/trades?size=20&page=2');
      const page2 = await b.get(next.location!);
      const on2 = tradesOf(page2);
      expect(on2).toHaveLength(6);
      expect(on2).not.toContain(a);
      expect(page2.html).toContain('data-picks-base="2"');
      expect(page2.html).toContain('<strong data-selected-count id="picks-count">2</strong> 笔');
      // Tick one on page 2 and preview: all three, in the order they were picked.
      const d = on2[1]!;
      const pv = await b.post('/refunds/preview', [
        ['from', 'list'],
        ...ticks([d], on2),
        ['reason_all', '跨页'],
      ]);
      expect(pv.status).toBe(200);
      expect(new Set(previewTrades(pv))).toEqual(new Set([a, c, d]));
      expect(pv.html).toContain('id="preview-count">3<');
      expect(pv.html).toContain('<input type="hidden" name="picks" value="1">');
      // Back on page 1 the two picks are ticked.
      const back = await b.get('/trades?size=20');
      expect(new Set(pickedOf(back))).toEqual(new Set([a, c]));
      expect(back.html).toMatch(new RegExp(`name="t" value="${a}"[^>]*checked`));
    });

    it('keeps picks across a search, forgets the ones unticked on the page shown, and clears', async () => {
      const page1 = await b.get('/trades');
      const on1 = tradesOf(page1);
      const [a, c] = on1.filter((no) => no !== ROY) as [string, string];
      const search = await b.post('/trades/pick', [
        ...ticks([a, c], on1),
        ['q', 'ROYALTY'],
        ['status', 'refundable'],
        ['go', 'search'],
        ['page', '1'],
      ]);
      expect(search.status).toBe(303);
      expect(search.location).toBe('/trades?q=ROYALTY&status=refundable');
      const found = await b.get(search.location!);
      expect(tradesOf(found)).toEqual([ROY]);
      expect(found.html).toContain('id="picks-count">2<');
      // Pick the royalty trade from the search result as well.
      await b.post('/trades/pick', [
        ['t', ROY],
        ['shown', ROY],
        ['q', 'ROYALTY'],
        ['go', 'reset'],
      ]);
      expect(await s.server.services.sessions.picks(b.cookies.get('alirefund_session')!)).toEqual(
        expect.arrayContaining([a, c, ROY]),
      );
      // Untick `a` on page 1 (shown, but not sent as ticked, as a browser does): it leaves the picks.
      const again = await b.get('/trades');
      expect(new Set(pickedOf(again))).toEqual(new Set([a, c, ROY]));
      await b.post('/trades/pick', [...ticks([c, ROY], tradesOf(again)), ['go', 'page:1']]);
      const picks = await s.server.services.sessions.picks(b.cookies.get('alirefund_session')!);
      expect(new Set(picks)).toEqual(new Set([c, ROY]));
      // Clear.
      const cleared = await b.post('/trades/pick', [['go', 'clear']]);
      expect(cleared.location).toBe('/trades?msg=cleared');
      expect((await b.get(cleared.location!)).html).toContain('已清空所选交易');
      expect(await s.server.services.sessions.picks(b.cookies.get('alirefund_session')!)).toEqual([]);
    });

    it('picks are per session, need the CSRF token, and end with the session', async () => {
      const a = MANY[0]!;
      expect(
        (
          await b.post(
            '/trades/pick',
            [
              ['t', a],
              ['go', 'page:1'],
            ],
            { csrf: null },
          )
        ).status,
      ).toBe(403);
      expect(await s.server.services.sessions.picks(b.cookies.get('alirefund_session')!)).toEqual([]);
      await b.post('/trades/pick', [
        ['t', a],
        ['go', 'page:1'],
      ]);
      const other = new ConsoleClient(s.app);
      await other.login();
      expect(pickedOf(await other.get('/trades'))).toEqual([]);
      expect((await other.get('/trades')).html).toContain('data-picks-base="0"');
      const token = b.cookies.get('alirefund_session')!;
      expect(await s.server.services.sessions.picks(token)).toEqual([a]);
      await b.post('/logout');
      expect(await s.server.services.sessions.picks(token)).toEqual([]);
      const left = await s.server.database.db
        .withTables<{ srv_session_picks: { trade_no: string } }>()
        .selectFrom('srv_session_picks')
        .select('trade_no')
        .execute();
      expect(left).toEqual([]);
    });

    it('removing a trade in the preview drops it from the picks; created batches take their trades out', async () => {
      const [a, c, d] = [MANY[0]!, MANY[1]!, MANY[2]!];
      const pv = await b.post('/refunds/preview', [
        ['from', 'list'],
        ['t', a],
        ['t', c],
        ['t', d],
      ]);
      expect(new Set(previewTrades(pv))).toEqual(new Set([a, c, d]));
      const dropped = await b.post('/refunds/preview', [
        ['from', 'preview'],
        ['picks', '1'],
        ['t', a],
        ['t', c],
        ['t', d],
        ['drop', c],
      ]);
      expect(new Set(previewTrades(dropped))).toEqual(new Set([a, d]));
      const token = b.cookies.get('alirefund_session')!;
      expect(new Set(await s.server.services.sessions.picks(token))).toEqual(new Set([a, d]));
      // "Create" with a row ticked "remove" shows the preview without it and creates nothing.
      const notYet = await b.post('/refunds', [
        ['from', 'preview'],
        ['picks', '1'],
        ['t', a],
        ['t', d],
        ['drop', d],
        ['mode', 'nopwd'],
      ]);
      expect(notYet.status).toBe(200);
      expect(previewTrades(notYet)).toEqual([a]);
      expect((await s.server.services.refunds.listBatches()).total).toBe(0);
      expect(await s.server.services.sessions.picks(token)).toEqual([a]);
      await b.post('/trades/pick', [
        ['t', d],
        ['go', 'page:1'],
      ]);
      // Create a nopwd batch for `a` only: `a` leaves the picks, `d` stays for later.
      const created = await b.post('/refunds', [
        ['from', 'preview'],
        ['picks', '1'],
        ['t', a],
        ['mode', 'nopwd'],
      ]);
      expect(created.status).toBe(303);
      expect(await s.server.services.sessions.picks(token)).toEqual([d]);
    });

    it('a preview without picks (a trade page’s button) leaves the picks alone', async () => {
      const [a, c] = [MANY[0]!, MANY[1]!];
      await b.post('/trades/pick', [
        ['t', a],
        ['go', 'page:1'],
      ]);
      const pv = await b.post('/refunds/preview', { t: c });
      expect(previewTrades(pv)).toEqual([c]);
      expect(pv.html).not.toContain('name="picks"');
      expect(await s.server.services.sessions.picks(b.cookies.get('alirefund_session')!)).toEqual([a]);
    });
  });

  describe('royalty pull-back in the preview', () => {
    it('offers the trade’s royalty parts, unticked, prefilled; nothing is pulled back unless ticked', async () => {
      const pv = await b.post('/refunds/preview', { t: ROY, reason_all: '退货' });
      expect(pv.status).toBe(200);
      expect(pv.html).toContain(`<tr class="royalty-row" data-royalty-for="${ROY}">`);
      expect(pv.html).toContain(`name="roy_amount.${ROY}.0" value="5.00"`);
      expect(pv.html).toContain(`name="roy_amount.${ROY}.1" value="1.50"`);
      expect(pv.html).toContain(`name="roy_to.${ROY}" value="${PARTNER}"`);
      expect(pv.html).not.toMatch(new RegExp(`name="roy.${ROY}" value="\\d"[^>]*checked`));
      expect(detailData(pv)).toBe(`${ROY}^100.00^退货`);
      // Trades without royalty parts get no royalty row.
      const plain = await b.post('/refunds/preview', { t: MANY[0]! });
      expect(plain.html).not.toContain('royalty-row');
    });

    it('nopwd: ticked parts become royalty segments of detail_data, with the edited amount', async () => {
      const fields: [string, string][] = [
        ['t', ROY],
        ['reason_all', '退货'],
        ['mode', 'nopwd'],
        [`roy.${ROY}`, '0'],
        [`roy.${ROY}`, '1'],
        [`roy_amount.${ROY}.1`, '1.00'],
      ];
      const pv = await b.post('/refunds/preview', fields);
      expect(pv.status).toBe(200);
      expect(issueCodes(pv)).toEqual([]);
      expect(detailData(pv)).toBe(
        `${ROY}^100.00^退货|^${AGENT_ID}^^${PARTNER}^5.00^退货|${AGENT_MAIL}^^^${PARTNER}^1.00^退货`,
      );
      expect(pv.html).toContain('id="preview-royalty-total">6.00<');
      expect(pv.html).not.toContain('id="royalty-pwd-warning"');
      expect(pv.html).not.toMatch(/id="submit-refund" disabled/);
      // The ticks and the edited amount come back.
      expect(pv.html).toMatch(new RegExp(`name="roy.${ROY}" value="1" checked`));
      expect(pv.html).toContain(`name="roy_amount.${ROY}.1" value="1.00"`);

      // Created and sent as it was previewed.
      const created = await b.post('/refunds', fields);
      expect(created.status).toBe(303);
      const batchNo = /^\/batches\/(\w+)/.exec(created.location ?? '')![1]!;
      expect(stub.nopwdParams.find((p) => p['batch_no'] === batchNo)?.['detail_data']).toBe(detailData(pv));
      const batch = await s.server.services.refunds.getBatch(batchNo);
      expect(batch?.records[0]?.royalties.map((y) => y.amountFen)).toEqual([500, 100]);
    });

    it('a royalty-only refund (trade amount 0) previews cleanly under nopwd', async () => {
      const pv = await b.post('/refunds/preview', [
        ['t', ROY],
        [`amount.${ROY}`, '0'],
        ['mode', 'nopwd'],
        [`roy.${ROY}`, '0'],
      ]);
      expect(issueCodes(pv)).toEqual([]);
      expect(detailData(pv)).toBe(`${ROY}^0.00^|^${AGENT_ID}^^${PARTNER}^5.00^`);
    });

    it('pwd with royalty parts: PWD_REFUND_NOT_ALLOW_ROYALTY, explained, next to the mode, and nothing is created', async () => {
      const fields: [string, string][] = [
        ['t', ROY],
        ['mode', 'pwd'],
        [`roy.${ROY}`, '0'],
      ];
      const pv = await b.post('/refunds/preview', fields);
      expect(issueCodes(pv)).toEqual(['1:PWD_REFUND_NOT_ALLOW_ROYALTY']);
      expect(pv.html).toContain('id="royalty-pwd-warning"');
      expect(pv.html).toContain('有密接口不允许退分润');
      expect(pv.html).toMatch(/id="submit-refund" disabled/);
      const en = await b.post('/refunds/preview?lang=en', fields);
      expect(en.html).toContain('The pwd service does not allow royalty refunds');
      const post = await b.post('/refunds', fields);
      expect(post.status).toBe(422);
      expect((await s.server.services.refunds.listBatches()).total).toBe(0);
      expect((await s.server.services.trades.get(ROY))?.openBatchNo).toBeNull();
    });

    it('flags a royalty amount above its part or not an amount, and a bad receiving account', async () => {
      const pv = await b.post('/refunds/preview', [
        ['t', ROY],
        ['mode', 'nopwd'],
        [`roy.${ROY}`, '0'],
        [`roy.${ROY}`, '1'],
        [`roy_amount.${ROY}.0`, '5.01'],
        [`roy_amount.${ROY}.1`, 'abc'],
      ]);
      expect(issueCodes(pv)).toEqual(['1:ROYALTY_EXCEEDS_PART', '1:INVALID_AMOUNT']);
      expect(pv.html).toContain('分润退回金额超过原分润金额');
      expect(pv.html).toMatch(/id="submit-refund" disabled/);
      const post = await b.post('/refunds', [
        ['t', ROY],
        ['mode', 'nopwd'],
        [`roy.${ROY}`, '0'],
        [`roy_amount.${ROY}.0`, '5.01'],
      ]);
      expect(post.status).toBe(422);
      expect((await s.server.services.refunds.listBatches()).total).toBe(0);

      const evil = '"><script>alert(1)</script>';
      const bad = await b.post('/refunds/preview', [
        ['t', ROY],
        ['mode', 'nopwd'],
        [`roy.${ROY}`, '0'],
        [`roy_to.${ROY}`, evil],
      ]);
      expect(bad.html).not.toContain('<script>alert(1)');
      expect(bad.html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
      expect(issueCodes(bad).length).toBeGreaterThan(0);
      expect(bad.html).toMatch(/id="submit-refund" disabled/);
    });
  });
});

describe('console royalty pull-back over a real socket', () => {
  let stub: StubGateway;
  let s: ConsoleServer;
  let http: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    stub = await startStubGateway();
    s = await startConsoleServer({ gateway: stub.gateway });
    http = await listen(s.app);
  });
  afterAll(async () => {
    await http.close();
    await s.cleanup();
    await stub.close();
  });

  it('picks on two pages, then one nopwd batch with a royalty segment', async () => {
    await s.server.services.trades.register(
      [
        ...MANY.map((tradeNo, i) => ({ tradeNo, amountFen: 1000 + i })),
        { tradeNo: ROY, amountFen: 10_000, royalties: [{ userId: AGENT_ID, amountFen: 500 }] },
      ],
      'test',
    );
    const b = new ConsoleClient({ baseUrl: http.url });
    expect((await b.login()).status).toBe(303);
    const page1 = await b.get('/trades?size=20');
    const on1 = tradesOf(page1);
    const first = on1.find((no) => no !== ROY)!;
    const next = await b.post('/trades/pick', [...ticks([first], on1), ['size', '20'], ['go', 'page:2']]);
    expect(next.status).toBe(303);
    const page2 = await b.get(next.location!);
    const second = tradesOf(page2).find((no) => no !== ROY)!;
    await b.post('/trades/pick', [...ticks([second], tradesOf(page2)), ['q', ROY], ['go', 'search']]);
    const pv = await b.post('/refunds/preview', [
      ['from', 'list'],
      ['t', ROY],
      ['shown', ROY],
      ['reason_all', 'r'],
    ]);
    expect(new Set(previewTrades(pv))).toEqual(new Set([first, second, ROY]));
    const fields: [string, string][] = [
      ['from', 'preview'],
      ['picks', '1'],
      ...previewTrades(pv).map((no) => ['t', no] as [string, string]),
      ['reason_all', 'r'],
      ['mode', 'nopwd'],
      [`roy.${ROY}`, '0'],
    ];
    const again = await b.post('/refunds/preview', fields);
    expect(issueCodes(again)).toEqual([]);
    expect(detailData(again)).toContain(`${ROY}^100.00^r|^${AGENT_ID}^^${PARTNER}^5.00^r`);
    const created = await b.post('/refunds', fields);
    expect(created.status).toBe(303);
    const batchNo = /^\/batches\/(\w+)/.exec(created.location ?? '')![1]!;
    expect(stub.nopwdParams.at(-1)?.['batch_no']).toBe(batchNo);
    expect(stub.nopwdParams.at(-1)?.['batch_num']).toBe('3');
    expect(stub.nopwdParams.at(-1)?.['detail_data']).toContain(`|^${AGENT_ID}^^${PARTNER}^5.00^r`);
    expect(await s.server.services.sessions.picks(b.cookies.get('alirefund_session')!)).toEqual([]);
  });
});
