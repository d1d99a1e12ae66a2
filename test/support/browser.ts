import { existsSync } from 'node:fs';
import { Browser, chromium } from 'playwright-core';

/** The dashboard tests drive Debian's Chromium, never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Fails at once, with what to do, when Chromium is missing (before a test app is booted for nothing). */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium); CI installs it.`);
}

/** Headless Chromium with nothing running in the background (no updates, sync or network probes). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
