/**
 * `alirefund sign`: prints the canonical string, its non-ASCII bytes and the sign — what a
 * developer needs when the gateway answers ILLEGAL_SIGN.
 */
import { createPrivateKey } from 'node:crypto';
import {
  type Charset,
  CharsetError,
  type SigningKey,
  explainSignature,
  normalizeCharset,
  parseFormBody,
} from '@alirefund/protocol';
import { CliError, type Io, readOptionFile } from '../io.js';

export interface SignOptions {
  key?: string;
  keyFile?: string;
  privateKeyFile?: string;
  charset: string;
  signType: string;
  json?: boolean;
}

function charsetOf(name: string): Charset {
  const c = normalizeCharset(name);
  if (!c)
    throw new CliError(`--charset: unknown charset "${name}"; use utf-8 or gbk (gb2312 is read as gbk)`);
  return c;
}

function signingKeyOf(opts: SignOptions, io: Io): SigningKey {
  const signType = opts.signType.toUpperCase();
  if (signType === 'MD5') {
    const key =
      opts.key ??
      (opts.keyFile !== undefined ? readOptionFile('--key-file', opts.keyFile).trim() : io.env['ALIPAY_KEY']);
    if (key === undefined || key === '')
      throw new CliError('MD5 signing needs a key: --key-file FILE, --key KEY or ALIPAY_KEY');
    if (/\s/.test(key))
      throw new CliError(
        'the MD5 key contains whitespace; the 32-character key has none (check the file for spaces or line breaks)',
      );
    if (key.length !== 32)
      throw new CliError(
        `the MD5 key is ${key.length} characters long; Alipay keys are 32 (the key is not printed)`,
      );
    return { signType: 'MD5', key };
  }
  if (signType === 'RSA') {
    if (opts.privateKeyFile === undefined)
      throw new CliError('RSA signing needs --private-key-file FILE (a PEM private key)');
    const pem = readOptionFile('--private-key-file', opts.privateKeyFile);
    try {
      return { signType: 'RSA', privateKey: createPrivateKey(pem) };
    } catch {
      throw new CliError(`--private-key-file: ${opts.privateKeyFile} is not a readable PEM private key`);
    }
  }
  throw new CliError(`--sign-type: "${opts.signType}" is not supported; use MD5 or RSA`);
}

/** Parses `k=v` arguments (values taken literally, not URL-decoded). */
export function parsePairs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new CliError(`parameter "${a}" is not of the form name=value`);
    const k = a.slice(0, eq);
    if (Object.hasOwn(out, k)) throw new CliError(`parameter "${k}" is given twice`);
    out[k] = a.slice(eq + 1);
  }
  return out;
}

export async function runSign(args: readonly string[], opts: SignOptions, io: Io): Promise<number> {
  const charset = charsetOf(opts.charset);
  const key = signingKeyOf(opts, io);
  let params: Record<string, string>;
  if (args.length > 0) params = parsePairs(args);
  else if (!io.stdinIsTty) {
    const text = (await io.readStdin()).trim();
    params = {};
    for (const [k, v] of parseFormBody(text.replace(/^\?/, ''), charset)) {
      if (Object.hasOwn(params, k)) throw new CliError(`parameter "${k}" is given twice in the query string`);
      params[k] = v;
    }
  } else throw new CliError('no parameters: pass name=value arguments or a query string on stdin');
  if (Object.keys(params).length === 0) throw new CliError('no parameters to sign');
  if (params['_input_charset'] !== undefined && normalizeCharset(params['_input_charset']) !== charset) {
    io.stderr(
      `warning: _input_charset=${params['_input_charset']} but signing with --charset ${charset}; the gateway hashes the bytes of _input_charset\n`,
    );
  }
  let e: ReturnType<typeof explainSignature>;
  try {
    e = explainSignature(params, key, charset);
  } catch (err) {
    if (err instanceof CharsetError) throw new CliError(err.message);
    throw err;
  }
  if (opts.json) {
    io.stdout(
      `${JSON.stringify({ charset, signType: e.signType, canonical: e.canonical, signingInput: e.signingInput, byteLength: e.byteLength, nonAsciiBytes: e.nonAsciiBytes, excluded: e.excluded, sign: e.sign }, null, 2)}\n`,
    );
    return 0;
  }
  const lines = [`charset: ${charset}`, `sign_type: ${e.signType}`, `canonical: ${e.canonical}`];
  for (const b of e.nonAsciiBytes) lines.push(`bytes: ${b.text} = ${b.hex}`);
  for (const x of e.excluded)
    lines.push(`excluded: ${x.name} (${x.reason === 'empty' ? 'empty value' : 'never signed'})`);
  if (e.signType === 'MD5') lines.push(`hashed: ${e.signingInput}`);
  lines.push(`sign: ${e.sign}`);
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}
