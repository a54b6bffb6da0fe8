/**
 * The `alirefund` command line: the composition root. Only this package reads process.env,
 * parses flags, opens ports and owns the process lifetime.
 *
 * The commands are data (`commands/table.ts`); each command's module is loaded when it runs.
 */
import { Command, CommanderError, type OptionValues } from 'commander';
import { COMMANDS } from './commands/table.js';
import { CliError, type Io, processIo } from './io.js';

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('alirefund')
    .description(
      'Alipay batch refunds (refund_fastpay_by_platform_pwd / _nopwd): SDK tools, sandbox gateway, merchant server',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });

  for (const spec of COMMANDS) {
    const command = program.command(spec.name).description(spec.description);
    for (const [name, description] of spec.args ?? []) command.argument(name, description);
    for (const [flags, description] of spec.required ?? []) command.requiredOption(flags, description);
    for (const [flags, description, defaultValue] of spec.options ?? [])
      command.option(flags, description, defaultValue);
    command.addHelpText('after', spec.help);
    command.action(async (...received: unknown[]) => {
      // commander passes the positional arguments, then the options, then the command itself
      const args = received.slice(0, spec.args?.length ?? 0).flat() as string[];
      const opts = received[spec.args?.length ?? 0] as OptionValues;
      setExit(await spec.run(args, opts, io));
    });
  }
  return program;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof CliError) {
      io.stderr(`alirefund: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr(`alirefund: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return 70;
  }
}
