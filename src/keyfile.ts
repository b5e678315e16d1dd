// Signing keys: read from a file that only its owner can read, or from an environment variable; never
// from (or into) the log's git repository. Errors never print key material.
import { realpath, stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, UsageError } from './errors.js';
import { createFileExclusive } from './infra/files.js';
import { locateGit } from './infra/git.js';
import { type SignerKey } from './tlog/note.js';
import { generateKeyPair, parseSignerKey } from './tlog-node/signer.js';

/** Environment variable that may hold the log's signer key (the key text itself, not a path). */
export const SIGNING_KEY_ENV = 'WITNESS_SIGNING_KEY';
/** Environment variable that may hold the witness's cosigner key (the key text itself). */
export const COSIGNER_KEY_ENV = 'WITNESS_COSIGNER_KEY';

export interface KeySource {
  /** Path of a key file (mode 0600 or stricter). */
  readonly file?: string | undefined;
  /** Environment to read SIGNING_KEY_ENV from when no file is given. */
  readonly env?: NodeJS.ProcessEnv;
  /** A git work tree the key must not live in (the log's repository). */
  readonly forbiddenRepository?: string | undefined;
  /** The environment variable to read (default SIGNING_KEY_ENV) and the option that names a file. */
  readonly envName?: string;
  readonly option?: string;
}

async function insideDirectory(file: string, dir: string): Promise<boolean> {
  // A file that does not exist yet: resolve its folder (which may be a symlink into the repository).
  const real = await realpath(file).catch(async () =>
    path.join(await realpath(path.dirname(path.resolve(file))).catch(() => path.dirname(path.resolve(file))), path.basename(file)),
  );
  const root = await realpath(dir).catch(() => path.resolve(dir));
  const relative = path.relative(root, real);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The top of the git work tree containing `dir`, or `dir` itself when it is not in one (or absent). */
export async function repositoryRoot(dir: string): Promise<string> {
  let probe = path.resolve(dir);
  while (!(await stat(probe).catch(() => undefined))) probe = path.dirname(probe);
  return (await locateGit(probe))?.topLevel ?? path.resolve(dir);
}

export async function loadSignerKey(source: KeySource): Promise<SignerKey> {
  if (source.file !== undefined) {
    const file = path.resolve(source.file);
    const info = await stat(file).catch(() => {
      throw new EnvironmentError('KEY_NOT_FOUND', `signing key file ${file} does not exist`);
    });
    if (!info.isFile()) throw new EnvironmentError('KEY_NOT_FOUND', `signing key ${file} is not a regular file`);
    if ((info.mode & 0o077) !== 0) {
      throw new EnvironmentError(
        'KEY_PERMISSIONS',
        `signing key ${file} is accessible by group or others (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
      );
    }
    if (source.forbiddenRepository && (await insideDirectory(file, source.forbiddenRepository))) {
      throw new EnvironmentError(
        'KEY_IN_REPOSITORY',
        `signing key ${file} is inside the log's repository ${source.forbiddenRepository}; keep it outside any repository`,
      );
    }
    return parseSignerKey(await readFile(file, 'utf8'));
  }
  const envName = source.envName ?? SIGNING_KEY_ENV;
  const fromEnv = (source.env ?? process.env)[envName];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseSignerKey(fromEnv);
  throw new UsageError('KEY_REQUIRED', `no signing key: pass ${source.option ?? '--key'} FILE or set ${envName}`);
}

/** Generates a new Ed25519 note key named `name` into `file` (created 0600; must not exist). */
export async function generateSignerKeyFile(
  file: string,
  name: string,
  forbiddenRepository?: string,
): Promise<{ signerKey: SignerKey; verifierKey: string }> {
  const absolute = path.resolve(file);
  if (forbiddenRepository && (await insideDirectory(absolute, forbiddenRepository))) {
    throw new EnvironmentError(
      'KEY_IN_REPOSITORY',
      `refusing to write a signing key inside the log's repository (${forbiddenRepository}); choose a path outside it`,
    );
  }
  const { signerKey, verifierKey } = generateKeyPair(name);
  try {
    await createFileExclusive(absolute, `${signerKey}\n`, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError('KEY_EXISTS', `${absolute} already exists; refusing to overwrite a key`);
    }
    throw new EnvironmentError('KEY_WRITE_FAILED', `cannot write ${absolute}: ${(error as Error).message}`);
  }
  return { signerKey: parseSignerKey(signerKey), verifierKey };
}
