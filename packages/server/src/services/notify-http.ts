/**
 * The server's default `fetch` towards the gateway. A plain GET without headers or body (notify_verify, once per
 * applied notification) goes over a keep-alive `node:http`/`node:https` agent: undici's `fetch` built a Request,
 * Headers, a body stream and a timer per call, ~16% of the server's CPU under the notification bench
 * (docs/benchmarks.md). Everything else (nopwd POSTs, queries) is handed to the global `fetch`. The answer is a
 * `Response`, so the metrics wrapper (`meterFetch`) and every caller see no difference. notify_verify itself
 * reads its answer with {@link gatewayGet}: the same agents without building a Response per call.
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

interface Answer {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

/** An error named `TimeoutError`, as `AbortSignal.timeout` gives (callers tell timeouts by the name). */
function timeoutError(ms: number): Error {
  const err = new Error(`no answer within ${ms} ms`);
  err.name = 'TimeoutError';
  return err;
}

/**
 * A GET over the keep-alive agents; the body is read whole (up to 64 KB). Ended early by `signal`, or after
 * `timeoutMs` with a `TimeoutError`.
 */
function agentGet(
  url: URL,
  stop: { signal?: AbortSignal | null | undefined; timeoutMs?: number },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { signal, timeoutMs } = stop;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const https = url.protocol === 'https:';
    let timer: NodeJS.Timeout | undefined;
    const settle = () => {
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
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
          settle();
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 502, contentType: res.headers['content-type'], body });
        });
        res.once('error', (err) => {
          settle();
          reject(err);
        });
      },
    );
    const onAbort = () => req.destroy(signal?.reason ?? new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => req.destroy(timeoutError(timeoutMs)), timeoutMs);
    req.once('error', (err) => {
      settle();
      reject(err);
    });
    req.end();
  });
}

/** A GET over the keep-alive agents as a `Response`, honouring `signal`. */
async function keepAliveGet(url: URL, signal: AbortSignal | null | undefined): Promise<Response> {
  const a = await agentGet(url, { signal });
  const headers: Record<string, string> = {};
  if (a.contentType !== undefined) headers['content-type'] = a.contentType;
  return new Response(a.body, { status: a.status, headers });
}

/** A gateway GET's status and text. */
export interface GatewayText {
  status: number;
  text: string;
}

/**
 * A plain http(s) GET over the keep-alive agents, read as text without WHATWG objects: notify_verify's answer
 * (the server gives it to `callNotifyVerify` as `getText`, through the metrics' `meterGet`). Whatever the
 * status, the text is returned, as `fetch` + `res.text()` would.
 */
export async function gatewayGet(url: string, timeoutMs: number): Promise<GatewayText> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`not an http(s) URL: ${u.protocol}`);
  const a = await agentGet(u, { timeoutMs });
  return { status: a.status, text: a.body.toString('utf8') };
}

/** `fetch` for the gateway: plain http(s) GETs over keep-alive node:http agents, anything else via `fetch`. */
export const gatewayFetch: typeof fetch = (input, init) => {
  if (isPlainGet(input, init)) {
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol === 'http:' || url.protocol === 'https:') return keepAliveGet(url, init?.signal);
  }
  return fetch(input, init);
};
