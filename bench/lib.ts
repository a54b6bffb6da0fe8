/**
 * A tiny benchmark harness: runs each case in rounds, reports the median time per operation and
 * its ratio to a baseline measured in the same run (machines are noisy; ratios travel better).
 */
export interface Result {
  name: string;
  medianNs: number;
  p99Ns: number;
  ops: number;
}

/** Times `fn` over `rounds` rounds of `perRound` calls after a warm-up; returns per-call figures. */
export function measure(
  name: string,
  fn: () => unknown,
  opts: { rounds?: number; perRound?: number; warmup?: number } = {},
): Result {
  const rounds = opts.rounds ?? 40;
  const perRound = opts.perRound ?? 20;
  for (let i = 0; i < (opts.warmup ?? 50); i++) fn();
  const samples: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) if (fn()) sink++;
    samples.push(Number(process.hrtime.bigint() - t0) / perRound);
  }
  if (sink < 0) console.log(sink);
  samples.sort((a, b) => a - b);
  return {
    name,
    medianNs: samples[Math.floor(samples.length / 2)]!,
    p99Ns: samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))]!,
    ops: rounds * perRound,
  };
}

export function fmtNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
}

/** Prints results as a Markdown table with ratios to `baseline`. */
export function report(title: string, baseline: Result, results: readonly Result[]): void {
  console.log(`\n### ${title}\n`);
  console.log('| case | median | ratio to baseline |');
  console.log('|---|---|---|');
  for (const r of [baseline, ...results]) {
    console.log(`| ${r.name} | ${fmtNs(r.medianNs)} | ${(r.medianNs / baseline.medianNs).toFixed(2)}× |`);
  }
}

/**
 * Times `subject` against `baseline` in alternating rounds and returns the median of the per-round
 * ratios: drift in machine load hits both sides of each pair alike.
 */
export function compare(
  baseline: () => unknown,
  subject: () => unknown,
  opts: { rounds?: number; perRound?: number; warmup?: number } = {},
): { ratio: number; baselineNs: number; subjectNs: number } {
  const rounds = opts.rounds ?? 60;
  const perRound = opts.perRound ?? 10;
  for (let i = 0; i < (opts.warmup ?? 50); i++) {
    baseline();
    subject();
  }
  const ratios: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  const time = (fn: () => unknown) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) fn();
    return Number(process.hrtime.bigint() - t0) / perRound;
  };
  for (let r = 0; r < rounds; r++) {
    const x = time(baseline);
    const y = time(subject);
    a.push(x);
    b.push(y);
    ratios.push(y / x);
  }
  const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
  return { ratio: med(ratios), baselineNs: med(a), subjectNs: med(b) };
}
