/**
 * The console's Hono environment: what the middleware puts on every request (language, dictionary, session,
 * parsed form), and small request helpers.
 */
import type { Context } from 'hono';
import type { ConsoleContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { Session } from '../services/sessions.js';
import type { Dict, Lang } from './i18n.js';

export interface ConsoleVars {
  lang: Lang;
  t: Dict;
  /** The live session, or null on the login page and for anonymous requests. */
  session: Session | null;
  /** The clear session token from the cookie (never rendered). */
  sessionToken: string | null;
  /** The parsed request body of a POST (set by the CSRF check). */
  form: Form | null;
  ctx: ConsoleContext;
}

export type ConsoleEnv = { Variables: ConsoleVars };
export type CCtx = Context<ConsoleEnv>;

type BodyValue = string | File | (string | File)[];

/** A parsed urlencoded or multipart body with typed accessors. */
export class Form {
  constructor(private readonly body: Record<string, BodyValue>) {}

  /** The first string value of `name`, trimmed unless `raw`; '' when absent. */
  str(name: string, opts: { raw?: boolean } = {}): string {
    const v = this.body[name];
    const first = Array.isArray(v) ? v.find((x) => typeof x === 'string') : v;
    if (typeof first !== 'string') return '';
    return opts.raw ? first : first.trim();
  }

  /** Every string value of `name` (repeated fields, checkboxes). */
  all(name: string): string[] {
    const v = this.body[name];
    const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
    return list.filter((x): x is string => typeof x === 'string');
  }

  /** The uploaded file of `name`, if any (non-empty). */
  file(name: string): File | null {
    const v = this.body[name];
    const first = Array.isArray(v) ? v.find((x) => typeof x !== 'string') : v;
    return first !== undefined && typeof first !== 'string' && first.size > 0 ? first : null;
  }
}

/** Parses the request body once (urlencoded or multipart); later calls return the same object. */
export async function readForm(c: CCtx): Promise<Form> {
  const cached = c.get('form');
  if (cached) return cached;
  const type = c.req.header('content-type') ?? '';
  let body: Record<string, BodyValue> = {};
  if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
    try {
      body = (await c.req.parseBody({ all: true })) as Record<string, BodyValue>;
    } catch {
      // A malformed multipart body (no boundary, truncated parts): the sender's mistake, not a server error.
      throw new ServiceError(
        'INVALID_REQUEST',
        `the form body of POST ${c.req.path} could not be read as ${type.split(';')[0]}; send the form from the console page again (a file upload must be well-formed multipart/form-data with its boundary)`,
        'body',
      );
    }
  }
  const form = new Form(body);
  c.set('form', form);
  return form;
}

/** The signed-in session; the auth middleware guarantees it on protected routes. */
export function sessionOf(c: CCtx): Session {
  const s = c.get('session');
  if (!s) throw new TypeError('sessionOf: route is not protected');
  return s;
}

/** `operator:NAME`, the actor recorded in the audit log. */
export function actorOf(c: CCtx): string {
  return `operator:${sessionOf(c).operator.username}`;
}

/** A positive integer query parameter, or the fallback. */
export function intQuery(c: CCtx, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = c.req.query(name);
  if (v === undefined || !/^\d{1,9}$/.test(v)) return fallback;
  const n = Number(v);
  return n < 1 ? fallback : Math.min(n, max);
}

/** A query parameter restricted to `allowed`, or undefined. */
export function enumQuery<T extends string>(c: CCtx, name: string, allowed: readonly T[]): T | undefined {
  const v = c.req.query(name);
  return v !== undefined && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
}
