/**
 * A request id on every log line written while a request is handled, without passing it through the
 * services: the HTTP layer runs each request inside {@link runWithRequestId}, and {@link withRequestIds}
 * wraps the server's logger so that each line carries `reqId` of the request it was written for.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';
import type { Logger } from './log.js';

const storage = new AsyncLocalStorage<string>();

/**
 * Random bytes for new ids, drawn 4 KB at a time: one `randomBytes(8)` per request was ≈ 2 % of the server's CPU
 * under the notification bench (a native call and a buffer per id). Ids only tell log lines apart; they are no
 * secret, but still come from the CSPRNG.
 */
const ID_BYTES = 8;
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function newId(): string {
  if (poolAt + ID_BYTES > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += ID_BYTES;
  return pool.toString('hex', poolAt - ID_BYTES, poolAt);
}

/** An id the caller sent (`X-Request-Id` from a proxy) when it is short and plain; otherwise a new one. */
export function requestIdFrom(header: string | undefined | null): string {
  if (header !== undefined && header !== null && /^[\w.:-]{1,64}$/.test(header)) return header;
  return newId();
}

/** Runs `fn` with `reqId` as the current request's id. */
export function runWithRequestId<T>(reqId: string, fn: () => T): T {
  return storage.run(reqId, fn);
}

/** The current request's id, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore();
}

/** `log`, with `reqId` added to every line written inside a request. */
export function withRequestIds(log: Logger): Logger {
  const wrap =
    (level: keyof Logger) =>
    (obj: object, msg?: string): void => {
      const reqId = storage.getStore();
      const line = reqId === undefined ? obj : { reqId, ...obj };
      if (msg === undefined) log[level](line);
      else log[level](line, msg);
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
