/**
 * `notify_verify`: `true` while a notify_id this gateway issued to the partner is live (see `isNotifyIdLive`),
 * else `false`. Answered before any check of the order: it carries no sign.
 */
import type { Core } from '../core.js';
import { isNotifyIdLive } from '../outbox.js';
import { logRequest } from './replies.js';
import type { GatewayRequest } from './request.js';

export async function notifyVerify(core: Core, r: GatewayRequest): Promise<Response> {
  const partner = r.params['partner'] ?? '';
  const notifyId = r.params['notify_id'] ?? '';
  const live = partner !== '' && notifyId !== '' && (await isNotifyIdLive(core, partner, notifyId));
  await logRequest(core, r, live ? 'true' : 'false', `notify_id ${notifyId}`);
  return new Response(live ? 'true' : 'false', {
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
}
