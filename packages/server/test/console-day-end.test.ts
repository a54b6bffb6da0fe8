/**
 * The last points of issue 13 in the console, zh and en, over real HTTP on loopback against the real server on a
 * SQLite file: thousands separators on every displayed amount (exports stay plain), a pwd batch's notification
 * delay without the operator's time on Alipay's password page, the demo's failed sandbox copy of imported trades
 * shown after the import, and the audit details' keys and reconcile attempts' notes through the catalogue.
 */
import { formatBeijing } from '@alirefund/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enFilters, zhFilters } from '../src/console/i18n/filters.js';
import type { RegisterResult } from '../src/index.js';
import { ConsoleClient, type ConsoleServer, startConsoleServer } from './console-helpers.js';
import {
  batchNotification,
  listen,
  postNotify,
  type StubGateway,
  startStubGateway,
  xmlF,
} from './helpers.js';

const BIG = '2026011521001004180000501117'; // 1,234,567.89 yuan
const ROY = '2026011521001004180000502234'; // 5,000.00 with a 2,500.00 royalty part
const PWD = '2026011521001004180000503351';
const ATT = '2026011521001004180000504468';
const NEW1 = '2026011521001004180000505585';
const NEW2 = '2026011521001004180000506602';

let stub: StubGateway;
let s: ConsoleServer;
let http: { url: string; close(): Promise<void> };
let b: ConsoleClient;
let bigBatch = '';
let pwdBatch = '';
let attBatch = '';

/** The text of the element with `id` (tags removed). */
function byId(html: string, id: string): string {
  const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(?:div|dd|span|h3|p)>`).exec(html);
  return (m?.[1] ?? '').replace(/<[^>]*>/g, '').trim();
}
/** As hono/html escapes text. */
function esc(text: string): string {
  return text.replaceAll("'", '&#39;');
}
function batchFrom(location: string | null): string {
  return /^\/batches\/(\w+)/.exec(location ?? '')![1]!;
}
async function download(path: string): Promise<string> {
  const res = await fetch(`${http.url}${path}`, {
    headers: { cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  expect(res.status).toBe(200);
  return res.text();
}

beforeAll(async () => {
  stub = await startStubGateway();
  s = await startConsoleServer({ gateway: stub.gateway });
  http = await listen(s.app);
  b = new ConsoleClient({ baseUrl: http.url });
  expect((await b.login()).status).toBe(303);
  const reg = await s.server.services.trades.register(
    [
      { tradeNo: BIG, amountFen: 123_456_789, outTradeNo: 'BIG-1' },
      { tradeNo: ROY, amountFen: 500_000, royalties: [{ account: 'agent@example.com', amountFen: 250_000 }] },
      { tradeNo: PWD, amountFen: 1000 },
      { tradeNo: ATT, amountFen: 1000 },
    ],
    'test',
  );
  expect(reg.issues).toEqual([]);
  // A nopwd batch of 1,234,567.89 yuan, finished by its notification.
  await b.get('/trades');
  const res = await b.post('/refunds', [
    ['t', BIG],
    ['reason_all', '协商退款'],
    ['mode', 'nopwd'],
  ]);
  bigBatch = batchFrom(res.location);
  stub.valid.add('nid-big');
  const n = batchNotification({
    batchNo: bigBatch,
    notifyId: 'nid-big',
    results: [{ tradeNo: BIG, amount: '1234567.89' }],
  });
  expect((await postNotify(s.app, n.body)).text).toBe('success');
});
afterAll(async () => {
  await http?.close();
  await s?.cleanup();
  await stub?.close();
});

describe('thousands separators on displayed amounts (exports stay plain)', () => {
  it('dashboard tiles', async () => {
    const zh = await b.get('/dashboard?lang=zh-CN');
    expect(byId(zh.html, 'kpi-today')).toBe('1,234,567.89');
    expect(byId(zh.html, 'kpi-window')).toBe('1,234,567.89');
  });

  it("the batch page's timeline, zh and en", async () => {
    const zh = await b.get(`/batches/${bigBatch}?lang=zh-CN`);
    expect(zh.html).toContain('1,234,567.89 元，免密');
    expect(zh.html).toContain('（1,234,567.89 元）');
    expect(zh.html).not.toMatch(/1234567\.89 元/);
    const en = await b.get(`/batches/${bigBatch}?lang=en`);
    expect(en.html).toContain('1,234,567.89 yuan, nopwd');
    expect(en.html).toContain('(1,234,567.89 yuan)');
  });

  it("the preview's royalty total and batch plan; the inputs keep plain amounts", async () => {
    await b.get('/trades?lang=zh-CN');
    const page = await b.post('/refunds/preview', [
      ['t', ROY],
      ['mode', 'nopwd'],
      [`roy.${ROY}`, '0'],
      ['reason_all', '协商退款'],
    ]);
    expect(page.status).toBe(200);
    expect(byId(page.html, 'preview-royalty-total')).toBe('2,500.00');
    expect(page.html).toMatch(/<h3>[^<]*5,000\.00 元<\/h3>/);
    expect(page.html).toContain(`name="amount.${ROY}" value="5000.00"`);
    expect(page.html).toContain(`name="roy_amount.${ROY}.0" value="2500.00"`);
  });

  it('exports keep 1234567.89', async () => {
    const csv = await download('/export/batches.csv');
    expect(csv).toContain(',1234567.89,');
    expect(csv).not.toContain('1,234,567.89');
  });
});

describe("notification delay without the operator's time on the password page", () => {
  it('a pwd batch counts from notify_time; a nopwd batch from submission', async () => {
    const created = await s.server.services.refunds.createBatches(
      [{ tradeNo: PWD, amountFen: 1000, reason: '协商退款' }],
      { mode: 'pwd', actor: 'operator:admin' },
    );
    pwdBatch = created.batches[0]!.batchNo;
    await b.get(`/batches/${pwdBatch}?lang=zh-CN`);
    expect((await b.post(`/batches/${pwdBatch}/submit`)).status).toBe(200);
    // The operator spends ten minutes on Alipay's password page; Alipay then notifies 3 s before we apply it.
    await s.server.database.db
      .updateTable('srv_batches')
      .set({ submitted_at: new Date(Date.now() - 10 * 60_000).toISOString() })
      .where('batch_no', '=', pwdBatch)
      .execute();
    stub.valid.add('nid-pwd');
    const n = batchNotification({
      batchNo: pwdBatch,
      notifyId: 'nid-pwd',
      results: [{ tradeNo: PWD, amount: '10.00' }],
      extra: { notify_time: formatBeijing(Date.now() - 3000) },
    });
    expect((await postNotify(s.app, n.body)).text).toBe('success');

    const zh = await b.get(`/batches/${pwdBatch}?lang=zh-CN`);
    // What the page shows beside 通知延迟 (was 10.0 min: the form's creation to the notification).
    const delay = /<dt>通知延迟<\/dt><dd[^>]*>([^<]*)/.exec(zh.html)?.[1];
    expect(delay).toMatch(/^[2-9]\.\d s$/);
    expect(zh.html).toContain('id="notify-delay" data-from="notify_time"');
    expect(zh.html).toContain(zhFilters.delayPwd);
    const en = await b.get(`/batches/${pwdBatch}?lang=en`);
    expect(en.html).toContain(esc(enFilters.delayPwd));

    const nopwd = await b.get(`/batches/${bigBatch}?lang=en`);
    expect(nopwd.html).toContain('id="notify-delay" data-from="submitted"');
    expect(nopwd.html).toContain(enFilters.delayNopwd);

    // The dashboard's quantiles use the same measure: nothing near ten minutes.
    const dash = await b.get('/dashboard?lang=zh-CN');
    expect(dash.html).toMatch(/max (\d+ ms|\d+\.\d s) · 2 /);
    expect(dash.html).not.toMatch(/\d+\.\d min/);
    expect(byId(dash.html, 'latency-hint')).toBe(zhFilters.latencyHint);
  });
});

describe("the demo's failed sandbox copy of imported trades is shown after the import", () => {
  it('says, in zh and en, that the sandbox does not know them and refunds will fail with TRADE_NOT_EXISTS', async () => {
    // What `alirefund demo` does around register (packages/cli/src/commands/demo.ts, mirrorImports).
    const trades = s.server.services.trades;
    const register = trades.register.bind(trades);
    trades.register = async (inputs, actor): Promise<RegisterResult> => {
      const res = await register(inputs, actor);
      if (res.created.length === 0) return res;
      return {
        ...res,
        notices: [
          {
            code: 'SANDBOX_MIRROR_FAILED',
            tradeNos: res.created.map((t) => t.tradeNo),
            message: 'connect ECONNREFUSED 127.0.0.1:1',
          },
        ],
      };
    };
    try {
      await b.get('/import?lang=zh-CN');
      const zh = await b.post('/import', { csv: `trade_no,amount\n${NEW1},12.00\n` });
      expect(zh.status).toBe(200);
      const box =
        /<div class="flash flash-warn" role="alert" id="sandbox-mirror-failed"[\s\S]*?<\/details><\/div>/.exec(
          zh.html,
        )?.[0];
      expect(box).toBeDefined();
      expect(box).toContain(zhFilters.sandboxMirrorFailed(1));
      expect(box).toContain('TRADE_NOT_EXISTS');
      expect(box).toContain(NEW1);
      expect(box).toContain('connect ECONNREFUSED 127.0.0.1:1');
      await b.get('/import?lang=en');
      const en = await b.post('/import', { csv: `trade_no,amount\n${NEW2},12.00\n` });
      expect(en.html).toContain(enFilters.sandboxMirrorFailed(1));
      expect(en.html).toContain('refunds of them will fail with TRADE_NOT_EXISTS');
      // An import without a notice shows no warning.
      trades.register = register;
      const plain = await b.post('/import', { csv: `trade_no,amount\n${NEW2},12.00\n` });
      expect(plain.html).not.toContain('sandbox-mirror-failed');
    } finally {
      trades.register = register;
    }
  });
});

describe('audit details and reconcile attempts through the catalogue', () => {
  it('the audit page shows detail keys translated, values as stored (zh and en)', async () => {
    const zh = await b.get('/audit?lang=zh-CN');
    expect(zh.html).toContain(
      `data-key="batchNos">${zhFilters.auditKeys['batchNos']}</span> <code>[&quot;${bigBatch}&quot;]</code>`,
    );
    expect(zh.html).toContain(`data-key="mode">${zhFilters.auditKeys['mode']}</span> <code>nopwd</code>`);
    expect(zh.html).not.toContain('data-untranslated');
    const en = await b.get('/audit?lang=en');
    expect(en.html).toContain('data-key="batchNos">Batch numbers</span>');
    expect(en.html).toContain('data-key="records">Records</span> <code>1</code>');
    expect(en.html).not.toContain('data-untranslated');
  });

  it("a reconcile attempt's note in zh (the stored English only as a tooltip) and in en", async () => {
    stub.nopwd = () => ({ body: xmlF('SYSTEM_ERROR') });
    await b.get('/trades');
    attBatch = batchFrom((await b.post('/refunds', { t: ATT, mode: 'nopwd' })).location);
    await b.get(`/batches/${attBatch}`);
    expect((await b.post(`/batches/${attBatch}/reconcile`)).status).toBe(303);
    const [attempt] = await s.server.services.reconcile.attempts(attBatch, 1);
    expect(attempt).toBeDefined();
    const zh = await b.get(`/batches/${attBatch}?lang=zh-CN`);
    const zhRow = /<table id="reconcile-attempts">[\s\S]*?<\/table>/.exec(zh.html)![0];
    expect(zhRow).toContain(
      `<span class="reconcile-note">${zhFilters.reconcileNotes[attempt!.outcome]}</span>`,
    );
    expect(zhRow.replace(/title="[^"]*"/g, '')).not.toContain(attempt!.message.slice(0, 20));
    const en = await b.get(`/batches/${attBatch}?lang=en`);
    const enRow = /<table id="reconcile-attempts">[\s\S]*?<\/table>/.exec(en.html)![0];
    expect(enRow).toContain(
      `<span class="reconcile-note">${enFilters.reconcileNotes[attempt!.outcome]}</span>`,
    );
    expect(enRow).toContain(attempt!.message.slice(0, 20));
  });
});
