/** Small I/O helpers shared by the commands. */
import { readFileSync } from 'node:fs';

/** A failure the user can fix: printed as one line, exit code 1 (or `exitCode`). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  stdinIsTty: boolean;
  stdoutIsTty: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIo(): Io {
  // A closed pipe (`alirefund errors | head`) is not an error of ours: stop writing quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    stdinIsTty: Boolean(process.stdin.isTTY),
    stdoutIsTty: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Reads a file for an option, with an error that names the option and the path. */
export function readOptionFile(option: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      `${option}: cannot read ${path} (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`,
    );
  }
}
