// Child processes of bench/server.bench.ts, one role each (BENCH_ROLE), run with plain `node` on the compiled
// packages (dist/, as in production) and loading only what the role needs, so that peak RSS and CPU are the
// role's own:
//   bare     node:http answering `success` (the ceiling)
//   minimal  the baseline of issue 11: node:http, URLSearchParams, MD5 sign check, one better-sqlite3 row per
//            delivery in one WAL transaction
//   apply-floor  the least a correct server must do per batch notification, written plainly (node:http,
//            better-sqlite3 prepared statements, no framework): the minimal server's parsing and sign check, then
//            notify_verify on the gateway (BENCH_GATEWAY, keep-alive agent) for a batch not yet applied, then one
//            synchronous transaction on a copy of the server's own database: the exactly-once guard on
//            srv_batches.applied_at, the notification row, and one UPDATE per record of srv_batch_records and
//            srv_trades. A delivery of an applied batch is stored as a duplicate row.
//   server   alirefund's merchant server (@alirefund/server) behind @hono/node-server, with its node:http
//            notification route first, as `alirefund serve`
// The parent talks over IPC: {port} when listening; reset / stats / cpu / stop.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { Agent as HttpAgent, createServer as createHttpServer, get as httpGet } from 'node:http';
import { naiveSignOk } from './naive-sign.mjs';

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
      const ok = naiveSignOk(form, KEY);
      if (ok)
        apply(form.get('notify_id') ?? '', form.get('batch_no') ?? '', Number(form.get('success_num')), raw);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(ok ? 'success' : 'fail');
    });
  });
  server.on('close', () => db.close());
  return server;
}

/** Reads a request body whole (Buffer chunks). */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** "1.00" → 100 (integer fen, no floats); null when it is not an amount. */
function fen(text) {
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** The apply floor (see the header). */
async function startApplyFloor(path, gateway) {
  const { default: Sqlite } = await import('better-sqlite3');
  const db = new Sqlite(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const appliedAt = db.prepare('select applied_at from srv_batches where batch_no = ?').pluck();
  const claim = db.prepare(
    "update srv_batches set state = 'finished', finished_at = ?, applied_at = ?, applied_notify_id = ?, " +
      'success_num = ?, updated_at = ? where batch_no = ? and applied_at is null',
  );
  // Every NOT NULL column of srv_notifications: kind, verdict, raw_body, headers_json, received_at, response.
  const insertNotification = db.prepare(
    'insert into srv_notifications (kind, batch_no, notify_id, notify_time, verdict, raw_body, headers_json, ' +
      "remote_addr, charset, received_at, applied_at, response) values ('batch_refund_notify', ?, ?, ?, ?, ?, " +
      "'{}', ?, ?, ?, ?, 'success')",
  );
  const updateRecord = db.prepare(
    'update srv_batch_records set result_code = ?, result_amount_fen = ?, succeeded = ? ' +
      'where batch_no = ? and trade_no = ?',
  );
  // As the product: a 0-fen (or failed) record changes no amount or status but still releases the reservation.
  const updateTrade = db.prepare(
    'update srv_trades set refunded_fen = refunded_fen + ?, refund_count = refund_count + ?, ' +
      "status = case when ? = 0 then status when refunded_fen + ? >= paid_fen then 'fully_refunded' " +
      "else 'partially_refunded' end, " +
      'open_batch_no = case when open_batch_no = ? then null else open_batch_no end, updated_at = ? ' +
      'where trade_no = ?',
  );
  const recordDuplicate = (n, raw, receivedAt) =>
    insertNotification.run(
      n.batchNo,
      n.notifyId,
      n.notifyTime,
      'duplicate',
      raw,
      n.remote,
      n.charset,
      receivedAt,
      null,
    );
  /** One apply (inside a group's transaction); false when another delivery applied the batch first. */
  const applyOne = (n, raw, receivedAt) => {
    const now = new Date().toISOString();
    if (claim.run(now, now, n.notifyId, n.successNum, now, n.batchNo).changes !== 1) {
      recordDuplicate(n, raw, receivedAt);
      return false;
    }
    insertNotification.run(
      n.batchNo,
      n.notifyId,
      n.notifyTime,
      'accepted',
      raw,
      n.remote,
      n.charset,
      receivedAt,
      now,
    );
    for (const record of n.details.split('#')) {
      // trade_no^amount^result_code, optionally followed by $charge… or |sub-trade… parts.
      const [tradeNo = '', amount = '', code = ''] = record.split(/[$|]/, 1)[0].split('^');
      const amountFen = fen(amount);
      const ok = code === 'SUCCESS' && amountFen !== null;
      updateRecord.run(code, amountFen, ok ? 1 : 0, n.batchNo, tradeNo);
      const f = ok ? amountFen : 0;
      updateTrade.run(f, ok ? 1 : 0, f, f, n.batchNo, now, tradeNo);
    }
    return true;
  };
  // Group commit, the least a server at this rate does (one commit per apply costs more than the apply): the
  // writes that arrive while the event loop is busy (applies, duplicate rows) are committed together in one
  // synchronous transaction, and each caller is answered after that commit.
  const commitGroup = db.transaction((items) => {
    for (const it of items) {
      if (it.duplicate) recordDuplicate(it.n, it.raw, it.receivedAt);
      else applyOne(it.n, it.raw, it.receivedAt);
    }
  });
  const pending = [];
  const write = (item) =>
    new Promise((resolve, reject) => {
      pending.push({ ...item, resolve, reject });
      if (pending.length > 1) return;
      setImmediate(() => {
        const items = pending.splice(0);
        try {
          commitGroup(items);
          for (const it of items) it.resolve();
        } catch (err) {
          for (const it of items) it.reject(err);
        }
      });
    });
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  const notifyVerify = (notifyId) =>
    new Promise((resolve, reject) => {
      const q = new URLSearchParams({ service: 'notify_verify', partner: PARTNER, notify_id: notifyId });
      httpGet(`${gateway}${gateway.includes('?') ? '&' : '?'}${q}`, { agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve(text.trim() === 'true'));
        res.on('error', reject);
      }).on('error', reject);
    });
  const server = createHttpServer(async (req, res) => {
    const answer = (text) => res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    try {
      const receivedAt = new Date().toISOString();
      const raw = (await readBody(req)).toString('latin1');
      const form = new URLSearchParams(raw);
      if (!naiveSignOk(form, KEY)) return answer('fail');
      const n = {
        batchNo: form.get('batch_no') ?? '',
        notifyId: form.get('notify_id') ?? '',
        notifyTime: form.get('notify_time'),
        successNum: Number(form.get('success_num')),
        details: form.get('result_details') ?? '',
        charset: form.get('_input_charset'),
        remote: req.socket.remoteAddress ?? null,
      };
      if (appliedAt.get(n.batchNo) != null) {
        await write({ duplicate: true, n, raw, receivedAt });
        return answer('success');
      }
      if (!(await notifyVerify(n.notifyId))) return answer('fail');
      await write({ duplicate: false, n, raw, receivedAt });
      answer('success');
    } catch (err) {
      console.error(`apply-floor: ${err.stack ?? err}`);
      res.writeHead(500).end('fail');
    }
  });
  server.on('close', () => {
    agent.destroy();
    db.close();
  });
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
if (role === 'bare' || role === 'minimal' || role === 'apply-floor') {
  server =
    role === 'bare'
      ? createHttpServer((req, res) => {
          req.on('data', () => {});
          req.on('end', () =>
            res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('success'),
          );
        })
      : role === 'minimal'
        ? await startMinimal(process.env.BENCH_DB_URL)
        : await startApplyFloor(process.env.BENCH_DB_URL, process.env.BENCH_GATEWAY);
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
