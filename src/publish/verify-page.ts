// The verify page of the published site: verify.html and assets/verify.js, written into the site root,
// which is the log folder itself (checkpoint, log.vkey and tile/… sit next to verify.html). In the
// reader's browser the page fetches the log with relative URLs (so the site may live under a sub-path),
// checks the checkpoint signature against the verifier key pinned here at publish time, recomputes the
// tree from every entry, checks every hash tile and the root, and says "Verified: …" or "FAILED: …".
// The logic is src/publish/browser/ (verify.ts, page.ts), bundled into assets/verify-bundle.ts by
// scripts/build-verify-bundle.ts. The page's Content-Security-Policy allows scripts and fetches from
// 'self' only and no inline script: the pinned values travel in a JSON data block.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { SIGNATURE_TYPE_ED25519, parseVerifierKey } from '../tlog/note.js';
import { VERIFY_JS } from './assets/verify-bundle.js';
import { escapeHtml, jsonForHtml } from './html.js';
import { VERIFY_PAGE_CSS, contentSecurityPolicy } from './style.js';

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


/** The HTML of verify.html for a log; throws UsageError for a key or origin the page cannot pin. */
export function renderVerifyPage(options: VerifyPageOptions): string {
  const origin = options.origin;
  const verifierKey = options.verifierKey.trim();
  if (origin === '' || /[\u0000-\u001f]/.test(origin)) {
    throw new UsageError('BAD_ORIGIN', `the log origin ${JSON.stringify(origin)} is empty or has a control character`);
  }
  let key;
  try {
    key = parseVerifierKey(verifierKey);
  } catch (error) {
    throw new UsageError('BAD_VERIFIER_KEY', `cannot pin the verifier key into the verify page: ${(error as Error).message}`, { cause: error });
  }
  if (key.type !== SIGNATURE_TYPE_ED25519 || key.publicKey.length !== 32) {
    throw new UsageError('BAD_VERIFIER_KEY', `the verify page checks Ed25519 log keys (type 0x01) only; ${key.name}'s key is not one`);
  }
  const csp = contentSecurityPolicy(VERIFY_PAGE_CSS, { scripts: true });
  const config = jsonForHtml({ origin, verifierKey });
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
<style>${VERIFY_PAGE_CSS}</style>
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
