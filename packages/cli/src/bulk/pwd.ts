/** pwd mode: each batch's signed form for the operator's browser (served with --serve, else written next to the file). */
import { writeFileSync } from 'node:fs';
import { type AlirefundServer, ServiceError } from '@alirefund/server';
import type { Progress } from './progress.js';

export interface PwdTarget {
  server: AlirefundServer;
  actor: string;
  progress: Progress;
  /** The forms served by --serve at `formUrl` + batch_no. */
  forms: Map<string, string>;
  /** Without --serve, pwd forms are written next to the input file (`<file>.<batch_no>.pwd.html`). */
  formDir: string | null;
  formUrl: string | null;
}

/**
 * Prepares the batch's form and tells the operator where to open it; adds the batch_no to `rendered`. Does
 * nothing while the partner has another batch in flight.
 */
export async function presentPwd(
  ctx: PwdTarget,
  batchNo: string,
  label: string,
  rendered: Set<string>,
): Promise<void> {
  let form: Awaited<ReturnType<AlirefundServer['services']['submission']['preparePwd']>>;
  try {
    form = await ctx.server.services.submission.preparePwd(batchNo, ctx.actor, { lang: 'en' });
  } catch (e) {
    if (e instanceof ServiceError && e.code === 'PARTNER_BUSY') return; // wait for the partner's batch in flight
    throw e;
  }
  rendered.add(form.batchNo);
  ctx.forms.set(form.batchNo, form.html);
  if (ctx.formUrl !== null) {
    ctx.progress.line(
      `${label}: open ${ctx.formUrl}${form.batchNo} in a browser and confirm on Alipay's page with the payment password`,
    );
  } else {
    const path = `${ctx.formDir}.${form.batchNo}.pwd.html`;
    writeFileSync(path, form.html);
    ctx.progress.line(
      `${label}: open ${path} in a browser and confirm on Alipay's page with the payment password`,
    );
  }
}
