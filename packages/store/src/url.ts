import { fileURLToPath } from 'node:url';

/** What a database URL resolved to. */
export type DatabaseTarget =
  | { kind: 'sqlite-file'; path: string }
  | { kind: 'sqlite-memory' }
  | { kind: 'postgres'; connectionString: string };

/** The URL forms `openDatabase` accepts, as shown in error messages. */
export const ACCEPTED_URL_FORMS =
  'a SQLite file path (e.g. ./.alirefund/alirefund.db, sqlite:PATH or file:PATH), ' +
  '":memory:" for an in-memory SQLite database, ' +
  'or postgres://USER:PASSWORD@HOST:PORT/DATABASE (postgresql:// also accepted)';

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/**
 * Returns `url` with any password replaced by `***`: the password in the userinfo part
 * (`scheme://user:PASSWORD@host`) and any `password=` query parameter. Safe on strings that are not URLs.
 */
export function redactUrl(url: string): string {
  let out = url;
  const scheme = SCHEME.exec(url);
  // Only URLs have userinfo: a path such as ./a:b@c.db, or C:\x (drive letter), is left alone.
  if (scheme && scheme[0].length > 2) {
    const start = scheme[0].length + (url.startsWith('//', scheme[0].length) ? 2 : 0);
    const rest = url.slice(start);
    // The last '@' ends the userinfo, even when an (unencoded) password contains '@', '/' or '#'. This may
    // over-redact an '@' in a query string; it never under-redacts.
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      const userinfo = rest.slice(0, at);
      const colon = userinfo.indexOf(':');
      if (colon >= 0) out = `${url.slice(0, start)}${userinfo.slice(0, colon)}:***${rest.slice(at)}`;
    }
  }
  return out.replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/**
 * Classifies a database URL. Throws an `Error` naming the accepted forms (with the URL redacted) for anything
 * else.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (trimmed === '') {
    throw new Error(`Empty database URL: use ${ACCEPTED_URL_FORMS}.`);
  }
  if (trimmed === ':memory:' || trimmed === 'sqlite::memory:') {
    return { kind: 'sqlite-memory' };
  }
  const scheme = SCHEME.exec(trimmed)?.[1]?.toLowerCase();
  // A one-letter "scheme" is a Windows drive letter (C:\data\alirefund.db), hence a path.
  if (scheme === undefined || scheme.length === 1) {
    return { kind: 'sqlite-file', path: trimmed };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    // Checked here so the URL parser's error (which carries the raw input, password included) never escapes.
    if (!trimmed.slice(scheme.length + 1).startsWith('//') || !URL.canParse(trimmed)) {
      throw new Error(`Malformed PostgreSQL URL "${redactUrl(trimmed)}": use ${ACCEPTED_URL_FORMS}.`);
    }
    return { kind: 'postgres', connectionString: trimmed };
  }
  if (scheme === 'sqlite') {
    // sqlite:PATH, sqlite://PATH and sqlite:///ABSOLUTE/PATH.
    const path = trimmed.slice('sqlite:'.length).replace(/^\/\//, '');
    return path === '' ? emptyPath(trimmed) : { kind: 'sqlite-file', path };
  }
  if (scheme === 'file') {
    if (trimmed.startsWith('file://')) {
      let path: string;
      try {
        path = fileURLToPath(trimmed);
      } catch (cause) {
        throw new Error(`Malformed file URL "${redactUrl(trimmed)}": use ${ACCEPTED_URL_FORMS}.`, { cause });
      }
      return { kind: 'sqlite-file', path };
    }
    const path = trimmed.slice('file:'.length);
    return path === '' ? emptyPath(trimmed) : { kind: 'sqlite-file', path };
  }
  throw new Error(
    `Unsupported database URL scheme "${scheme}:" in "${redactUrl(trimmed)}": use ${ACCEPTED_URL_FORMS}.`,
  );
}

function emptyPath(url: string): never {
  throw new Error(`Database URL "${redactUrl(url)}" names no file: use ${ACCEPTED_URL_FORMS}.`);
}
