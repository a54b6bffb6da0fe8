/**
 * What users need when they hit ILLEGAL_SIGN: the canonical string, its bytes and the sign.
 */
import { type Charset, encodeText } from './charset.js';
import { type ParamInput, type SigningKey, canonicalize, signParams } from './sign.js';

export interface SignatureExplanation {
  charset: Charset;
  signType: SigningKey['signType'];
  /** The string to sign, without the key. */
  canonical: string;
  /** What is hashed, with the MD5 key redacted: `canonical` + `<key: 32 chars>`. */
  signingInput: string;
  /** Each non-ASCII character of the canonical string with its bytes in `charset`, in order of appearance. */
  nonAsciiBytes: Array<{ text: string; hex: string }>;
  /** Total bytes of the canonical string in `charset`. */
  byteLength: number;
  /** Parameters left out of the signature, and why. */
  excluded: Array<{ name: string; reason: 'sign' | 'sign_type' | 'empty' }>;
  sign: string;
}

/**
 * Explains a signature step by step; the key never appears in the result.
 * @throws CharsetError when a value cannot be carried by `charset`.
 */
export function explainSignature(
  params: ParamInput,
  key: SigningKey,
  charset: Charset,
): SignatureExplanation {
  const canonical = canonicalize(params);
  const bytes = encodeText(canonical, charset, 'the string to sign');
  const nonAscii: Array<{ text: string; hex: string }> = [];
  for (const m of canonical.matchAll(/[^\x00-\x7f]+/g)) {
    nonAscii.push({
      text: m[0],
      hex: encodeText(m[0], charset)
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1 '),
    });
  }
  const excluded: SignatureExplanation['excluded'] = [];
  for (const [name, v] of Object.entries(params)) {
    if (name === 'sign' || name === 'sign_type') excluded.push({ name, reason: name });
    else if (v === '' || v === null || v === undefined || v === false)
      excluded.push({ name, reason: 'empty' });
  }
  return {
    charset,
    signType: key.signType,
    canonical,
    signingInput: key.signType === 'MD5' ? `${canonical}<key: ${key.key.length} chars, redacted>` : canonical,
    nonAsciiBytes: nonAscii,
    byteLength: bytes.length,
    excluded,
    sign: signParams(params, key, charset),
  };
}
