import type { Io } from '../src/io.js';

/** An in-memory Io for running commands in-process. */
export function memoryIo(
  opts: { stdin?: string; env?: Record<string, string>; tty?: boolean } = {},
): Io & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout(t: string) {
      io.out += t;
    },
    stderr(t: string) {
      io.err += t;
    },
    readStdin: async () => opts.stdin ?? '',
    stdinIsTty: opts.stdin === undefined,
    stdoutIsTty: opts.tty ?? false,
    env: opts.env ?? {},
    cwd: process.cwd(),
  };
  return io;
}
