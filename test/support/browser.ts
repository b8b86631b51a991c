import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { REPOSITORY_ROOT } from './chart.ts';

// A real headless Chromium (Debian's package, installed by hack/chromium.sh when missing) driven by
// playwright-core. Playwright's own browser download cannot work here, so the binary is given.

/**
 * Flags for a machine with a closed network: without the background-networking ones Chromium keeps
 * trying to reach Google's services at start; no sandbox because tests may run as root.
 */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let chromiumPath: Promise<string> | undefined;

/** Chromium's path: GREENLIGHT_CHROMIUM, /usr/bin/chromium, or Debian's package installed now. */
export function chromiumBinary(): Promise<string> {
  chromiumPath ??= promisify(execFile)('bash', [join(REPOSITORY_ROOT, 'hack', 'chromium.sh')], {
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    ({ stdout }) => {
      const path = /^chromium=(.+)$/m.exec(stdout)?.[1];
      if (!path) throw new Error(`hack/chromium.sh printed no path: ${stdout}`);
      return path;
    },
    (error: unknown) => {
      const stderr = (error as { stderr?: unknown }).stderr;
      throw new Error(`hack/chromium.sh failed: ${typeof stderr === 'string' ? stderr.trim() : ''}`, {
        cause: error,
      });
    },
  );
  return chromiumPath;
}

/** A headless Chromium with a fresh profile (Playwright makes one per launch); close it when done. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: await chromiumBinary(),
    headless: true,
    args: CHROMIUM_FLAGS,
  });
}
