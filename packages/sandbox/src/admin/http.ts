/**
 * What every resource of the admin API shares: JSON bodies (only `application/json`, so that a page elsewhere
 * cannot post forms at the API), 400 answers naming each problem's path, `?limit=`, and amounts and times as the
 * API shows them.
 */
import { formatYuan } from '@alirefund/protocol';
import type { Context } from 'hono';
import type { z } from 'zod';
import { type SeedProblem, zodProblems } from '../seed.js';

/** Fen as a signed yuan string (null stays null). */
export function yuan(fen: number | string | bigint | null): string | null {
  if (fen === null) return null;
  const n = Number(fen);
  return n < 0 ? `-${formatYuan(-n)}` : formatYuan(n);
}

/** Epoch ms as ISO-8601 (null stays null). */
export function isoOrNull(t: number | null): string | null {
  return t === null ? null : new Date(Number(t)).toISOString();
}

export async function jsonBody(
  c: Context,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    return {
      ok: false,
      response: c.json(
        { error: 'unsupported_media_type', message: 'send the body as application/json' },
        415,
      ),
    };
  }
  try {
    return { ok: true, value: await c.req.json() };
  } catch (e) {
    return { ok: false, response: c.json({ error: 'invalid_json', message: (e as Error).message }, 400) };
  }
}

export function invalid(c: Context, problems: SeedProblem[]): Response {
  return c.json(
    { error: 'invalid', message: problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems },
    400,
  );
}

export function limitOf(c: Context, dflt = 100): number {
  const n = Number(c.req.query('limit') ?? dflt);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1000) : dflt;
}

/** A JSON body validated by `schema`; else the 415/400 answer to return (problems named by path). */
export async function validBody<T extends z.ZodType>(
  c: Context,
  schema: T,
): Promise<{ ok: true; data: z.output<T> } | { ok: false; response: Response }> {
  const body = await jsonBody(c);
  if (!body.ok) return body;
  const parsed = schema.safeParse(body.value);
  if (!parsed.success) return { ok: false, response: invalid(c, zodProblems(parsed.error)) };
  return { ok: true, data: parsed.data };
}
