// Benchmark: what the build sandbox (src/rebuild/sandbox.ts) costs, measured in one run against the same
// work without it. Goal (issue): under 1% of a make.bash.
//
//   (1) set-up and tear-down: `bwrap <every namespace, the build's mounts> -- /bin/true` against a plain
//       spawn of /bin/true (as a fresh uid when root, as builds run), N times each, interleaved;
//   (2) a compile inside against outside: `go build -a -o <tmp> cmd/gofmt` with the bootstrap toolchain
//       (WITNESS_BOOTSTRAP, default /usr/lib/go-1.19) and an empty GOCACHE in a fresh work folder, in the
//       sandbox and bare, alternating, WITNESS_BENCH_SANDBOX_RUNS pairs (default 3): the cost inside a
//       build (mounts, namespaces) that (1) does not see;
//   (3) the read-back: copying a distpack folder out of the build's tree without following links
//       (src/infra/safe-open.ts copyFilesOut) against a plain copy (cp), on WITNESS_BENCH_DISTPACK (a pkg/distpack
//       folder of a real build, ~160 MB), if given.
// Each is then put against a make.bash of MAKE_SECONDS (WITNESS_BENCH_MAKE_SECONDS, default 300 s: a
// go1.21 linux/amd64 make.bash -distpack on 2 cores here).
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { copyFilesOut } from '../../src/infra/safe-open.js';
import { allocateBuildUser, bwrapArguments, prepareSandbox, reapBuildUser, type BuildUser } from '../../src/rebuild/sandbox.js';
import { median } from './stats.js';

function run(file: string, args: readonly string[], options: { user?: BuildUser; env?: Record<string, string>; cwd?: string } = {}): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: options.env ?? {},
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.user?.uid !== undefined ? { uid: options.user.uid, gid: options.user.gid } : {}),
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${file} ${args.slice(-4).join(' ')}: exit ${code}: ${stderr.slice(0, 500)}`))));
  });
}

const percent = (part: number, whole: number) => `${((part / whole) * 100).toFixed(3)}%`;

export async function benchSandbox(): Promise<void> {
  const sandbox = prepareSandbox({ noSandbox: false });
  const makeSeconds = Number(process.env.WITNESS_BENCH_MAKE_SECONDS ?? '300');
  const bootstrap = process.env.WITNESS_BOOTSTRAP ?? '/usr/lib/go-1.19';
  const asRoot = process.getuid?.() === 0;
  console.log(`sandbox: ${sandbox.description}; against a make.bash of ${makeSeconds} s (WITNESS_BENCH_MAKE_SECONDS)`);

  // (1) set-up and tear-down.
  const user = asRoot ? allocateBuildUser() : undefined;
  const bare: number[] = [];
  const boxed: number[] = [];
  const args = [...bwrapArguments({ writable: [], readOnly: [bootstrap], cwd: '/' }), '--', '/bin/true'];
  for (let i = 0; i < 40; i++) {
    bare.push(await run('/bin/true', [], user ? { user } : {}));
    boxed.push(await run(sandbox.bwrap!, args, user ? { user } : {}));
  }
  if (user) await reapBuildUser(user);
  const setup = median(boxed) - median(bare);
  console.log(`  set-up + tear-down: bwrap /bin/true ${median(boxed).toFixed(2)} ms vs /bin/true ${median(bare).toFixed(2)} ms (median of 40): +${setup.toFixed(2)} ms = ${percent(setup / 1000, makeSeconds)} of a make.bash`);

  // (2) a compile inside and outside.
  if (!existsSync(path.join(bootstrap, 'bin', 'go'))) {
    console.log(`  compile: skipped (no toolchain at ${bootstrap}; set WITNESS_BOOTSTRAP)`);
  } else {
    const pairs = Math.max(1, Number(process.env.WITNESS_BENCH_SANDBOX_RUNS ?? '3') || 3);
    const inside: number[] = [];
    const outside: number[] = [];
    for (let i = 0; i < pairs; i++) {
      for (const side of i % 2 === 0 ? ['bare', 'sandbox'] : ['sandbox', 'bare']) {
        const work = mkdtempSync(path.join(tmpdir(), 'witness-bench-sandbox-'));
        const runner = asRoot ? allocateBuildUser() : undefined;
        mkdirSync(path.join(work, 'cache'));
        mkdirSync(path.join(work, 'home'));
        if (runner) for (const dir of ['', 'cache', 'home']) chownSync(path.join(work, dir), runner.uid!, runner.gid!);
        const env = { HOME: path.join(work, 'home'), GOCACHE: path.join(work, 'cache'), GOROOT: bootstrap, PATH: '/usr/bin:/bin', GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
        const command = [path.join(bootstrap, 'bin', 'go'), 'build', '-a', '-o', path.join(work, 'gofmt'), 'cmd/gofmt'];
        try {
          if (side === 'bare') outside.push(await run(command[0]!, command.slice(1), { env, cwd: work, ...(runner ? { user: runner } : {}) }));
          else inside.push(await run(sandbox.bwrap!, [...bwrapArguments({ writable: [work], readOnly: [bootstrap], cwd: work, env }), '--', ...command], runner ? { user: runner } : {}));
        } finally {
          if (runner) await reapBuildUser(runner);
          rmSync(work, { recursive: true, force: true });
        }
      }
    }
    const cost = (median(inside) - median(outside)) / median(outside);
    console.log(
      `  compile (go build -a cmd/gofmt, ${pairs} pairs, alternating): sandbox ${(median(inside) / 1000).toFixed(2)} s vs bare ${(median(outside) / 1000).toFixed(2)} s (medians): ${cost >= 0 ? '+' : ''}${(cost * 100).toFixed(2)}%` +
        ` [${inside.map((ms) => (ms / 1000).toFixed(2)).join(', ')}] vs [${outside.map((ms) => (ms / 1000).toFixed(2)).join(', ')}]`,
    );
  }

  // (3) the read-back of the distpack files.
  const distpack = process.env.WITNESS_BENCH_DISTPACK;
  if (!distpack) {
    console.log('  read-back: skipped (set WITNESS_BENCH_DISTPACK to a real pkg/distpack folder)');
  } else {
    const root = path.dirname(path.dirname(distpack));
    const relative = path.relative(root, distpack);
    const ours: number[] = [];
    const cp: number[] = [];
    for (let i = 0; i < 3; i++) {
      const a = path.join(mkdtempSync(path.join(tmpdir(), 'witness-bench-copy-')), 'out');
      let started = performance.now();
      await copyFilesOut(root, relative, a);
      ours.push(performance.now() - started);
      rmSync(path.dirname(a), { recursive: true, force: true });
      const b = path.join(mkdtempSync(path.join(tmpdir(), 'witness-bench-copy-')), 'out');
      started = performance.now();
      await run('/bin/cp', ['-r', distpack, b], { env: { PATH: '/usr/bin:/bin' } });
      cp.push(performance.now() - started);
      rmSync(path.dirname(b), { recursive: true, force: true });
    }
    console.log(`  read-back (copyFilesOut, fsync'd): ${(median(ours) / 1000).toFixed(2)} s vs cp -r ${(median(cp) / 1000).toFixed(2)} s (medians of 3) = ${percent(median(ours) / 1000, makeSeconds)} of a make.bash`);
  }
}
