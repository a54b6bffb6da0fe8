/**
 * The `alirefund` command line: the composition root. Only this package reads process.env,
 * parses flags, opens ports and owns the process lifetime.
 */
import { Command, CommanderError } from 'commander';
import { runErrors, runExplain } from './commands/codes.js';
import { runDemo } from './commands/demo.js';
import { runDoctor } from './commands/doctor.js';
import { runReconcile } from './commands/reconcile.js';
import { REFUND_HELP, runRefund } from './commands/refund.js';
import { runSandbox } from './commands/sandbox.js';
import { runServe } from './commands/serve.js';
import { runSign } from './commands/sign.js';
import { runVerify } from './commands/verify.js';
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

  program
    .command('sign')
    .description('sign request parameters and show the canonical string, its bytes and the sign')
    .argument('[params...]', 'name=value pairs (or a query string on stdin)')
    .option(
      '--key <key>',
      'MD5 key (prefer --key-file or ALIPAY_KEY: a key on the command line shows up in ps)',
    )
    .option('--key-file <file>', 'file holding the 32-character MD5 key')
    .option('--private-key-file <file>', 'PEM private key, for --sign-type RSA')
    .option('--charset <charset>', 'utf-8 or gbk: the bytes that are hashed', 'utf-8')
    .option('--sign-type <type>', 'MD5 or RSA', 'MD5')
    .option('--json', 'print a JSON object')
    .addHelpText(
      'after',
      `
Examples:
  alirefund sign --key-file key.txt service=refund_fastpay_by_platform_nopwd partner=2088101122136241 _input_charset=utf-8 batch_no=20261121001 batch_num=1 'detail_data=2011011201037066^5.00^协商退款' 'refund_date=2026-11-21 10:00:00'
  echo 'partner=123&service=test' | alirefund sign --key-file key.txt --json`,
    )
    .action(async (params: string[], opts) => setExit(await runSign(params, opts, io)));

  program
    .command('demo')
    .description('sandbox gateway + merchant server + console in one process, on SQLite under ./.alirefund/')
    .option('--port <port>', 'console port (the sandbox takes the next one)', '3000')
    .option('--dir <dir>', 'where the demo keeps its databases and logins', '.alirefund')
    .option('--reset', 'start from a fresh demo world')
    .addHelpText(
      'after',
      '\nExample:\n  npm start            # = alirefund demo\n  alirefund demo --port 8080 --reset',
    )
    .action(async (opts) => setExit(await runDemo(opts, io)));

  program
    .command('sandbox')
    .description("run the sandbox of Alipay's gateway (/gateway.do, password page, notifications, admin API)")
    .option('--port <port>', 'port to listen on (0 = any free port)', '3100')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <file>', 'seed file (JSON: partners, accounts, trades)')
    .option(
      '--db <url>',
      'SQLite path, :memory: or postgres://… (default :memory:, or ALIREFUND_SANDBOX_DATABASE_URL)',
    )
    .option(
      '--notify-schedule <list>',
      'waits before each notification send (default 0,4m,10m,10m,1h,2h,6h,15h)',
    )
    .addHelpText(
      'after',
      '\nExample:\n  alirefund sandbox --port 3100 --seed packages/sandbox/seeds/demo.json --notify-schedule 0,200ms,200ms,200ms,200ms,200ms,200ms,200ms',
    )
    .action(async (opts) => setExit(await runSandbox(opts, io)));

  program
    .command('serve')
    .description(
      'run the merchant refund server (notify endpoint, JSON API, console), configured by ALIPAY_* / ALIREFUND_* variables',
    )
    .option('--port <port>', 'port to listen on', '3000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--db <url>', 'SQLite path or postgres://… (overrides ALIREFUND_DATABASE_URL)')
    .addHelpText(
      'after',
      '\nExample:\n  ALIPAY_PARTNER=2088101122136241 ALIPAY_KEY=… ALIPAY_GATEWAY=http://127.0.0.1:3100/gateway.do \\\n  ALIREFUND_PUBLIC_URL=http://127.0.0.1:3000 ALIREFUND_ADMIN_PASSWORD=… alirefund serve --port 3000 --db ./refunds.sqlite',
    )
    .action(async (opts) => setExit(await runServe(opts, io)));

  program
    .command('refund')
    .description(
      'bulk refunds from a CSV or JSON Lines file: validated as a whole, sent in batches, resumable',
    )
    .requiredOption('--file <file>', 'CSV (trade_no,amount,reason[,royalty_*]) or JSON Lines, UTF-8')
    .option('--mode <mode>', 'nopwd (sent by this command) or pwd (confirmed in a browser)', 'nopwd')
    .option('--batch-size <n>', 'records per batch, 1-1000 (default 50)')
    .option('--db <url>', 'SQLite path or postgres://… (overrides ALIREFUND_DATABASE_URL)')
    .option('--dry-run', 'validate the file against the database and show the plan; send nothing')
    .option('--serve', 'receive the notifications here (notify endpoint on the port of ALIREFUND_PUBLIC_URL)')
    .option('--report <file>', 'where to write the CSV report (default <file>.report.csv)')
    .option('--timeout <duration>', 'give up waiting when nothing moves for this long (30s, 10m, 2h)', '10m')
    .option('--port <port>', "with --serve: listen on this port instead of the public URL's")
    .option(
      '--host <host>',
      'with --serve: listen on this address (default 127.0.0.1 for a local URL, else 0.0.0.0)',
    )
    .option('--json', 'print a JSON summary on stdout')
    .addHelpText('after', REFUND_HELP)
    .action(async (opts) => setExit(await runRefund(opts, io)));

  program
    .command('verify')
    .description(
      'check a captured notification body: does the sign match, and if not, the most likely reason',
    )
    .requiredOption('--body <file>', 'file holding the raw POST body, or - for stdin')
    .option('--charset <charset>', 'charset the batch was sent with', 'utf-8')
    .option('--key-file <file>', 'file holding the MD5 key (or ALIPAY_KEY)')
    .option('--key <key>', 'MD5 key (prefer --key-file)')
    .option('--public-key-file <file>', "Alipay's RSA public key (PEM), for RSA notifications")
    .option('--remote', 'also ask the gateway (notify_verify) whether the notify_id is live')
    .option('--partner <id>', 'partner id for --remote (or ALIPAY_PARTNER)')
    .option('--gateway <url>', 'gateway for --remote (or ALIPAY_GATEWAY)')
    .option('--json', 'print a JSON object')
    .addHelpText(
      'after',
      '\nExample:\n  alirefund verify --body captured.txt --charset gbk --key-file key.txt --remote --partner 2088101122136241',
    )
    .action(async (opts) => setExit(await runVerify(opts, io)));

  program
    .command('explain')
    .description('what a gateway or result code means and what to do, in Chinese and English')
    .argument('<code>', 'e.g. ILLEGAL_SIGN')
    .option('--json', 'print a JSON object')
    .addHelpText('after', '\nExample:\n  alirefund explain BATCH_REFUND_LOCK_ERROR')
    .action((code: string, opts) => setExit(runExplain(code, opts, io)));

  program
    .command('errors')
    .description('list every code in the catalogue')
    .option('--channel <channel>', 'only sync, async, both or local codes')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  alirefund errors --channel async')
    .action((opts) => setExit(runErrors(opts, io)));

  program
    .command('reconcile')
    .description(
      'ask the gateway (refund_fastpay_query) about batches submitted or accepted without an applied notification, and apply or mark what it says',
    )
    .option('--older-than <duration>', 'only batches submitted at least this long ago (30m, 2h, …)', '2h')
    .option('--batch <batch_no>', 'only this batch, whatever its age')
    .option('--db <url>', 'SQLite path or postgres://… (overrides ALIREFUND_DATABASE_URL)')
    .option('--json', 'print a JSON object')
    .addHelpText(
      'after',
      '\nConfigured like `alirefund serve` (ALIPAY_* / ALIREFUND_* variables). Exit code 2 when a batch needs an operator\n(resubmit manually, outcome unknown, never accepted) or could not be checked.\n\nExample:\n  ALIPAY_PARTNER=2088101122136241 ALIPAY_KEY=… ALIPAY_GATEWAY=http://127.0.0.1:3100/gateway.do \\\n  alirefund reconcile --older-than 2h --db ./refunds.sqlite',
    )
    .action(async (opts) => setExit(await runReconcile(opts, io)));

  program
    .command('doctor')
    .description(
      "check the configuration as the seeds' checklist does: partner/key, notify_url (probe), gateway, charset",
    )
    .option('--timeout <duration>', 'how long each probe may take', '5s')
    .option('--json', 'print a JSON object')
    .addHelpText(
      'after',
      '\nReads the variables of `alirefund serve`; POSTs an empty, unsigned body to ALIREFUND_PUBLIC_URL/alipay/notify\n(it must answer exactly "fail") and calls notify_verify with a dummy id (it must answer "false").\nExit code 1 when there is an error finding.\n\nExample:\n  ALIPAY_PARTNER=2088101122136241 ALIPAY_KEY=… ALIREFUND_PUBLIC_URL=https://shop.example.com alirefund doctor --json',
    )
    .action(async (opts) => setExit(await runDoctor(opts, io)));

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
