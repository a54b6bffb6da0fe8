// The naive MD5 sign check of issue 11, shared by the benches (plain JS: bench/server-child.mjs runs without tsx):
// the pairs of a parsed form without sign, sign_type and empty values, sorted by name, joined `k=v&…`, the key
// appended, MD5 in hex compared with `sign`.
import { createHash } from 'node:crypto';

/** @param {URLSearchParams} form @param {string} key @returns {boolean} */
export function naiveSignOk(form, key) {
  const pairs = [];
  let sign = '';
  for (const [k, v] of form) {
    if (k === 'sign') sign = v;
    else if (k !== 'sign_type' && v !== '') pairs.push([k, v]);
  }
  pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const text = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  return (
    createHash('md5')
      .update(text + key, 'utf8')
      .digest('hex') === sign
  );
}
