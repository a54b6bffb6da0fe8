/**
 * `alirefund sandbox` in-process: on loopback no admin token; bound beyond loopback a random token is printed
 * and the admin API requires it; `--allowed-hosts` names extra Host names.
 */
import { describe, expect, it } from 'vitest';
import { runSandbox, sandboxAllowedHosts } from '../src/commands/sandbox.js';
import { memoryIo } from './helpers.js';

async function started(io: { out: string }): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const m = /gateway: http:\/\/[^\s]*:(\d+)\/gateway\.do/.exec(io.out);
    if (m) return Number(m[1]);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the sandbox did not start: ${io.out}`);
}

describe('alirefund sandbox', () => {
  it('on loopback: no token, and the admin API answers', async () => {
    const io = memoryIo();
    let stop!: () => void;
    const run = runSandbox({ port: '0', host: '127.0.0.1' }, io, new Promise<void>((r) => (stop = r)));
    const port = await started(io);
    try {
      expect(io.out).not.toMatch(/admin token/);
      expect((await fetch(`http://127.0.0.1:${port}/sandbox/api/partners`)).status).toBe(200);
    } finally {
      stop();
      expect(await run).toBe(0);
    }
  });

  it('beyond loopback (--host 0.0.0.0): prints a random admin token and requires it', async () => {
    const io = memoryIo();
    let stop!: () => void;
    const run = runSandbox(
      { port: '0', host: '0.0.0.0', allowedHosts: 'sandbox.internal' },
      io,
      new Promise<void>((r) => (stop = r)),
    );
    const port = await started(io);
    try {
      const token = /admin token: (\S+)/.exec(io.out)?.[1];
      expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(io.out).toMatch(/Host: localhost, 127\.0\.0\.1, ::1, sandbox\.internal/);
      const url = `http://127.0.0.1:${port}/sandbox/api/partners`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      // the gateway stays open to merchants
      expect((await fetch(`http://127.0.0.1:${port}/gateway.do?service=x`)).status).toBe(200);
    } finally {
      stop();
      expect(await run).toBe(0);
    }
  });

  it('takes the token from ALIREFUND_SANDBOX_ADMIN_TOKEN, and refuses a short one', async () => {
    await expect(
      runSandbox(
        { port: '0', host: '0.0.0.0' },
        memoryIo({ env: { ALIREFUND_SANDBOX_ADMIN_TOKEN: 'short' } }),
      ),
    ).rejects.toThrow(/ALIREFUND_SANDBOX_ADMIN_TOKEN must be at least 16/);
  });

  it('--allowed-hosts: names are added, bad entries named', () => {
    expect(sandboxAllowedHosts('10.0.0.5', 'a.example, [fd00::1]')).toEqual([
      'localhost',
      '127.0.0.1',
      '::1',
      '10.0.0.5',
      'a.example',
      'fd00::1',
    ]);
    expect(() => sandboxAllowedHosts('127.0.0.1', 'http://x.example/')).toThrow(
      /--allowed-hosts: "http:\/\/x.example\/" is not a host name/,
    );
  });
});
