/**
 * CLI start-up (issue 9): the installed `alirefund` bin (compiled dist/) as a whole process, against the floor of
 * any Node program: `node -e 0` on the same machine in the same run. Rounds alternate baseline and subject; each
 * figure is the median of the rounds; peak RSS is the child's maxrss (getrusage of children, via /usr/bin/time
 * when present). Targets: `--help` ≤ 0.4 s wall and ≤ 80 MB.
 *
 *   npm run build && npm run bench -- cli-startup
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const bin = new URL('../packages/cli/bin/alirefund.js', import.meta.url).pathname;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 15);
const gnuTime = existsSync('/usr/bin/time');

function run(args: string[], env: Record<string, string> = {}): { ms: number; rssMb: number } {
  const started = process.hrtime.bigint();
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      })
    : spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const kb = gnuTime ? Number(/(\d+)\s*$/.exec(r.stderr)?.[1] ?? 0) : 0;
  return { ms, rssMb: kb / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cases: Array<[string, string[], Record<string, string>]> = [
  ['alirefund --help', [bin, '--help'], {}],
  ['alirefund errors --json', [bin, 'errors', '--json'], {}],
  [
    'alirefund sign (loads the SDK)',
    [bin, 'sign', 'service=test', 'partner=123'],
    { ALIPAY_KEY: 'k'.repeat(32) },
  ],
];

run(['-e', '0']); // warm the file cache
for (const [, args, env] of cases) run(args, env);

console.log(`rounds: ${ROUNDS}; baseline: node -e 0 (the floor of any Node process)`);
console.log('| command | median wall | peak RSS | baseline wall | baseline RSS | wall ratio |');
console.log('|---|---|---|---|---|---|');
for (const [name, args, env] of cases) {
  const base: number[] = [];
  const baseRss: number[] = [];
  const subj: number[] = [];
  const subjRss: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const b = run(['-e', '0']);
    const s = run(args, env);
    base.push(b.ms);
    baseRss.push(b.rssMb);
    subj.push(s.ms);
    subjRss.push(s.rssMb);
  }
  const ratio = median(subj.map((s, i) => s / base[i]!));
  console.log(
    `| ${name} | ${median(subj).toFixed(0)} ms | ${Math.max(...subjRss).toFixed(1)} MB | ${median(base).toFixed(0)} ms | ${Math.max(...baseRss).toFixed(1)} MB | ${ratio.toFixed(2)}× |`,
  );
}
