/** What parseServerEnv says beyond what the other checks cover (RSA key files, sign type, seller, numbers…). */
import { parseServerEnv, ServerConfigError } from '@alirefund/server';
import type { DoctorCheck } from './findings.js';
import { SETTINGS_DEFAULTS } from './partner-key.js';

/** The variables the doctor's own checks cover, with findings of their own. */
const COVERED: ReadonlySet<string> = new Set([
  'ALIPAY_PARTNER',
  'ALIPAY_KEY',
  'ALIPAY_INPUT_CHARSET',
  'ALIREFUND_PUBLIC_URL',
]);

export const serverConfig: DoctorCheck = {
  run(ctx, found) {
    const note = found.note('config');
    try {
      parseServerEnv(ctx.env, SETTINGS_DEFAULTS);
    } catch (e) {
      if (!(e instanceof ServerConfigError)) throw e;
      for (const p of e.problems) {
        if (COVERED.has(p.variable)) continue;
        note(
          `CONFIG_${p.variable}`,
          'error',
          `${p.variable} ${p.message}`,
          `fix ${p.variable} as the message says (alirefund serve refuses to start otherwise)`,
        );
      }
    }
  },
};
