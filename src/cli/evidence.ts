// CLI wiring shared by ingest, check and sumdb: which published evidence to consult and by which route.
// Everything is validated (go env read, proxy probed, folders checked) before anything is downloaded or
// written.
import { stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { GoEnvironment } from '../goenv.js';
import type { SumdbRoute } from '../sumdb/routes.js';

export interface RouteArgs {
  go?: string;
  sumdbUrl?: string;
  sumdbVkey?: string;
  sumdbViaGoproxy?: boolean;
  sumdbFromGomodcache?: string;
  gopath?: string;
}

/** Reads the operator's go env once (lazily). */
export function goEnvReader(go: string | undefined): () => Promise<GoEnvironment> {
  let env: Promise<GoEnvironment> | undefined;
  return () => {
    env ??= import('../goenv.js').then(({ readGoEnvironment }) => readGoEnvironment(go ?? 'go'));
    return env;
  };
}

export async function existingFolder(dir: string, option: string): Promise<string> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError('NOT_A_FOLDER', `${option} ${dir}: not a folder`);
  return dir;
}

/**
 * The sumdb route the arguments choose: --sumdb-from-gomodcache DIR (the go command's cache), else
 * --sumdb-via-goproxy (GOPROXY's /sumdb/<name>/), else --sumdb-url (when given, or `direct` is true).
 * `cacheDefault` is the cache --sumdb-from-gomodcache means without a folder (the downloads' cache).
 */
export async function chooseSumdbRoute(
  args: RouteArgs,
  goEnv: () => Promise<GoEnvironment>,
  options: { direct: boolean; cacheDefault?: { gomodcache: string; gopath: string } },
): Promise<SumdbRoute | undefined> {
  const routes = await import('../sumdb/routes.js');
  const { goSumdb } = await import('../goenv.js');
  const { SUMDB_URL } = await import('../sumdb/client.js');
  if (args.sumdbFromGomodcache !== undefined) {
    let cache: { gomodcache: string; gopath?: string };
    if (args.sumdbFromGomodcache === '') {
      if (!options.cacheDefault) throw new UsageError('USAGE', '--sumdb-from-gomodcache needs a folder (or --go-download, whose cache it then reads)');
      cache = options.cacheDefault;
    } else {
      cache = { gomodcache: await existingFolder(args.sumdbFromGomodcache, '--sumdb-from-gomodcache'), ...(args.gopath ? { gopath: args.gopath } : {}) };
    }
    // The database's name and key: --sumdb-vkey, else sum.golang.org's.
    const name = args.sumdbVkey ? args.sumdbVkey.split('+')[0]! : 'sum.golang.org';
    if (cache.gopath === undefined) {
      const { gopathOfModuleCache } = await import('../sumdb/gocache.js');
      if (gopathOfModuleCache(cache.gomodcache) === undefined) cache = { ...cache, gopath: (await goEnv()).gopath.split(':')[0]! };
    }
    return routes.goCacheRoute({ ...cache, name }, args.sumdbVkey);
  }
  if (args.sumdbViaGoproxy) {
    const env = await goEnv();
    const route = await routes.goProxyRoute(env);
    if (args.sumdbVkey && args.sumdbVkey !== goSumdb(env.gosumdb)?.verifierKey) {
      throw new UsageError('USAGE', '--sumdb-vkey differs from the key of the database GOSUMDB names: drop it, or set GOSUMDB');
    }
    return route;
  }
  if (args.sumdbUrl !== undefined || options.direct) return routes.directRoute(args.sumdbUrl ?? SUMDB_URL, args.sumdbVkey);
  return undefined;
}
