/**
 * The admin JSON API under `/sandbox/api/`: create partners, accounts and paid trades; read trades, batches,
 * notifications and delivery attempts; redeliver; move the clock; inject faults. Every request with a body must
 * be `application/json` (a browser cannot send that cross-site without a CORS preflight, which is never
 * granted), so pages elsewhere cannot drive the API. One file per resource; this one mounts them.
 */
import { Hono } from 'hono';
import type { Core } from '../core.js';
import type { Dispatcher } from '../dispatcher.js';
import { accountRoutes } from './accounts.js';
import { batchRoutes } from './batches.js';
import { fundRoutes } from './funds.js';
import { limitOf } from './http.js';
import { ledgerRoutes } from './ledger.js';
import { notificationRoutes } from './notifications.js';
import { partnerRoutes } from './partners.js';
import { settingsRoutes } from './settings.js';
import { tradeRoutes } from './trades.js';

export function adminRoutes(core: Core, dispatcher: Dispatcher, onUnpause: () => void): Hono {
  const app = new Hono();
  const db = core.db;

  app.get('/', (c) =>
    c.json({
      endpoints: [
        'GET/POST /sandbox/api/partners',
        'GET /sandbox/api/partners/:partner',
        'POST /sandbox/api/partners/:partner/freezes',
        'GET /sandbox/api/freezes',
        'GET/POST /sandbox/api/accounts',
        'GET /sandbox/api/accounts/:accountId',
        'GET/POST /sandbox/api/trades',
        'GET /sandbox/api/trades/:tradeNo',
        'GET /sandbox/api/batches',
        'GET /sandbox/api/batches/:partner/:batchNo',
        'GET /sandbox/api/notifications',
        'GET /sandbox/api/notifications/:id',
        'POST /sandbox/api/notifications/:id/redeliver',
        'GET /sandbox/api/deliveries',
        'GET /sandbox/api/dbacks',
        'POST /sandbox/api/dbacks/:partner/:batchNo/:recordNo',
        'POST /sandbox/api/dispatch',
        'GET /sandbox/api/ledger',
        'GET/PUT /sandbox/api/clock',
        'GET/PUT/DELETE /sandbox/api/faults',
        'GET /sandbox/api/requests',
        'GET /sandbox/api/alipay-public-key',
      ],
    }),
  );

  partnerRoutes(app, core);
  fundRoutes(app, core);
  accountRoutes(app, core);
  tradeRoutes(app, core);
  batchRoutes(app, core);
  notificationRoutes(app, core, dispatcher);
  ledgerRoutes(app, core);
  settingsRoutes(app, core, onUnpause);

  // ---- the gateway's request log, Alipay's public key
  app.get('/requests', async (c) => {
    const rows = await db
      .selectFrom('sbx_requests')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limitOf(c))
      .execute();
    return c.json({
      requests: rows.map((r) => ({
        id: Number(r.id),
        at: new Date(Number(r.at)).toISOString(),
        method: r.method,
        service: r.service,
        partner: r.partner,
        batchNo: r.batch_no,
        outcome: r.outcome,
        message: r.message,
      })),
    });
  });
  app.get('/alipay-public-key', (c) => c.json({ pem: core.alipayKey.publicKeyPem }));
  return app;
}
