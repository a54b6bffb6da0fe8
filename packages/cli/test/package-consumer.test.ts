/**
 * The packages as a merchant gets them: `npm pack` every workspace package, install the tarballs into a fresh
 * project outside the repository (no workspace link, no TypeScript loader), then use them from an ESM script,
 * a CommonJS script, a TypeScript consumer type-checked against the shipped declarations, and the installed
 * `alirefund` bin. Anything that leaks a `.ts` path, a workspace link or a missing dependency fails here.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectors } from '../../protocol/test/vectors.js';

const root = new URL('../../../', import.meta.url).pathname;
const PACKAGES = ['protocol', 'store', 'sandbox', 'server', 'cli'] as const;
const KEY = vectors.keys['md5_key_1']!;
const VECTOR = vectors.md5.find((v) => v.key === 'md5_key_1' && v.charset === 'utf-8')!;
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');

let work = '';
let app = '';
const tarballs: Record<string, { file: string; files: string[] }> = {};

/** npm, asynchronously: a minutes-long install must not block the test worker's event loop. */
async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await promisify(execFile)('npm', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return stdout;
}

function node(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, args, {
    cwd: app,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'alirefund-consumer-'));
  const packs = join(work, 'packs');
  mkdirSync(packs);
  for (const p of PACKAGES) {
    const [info] = JSON.parse(
      await npm(['pack', '--json', '--pack-destination', packs, `./packages/${p}`], root),
    ) as { filename: string; files: { path: string }[] }[];
    if (!info) throw new Error(`npm pack printed nothing for packages/${p}`);
    tarballs[p] = { file: join(packs, info.filename), files: info.files.map((f) => f.path) };
  }
  app = join(work, 'app');
  mkdirSync(app);
  const dependencies: Record<string, string> = {};
  for (const p of PACKAGES)
    dependencies[p === 'cli' ? 'alirefund' : `@alirefund/${p}`] = `file:${tarballs[p]!.file}`;
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'merchant-app',
        private: true,
        version: '1.0.0',
        dependencies,
        devDependencies: { '@types/node': '^20.19.0' },
      },
      null,
      2,
    ),
  );
  // Third-party packages come from the npm cache that `npm ci` filled (or the registry); better-sqlite3 builds.
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
}, 600_000);

afterAll(() => {
  if (work && !process.env['ALIREFUND_KEEP_CONSUMER']) rmSync(work, { recursive: true, force: true });
});

describe('npm pack: what the tarballs hold', () => {
  it.each(PACKAGES)(
    '%s ships built JavaScript, declarations, README and LICENSE, and no sources or tests',
    (p) => {
      const files = tarballs[p]!.files;
      expect(files).toContain('package.json');
      expect(files).toContain('README.md');
      expect(files).toContain('LICENSE');
      expect(files.some((f) => f.endsWith('.js'))).toBe(true);
      expect(files.some((f) => f.endsWith('.d.ts'))).toBe(true);
      const leaked = files.filter(
        (f) =>
          (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /^(src|test)\//.test(f) || f.includes('tsbuildinfo'),
      );
      expect(leaked).toEqual([]);
    },
  );
});

describe('installed into a fresh project', () => {
  it('installs real copies, not links into the workspace', () => {
    for (const name of [
      '@alirefund/protocol',
      '@alirefund/store',
      '@alirefund/sandbox',
      '@alirefund/server',
      'alirefund',
    ]) {
      const dir = join(app, 'node_modules', name);
      expect(existsSync(join(dir, 'package.json'))).toBe(true);
      expect(lstatSync(dir).isSymbolicLink()).toBe(false);
      expect(existsSync(join(dir, 'src'))).toBe(false);
    }
  });

  it('(a) ESM: signs a request and verifies a notification', () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import { buildRefundRequest, createConfig, md5Sign, canonicalize, signNotification, verifyNotification, newBatchIdentity } from '@alirefund/protocol';
const v = JSON.parse(process.env.VECTOR);
if (md5Sign(canonicalize(v.params), process.env.KEY, 'utf-8') !== v.sign) throw new Error('golden vector mismatch');
const config = createConfig({ partner: '2088101122136241', key: process.env.KEY, notifyUrl: 'https://shop.example.com/alipay/notify', gateway: 'https://gw.example/gateway.do' });
const { batchNo, refundDate } = newBatchIdentity();
const req = buildRefundRequest(config, { mode: 'nopwd', batchNo, refundDate, detail: [{ tradeNo: '2016052621001004180237340740', amountFen: 1000, reason: '协商退款' }] });
const { body } = signNotification({ notify_time: '2026-11-21 10:00:05', notify_type: 'batch_refund_notify', notify_id: 'n1', batch_no: batchNo, success_num: '1', result_details: '2016052621001004180237340740^10.00^SUCCESS' }, { signType: 'MD5', key: process.env.KEY }, 'utf-8');
const asked = [];
const fetch = async (url) => { asked.push(String(url)); return new Response('true'); };
const n = await verifyNotification(body, { charset: 'utf-8', config, fetch });
console.log(JSON.stringify({ sign: req.params.sign, detail: req.params.detail_data, batchNo: n.batchNo, fen: n.resultDetails[0].amountFen, asked: asked.length }));
`,
    );
    const r = node(['esm.mjs'], { KEY, VECTOR: JSON.stringify(VECTOR) });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as Record<string, unknown>;
    expect(out['sign']).toMatch(/^[0-9a-f]{32}$/);
    expect(out['detail']).toBe('2016052621001004180237340740^10.00^协商退款');
    expect(out['fen']).toBe(1000);
    expect(out['asked']).toBe(1);
  });

  it('(b) CommonJS: require() signs and verifies the same way', () => {
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const { md5Sign, canonicalize, createConfig, signNotification, verifyNotification, NotificationError } = require('@alirefund/protocol');
const v = JSON.parse(process.env.VECTOR);
const sign = md5Sign(canonicalize(v.params), process.env.KEY, 'utf-8');
const config = createConfig({ partner: '2088101122136241', key: process.env.KEY, gateway: 'https://gw.example/gateway.do' });
const good = signNotification({ notify_time: '2026-11-21 10:00:05', notify_type: 'batch_refund_notify', notify_id: 'n2', batch_no: '20261121001', success_num: '1', result_details: '2011011201037066^5.00^SUCCESS' }, { signType: 'MD5', key: process.env.KEY }, 'gbk');
const fetch = async () => new Response('true');
(async () => {
  const n = await verifyNotification(good.body, { charset: 'gbk', config, fetch });
  let tampered = 'accepted';
  try { await verifyNotification(good.body.replace('5.00', '6.00'), { charset: 'gbk', config, fetch }); }
  catch (e) { tampered = e instanceof NotificationError ? e.code : 'untyped'; }
  console.log(JSON.stringify({ sign, vector: v.sign, batchNo: n.batchNo, tampered }));
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const r = node(['cjs.cjs'], { KEY, VECTOR: JSON.stringify(VECTOR) });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as Record<string, string>;
    expect(out['sign']).toBe(out['vector']);
    expect(out['batchNo']).toBe('20261121001');
    expect(out['tampered']).toBe('SIGN_MISMATCH');
  });

  it('(c) TypeScript: a consumer type-checks against the shipped declarations, and a wrong call does not', async () => {
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      files: ['consumer.mts', 'consumer.cts'],
    };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
    writeFileSync(
      join(app, 'consumer.mts'),
      `import { createConfig, buildRefundRequest, type BatchRefundNotification, verifyNotification } from '@alirefund/protocol';
import { openDatabase } from '@alirefund/store';
import { createSandbox } from '@alirefund/sandbox';
import { createServer, parseServerEnv } from '@alirefund/server';
const config = createConfig({ partner: '2088101122136241', key: 'k5u3x0bdzec6y9goq7ctyx96ezkz7828' });
const req = buildRefundRequest(config, { mode: 'pwd', batchNo: '20261121001', refundDate: '2026-11-21 10:00:00', detail: [{ tradeNo: '1', amountFen: 1, reason: 'r' }] });
export const sign: string = req.params['sign'] ?? '';
export async function check(body: string): Promise<number> {
  const n: BatchRefundNotification = await verifyNotification(body, { charset: 'utf-8', config });
  return n.resultDetails.length;
}
export const fns = [openDatabase, createSandbox, createServer, parseServerEnv];
`,
    );
    writeFileSync(
      join(app, 'consumer.cts'),
      `import { md5Sign } from '@alirefund/protocol';
export const s: string = md5Sign('a=1', 'k', 'utf-8');
// the declarations really are checked: tsc fails on an unused expect-error if this call type-checks
// @ts-expect-error a number is not a canonical string
export const bad = md5Sign(1, 'k', 'utf-8');
`,
    );
    const r = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).then(
      ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? 1,
        out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      }),
    );
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  }, 300_000);

  it('(d) the installed alirefund bin: --help and sign, with no TypeScript loader', () => {
    const bin = join(app, 'node_modules', '.bin', 'alirefund');
    expect(existsSync(bin)).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'typescript'))).toBe(false);
    const help = spawnSync(bin, ['--help'], { cwd: app, encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const c of ['sign', 'demo', 'sandbox', 'serve', 'refund', 'verify', 'explain', 'doctor'])
      expect(help.stdout).toContain(c);
    const args = ['sign', '--json', ...Object.entries(VECTOR.params).map(([k, v]) => `${k}=${v}`)];
    const sign = spawnSync(bin, args, {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, ALIPAY_KEY: KEY },
    });
    expect(sign.stderr).toBe('');
    expect(sign.status).toBe(0);
    expect((JSON.parse(sign.stdout) as { sign: string }).sign).toBe(VECTOR.sign);
    expect(sign.stdout).not.toContain(KEY);
  });

  it('the installed CLI runs a database-backed command (better-sqlite3 and the compiled store work)', () => {
    const bin = join(app, 'node_modules', '.bin', 'alirefund');
    const r = spawnSync(bin, ['errors', '--json'], { cwd: app, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBeGreaterThan(50);
    const db = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { openDatabase } from '@alirefund/store'; import { sql } from 'kysely';
const d = await openDatabase(process.env.DB); const r = await sql\`select 1 + 1 as two\`.execute(d.db);
console.log(JSON.stringify(r.rows)); await d.close();`,
      ],
      { cwd: app, encoding: 'utf8', env: { ...process.env, DB: join(work, 'consumer.sqlite') } },
    );
    expect(db.stderr).toBe('');
    expect(db.stdout.trim()).toBe('[{"two":2}]');
    expect(readdirSync(work)).toContain('consumer.sqlite');
  });
});
