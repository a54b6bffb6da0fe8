import { readFileSync } from 'node:fs';

/** The golden vectors shared with every implementation: spec/vectors.json, a checked copy of ../shared/spec/vectors.json. */
export interface Vectors {
  keys: Record<string, string>;
  md5: Array<{
    id: string;
    charset: string;
    key: string;
    params: Record<string, string>;
    canonical: string;
    sign: string;
    url?: string;
  }>;
  rsa: Array<{ id: string; key: string; canonical: string; sign: string }>;
}

export const vectors: Vectors = JSON.parse(
  readFileSync(new URL('../../../spec/vectors.json', import.meta.url), 'utf8'),
) as Vectors;
