/**
 * spec/ holds copies of the shared spec files the tests read (vectors.json, protocol.md), so that a clone of the
 * repository is self-contained. Where the shared originals sit beside the repository (../shared/spec), the copies
 * must be identical to them: a changed original fails here until it is copied again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const FILES = ['vectors.json', 'protocol.md'];
const copyOf = (name: string) => new URL(`../../../spec/${name}`, import.meta.url);
const originalOf = (name: string) => new URL(`../../../../shared/spec/${name}`, import.meta.url);

describe('spec/ copies of the shared spec', () => {
  it.each(FILES)('%s is in the repository', (name) => {
    expect(existsSync(copyOf(name))).toBe(true);
  });
  it.each(FILES.filter((name) => existsSync(originalOf(name))))(
    '%s is identical to ../shared/spec (copy it again when it changes)',
    (name) => {
      expect(readFileSync(copyOf(name), 'utf8')).toBe(readFileSync(originalOf(name), 'utf8'));
    },
  );
});
