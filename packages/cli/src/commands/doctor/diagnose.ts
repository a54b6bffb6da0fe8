/**
 * The doctor's checks, in the order they run and report (the way the seeds' checklist goes, pwd integration
 * guide §5.2, 通知页面处理异常). Every finding has a fix; no secret is ever part of one.
 */
import { charsetSetting } from './charset.js';
import { serverConfig } from './config.js';
import { type DoctorCheck, type DoctorContext, type Finding, Findings } from './findings.js';
import { gateway } from './gateway.js';
import { notifyUrl } from './notify-url.js';
import { keyAccepted, partnerAndKey } from './partner-key.js';

const CHECKS: readonly DoctorCheck[] = [
  partnerAndKey,
  charsetSetting,
  serverConfig,
  notifyUrl,
  gateway,
  keyAccepted,
];

/** Runs every check against `env`. */
export async function diagnoseConfig(
  env: Record<string, string | undefined>,
  opts: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<Finding[]> {
  const ctx: DoctorContext = { env, timeoutMs: opts.timeoutMs ?? 5000, fetch: opts.fetch ?? fetch };
  const found = new Findings();
  for (const check of CHECKS) {
    if (check.when?.(found) ?? true) await check.run(ctx, found);
  }
  return found.list;
}
