// The build sandbox (src/rebuild/sandbox.ts, src/infra/safe-open.ts) against hostile builds: a make.bash that leaves
// a process behind (setsid), swaps folders for links while the witness walks the tree (rm, chown, with
// renameat2 RENAME_EXCHANGE), rewrites pkg/distpack after it finished, reads another build's tree, the
// key, the log, /proc/1/environ, or the network. Each attack must fail, root or not (the fresh-uid
// defences only exist as root: those tests say so when skipped).
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, chownSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { copyFilesOut, openBeneath, openFolder } from '../src/infra/safe-open.js';
import { hashDistpack } from '../src/rebuild/distpack.js';
import { assertBuildUserMayEnter, bwrapArguments, prepareSandbox, processesOf, reapBuildUser, allocateBuildUser } from '../src/rebuild/sandbox.js';
import { WitnessError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';
import { spawn } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { tempDir } from './helpers/fixtures.js';
import { makeGoRepo, runningAsRoot, worldTempDir } from './helpers/go-fixture.js';
import { buildArgs, buildLogText, buildRecords, builtResult, cleanEnv, expectCode, newScenario, parseBuilds, witness, type Scenario } from './helpers/build-scenario.js';

const AS_ROOT = runningAsRoot();
const ROOT_ONLY = AS_ROOT ? false : 'only as root: the witness gives each build a fresh uid only when it can';

/** pids whose command line or name holds `marker`. */
function processesNamed(marker: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      const comm = readFileSync(`/proc/${pid}/comm`, 'latin1');
      // A zombie (exited, not yet collected by init) is no process left: it can run nothing.
      const status = readFileSync(`/proc/${pid}/status`, 'latin1');
      if (/\nState:\s+[ZX]/.test(status) && /\nThreads:\s+1\n/.test(status)) continue;
      if (cmdline.includes(marker) || comm.includes(marker.slice(0, 15))) found.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return found;
}

describe('the sandbox itself', () => {
  test('bwrap gets every namespace, a read-only /usr, the work tree read-write, the bootstrap read-only, a clean environment', () => {
    const args = bwrapArguments({ writable: ['/tmp/w'], readOnly: ['/usr/lib/go-1.19', '/opt/boot'], cwd: '/tmp/w/go/src', env: { HOME: '/tmp/w/home' } });
    const text = args.join(' ');
    for (const flag of ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv', '--ro-bind /usr /usr', '--proc /proc', '--dev /dev', '--tmpfs /tmp', '--bind /tmp/w /tmp/w', '--ro-bind /opt/boot /opt/boot', '--chdir /tmp/w/go/src', '--setenv HOME /tmp/w/home']) {
      assert.ok(text.includes(flag), `${flag} in ${text}`);
    }
    assert.ok(!text.includes('--ro-bind /usr/lib/go-1.19'), 'a bootstrap under /usr needs no bind of its own');
    assert.ok(!text.includes('--share-net'));
    // The work tree is bound after the tmpfs on /tmp, or the tmpfs would hide it.
    assert.ok(args.indexOf('--bind') > args.indexOf('--tmpfs'));
  });

  test('bubblewrap missing or unable to make namespaces: SANDBOX_UNAVAILABLE (exit 2) with the reason; --no-sandbox says what it is', () => {
    assert.throws(() => prepareSandbox({ noSandbox: false, bwrap: ['/nonexistent/bwrap'] }), (error: unknown) => error instanceof WitnessError && error.code === 'SANDBOX_UNAVAILABLE' && exitCodeOf(error) === 2 && /not installed/.test(error.message));
    const failing = path.join(tempDir(), 'bwrap');
    writeFileSync(failing, '#!/bin/sh\necho "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces" >&2\nexit 1\n', { mode: 0o755 });
    chmodSync(path.dirname(failing), 0o755);
    assert.throws(() => prepareSandbox({ noSandbox: false, bwrap: [failing] }), (error: unknown) => error instanceof WitnessError && error.code === 'SANDBOX_UNAVAILABLE' && /No permissions to creating new namespace/.test(error.message) && /--no-sandbox/.test(error.message));
    const none = prepareSandbox({ noSandbox: true });
    assert.equal(none.kind, 'none');
    assert.match(none.description, /^none \(--no-sandbox\)/);
    const real = prepareSandbox({ noSandbox: false });
    assert.equal(real.kind, 'bubblewrap');
    assert.match(real.description, /^bubblewrap [0-9.]+: user mount pid net ipc uts cgroup namespaces/);
  });

  test('reapBuildUser kills every process of a fresh uid, however detached', { skip: ROOT_ONLY, timeout: 30_000 }, async () => {
    const user = allocateBuildUser();
    // A new session, then a background sleep whose shell exits: an orphan in its own session, alive.
    // (This test once ran `exec -a NAME sleep`, which dash refuses: it passed by seeing the shell's zombie.)
    const child = spawn('/usr/bin/setsid', ['/bin/sh', '-c', '/bin/sleep 60 & exit 0'], { uid: user.uid, gid: user.gid, detached: true, stdio: 'ignore', env: {} });
    child.unref();
    const live = () => processesOf(user.uid!).filter((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep');
    const deadline = Date.now() + 5000;
    while (live().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(live().length, 1, 'the detached sleep runs');
    await reapBuildUser(user);
    assert.deepEqual(processesOf(user.uid!), []);
  });

  test('a zombie of the build user is not a live process: reapBuildUser does not wait for init to collect it', { skip: ROOT_ONLY, timeout: 30_000 }, async () => {
    const user = allocateBuildUser();
    // sh starts `true` in the background, then becomes `sleep`, which never collects it: a zombie child
    // of a live process, for as long as the sleep runs.
    const child = spawn('/bin/sh', ['-c', '/bin/true & exec /bin/sleep 60'], { uid: user.uid, gid: user.gid, detached: true, stdio: 'ignore', env: {} });
    child.unref();
    const zombies = () =>
      readdirSync('/proc')
        .filter((name) => /^[0-9]+$/.test(name))
        .filter((pid) => {
          try {
            const status = readFileSync(`/proc/${pid}/status`, 'utf8');
            return /\nState:\s+Z/.test(status) && new RegExp(`\\nUid:\\s+${user.uid}\\s`).test(status);
          } catch {
            return false;
          }
        })
        .map(Number);
    const deadline = Date.now() + 5000;
    while (zombies().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const [zombie] = zombies();
    assert.ok(zombie !== undefined, 'the zombie exists');
    assert.deepEqual(processesOf(user.uid!), [child.pid], 'the sleep, not its zombie child');
    await reapBuildUser(user);
    assert.deepEqual(processesOf(user.uid!), []);
  });

  test('files are read back beneath the work tree without following any link; only regular files are copied', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'go/pkg/distpack'), { recursive: true });
    writeFileSync(path.join(root, 'go/pkg/distpack/a.zip'), 'zip');
    const secret = path.join(tempDir(), 'secret');
    writeFileSync(secret, 'SECRET');
    const copy = path.join(tempDir(), 'copy');
    assert.deepEqual(await copyFilesOut(root, 'go/pkg/distpack', copy), ['a.zip']);
    assert.equal(readFileSync(path.join(copy, 'a.zip'), 'utf8'), 'zip');
    // A link as a file, as a folder on the way, or a FIFO: refused, nothing read through it.
    symlinkSync(secret, path.join(root, 'go/pkg/distpack/b.zip'));
    await assert.rejects(copyFilesOut(root, 'go/pkg/distpack', path.join(tempDir(), 'c')), (error: unknown) => error instanceof WitnessError && error.code === 'UNSAFE_BUILD_OUTPUT' && /b\.zip/.test(error.message));
    const other = tempDir();
    mkdirSync(path.join(other, 'go/pkg'), { recursive: true });
    symlinkSync(path.dirname(secret), path.join(other, 'go/pkg/distpack'));
    await assert.rejects(copyFilesOut(other, 'go/pkg/distpack', path.join(tempDir(), 'c')), (error: unknown) => error instanceof WitnessError && error.code === 'UNSAFE_BUILD_OUTPUT' && /symbolic link/.test(error.message));
    const top = await openFolder(root);
    try {
      await assert.rejects(openBeneath(top, root, 'go/pkg/distpack/b.zip', 'file'), /symbolic link/);
      await assert.rejects(openBeneath(top, root, 'go/../go/pkg', 'folder'), /not a plain relative path/);
      const handle = await openBeneath(top, root, 'go/pkg/distpack/a.zip', 'file');
      await handle.close();
    } finally {
      await top.close();
    }
  });
});

describe('assertBuildUserMayEnter: the fresh build user must reach the folders its sandbox uses', () => {
  const refused = async (dir: string, missingOk: boolean, pattern: RegExp) =>
    assert.rejects(assertBuildUserMayEnter(dir, '--out', missingOk), (error: unknown) => {
      assert.ok(error instanceof WitnessError && error.code === 'WORK_NOT_REACHABLE' && exitCodeOf(error) === 2, String(error));
      assert.match((error as Error).message, pattern);
      return true;
    });

  test('a parent without o+x is refused; an open path passes; a missing one only with missingOk', async () => {
    const open = worldTempDir('witness-reach-');
    const closed = path.join(open, 'closed');
    mkdirSync(path.join(closed, 'inside'), { recursive: true });
    chmodSync(closed, 0o700);
    await assertBuildUserMayEnter(open, '--out');
    await refused(path.join(closed, 'inside'), false, /closed does not let others enter it \(mode 700\); choose a --out folder whose parents have o\+x$/);
    await assert.rejects(assertBuildUserMayEnter(path.join(open, 'not', 'yet'), '--out'), /does not exist/);
    await assertBuildUserMayEnter(path.join(open, 'not', 'yet'), '--out', true);
    await refused(path.join(closed, 'not', 'yet'), true, /closed does not let others enter it/);
  });

  test('a symbolic link is followed to what the sandbox would open: its real parents are checked', async () => {
    const open = worldTempDir('witness-reach-');
    const closed = path.join(open, 'closed');
    mkdirSync(path.join(closed, 'target'), { recursive: true });
    chmodSync(closed, 0o700);
    const link = path.join(open, 'link');
    symlinkSync(path.join(closed, 'target'), link);
    await refused(path.join(link, 'out'), true, new RegExp(`really ${closed.replace(/[/.]/g, '\\$&')}/target/out\\): .*closed does not let others enter it`));
  });

  test('missing folders under a umask that would close them to others are refused before they are made', async () => {
    const open = worldTempDir('witness-reach-');
    const old = process.umask(0o077);
    try {
      await refused(path.join(open, 'new', 'out'), true, /does not exist, and this process's umask \(077\) would make it closed to the build's own user; create it with o\+x first/);
    } finally {
      process.umask(old);
    }
    assert.equal(existsSync(path.join(open, 'new')), false);
    await assertBuildUserMayEnter(open, '--out', true); // an existing folder: the umask does not matter
  });
});

describe('hostile builds, end to end through witness build', { concurrency: 1 }, () => {
  let s: Scenario;
  let world: string;
  let listener: Server;
  let port = 0;
  const connections: string[] = [];
  const marker = `m${createHash('sha256').update(`${process.pid}${Math.random()}`).digest('hex').slice(0, 12)}`;
  const DECOY = `decoy-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 24)}`;
  let otherBuild: string;
  let keyText: string;

  before(async () => {
    listener = createServer((socket) => {
      connections.push(String(socket.remoteAddress));
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as { port: number }).port;
    world = worldTempDir('witness-sandbox-');
    // Another build's tree: a folder of another (build) user, readable by others, holding a secret.
    otherBuild = path.join(world, 'witness-build-go1.21.9.linux-amd64-other');
    mkdirSync(path.join(otherBuild, 'go'), { recursive: true });
    writeFileSync(path.join(otherBuild, 'go', 'secret.txt'), `${DECOY}\n`);
    chmodSync(otherBuild, 0o755);
    if (AS_ROOT) chownSync(otherBuild, 1_999_999_999, 1_999_999_999);
    s = await newScenario({
      origin: 'example.com/sandbox-log',
      seed: 47,
      world,
      repo: ({ keyFile, logDir }) =>
        makeGoRepo({
          releases: [
            { version: 'go1.21.0', mode: 'escape' },
            { version: 'go1.21.1', mode: 'network' },
            { version: 'go1.21.2', mode: 'hostile' },
          ],
          hostile: { paths: [keyFile, logDir, path.dirname(keyFile), path.join(otherBuild, 'go'), '/root'], port, marker },
        }),
    });
    keyText = readFileSync(s.keyFile, 'utf8');
  });

  after(() => listener.close());

  const assertKeyIntact = () => {
    assert.ok(existsSync(s.keyFile), 'the key file still exists');
    const info = statSync(s.keyFile);
    assert.equal(info.mode & 0o777, 0o600, 'the key file is still 0600');
    assert.equal(info.uid, process.getuid!(), 'the key file still belongs to the witness');
    assert.equal(readFileSync(s.keyFile, 'utf8'), keyText);
  };

  async function escapeBuild(extra: string[]) {
    const out = tempDir('witness-escape-');
    const work = worldTempDir('witness-escape-work-');
    const run = await witness([...buildArgs(s, 'go1.21.0', out, { targets: ['linux/amd64', 'linux/arm64'], work }), ...extra], cleanEnv());
    expectCode(run, 0, 'escape build');
    for (const build of parseBuilds(run)) assert.match(buildLogText(build.resultFile), new RegExp(`^fixture: escape: escape-${marker} is running`, 'm'), 'the escape process started');
    // The moment the build returns, nothing it started is left, and nothing it left behind is touched.
    assert.deepEqual(processesNamed(`escape-${marker}`), [], 'a process of the build outlived it');
    for (const build of parseBuilds(run)) {
      const result = builtResult(build.resultFile);
      const hashes = await hashDistpack(build.distpackDir!);
      assert.deepEqual(hashes.files, result.files, `${build.target}: the distpack files changed after they were hashed`);
    }
    // Give a survivor time to act, then look again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(processesNamed(`escape-${marker}`), []);
    for (const build of parseBuilds(run)) assert.deepEqual((await hashDistpack(build.distpackDir!)).files, builtResult(build.resultFile).files, 'changed after the build');
    assertKeyIntact();
    assert.deepEqual(readdirSync(work), [], 'the work trees are gone');
    return run;
  }

  test('a setsid process cannot outlive the sandboxed build, tamper with pkg/distpack or swap folders under rm and chown (two targets)', { timeout: 120_000 }, async () => {
    const run = await escapeBuild([]);
    for (const build of parseBuilds(run)) assert.match(builtResult(build.resultFile).sandbox ?? '', /^bubblewrap /);
  });

  test('--no-sandbox as root: the fresh uid of each target is reaped, so the same attacks fail; the result and the record say so', { skip: ROOT_ONLY, timeout: 120_000 }, async () => {
    const run = await escapeBuild(['--no-sandbox']);
    assert.match(run.stderr, /WARNING: --no-sandbox/);
    const files = parseBuilds(run).map((build) => build.resultFile);
    const users = new Set(files.map((file) => builtResult(file).builder.user));
    assert.equal(users.size, 2, 'each target had a uid of its own');
    for (const file of files) assert.match(builtResult(file).sandbox ?? '', /^none \(--no-sandbox\): a fresh uid per build/);
    expectCode(await witness(['ingest', ...files, '--log', s.logDir, '--key', s.keyFile, '--offline']), 0, 'ingest');
    const records = await buildRecords(s.logDir);
    assert.match(records.at(-1)!.text, /\nsandbox none \(--no-sandbox\): a fresh uid per build, its processes killed after it\n/);
  });

  test('no network: a connection to a loopback listener of the host never arrives', { timeout: 120_000 }, async () => {
    const out = tempDir('witness-network-');
    const run = await witness(buildArgs(s, 'go1.21.1', out), cleanEnv());
    expectCode(run, 0, 'network build');
    const leak = readFileSync(path.join(parseBuilds(run)[0]!.distpackDir!, 'LEAK'), 'utf8');
    assert.match(leak, new RegExp(`^no connection to 127\\.0\\.0\\.1:${port}$`, 'm'));
    assert.deepEqual(connections, []);
  });

  test('the key, its folder, the log, /root, another build\'s tree, the host\'s /tmp and the environment of PID 1 hold nothing for make.bash', { timeout: 120_000 }, async () => {
    const out = tempDir('witness-peek-');
    const run = await witness(buildArgs(s, 'go1.21.2', out), cleanEnv({ DECOY_SECRET: DECOY }));
    expectCode(run, 0, 'hostile build');
    const leak = readFileSync(path.join(parseBuilds(run)[0]!.distpackDir!, 'LEAK'), 'utf8');
    assert.ok(!leak.includes(DECOY), 'a secret reached make.bash');
    assert.ok(!leak.includes(keyText.trim().split('+').at(-1)!), 'the key reached make.bash');
    for (const where of [s.keyFile, s.logDir, path.join(otherBuild, 'go'), '/root']) {
      assert.match(leak, new RegExp(`^(ls: cannot access '${where.replace(/[.+]/g, '\\$&')}'|cat: ${where.replace(/[.+]/g, '\\$&')}): No such file or directory$`, 'm'), `${where} is visible to make.bash`);
    }
    // PID 1 of the build's PID namespace is bubblewrap, with no environment of ours.
    const pid1 = leak.slice(leak.indexOf('--- pid 1'), leak.indexOf('--- /tmp'));
    assert.match(pid1, /pid 1 cmdline: \/usr\/bin\/bwrap --unshare-all /);
    assert.doesNotMatch(pid1, /PATH=|HOME=|DECOY/);
    // The host's /tmp (where this test's folders are) is not the build's /tmp: only the build's own work
    // tree and the bootstrap toolchain's folder are mounted there.
    const tmp = leak.slice(leak.indexOf('--- /tmp'), leak.indexOf('--- files'));
    const names = tmp.split('\n').slice(2).map((line) => line.split(' ').at(-1)).filter((name) => name && name !== '.' && name !== '..');
    assert.deepEqual(names.map((name) => name!.replace(/-[A-Za-z0-9]{6}$/, '-*')).sort(), ['witness-build-go1.21.2.linux-amd64-*', path.basename(path.dirname(s.root)).replace(/-[A-Za-z0-9]{6}$/, '-*')].sort());
    assert.ok(!tmp.includes(path.basename(world)), 'the test\'s own folder is visible in the build\'s /tmp');
    assert.equal(existsSync(path.join(s.logDir, 'HOSTILE-WAS-HERE')), false);
    assert.equal(existsSync(path.join(path.dirname(s.keyFile), 'HOSTILE-WAS-HERE')), false);
    assertKeyIntact();
  });
});
