/** Request ids: a proxy's well-formed X-Request-Id is kept; otherwise a new id, never repeated across refills. */
import { describe, expect, it } from 'vitest';
import { requestIdFrom } from '../src/request-context.js';

describe('requestIdFrom', () => {
  it('gives distinct 16-hex-digit ids across several refills of its random pool', () => {
    const ids = Array.from({ length: 2000 }, () => requestIdFrom(undefined));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Not a counter: consecutive ids share no long common prefix as a rule.
    const samePrefix = ids.slice(1).filter((id, i) => id.slice(0, 8) === ids[i]!.slice(0, 8)).length;
    expect(samePrefix).toBeLessThan(5);
  });

  it("keeps a proxy's plain id and replaces anything else", () => {
    expect(requestIdFrom('edge-1:abc.42')).toBe('edge-1:abc.42');
    for (const bad of ['', 'a b', 'x'.repeat(65), 'id\n', '<script>']) {
      const id = requestIdFrom(bad);
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(requestIdFrom(null)).toMatch(/^[0-9a-f]{16}$/);
  });
});
