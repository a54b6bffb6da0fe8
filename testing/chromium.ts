/**
 * The one Chromium launcher of the browser tests (sandbox and server): Debian's /usr/bin/chromium through
 * playwright-core, never a downloaded browser. Imported relatively by tests only (`../../../testing/chromium.js`),
 * so no package depends on it and playwright-core stays a root devDependency.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Whether the system Chromium is installed: for `describe.skipIf(!hasChromium)`. */
export const hasChromium = existsSync(CHROMIUM_PATH);

/** The flags every browser test launches with. */
const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];

/** The flags that also keep Chromium off the network on its own (QUIC, component updates, sync). */
const QUIET_ARGS = ['--disable-quic', '--disable-component-update', '--disable-sync'];

export interface LaunchChromiumOptions {
  /** Add QUIET_ARGS (default true); false launches with BASE_ARGS only. */
  quiet?: boolean;
  /** More flags, after the others. */
  extraArgs?: readonly string[];
}

/** Launches /usr/bin/chromium headless; the caller closes the Browser (in its afterAll). */
export function launchChromium(opts: LaunchChromiumOptions = {}): Promise<Browser> {
  const args = [...BASE_ARGS, ...(opts.quiet === false ? [] : QUIET_ARGS), ...(opts.extraArgs ?? [])];
  return chromium.launch({ executablePath: CHROMIUM_PATH, args, headless: true });
}
