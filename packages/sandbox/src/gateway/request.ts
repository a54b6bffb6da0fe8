/** Reading a `/gateway.do` request: query string and body merged, decoded in the request's `_input_charset`. */
import { type Charset, normalizeCharset, parseFormBody } from '@alirefund/protocol';

/** A parsed gateway request: query string and body merged, decoded in `_input_charset`. */
export interface GatewayRequest {
  method: string;
  params: Record<string, string>;
  /** Parameters sent twice with different values. */
  conflicts: string[];
  /** Parameters sent with an empty value. */
  empties: string[];
  /** `_input_charset` as normalised, or null when missing / not supported. */
  charset: Charset | null;
}

function findRawCharset(...texts: string[]): string | undefined {
  for (const t of texts) {
    for (const [k, v] of parseFormBody(t, 'utf-8')) if (k === '_input_charset' && v !== '') return v;
  }
  return undefined;
}

/** Parses a gateway request: `_input_charset` from the query string (or else the body) decides the decoding. */
export async function parseGatewayRequest(req: Request): Promise<GatewayRequest> {
  const url = new URL(req.url);
  const query = url.search.startsWith('?') ? url.search.slice(1) : url.search;
  const body = req.method === 'POST' ? Buffer.from(await req.arrayBuffer()).toString('latin1') : '';
  const raw = findRawCharset(query, body);
  const charset = raw === undefined ? null : normalizeCharset(raw);
  const decodeIn: Charset = charset ?? 'utf-8';
  const params: Record<string, string> = {};
  const conflicts = new Set<string>();
  const empties = new Set<string>();
  // The body wins over the query string (which should carry only _input_charset); a differing repeat is
  // refused at step 7.
  for (const [k, v] of [...parseFormBody(body, decodeIn), ...parseFormBody(query, decodeIn)]) {
    if (v === '') {
      empties.add(k);
      continue;
    }
    const prev = params[k];
    if (prev !== undefined && prev !== v) conflicts.add(k);
    if (prev === undefined) params[k] = v;
  }
  for (const k of Object.keys(params)) empties.delete(k);
  return { method: req.method, params, conflicts: [...conflicts], empties: [...empties], charset };
}
