// The verify page of the published site: verify.html and assets/verify.js, written into the site root,
// which is the log folder itself (checkpoint, log.vkey and tile/… sit next to verify.html). In the
// reader's browser the page fetches the log with relative URLs (so the site may live under a sub-path),
// checks the checkpoint signature against the verifier key pinned here at publish time, recomputes the
// tree from every entry, checks every hash tile and the root, and says "Verified: …" or "FAILED: …".
// The logic is src/publish/browser/ (verify.ts, page.ts), bundled into assets/verify-bundle.ts by
// scripts/build-verify-bundle.ts. The page's Content-Security-Policy allows scripts and fetches from
// 'self' only and no inline script: the pinned values travel in a JSON data block.
import { visibleText } from '../visible-text.js';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { SIGNATURE_TYPE_ED25519, parseVerifierKey } from '../tlog/note.js';
import { VERIFY_JS } from './assets/verify-bundle.js';

export { VERIFY_JS };

/** Where the page and its script go, relative to the site root (= the log folder). */
export const VERIFY_PAGE_FILE = 'verify.html';
export const VERIFY_SCRIPT_FILE = 'assets/verify.js';

export interface VerifyPageOptions {
  /** The log's origin line, pinned: the checkpoint must carry it. */
  readonly origin: string;
  /** The log's Ed25519 verifier key (`name+hash+base64`), pinned: the page trusts no other key. */
  readonly verifierKey: string;
}

/** Escapes text for the page (invisible characters shown as their code point label, see html.ts). */
function escapeHtml(text: string): string {
  return visibleText(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a <script> data block: no `<`, `>`, `&` (so no `</script>` or `<!--`), no U+2028/9. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #ffffff; --box: #f6f8fa; --line: #d0d7de;
  --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5; --run: #0969da; --run-bg: #ddf4ff; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117; --box: #161b22; --line: #30363d;
  --ok: #3fb950; --ok-bg: #0f2d1a; --bad: #f85149; --bad-bg: #3b1216; --warn: #d29922; --warn-bg: #2e2409; --run: #58a6ff; --run-bg: #0c2d4f; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 50rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 0.75rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 0.5rem; }
p { margin: 0.5rem 0; }
code { font: 0.9em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
a { color: var(--run); }
.muted, footer { color: var(--muted); font-size: 0.9rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 1rem 0; padding: 0.75rem 1rem;
  background: var(--box); border: 1px solid var(--line); border-radius: 6px; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; min-width: 0; }
.facts code, footer code { word-break: break-all; }
@media (max-width: 36rem) { .facts { grid-template-columns: 1fr; } .facts dd { margin-bottom: 0.5rem; } }
.status { margin: 1.25rem 0; padding: 1rem 1.25rem; border: 2px solid var(--line); border-left-width: 0.5rem; border-radius: 6px; }
#status-text { font-size: 1.2rem; font-weight: 700; margin: 0; overflow-wrap: anywhere; }
.status.running { border-color: var(--run); background: var(--run-bg); }
.status.verified { border-color: var(--ok); background: var(--ok-bg); }
.status.verified #status-text { color: var(--ok); }
.status.failed { border-color: var(--bad); background: var(--bad-bg); }
.status.failed #status-text { color: var(--bad); }
.status.unavailable { border-color: var(--warn); background: var(--warn-bg); }
#history-text { font-weight: 700; margin: 0; overflow-wrap: anywhere; } .status.verified #history-text { color: var(--ok); } .status.failed #history-text { color: var(--bad); }
progress { width: 100%; height: 0.75rem; margin-top: 0.75rem; accent-color: var(--run); }
#progress-text { margin: 0.25rem 0 0; color: var(--muted); font-size: 0.9rem; }
ul { margin: 0.25rem 0; padding-left: 1.25rem; }
li { margin: 0.25rem 0; overflow-wrap: anywhere; }
#problems li { color: var(--bad); }
#warnings li { color: var(--warn); }
footer { margin-top: 2rem; padding-top: 1rem; border-top: 1px solid var(--line); }
`;

/** The HTML of verify.html for a log; throws UsageError for a key or origin the page cannot pin. */
export function renderVerifyPage(options: VerifyPageOptions): string {
  const origin = options.origin;
  const verifierKey = options.verifierKey.trim();
  if (origin === '' || /[\u0000-\u001f]/.test(origin)) {
    throw new UsageError(`the log origin ${JSON.stringify(origin)} is empty or has a control character`, 'BAD_ORIGIN');
  }
  let key;
  try {
    key = parseVerifierKey(verifierKey);
  } catch (error) {
    throw new UsageError(`cannot pin the verifier key into the verify page: ${(error as Error).message}`, 'BAD_VERIFIER_KEY', { cause: error });
  }
  if (key.type !== SIGNATURE_TYPE_ED25519 || key.publicKey.length !== 32) {
    throw new UsageError(`the verify page checks Ed25519 log keys (type 0x01) only; ${key.name}'s key is not one`, 'BAD_VERIFIER_KEY');
  }
  const styleHash = createHash('sha256').update(STYLE, 'utf8').digest('base64');
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "connect-src 'self'",
    `style-src 'sha256-${styleHash}'`,
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const config = scriptSafeJson({ origin, verifierKey });
  const o = escapeHtml(origin);
  const k = escapeHtml(verifierKey);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="referrer" content="no-referrer">
<title>Verify the log ${o}</title>
<style>${STYLE}</style>
<script type="application/json" id="config">${config}</script>
<script src="assets/verify.js" defer></script>
</head>
<body>
<main>
<h1>Verify this log</h1>
<p>This page checks, in your browser, that the transparency log published here is exactly the one its signed checkpoint commits to. It fetches the checkpoint, every entry bundle and every hash tile, recomputes the Merkle tree (RFC 6962), and checks the checkpoint's Ed25519 signature against the key pinned into this page when it was published. Nothing is sent anywhere.</p>
<dl class="facts">
<dt>Log origin</dt><dd><code>${o}</code></dd>
<dt>Pinned key</dt><dd><code>${k}</code></dd>
</dl>
<div id="status" class="status running" role="status" aria-live="polite">
<p id="status-text">Starting the verifier…</p>
<div id="progress-box" hidden><progress id="progress" max="1" value="0"></progress><p id="progress-text"></p></div>
</div>
<noscript><p class="status unavailable">This page needs JavaScript to verify the log in your browser. Without it, use the command line (below).</p></noscript>
<section hidden><h2>Problems</h2><ul id="problems"></ul></section>
<section hidden><h2>Warnings</h2><ul id="warnings"></ul></section>
<section hidden><h2>What was checked</h2><ul id="checks"></ul></section>
<p id="stats" class="muted"></p>
<footer>
<p>The log's files: <a href="checkpoint">checkpoint</a> · <a href="log.vkey">log.vkey</a> · tiles under <code>tile/</code> (<a href="https://c2sp.org/tlog-tiles">C2SP tlog-tiles</a>).</p>
<p>Verify without a browser, history included: <code>witness verify --log &lt;URL of this folder&gt; --vkey '${k}'</code></p>
</footer>
</main>
</body>
</html>
`;
}

/** Writes verify.html and assets/verify.js into `outDir` (the site root, which holds the log's files). */
export async function writeVerifyPage(outDir: string, options: VerifyPageOptions): Promise<void> {
  const html = renderVerifyPage(options);
  await mkdir(path.join(outDir, path.dirname(VERIFY_SCRIPT_FILE)), { recursive: true });
  await writeFile(path.join(outDir, VERIFY_SCRIPT_FILE), VERIFY_JS);
  await writeFile(path.join(outDir, VERIFY_PAGE_FILE), html);
}
