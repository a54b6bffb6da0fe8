/**
 * `/gateway.do` (GET and POST) and `/pwd/confirm`: each request parsed in its charset, `notify_verify` answered at
 * once, the others through the check order (`checks.ts`, `accept.ts`) to their service: `query.ts`, `pwd.ts`,
 * `nopwd.ts`. Work deferred by a service (processing an accepted batch) runs once the reply is on the wire; the
 * slow-response fault delays every reply.
 */
import { SERVICE_NOTIFY_VERIFY, SERVICE_PWD, SERVICE_QUERY } from '@alirefund/protocol';
import { type Context, Hono } from 'hono';
import { type Core, sleep } from '../core.js';
import { checkRefundRequest } from './accept.js';
import { type Refusal, checkArguments, checkCommon } from './checks.js';
import { type Defer, acceptNopwd } from './nopwd.js';
import { notifyVerify } from './notify-verify.js';
import { confirmRoute, showConfirmation } from './pwd.js';
import { query } from './query.js';
import { kindOf, logRequest, refusalResponse } from './replies.js';
import { type GatewayRequest, parseGatewayRequest } from './request.js';

/** The Node response under Hono (when served by @hono/node-server), to learn when the reply is written. */
function outgoingOf(c: Context): { once(event: 'finish' | 'close', fn: () => void): unknown } | undefined {
  const env = c.env as { outgoing?: { once?: unknown } } | undefined;
  return typeof env?.outgoing?.once === 'function'
    ? (env.outgoing as ReturnType<typeof outgoingOf>)
    : undefined;
}

export function gatewayRoutes(core: Core): Hono {
  const app = new Hono();

  const handle = async (c: Context): Promise<Response> => {
    const r = await parseGatewayRequest(c.req.raw);
    const later: Array<() => void> = [];
    const response = await handleGateway(core, r, c.req.header('accept'), (fn) => later.push(fn));
    if (later.length > 0) {
      // Run deferred work (processing the batch) once the reply is on the wire, so that it never delays it.
      let ran = false;
      const run = () => {
        if (ran) return;
        ran = true;
        for (const fn of later) fn();
      };
      const out = outgoingOf(c);
      if (out) {
        out.once('finish', run);
        out.once('close', run);
      } else setImmediate(run);
    }
    if (core.faults.slowResponseMs > 0) await sleep(core.faults.slowResponseMs);
    return response;
  };
  app.get('/gateway.do', handle);
  app.post('/gateway.do', handle);

  app.post('/pwd/confirm', (c) => confirmRoute(core, c));
  return app;
}

async function handleGateway(
  core: Core,
  r: GatewayRequest,
  accept: string | undefined,
  defer: Defer,
): Promise<Response> {
  const service = r.params['service'];
  if (service === SERVICE_NOTIFY_VERIFY) return notifyVerify(core, r);
  const kind = kindOf(service, accept);
  const common = await checkCommon(core, r);
  if (!common.ok) {
    await logRequest(core, r, common.code, common.detail);
    return refusalResponse(kind, r.charset, common);
  }
  const fail = async (f: Refusal) => {
    await logRequest(core, r, f.code, f.detail);
    return refusalResponse(kind, common.charset, f);
  };
  const args = checkArguments(r, common.service);
  if (args) return fail(args);
  if (common.service === SERVICE_QUERY) return query(core, r, common);
  const checked = await checkRefundRequest(core, r, common);
  if (!checked.ok) return fail(checked);
  return common.service === SERVICE_PWD
    ? showConfirmation(core, r, checked, fail)
    : acceptNopwd(core, r, common.charset, checked, defer, fail);
}
