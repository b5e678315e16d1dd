// Headless Chromium for rendering tests: the DOM after scripts ran (--dump-dom) and screenshots. Each run
// gets a fresh profile in a temporary folder and no network chatter of its own. Asynchronous, so the
// test process can serve the pages over HTTP meanwhile.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.WITNESS_CHROMIUM ?? '/usr/bin/chromium';

/** Why Chromium tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `headless Chromium not found at ${CHROMIUM} (install Debian's chromium, or set WITNESS_CHROMIUM)`;
}

const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--hide-scrollbars',
  '--virtual-time-budget=5000',
];

function runChromium(args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'witness-chromium-'));
  return new Promise((resolve, reject) => {
    execFile(
      CHROMIUM,
      [...BASE_FLAGS, `--user-data-dir=${profile}`, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', env: { ...process.env, HOME: profile } },
      (error, stdout, stderr) => {
        rmSync(profile, { recursive: true, force: true });
        if (error) reject(new Error(`chromium ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** The serialized DOM of `url` once loaded (scripts run within a 5 s virtual time budget). */
export async function dumpDom(url: string, timeoutMs = 60_000): Promise<string> {
  return (await runChromium(['--dump-dom', url], timeoutMs)).stdout;
}

/** A PNG screenshot of `url` at `width`x`height` into `file`. */
export async function screenshot(url: string, file: string, options: { width?: number; height?: number; timeoutMs?: number } = {}): Promise<void> {
  const { width = 1200, height = 900, timeoutMs = 60_000 } = options;
  await runChromium(['--run-all-compositor-stages-before-draw', `--screenshot=${file}`, `--window-size=${width},${height}`, url], timeoutMs);
  if (!existsSync(file)) throw new Error(`chromium wrote no screenshot to ${file}`);
}
