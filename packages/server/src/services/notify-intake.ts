/**
 * Reading and trusting a delivery before anything is applied: batch_no read from the raw body before the batch's
 * charset is known, the SDK's decoding errors turned into reason codes, and the gateway's notify_verify.
 */
import { callNotifyVerify, NotificationError } from '@alirefund/protocol';
import type { ServiceDeps } from './deps.js';

const BATCH_NO_TOKEN = /^[0-9A-Za-z]{1,64}$/;

/**
 * Reads one parameter from a form body without decoding the rest (or making a string of it): batch_no is ASCII,
 * so it can be read before knowing the batch's charset. Null when absent, repeated, or not a plain token.
 */
export function peekParam(body: Uint8Array, name: string): string | null {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const key = Buffer.from(name, 'latin1');
  let found: string | null = null;
  for (let at = buf.indexOf(key); at >= 0; at = buf.indexOf(key, at + 1)) {
    // A key starts the body or follows '&', and ends at '=', '&' or the end ('&' and '=' in values are encoded).
    if (at > 0 && buf[at - 1] !== 0x26) continue;
    const after = at + key.length;
    if (after < buf.length && buf[after] !== 0x3d && buf[after] !== 0x26) continue;
    if (found !== null) return null;
    const amp = buf.indexOf(0x26, after);
    let value =
      after < buf.length && buf[after] === 0x3d
        ? buf.toString('latin1', after + 1, amp < 0 ? buf.length : amp)
        : '';
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value);
      } catch {
        return null;
      }
    }
    found = value;
  }
  return found !== null && BATCH_NO_TOKEN.test(found) ? found : null;
}

/** The reason code and message a delivery is rejected with; `INTERNAL` for what is not the SDK's verdict. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof NotificationError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** Asks the gateway whether it sent `notifyId` (notify_verify); throws a NotificationError when it did not. */
export function createNotifyVerifier(
  deps: Pick<ServiceDeps, 'config' | 'fetch' | 'getText'>,
): (notifyId: string) => Promise<void> {
  const how = deps.getText ? { getText: deps.getText } : { fetch: deps.fetch };
  return async (notifyId) => {
    await callNotifyVerify(deps.config.gateway, deps.config.partner, notifyId, { ...how, timeoutMs: 5000 });
  };
}
