// The git history part of verify.html: a second status box under the log's, filled by history.ts, and
// its checks and warnings added to the page's lists. page.ts calls showGitHistory once the log's own
// verdict is shown.
import { type HistoryResult, verifyGitHistory } from './history.js';
import type { StaticFetchFile } from './static-git-fs.js';

function appendItems(id: string, items: readonly string[]): void {
  const list = document.getElementById(id);
  if (!list || items.length === 0) return;
  for (const text of items) {
    const item = document.createElement('li');
    item.textContent = text;
    list.append(item);
  }
  const section = list.closest('section');
  if (section) section.hidden = false;
}

const STATE: Record<HistoryResult['status'], string> = { verified: 'verified', failed: 'failed', absent: 'unavailable' };

/** Checks the published git history and shows the verdict in #history (made here, after #status). */
export async function showGitHistory(fetchFile: StaticFetchFile, config: { readonly origin: string; readonly verifierKey: string }): Promise<HistoryResult> {
  const box = document.createElement('div');
  box.id = 'history';
  box.className = 'status running';
  box.setAttribute('role', 'status');
  const text = document.createElement('p');
  text.id = 'history-text';
  text.textContent = 'Checking the git history…';
  box.append(text);
  document.getElementById('status')?.after(box);
  let latest: string | undefined;
  const result = await verifyGitHistory(fetchFile, {
    ...config,
    onProgress: (message) => {
      if (latest === undefined) {
        requestAnimationFrame(() => {
          if (latest !== undefined) text.textContent = latest;
          latest = undefined;
        });
      }
      latest = message;
    },
  });
  latest = undefined;
  box.className = `status ${STATE[result.status]}`;
  text.textContent = result.headline;
  appendItems('checks', result.checks);
  appendItems('warnings', result.warnings);
  if (result.status === 'verified' || result.status === 'failed') {
    const stats = document.getElementById('stats');
    if (stats) {
      const kib = (result.bytes / 1024).toFixed(result.bytes < 10240 ? 1 : 0);
      stats.textContent += ` Git history: ${result.files} files (${kib} KiB) checked in ${(result.milliseconds / 1000).toFixed(2)} s.`;
    }
  }
  return result;
}
