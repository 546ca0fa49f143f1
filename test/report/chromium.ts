/** Headless Chromium (Debian's `chromium`) for checking that index.html really draws. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    for (const dir of (process.env.PATH ?? '').split(':')) {
      const p = path.join(dir, name);
      if (dir && fs.existsSync(p)) return p;
    }
  }
  return null;
}

/** In CI the browser must be there; locally a missing one skips with a reason. */
export function chromiumOrSkipReason(): { bin: string | null; reason: string } {
  const bin = findChromium();
  if (bin) return { bin, reason: '' };
  if (process.env.CI) throw new Error('chromium is not installed but CI is set: the HTML report must be checked in CI (apt-get install -y chromium).');
  return { bin: null, reason: 'chromium is not installed (apt-get install -y chromium); HTML rendering test skipped' };
}

function baseArgs(): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    `--user-data-dir=${fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-chromium-'))}`,
  ];
}

/** The DOM after scripts ran. */
export function dumpDom(bin: string, file: string): string {
  return execFileSync(bin, [...baseArgs(), '--virtual-time-budget=5000', '--dump-dom', `file://${file}`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 90000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function screenshot(bin: string, file: string, png: string, size = '1200,900'): void {
  execFileSync(bin, [...baseArgs(), `--screenshot=${png}`, `--window-size=${size}`, '--hide-scrollbars', `file://${file}`], {
    timeout: 90000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
