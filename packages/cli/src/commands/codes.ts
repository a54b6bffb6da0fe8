/** `alirefund explain CODE` and `alirefund errors`: the error-code catalogue in Chinese and English. */
import { CODES, type CodeInfo, isKnownCode, lookupCode } from '@alirefund/protocol';
import { CliError, type Io } from '../io.js';

const ACTION_TEXT: Record<CodeInfo['action'], string> = {
  none: 'nothing to do',
  'fix-request': 'fix the request and send it again',
  'pause-and-ask': 'PAUSE: do not resubmit; find out what happened first',
  'retry-later': 'retry later',
  'alipay-retries': 'nothing: Alipay retries by itself',
  'resubmit-new-batch': 'fix the cause, then resubmit the failed records in a new batch',
  'contact-alipay': 'contact Alipay support',
};

function describe(c: CodeInfo): string {
  return [
    `${c.code}`,
    `  中文: ${c.zh}`,
    `  English: ${c.en}`,
    `  channel: ${c.channel}${c.services ? ` (${c.services.join(', ')})` : ''}; confidence ${c.confidence}`,
    `  what to do: ${ACTION_TEXT[c.action]}${c.outcomeUnknown ? ' — the outcome is UNKNOWN: the request may have been executed' : ''}`,
    `  ${c.advice.en}`,
    `  ${c.advice.zh}`,
  ].join('\n');
}

export function runExplain(code: string, opts: { json?: boolean }, io: Io): number {
  const wanted = code.trim().toUpperCase();
  if (!isKnownCode(wanted)) {
    const near = CODES.filter((c) => c.code.includes(wanted) || wanted.includes(c.code)).slice(0, 5);
    throw new CliError(
      `unknown code "${code}"${near.length ? `; did you mean ${near.map((c) => c.code).join(', ')}?` : ''} (alirefund errors lists them all)`,
    );
  }
  const info = lookupCode(wanted);
  io.stdout(opts.json ? `${JSON.stringify(info, null, 2)}\n` : `${describe(info)}\n`);
  return 0;
}

export function runErrors(opts: { json?: boolean; channel?: string }, io: Io): number {
  const list = CODES.filter((c) => opts.channel === undefined || c.channel === opts.channel);
  if (opts.channel !== undefined && list.length === 0)
    throw new CliError(`--channel: use sync, async, both or local (got "${opts.channel}")`);
  if (opts.json) {
    io.stdout(`${JSON.stringify(list, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...list.map((c) => c.code.length));
  for (const c of list) io.stdout(`${c.code.padEnd(width)}  ${c.channel.padEnd(5)}  ${c.zh} / ${c.en}\n`);
  io.stdout(`${list.length} codes; alirefund explain CODE for what to do\n`);
  return 0;
}
