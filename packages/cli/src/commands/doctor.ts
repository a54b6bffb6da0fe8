/**
 * `alirefund doctor`: checks the configuration the way the seeds' checklist does (pwd integration guide §5.2,
 * 通知页面处理异常): partner and key (format, spaces, swapped), notify_url (absolute, no query string, answers a
 * probe with exactly `fail`: no HTML, BOM, whitespace, redirect, cookie), the gateway (reachable, notify_verify
 * answers `false` for an unknown id, the key is accepted) and charset consistency. Every finding has a fix.
 * Reads the same variables as `alirefund serve`; never prints a secret. The checks are in doctor/.
 */
import { parseDuration } from '@alirefund/server';
import { CliError, type Io } from '../io.js';
import { diagnoseConfig } from './doctor/diagnose.js';
import type { Severity } from './doctor/findings.js';

export { diagnoseConfig } from './doctor/diagnose.js';
export type { Finding, Severity } from './doctor/findings.js';

export interface DoctorOptions {
  json?: boolean;
  timeout?: string;
}

const LABEL: Record<Severity, string> = { error: 'ERROR', warning: 'WARN', info: 'INFO', ok: 'OK' };

export async function runDoctor(opts: DoctorOptions, io: Io): Promise<number> {
  const timeoutMs = opts.timeout === undefined ? 5000 : parseDuration(opts.timeout);
  if (timeoutMs === null || timeoutMs <= 0)
    throw new CliError(`--timeout: "${opts.timeout}" is not a duration such as 500ms or 5s`);
  const findings = await diagnoseConfig(io.env, { timeoutMs });
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  if (opts.json) {
    io.stdout(`${JSON.stringify({ ok: errors === 0, errors, warnings, findings }, null, 2)}\n`);
  } else {
    for (const f of findings) {
      io.stdout(`${LABEL[f.severity].padEnd(5)} ${f.code}: ${f.message}\n`);
      if (f.severity === 'error' || f.severity === 'warning') io.stdout(`      fix: ${f.fix}\n`);
    }
    io.stdout(
      `\n${errors === 0 ? 'no errors' : `${errors} error(s)`}, ${warnings} warning(s) (seeds: pwd guide §5.2 checklist)\n`,
    );
  }
  return errors > 0 ? 1 : 0;
}
