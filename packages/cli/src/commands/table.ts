/**
 * Every command of the CLI as data: name, arguments, options and help, and a `run` that loads the command's
 * module only when the command runs, so `alirefund --help` loads commander and nothing else.
 */
import type { OptionValues } from 'commander';
import type { Io } from '../io.js';
import { REFUND_HELP } from './refund-help.js';

/** `[flags, description, default?]`, as commander's `.option()` takes them. */
export type OptionSpec = readonly [flags: string, description: string, defaultValue?: string];

export interface CommandSpec {
  readonly name: string;
  readonly description: string;
  /** `[name, description]` of each positional argument, in commander's syntax (`<code>`, `[params...]`). */
  readonly args?: readonly (readonly [string, string])[];
  readonly options?: readonly OptionSpec[];
  readonly required?: readonly OptionSpec[];
  readonly help: string;
  readonly run: (
    args: readonly string[],
    /** commander's parsed options, untyped: each command's module checks its own (hence `as never` below) */
    opts: OptionValues,
    io: Io,
  ) => Promise<number>;
}

const json = (what = 'print a JSON object'): OptionSpec => ['--json', what];
const db: OptionSpec = ['--db <url>', 'SQLite path or postgres://… (overrides ALIREFUND_DATABASE_URL)'];
const example = (lines: string): string => `\nExample:\n  ${lines}`;
const SERVE_ENV =
  'ALIPAY_PARTNER=2088101122136241 ALIPAY_KEY=… ALIPAY_GATEWAY=http://127.0.0.1:3100/gateway.do \\\n  ';

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'sign',
    description: 'sign request parameters and show the canonical string, its bytes and the sign',
    args: [['[params...]', 'name=value pairs (or a query string on stdin)']],
    options: [
      ['--key <key>', 'MD5 key (prefer --key-file or ALIPAY_KEY: a key on the command line shows up in ps)'],
      ['--key-file <file>', 'file holding the 32-character MD5 key'],
      ['--private-key-file <file>', 'PEM private key, for --sign-type RSA'],
      ['--charset <charset>', 'utf-8 or gbk: the bytes that are hashed', 'utf-8'],
      ['--sign-type <type>', 'MD5 or RSA', 'MD5'],
      json(),
    ],
    help: `
Examples:
  alirefund sign --key-file key.txt service=refund_fastpay_by_platform_nopwd partner=2088101122136241 _input_charset=utf-8 batch_no=20261121001 batch_num=1 'detail_data=2011011201037066^5.00^协商退款' 'refund_date=2026-11-21 10:00:00'
  echo 'partner=123&service=test' | alirefund sign --key-file key.txt --json`,
    run: async (args, opts, io) => (await import('./sign.js')).runSign(args, opts as never, io),
  },
  {
    name: 'demo',
    description: 'sandbox gateway + merchant server + console in one process, on SQLite under ./.alirefund/',
    options: [
      ['--port <port>', 'console port (the sandbox takes the next one)', '3000'],
      ['--dir <dir>', 'where the demo keeps its databases and logins', '.alirefund'],
      ['--reset', 'start from a fresh demo world'],
    ],
    help: example('npm start            # = alirefund demo\n  alirefund demo --port 8080 --reset'),
    run: async (_args, opts, io) => (await import('./demo.js')).runDemo(opts as never, io),
  },
  {
    name: 'sandbox',
    description: "run the sandbox of Alipay's gateway (/gateway.do, password page, notifications, admin API)",
    options: [
      ['--port <port>', 'port to listen on (0 = any free port)', '3100'],
      ['--host <host>', 'address to listen on', '127.0.0.1'],
      ['--seed <file>', 'seed file (JSON: partners, accounts, trades)'],
      [
        '--db <url>',
        'SQLite path, :memory: or postgres://… (default :memory:, or ALIREFUND_SANDBOX_DATABASE_URL)',
      ],
      ['--notify-schedule <list>', 'waits before each notification send (default 0,4m,10m,10m,1h,2h,6h,15h)'],
      [
        '--allowed-hosts <list>',
        'extra Host names for the admin API and state page (comma list; * = any); loopback names and --host always',
      ],
    ],
    help: example(
      'alirefund sandbox --port 3100 --seed packages/sandbox/seeds/demo.json --notify-schedule 0,200ms,200ms,200ms,200ms,200ms,200ms,200ms',
    ),
    run: async (_args, opts, io) => (await import('./sandbox.js')).runSandbox(opts as never, io),
  },
  {
    name: 'serve',
    description:
      'run the merchant refund server (notify endpoint, JSON API, console), configured by ALIPAY_* / ALIREFUND_* variables',
    options: [
      ['--port <port>', 'port to listen on', '3000'],
      ['--host <host>', 'address to listen on', '127.0.0.1'],
      db,
    ],
    help: example(
      `${SERVE_ENV}ALIREFUND_PUBLIC_URL=http://127.0.0.1:3000 ALIREFUND_ADMIN_PASSWORD=… alirefund serve --port 3000 --db ./refunds.sqlite`,
    ),
    run: async (_args, opts, io) => (await import('./serve.js')).runServe(opts as never, io),
  },
  {
    name: 'refund',
    description:
      'bulk refunds from a CSV, .xlsx or JSON Lines file: validated as a whole, sent in batches, resumable',
    required: [
      [
        '--file <file>',
        'CSV (UTF-8 or GBK), .xlsx or JSON Lines: trade_no or out_trade_no (交易号/商户订单号), amount, reason',
      ],
    ],
    options: [
      ['--mode <mode>', 'nopwd (sent by this command) or pwd (confirmed in a browser)', 'nopwd'],
      ['--batch-size <n>', 'records per batch, 1-1000 (default 50)'],
      db,
      ['--dry-run', 'validate the file against the database and show the plan; send nothing'],
      ['--serve', 'receive the notifications here (notify endpoint on the port of ALIREFUND_PUBLIC_URL)'],
      ['--report <file>', 'where to write the CSV report (default <file>.report.csv)'],
      [
        '--new-run',
        "don't resume this file's earlier run: set it aside and start afresh (e.g. after a wrong key)",
      ],
      ['--failed-only', '--file is a report of an earlier run: refund its failed lines again (a new run)'],
      ['--timeout <duration>', 'give up waiting when nothing moves for this long (30s, 10m, 2h)', '10m'],
      ['--port <port>', "with --serve: listen on this port instead of the public URL's"],
      [
        '--host <host>',
        'with --serve: listen on this address (default 127.0.0.1 for a local URL, else 0.0.0.0)',
      ],
      json('print a JSON summary on stdout'),
    ],
    help: REFUND_HELP,
    run: async (_args, opts, io) => (await import('./refund.js')).runRefund(opts as never, io),
  },
  {
    name: 'verify',
    description:
      'check a captured notification body: does the sign match, and if not, the most likely reason',
    required: [['--body <file>', 'file holding the raw POST body, or - for stdin']],
    options: [
      ['--charset <charset>', 'charset the batch was sent with', 'utf-8'],
      ['--key-file <file>', 'file holding the MD5 key (or ALIPAY_KEY)'],
      ['--key <key>', 'MD5 key (prefer --key-file)'],
      ['--public-key-file <file>', "Alipay's RSA public key (PEM), for RSA notifications"],
      ['--remote', 'also ask the gateway (notify_verify) whether the notify_id is live'],
      ['--partner <id>', 'partner id for --remote (or ALIPAY_PARTNER)'],
      ['--gateway <url>', 'gateway for --remote (or ALIPAY_GATEWAY)'],
      json(),
    ],
    help: example(
      'alirefund verify --body captured.txt --charset gbk --key-file key.txt --remote --partner 2088101122136241',
    ),
    run: async (_args, opts, io) => (await import('./verify.js')).runVerify(opts as never, io),
  },
  {
    name: 'explain',
    description: 'what a gateway or result code means and what to do, in Chinese and English',
    args: [['<code>', 'e.g. ILLEGAL_SIGN']],
    options: [json()],
    help: example('alirefund explain BATCH_REFUND_LOCK_ERROR'),
    run: async (args, opts, io) => (await import('./codes.js')).runExplain(args[0] ?? '', opts as never, io),
  },
  {
    name: 'errors',
    description: 'list every code in the catalogue',
    options: [['--channel <channel>', 'only sync, async, both or local codes'], json('print JSON')],
    help: example('alirefund errors --channel async'),
    run: async (_args, opts, io) => (await import('./codes.js')).runErrors(opts as never, io),
  },
  {
    name: 'reconcile',
    description:
      'ask the gateway (refund_fastpay_query) about batches submitted or accepted without an applied notification, and apply or mark what it says',
    options: [
      [
        '--older-than <duration>',
        'only batches submitted at least this long ago (30m, 2h, …); needs_attention batches are always checked',
        '2h',
      ],
      ['--batch <batch_no>', 'only this batch, whatever its age'],
      db,
      json(),
    ],
    help: `
Configured like \`alirefund serve\` (ALIPAY_* / ALIREFUND_* variables). Exit code 2 when a batch needs an operator
(resubmit manually, outcome unknown, never accepted) or could not be checked. Batches in needs_attention
(需要处理: outcome unknown) are checked whatever their age, since an operator is waiting on them; --older-than
only delays submitted and accepted batches, whose notification may still come.
${example(`${SERVE_ENV}alirefund reconcile --older-than 2h --db ./refunds.sqlite`)}`,
    run: async (_args, opts, io) => (await import('./reconcile.js')).runReconcile(opts as never, io),
  },
  {
    name: 'doctor',
    description:
      "check the configuration as the seeds' checklist does: partner/key, notify_url (probe), gateway, charset",
    options: [['--timeout <duration>', 'how long each probe may take', '5s'], json()],
    help: `
Reads the variables of \`alirefund serve\`; POSTs an empty, unsigned body to ALIREFUND_PUBLIC_URL/alipay/notify
(it must answer exactly "fail") and calls notify_verify with a dummy id (it must answer "false").
Exit code 1 when there is an error finding.
${example('ALIPAY_PARTNER=2088101122136241 ALIPAY_KEY=… ALIREFUND_PUBLIC_URL=https://shop.example.com alirefund doctor --json')}`,
    run: async (_args, opts, io) => (await import('./doctor.js')).runDoctor(opts as never, io),
  },
];
