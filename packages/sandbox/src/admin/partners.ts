/** Admin API: partners (`/partners`); a partner's freeze orders are under `funds.ts`. */
import { withTransaction } from '@alirefund/store';
import type { Hono } from 'hono';
import type { Core } from '../core.js';
import { existingFreezes, insertPartner } from '../entities.js';
import { partnerSeedSchema } from '../seed.js';
import { freezeViews } from './funds.js';
import { validBody, yuan } from './http.js';

export function partnerRoutes(app: Hono, core: Core): void {
  const db = core.db;
  app.get('/partners', async (c) => {
    const rows = await db
      .selectFrom('sbx_partners')
      .innerJoin('sbx_accounts', 'sbx_accounts.account_id', 'sbx_partners.partner')
      .select(['partner', 'sbx_partners.email', 'services', 'balance_fen', 'rsa_public_key', 'md5_key'])
      .orderBy('partner')
      .execute();
    return c.json({
      partners: rows.map((r) => ({
        partner: r.partner,
        email: r.email,
        services: r.services.split(',').filter(Boolean),
        balance: yuan(r.balance_fen),
        balanceFen: Number(r.balance_fen),
        rsa: r.rsa_public_key !== null,
        keyHint: `…${r.md5_key.slice(-4)}`,
      })),
    });
  });
  app.get('/partners/:partner', async (c) => {
    const r = await db
      .selectFrom('sbx_partners')
      .innerJoin('sbx_accounts', 'sbx_accounts.account_id', 'sbx_partners.partner')
      .select(['partner', 'sbx_partners.email', 'services', 'balance_fen', 'rsa_public_key', 'md5_key'])
      .where('partner', '=', c.req.param('partner'))
      .executeTakeFirst();
    if (!r) return c.json({ error: 'not_found', message: `no partner ${c.req.param('partner')}` }, 404);
    const signed = await db
      .selectFrom('sbx_protocols')
      .select('user_id')
      .where('partner', '=', r.partner)
      .execute();
    const frozen = await freezeViews(db, r.partner);
    const frozenFen = frozen.reduce((sum, f) => sum + f.leftFen, 0);
    return c.json({
      partner: r.partner,
      email: r.email,
      services: r.services.split(',').filter(Boolean),
      balance: yuan(r.balance_fen),
      balanceFen: Number(r.balance_fen),
      frozen: yuan(frozenFen),
      frozenFen,
      freezes: frozen,
      rsa: r.rsa_public_key !== null,
      keyHint: `…${r.md5_key.slice(-4)}`,
      signedAccounts: signed.map((s) => s.user_id),
    });
  });
  app.post('/partners', async (c) => {
    const parsed = await validBody(c, partnerSeedSchema);
    if (!parsed.ok) return parsed.response;
    const created = await withTransaction(core.database, async (trx) => {
      const clash = await trx
        .selectFrom('sbx_accounts')
        .select('account_id')
        .where((eb) =>
          eb.or([eb('account_id', '=', parsed.data.partner), eb('email', '=', parsed.data.email)]),
        )
        .executeTakeFirst();
      if (clash) return false;
      if (
        (
          await existingFreezes(
            trx,
            (parsed.data.frozen ?? []).map((f) => f.freezeOrderNo),
          )
        ).length > 0
      )
        return false;
      return insertPartner(trx, parsed.data, core.now());
    });
    if (!created)
      return c.json(
        {
          error: 'conflict',
          message: `partner ${parsed.data.partner}, email ${parsed.data.email} or one of its freeze orders already exists`,
        },
        409,
      );
    return c.json({ partner: parsed.data.partner, created: true }, 201);
  });
}
