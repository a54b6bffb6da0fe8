/**
 * The node:http door of the notification endpoints: `POST /alipay/notify` and `POST /alipay/trade-notify`
 * answered straight on Node's request and response, without the WHATWG Request, Headers and Response objects
 * (and the middleware chain) that Hono builds for every request. Under the notification bench that cut the
 * server's CPU per applied notification by about a fifth (docs/benchmarks.md).
 *
 * The answer is the one the Hono routes give (same endpoint, same headers, the request id, `nosniff`, HSTS over
 * https), and the request is tracked as every other one: in flight for a graceful shutdown, its latency in the
 * metrics, one access line in the log, its id on every log line written for it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerSettings } from '../config.js';
import { runWithRequestId } from '../request-context.js';
import { HSTS_VALUE, isHttps } from './client.js';
import { answerHeaders, NOTIFY_PATHS, type NotifyEndpoint, nodeHeaders, readNodeBody } from './notify.js';
import { type OpsDeps, trackRequest } from './ops.js';

/**
 * Handles `req` when it is a notification POST and returns true; returns false, touching nothing, for every
 * other request (hand it on to the Hono app).
 */
export type NodeRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

export function createNotifyNodeRoute(
  endpoint: NotifyEndpoint,
  deps: Pick<OpsDeps, 'metrics' | 'log' | 'traffic'>,
  settings: Pick<ServerSettings, 'trustedProxies' | 'publicUrl'>,
): NodeRoute {
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const kind = NOTIFY_PATHS[path];
    if (kind === undefined) return false;
    const header = req.headers['x-request-id'];
    const t = trackRequest(deps, 'POST', typeof header === 'string' ? header : undefined);
    const peer = req.socket.remoteAddress ?? null;
    const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
    const proto = req.headers['x-forwarded-proto'];
    runWithRequestId(t.reqId, () =>
      endpoint(kind, {
        path,
        contentLength: req.headers['content-length'],
        remoteAddr: peer,
        readBody: (max) => readNodeBody(req, max),
        headers: () => nodeHeaders(req),
      }),
    ).then(
      (a) => {
        const headers: Record<string, string> = {
          ...answerHeaders(a),
          'x-content-type-options': 'nosniff',
          'x-request-id': t.reqId,
        };
        if (isHttps(secure, peer, typeof proto === 'string' ? proto : undefined, settings))
          headers['strict-transport-security'] = HSTS_VALUE;
        headers['content-length'] = String(a.text.length);
        res.writeHead(a.status, headers).end(a.text);
        t.end(path, a.status);
      },
      // The endpoint answers every failure itself; this is only a last resort.
      () => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('fail');
        t.end(path, 500);
      },
    );
    return true;
  };
}
