// The example GitHub Actions workflow (.github/workflows/witness.yml) and the shell scripts around it,
// checked offline: actionlint (workflow syntax, expressions, job outputs and needs, action inputs, and
// shellcheck on every `run:` block) and shellcheck on the scripts themselves. .ci/run installs both
// (shellcheck from Debian, actionlint with `go install`); without actionlint the workflow test is skipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/fixtures.js';
import { SUMDB_VERIFIER_KEY } from '../src/sumdb/client.js';
import { ScanState } from '../src/toolchains/state.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORKFLOW = path.join(ROOT, '.github', 'workflows', 'witness.yml');
const SCRIPTS = [path.join(ROOT, '.ci', 'run'), path.join(ROOT, '.github', 'scripts', 'bootstrap-key.sh')];

function which(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

const actionlint = which('actionlint');
const shellcheck = which('shellcheck');
const NO_ACTIONLINT = 'actionlint not on PATH: `GOBIN=/usr/local/bin go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12` (.ci/run does)';
const NO_SHELLCHECK = 'shellcheck not on PATH: apt-get install shellcheck (.ci/run does); without it actionlint silently skips the run: blocks';

function lint(file: string): { code: number | null; output: string } {
  // -pyflakes= : no Python here. -shellcheck names the binary so a missing one cannot pass unnoticed.
  const result = spawnSync(actionlint!, ['-no-color', '-shellcheck', shellcheck!, '-pyflakes=', file], { encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

test('actionlint (with shellcheck on every run: block) passes the workflow', (t) => {
  if (!actionlint) {
    t.skip(NO_ACTIONLINT);
    return;
  }
  assert.ok(shellcheck, NO_SHELLCHECK);
  t.diagnostic(spawnSync(actionlint, ['-version'], { encoding: 'utf8' }).stdout.split('\n')[0]!);
  const { code, output } = lint(WORKFLOW);
  assert.equal(code, 0, output);
});

test('the lint can fail: a shell mistake in a run: block and a reference to a job output that does not exist', (t) => {
  if (!actionlint) {
    t.skip(NO_ACTIONLINT);
    return;
  }
  assert.ok(shellcheck, NO_SHELLCHECK);
  const text = readFileSync(WORKFLOW, 'utf8');
  const dir = tempDir('witness-workflow-');
  const shell = path.join(dir, 'shell.yml');
  writeFileSync(shell, text.replace('echo "more=$more"', 'echo more=$more; cd $RUNNER_TEMP'));
  const broken = lint(shell);
  assert.notEqual(broken.code, 0);
  assert.match(broken.output, /SC2086/);
  const output = path.join(dir, 'output.yml');
  writeFileSync(output, text.replace('fromJSON(needs.plan.outputs.chains)', 'fromJSON(needs.plan.outputs.chain)'));
  assert.match(lint(output).output, /property "chain" is not defined/);
});

test('shellcheck passes .ci/run and the workflow\'s scripts', () => {
  assert.ok(shellcheck, NO_SHELLCHECK);
  const result = spawnSync(shellcheck, ['--severity=style', ...SCRIPTS], { encoding: 'utf8' });
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
});

test('the workflow builds per release with plan --per-job/--limit, caches bootstrap chains, and keeps no cosigner state in a cache', () => {
  const text = readFileSync(WORKFLOW, 'utf8');
  assert.match(text, /witness plan --json --per-job "\$TARGETS_PER_JOB" --limit "\$\(\(MAX_JOBS \+ 1\)\)"/);
  assert.match(text, /MAX_JOBS: 256/);
  assert.match(text, /gh workflow run/, 'starts again for the builds beyond one matrix');
  assert.match(text, /\.github\/scripts\/bootstrap-key\.sh/);
  assert.match(text, /path: bootstrap\n\s+key: \$\{\{ matrix\.bootstrap \}\}/, 'build jobs restore their release line\'s chain');
  assert.match(text, /witness sumdb cosign --restore-state-from-log/);
  // The scan continues from the log's signed position (not from --from every run); only its module index
  // is cached, and that cache is unpacked only in a job without secrets (scan-index), never in ingest.
  assert.match(text, /witness sumdb scan --from 18938000 --restore-state-from-log/);
  const scanIndex = text.slice(text.indexOf('\n  scan-index:\n'), text.indexOf('\n  ingest:\n'));
  assert.match(scanIndex, /actions\/cache\/restore@v4\n\s+with:\n\s+path: \$\{\{ runner\.temp \}\}\/scan-index\/modules\.idx\n\s+key: sumdb-scan-index-/);
  assert.doesNotMatch(scanIndex, /secrets\./);
  const ingestJob = text.slice(text.indexOf('\n  ingest:\n'));
  assert.doesNotMatch(ingestJob, /actions\/cache\/restore@v4\n\s+(if: [^\n]+\n\s+)?with:\n\s+path: [^\n]*scan-index/, 'no cache of the scan is unpacked where the keys are');
  assert.doesNotMatch(text, /scan\.json/, 'the scan position itself must not come from a cache');
  // The folder the index is put into is the scan state's (sha256 of the database key the scan uses).
  assert.ok(text.includes(`SUMDB_VKEY: ${SUMDB_VERIFIER_KEY}\n`), 'SUMDB_VKEY is the scan\'s default database key');
  assert.match(text, /sumdb-scan\/\$\(printf %s "\$SUMDB_VKEY" \| sha256sum \| cut -d' ' -f1\)/);
  assert.equal(path.basename(ScanState.folder('/x', SUMDB_VERIFIER_KEY)), createHash('sha256').update(SUMDB_VERIFIER_KEY).digest('hex'));
  // Secrets only in the ingest job.
  const ingest = text.indexOf('\n  ingest:\n');
  assert.ok(ingest > 0);
  assert.doesNotMatch(text.slice(0, ingest), /secrets\./);
});
