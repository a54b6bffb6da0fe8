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
  if (opts.body === '-') body = await io.readStdin();
  else {
    try {
      body = readFileSync(opts.body, 'latin1');
    } catch {
      throw new CliError(`--body: cannot read ${opts.body}`);
    }
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
    io.stdout(`${JSON.stringify({ signOk: d.signOk, charset, findings: d.findings, remote }, null, 2)}\n`);
  } else {
    io.stdout(`sign: ${d.signOk ? 'matches' : 'DOES NOT MATCH'} (charset ${charset}, ${key.signType})\n`);
    for (const f of d.findings) io.stdout(`- ${f.code}: ${f.message}\n  fix: ${f.fix}\n`);
    if (remote) io.stdout(`- ${remote.message}\n`);
  }
  return d.signOk && (remote?.ok ?? true) ? 0 : 1;
}
