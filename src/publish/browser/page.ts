// Entry point of assets/verify.js, the script of verify.html (src/publish/verify-page.ts writes the
// page). Reads the pinned configuration from <script type="application/json" id="config">, fetches the
// log that sits next to the page (relative URLs, so the site may live under a sub-path) and shows the
// verdict of verify.ts. The page's CSP allows scripts and fetches from 'self' only.
import { type FetchResult, type Progress, type VerifyResult, verifyLog } from './verify.js';
import { showGitHistory } from './history-page.js';

interface PageConfig {
  readonly origin: string;
  readonly verifierKey: string;
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`verify.html lacks #${id}`);
  return found as T;
}

function setStatus(state: 'running' | 'verified' | 'failed' | 'unavailable', text: string): void {
  const status = element('status');
  status.className = `status ${state}`;
  element('status-text').textContent = text;
}

function fillList(id: string, items: readonly string[]): void {
  const list = element(id);
  list.replaceChildren(
    ...items.map((text) => {
      const item = document.createElement('li');
      item.textContent = text;
      return item;
    }),
  );
  const section = list.closest('section');
  if (section) section.hidden = items.length === 0;
}

function showProgress(progress: Progress): void {
  element<HTMLProgressElement>('progress').value = progress.fraction;
  element('progress-text').textContent = progress.message;
}

function showResult(result: VerifyResult): void {
  setStatus(result.status, result.headline);
  element('progress-box').hidden = true;
  fillList('problems', result.problems.slice(1).map((p) => p.message));
  fillList('warnings', result.warnings);
  fillList('checks', result.checks);
  if (result.status !== 'unavailable') {
    const kib = (result.bytes / 1024).toFixed(result.bytes < 10240 ? 1 : 0);
    element('stats').textContent = `Fetched ${result.files} files (${kib} KiB) and checked them in ${(result.milliseconds / 1000).toFixed(2)} s, in this browser.`;
  }
}

async function fetchRelative(path: string): Promise<FetchResult> {
  const url = new URL(path, window.location.href);
  // The checkpoint and key change as the log grows: revalidate them. Tile paths are immutable.
  const cache: RequestCache = path.startsWith('tile/') ? 'default' : 'no-cache';
  let response: Response;
  try {
    response = await fetch(url, { cache, credentials: 'omit', redirect: 'follow' });
  } catch (error) {
    return { ok: false, error: `network error (${error instanceof Error ? error.message : String(error)})` };
  }
  if (!response.ok) return { ok: false, status: response.status };
  return { ok: true, bytes: new Uint8Array(await response.arrayBuffer()) };
}

async function main(): Promise<void> {
  let config: PageConfig;
  try {
    config = JSON.parse(element('config').textContent ?? '') as PageConfig;
    if (typeof config.verifierKey !== 'string' || typeof config.origin !== 'string') throw new Error('missing fields');
  } catch (error) {
    setStatus('failed', `FAILED: this page's pinned configuration is unreadable (${error instanceof Error ? error.message : String(error)})`);
    return;
  }
  if (window.location.protocol === 'file:') {
    setStatus(
      'unavailable',
      'Cannot verify from a file: open this page over http(s) — e.g. GitHub Pages — to verify; file:// forbids fetching the log.',
    );
    element('progress-box').hidden = true;
    return;
  }
  setStatus('running', 'Verifying…');
  element('progress-box').hidden = false;
  // Progress arrives per file and while hashing; draw only the latest state, once per frame.
  let latest: Progress | undefined;
  const result = await verifyLog(fetchRelative, {
    verifierKey: config.verifierKey,
    origin: config.origin,
    onProgress: (progress) => {
      if (latest === undefined) {
        requestAnimationFrame(() => {
          if (latest) showProgress(latest);
          latest = undefined;
        });
      }
      latest = progress;
    },
  });
  latest = undefined;
  showResult(result);
  await showGitHistory(fetchRelative, config); // the log's git history, when the site publishes it
}

function start(): void {
  main().catch((error: unknown) => {
    setStatus('failed', `FAILED: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
