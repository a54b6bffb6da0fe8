/**
 * Which route of the table (auth/roles.ts) a request is for: the first route Hono matched that is not a
 * middleware (`use`, `all`), as its table key.
 */
import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import { routeKey } from './roles.js';

/** `METHOD /path` of the route serving the request, or null when only middleware and the 404 match. */
export function endpointKey(c: Context): string | null {
  const route = matchedRoutes(c).find((r) => r.method !== 'ALL');
  return route ? routeKey(route.method, route.path) : null;
}
