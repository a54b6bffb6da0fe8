/** See naive-sign.mjs. */
export function naiveSignOk(form: URLSearchParams, key: string): boolean;
