/**
 * Console test fixtures: a server with the console over a fresh SQLite file, and a tiny in-process "browser"
 * (cookie jar, CSRF token from the last page) that drives it with `app.request`.
 */
import type { Dialect } from '@alirefund/store';
import { openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import type { Hono } from 'hono';
import type { Logger } from '../src/log.js';
import { type AlirefundServer, createServer, makeSettings, type ServerDB } from '../src/index.js';
import { makeConfig } from './helpers.js';

export const ADMIN_PASSWORD = 'console-admin-pw';

export interface ConsoleServer {
  server: AlirefundServer;
  app: Hono;
  cleanup(): Promise<void>;
}

/**
 * A server (console mounted, no background work) over a fresh database (SQLite unless `dialect` says
 * otherwise); `admin` / ADMIN_PASSWORD.
 */
export async function startConsoleServer(
  opts: { gateway?: string; publicUrl?: string; dialect?: Dialect; log?: Logger } = {},
): Promise<ConsoleServer> {
  const database: TestDatabase<ServerDB> = await openTestDatabase<ServerDB>(opts.dialect ?? 'sqlite');
  const server = await createServer({
    settings: makeSettings({
      alipay: makeConfig(opts.gateway ?? 'http://127.0.0.1:9/gateway.do'),
      publicUrl: opts.publicUrl ?? 'http://127.0.0.1:1',
      adminPassword: ADMIN_PASSWORD,
    }),
    database,
    console: undefined, // the default mount: this console
    background: false,
    log: opts.log,
  });
  return {
    server,
    app: server.app,
    async cleanup() {
      await server.close();
      await database.cleanup();
    },
  };
}

export interface Page {
  status: number;
  html: string;
  headers: Headers;
  location: string | null;
}

/** A cookie-keeping client over `app.request`, or over real HTTP when given the server's base URL. */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page that had a form. */
  csrf = '';
  private readonly app: { request(path: string, init?: RequestInit): Response | Promise<Response> };

  constructor(app: Hono | { baseUrl: string }) {
    this.app =
      'baseUrl' in app
        ? { request: (path, init) => fetch(`${app.baseUrl}${path}`, { ...init, redirect: 'manual' }) }
        : app;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private async keep(res: Response): Promise<Page> {
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const html = await res.text();
    const m = /name="_csrf" value="([^"]*)"/.exec(html);
    if (m?.[1]) this.csrf = m[1];
    return { status: res.status, html, headers: res.headers, location: res.headers.get('location') };
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.keep(await this.app.request(path, { headers: { cookie: this.cookieHeader(), ...headers } }));
  }

  /** POSTs a urlencoded form; `_csrf` is added from the last page unless given (null: leave it out). */
  async post(
    path: string,
    fields: Record<string, string | string[]> | [string, string][] = {},
    opts: { csrf?: string | null } = {},
  ): Promise<Page> {
    const body = new URLSearchParams();
    const entries = Array.isArray(fields)
      ? fields
      : Object.entries(fields).flatMap(([k, v]) =>
          Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string]],
        );
    for (const [k, v] of entries) body.append(k, v);
    const token = opts.csrf === undefined ? this.csrf : opts.csrf;
    if (token !== null && !body.has('_csrf')) body.set('_csrf', token);
    return this.keep(
      await this.app.request(path, {
        method: 'POST',
        body: body.toString(),
        headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      }),
    );
  }

  /** POSTs multipart form data (file uploads), with the CSRF token. */
  async postMultipart(path: string, form: FormData): Promise<Page> {
    if (!form.has('_csrf')) form.set('_csrf', this.csrf);
    return this.keep(
      await this.app.request(path, { method: 'POST', body: form, headers: { cookie: this.cookieHeader() } }),
    );
  }

  /** Opens the login page and signs in; returns the response to the POST. */
  async login(username = 'admin', password = ADMIN_PASSWORD): Promise<Page> {
    await this.get('/login');
    const res = await this.post('/login', { username, password, next: '/dashboard' });
    if (res.status === 303) await this.get('/dashboard');
    return res;
  }
}
