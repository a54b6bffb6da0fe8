/**
 * `alirefund verify --body FILE|-`: does a captured notification's sign match, and if not, why.
 */
import { readFileSync } from 'node:fs';
import {
  type Charset,
  type NotificationError,
  type VerifyingKey,
  callNotifyVerify,
  diagnoseNotificationBody,
  formEncodePairs,
  normalizeCharset,
} from '@alirefund/protocol';
import { CliError, type Io, readOptionFile } from '../io.js';

export interface VerifyOptions {
  body: string;
  charset: string;
  key?: string;
  keyFile?: string;
  publicKeyFile?: string;
  partner?: string;
  gateway?: string;
  remote?: boolean;
  json?: boolean;
}

function keyOf(opts: VerifyOptions, io: Io): VerifyingKey {
  if (opts.publicKeyFile !== undefined)
    return { signType: 'RSA', publicKey: readOptionFile('--public-key-file', opts.publicKeyFile) };
  const key =
    opts.key ??
    (opts.keyFile !== undefined ? readOptionFile('--key-file', opts.keyFile).trim() : io.env['ALIPAY_KEY']);
  if (!key)
    throw new CliError(
      'verifying needs the MD5 key (--key-file FILE or ALIPAY_KEY) or Alipay’s RSA public key (--public-key-file FILE)',
    );
  return { signType: 'MD5', key };
}

export async function runVerify(opts: VerifyOptions, io: Io): Promise<number> {
  const charset: Charset | null = normalizeCharset(opts.charset);
  if (!charset) throw new CliError(`--charset: unknown charset "${opts.charset}"; use utf-8 or gbk`);
  const key = keyOf(opts, io);
  let body: string;
  let fromJson = false;
  if (opts.body === '-') body = await io.readStdin();
  else {
    let bytes: Buffer;
    try {
      bytes = readFileSync(opts.body);
    } catch {
      throw new CliError(`--body: cannot read ${opts.body}`);
    }
    // A JSON capture (a log line, a request inspector's export) is text; a form body is kept byte for byte.
    body = /^\s*\{/.test(bytes.subarray(0, 64).toString('latin1'))
      ? bytes.toString('utf8')
      : bytes.toString('latin1');
  }
  if (/^\s*\{/.test(body)) {
    body = formFromJson(body, charset);
    fromJson = true;
  }
  const d = diagnoseNotificationBody(body, charset, key);
  let remote: { ok: boolean; message: string } | undefined;
  if (opts.remote) {
    const partner = opts.partner ?? io.env['ALIPAY_PARTNER'];
    const gateway = opts.gateway ?? io.env['ALIPAY_GATEWAY'] ?? 'https://mapi.alipay.com/gateway.do';
    const notifyId = d.params['notify_id'];
    if (!partner) throw new CliError('--remote needs --partner or ALIPAY_PARTNER');
    if (!notifyId) remote = { ok: false, message: 'the body has no notify_id to check' };
    else {
      try {
        await callNotifyVerify(gateway, partner, notifyId);
        remote = {
          ok: true,
          message: `notify_verify: true (notify_id ${notifyId} is live for partner ${partner})`,
        };
      } catch (e) {
        const ne = e as NotificationError;
        remote = {
          ok: false,
          message:
            ne.code === 'NOTIFY_VERIFY_FALSE'
              ? `notify_verify: false — notify_id ${notifyId} is unknown, already consumed (acknowledged with success) or expired, or belongs to another partner`
              : `notify_verify failed: ${ne.message}`,
        };
      }
    }
  }
  if (opts.json) {
    io.stdout(
      `${JSON.stringify({ signOk: d.signOk, charset, ...(fromJson ? { bodyFormat: 'json' } : {}), findings: d.findings, remote }, null, 2)}\n`,
    );
  } else {
    io.stdout(`sign: ${d.signOk ? 'matches' : 'DOES NOT MATCH'} (charset ${charset}, ${key.signType})\n`);
    if (fromJson)
      io.stdout(
        '- the body was JSON: its parameters were checked as the form Alipay posted (the sign covers the values, not the JSON)\n',
      );
    for (const f of d.findings) io.stdout(`- ${f.code}: ${f.message}\n  fix: ${f.fix}\n`);
    if (remote) io.stdout(`- ${remote.message}\n`);
  }
  return d.signOk && (remote?.ok ?? true) ? 0 : 1;
}

/**
 * A notification captured as JSON (`{"notify_id":"…","sign":"…",…}`, as logs and request inspectors show it) back
 * to the form body Alipay posted: the sign covers the parameter values, so the same pairs form-encoded in the
 * batch's charset verify exactly as the original body would.
 */
function formFromJson(text: string, charset: Charset): string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CliError(
      `--body: the body looks like JSON but is not valid JSON (${(e as Error).message}); capture the raw POST body (application/x-www-form-urlencoded) or the parameters as one JSON object`,
    );
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CliError('--body: a JSON body must be one object of the notification parameters');
  const pairs: Array<[string, string]> = [];
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string') pairs.push([k, x]);
    else if (typeof x === 'number' || typeof x === 'boolean') pairs.push([k, String(x)]);
    else if (x !== null)
      throw new CliError(
        `--body: parameter "${k}" of the JSON body is not text; every notification parameter is a string`,
      );
  }
  try {
    return formEncodePairs(pairs, charset);
  } catch (e) {
    throw new CliError(`--body: ${(e as Error).message}`);
  }
}
