// Child processes of bench/server.bench.ts, one role each (BENCH_ROLE), run with plain `node` on the compiled
// packages (dist/, as in production) and loading only what the role needs, so that peak RSS and CPU are the
// role's own:
//   bare     node:http answering `success` (the ceiling)
//   minimal  the baseline of issue 11: node:http, URLSearchParams, MD5 sign check, one better-sqlite3 row per
//            delivery in one WAL transaction
//   server   alirefund's merchant server (@alirefund/server) behind @hono/node-server, with its node:http
//            notification route first, as `alirefund serve`
// The parent talks over IPC: {port} when listening; reset / stats / cpu / stop.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { createServer as createHttpServer } from 'node:http';

const PARTNER = '2088101122136241';
const KEY = 'abcdefghijklmnopqrstuvwxyz012345';

/** The minimal server: every delivery parsed, checked and stored; a repeated notify_id stores nothing. */
async function startMinimal(path) {
  const { default: Sqlite } = await import('better-sqlite3');
  const db = new Sqlite(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'create table if not exists min_notifications (notify_id text primary key, batch_no text not null, ' +
      'success_num integer not null, raw_body text not null, received_at text not null)',
  );
  const insert = db.prepare(
    'insert into min_notifications (notify_id, batch_no, success_num, raw_body, received_at) ' +
      'values (?, ?, ?, ?, ?) on conflict (notify_id) do nothing',
  );
  const apply = db.transaction((id, batchNo, n, raw) =>
    insert.run(id, batchNo, n, raw, new Date().toISOString()),
  );
  const server = createHttpServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const form = new URLSearchParams(raw);
      const pairs = [];
      let sign = '';
      for (const [k, v] of form) {
        if (k === 'sign') sign = v;
        else if (k !== 'sign_type' && v !== '') pairs.push([k, v]);
      }
      pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      const text = pairs.map(([k, v]) => `${k}=${v}`).join('&');
      const ok =
        createHash('md5')
          .update(text + KEY, 'utf8')
          .digest('hex') === sign;
      if (ok)
        apply(form.get('notify_id') ?? '', form.get('batch_no') ?? '', Number(form.get('success_num')), raw);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(ok ? 'success' : 'fail');
    });
  });
  server.on('close', () => db.close());
  return server;
}

async function startAlirefund() {
  const { createConfig } = await import('@alirefund/protocol');
  const { openDatabase } = await import('@alirefund/store');
  const { createServer, makeSettings } = await import('@alirefund/server');
  const { serve } = await import('@hono/node-server');
  const database = await openDatabase(process.env.BENCH_DB_URL, {
    poolSize: 16,
    backgroundCheckpoints: process.env.BENCH_CHECKPOINTS !== 'off',
  });
  const config = createConfig({ partner: PARTNER, key: KEY, gateway: process.env.BENCH_GATEWAY });
  const app = await createServer({
    settings: makeSettings({ alipay: config, publicUrl: 'http://127.0.0.1:1' }),
    database,
    background: false,
    console: false,
  });
  // As `alirefund serve` does: the notification endpoints on node:http (`nodeRoute`), everything else to Hono.
  // BENCH_NODE_ROUTE=off hands every request to Hono, to compare.
  const route = process.env.BENCH_NODE_ROUTE === 'off' ? () => false : app.nodeRoute;
  const server = await new Promise((resolve) => {
    const s = serve(
      {
        fetch: app.app.fetch,
        port: 0,
        hostname: '127.0.0.1',
        createServer: (options, listener) =>
          createHttpServer(options, (req, res) => {
            if (!route(req, res)) listener(req, res);
          }),
      },
      () => resolve(s),
    );
  });
  return {
    server,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r()));
      await app.close();
      await database.close();
    },
  };
}

const role = process.env.BENCH_ROLE;
let peak = process.memoryUsage.rss();
let cpuFrom = process.cpuUsage();
// BENCH_MEM=1: where the memory was at the peak (heap, external, array buffers), printed on stop.
let atPeak;
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > peak && process.env.BENCH_MEM) {
    atPeak = process.memoryUsage();
    for (const m of readFileSync('/proc/self/status', 'utf8').matchAll(/^(Rss\w+):\s+(\d+) kB/gm))
      atPeak[m[1]] = Number(m[2]) * 1024;
    for (const sp of v8.getHeapSpaceStatistics()) atPeak[sp.space_name] = sp.space_size;
  }
  peak = Math.max(peak, rss);
}, 10);
let server;
let stop;
if (role === 'bare' || role === 'minimal') {
  server =
    role === 'bare'
      ? createHttpServer((req, res) => {
          req.on('data', () => {});
          req.on('end', () =>
            res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('success'),
          );
        })
      : await startMinimal(process.env.BENCH_DB_URL);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  stop = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
} else {
  const s = await startAlirefund();
  server = s.server;
  stop = s.stop;
}
cpuFrom = process.cpuUsage(); // count the load, not the start-up
process.send?.({ port: server.address().port });
process.on('message', async (m) => {
  if (m.cmd === 'reset') {
    peak = process.memoryUsage.rss();
    cpuFrom = process.cpuUsage();
  }
  if (m.cmd === 'stats') process.send?.({ peakRss: peak });
  if (m.cmd === 'cpu') {
    const c = process.cpuUsage(cpuFrom);
    process.send?.({ cpuMs: (c.user + c.system) / 1000 });
  }
  if (m.cmd === 'stop') {
    clearInterval(sampler);
    if (atPeak) {
      const mb = (n) => `${(n / 1048576).toFixed(0)} MB`;
      const parts = Object.entries(atPeak).map(([k, v]) => `${k} ${mb(v)}`);
      console.error(`  ${role} at its peak: ${parts.join(', ')}`);
    }
    await stop();
    process.send?.({ stopped: true });
    process.exit(0);
  }
});
