/**
 * The server's default `fetch` towards the gateway. A plain GET without headers or body (notify_verify, once per
 * applied notification) goes over a keep-alive `node:http`/`node:https` agent: undici's `fetch` built a Request,
 * Headers, a body stream and a timer per call, ~16% of the server's CPU under the notification bench
 * (docs/benchmarks.md). Everything else (nopwd POSTs, queries) is handed to the global `fetch`. The answer is a
 * `Response`, so the metrics wrapper (`meterFetch`) and every caller see no difference.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 32, keepAliveMsecs: 10_000 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 32, keepAliveMsecs: 10_000 });

/** Largest gateway answer read on this path (notify_verify answers `true` or `false`). */
const MAX_ANSWER_BYTES = 64 * 1024;

function isPlainGet(input: string | URL | Request, init?: RequestInit): input is string | URL {
  if (typeof input !== 'string' && !(input instanceof URL)) return false;
  if (init === undefined) return true;
  const method = init.method?.toUpperCase() ?? 'GET';
  return method === 'GET' && init.body == null && init.headers === undefined && init.redirect !== 'manual';
}

/** A GET over the keep-alive agents, honouring `signal`; the body is read whole (up to 64 KB). */
function keepAliveGet(url: URL, signal: AbortSignal | null | undefined): Promise<Response> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(
      url,
      { method: 'GET', agent: https ? httpsAgent : httpAgent },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(c);
          else req.destroy(new Error(`the gateway answered more than ${MAX_ANSWER_BYTES} bytes`));
        });
        res.once('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const headers: Record<string, string> = {};
          const ct = res.headers['content-type'];
          if (ct !== undefined) headers['content-type'] = ct;
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 502, headers }));
        });
        res.once('error', reject);
      },
    );
    const onAbort = () => req.destroy(signal?.reason ?? new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    req.end();
  });
}

/** `fetch` for the gateway: plain http(s) GETs over keep-alive node:http agents, anything else via `fetch`. */
export const gatewayFetch: typeof fetch = (input, init) => {
  if (isPlainGet(input, init)) {
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol === 'http:' || url.protocol === 'https:') return keepAliveGet(url, init?.signal);
  }
  return fetch(input, init);
};
