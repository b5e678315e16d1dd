// The ways our sumdb client can reach the checksum database, and how records name them:
//
//   direct       <url> (default https://sum.golang.org)
//   via GOPROXY  <proxy>/sumdb/<name>/ for the first proxy of `go env GOPROXY` whose
//                <proxy>/sumdb/<name>/supported answers 200 (the go command's own probe: "Go's proxy
//                protocol", https://go.dev/ref/mod#checksum-database, and cmd/go/internal/modfetch/sumdb.go)
//   go cache     the go command's cached notes and tiles (gocache.ts), re-verified
//
// Records never carry a GOPROXY URL (it may hold credentials): labels say "via $GOPROXY".
import { EnvironmentError } from '../errors.js';
import { getBounded } from '../infra/http.js';
import { type GoEnvironment, goProxyUrls, goSumdb, sanitizeGoMessage } from '../goenv.js';
import { SumdbClient, type SumdbClientOptions } from './client.js';
import { type GoSumdbCache, goCacheSumdbClient, goSumdbCachePaths } from './gocache.js';

export interface SumdbRoute {
  readonly client: SumdbClient;
  /** How records and reports name it, e.g. "sum.golang.org via $GOPROXY". */
  readonly label: string;
  /** Where it is, for the operator's terminal only (never written to the log). */
  readonly location: string;
}

export function directRoute(url: string, verifierKey?: string, options: Omit<SumdbClientOptions, 'baseUrl' | 'verifierKey'> = {}): SumdbRoute {
  const client = new SumdbClient({ ...options, baseUrl: url, ...(verifierKey ? { verifierKey } : {}) });
  return { client, label: client.baseUrl.replace(/\/$/, ''), location: client.baseUrl };
}

/**
 * The checksum database GOSUMDB names, through the first GOPROXY entry that serves it. EnvironmentError
 * SUMDB_NOT_PROXIED (with what each proxy answered) when none does.
 */
export async function goProxyRoute(go: GoEnvironment, options: Omit<SumdbClientOptions, 'baseUrl' | 'verifierKey'> = {}): Promise<SumdbRoute> {
  const sumdb = goSumdb(go.gosumdb);
  if (!sumdb) throw new EnvironmentError('SUMDB_OFF', 'GOSUMDB is off in the go command\'s environment: there is no checksum database to read');
  const proxies = goProxyUrls(go.goproxy);
  if (proxies.length === 0) throw new EnvironmentError('SUMDB_NOT_PROXIED', `GOPROXY (${sanitizeGoMessage(go.goproxy, '')}) names no http(s) proxy`);
  const answers: string[] = [];
  for (const proxy of proxies) {
    const base = `${proxy}/sumdb/${sumdb.name}`;
    // The go command's probe (cmd/go/internal/modfetch/sumdb.go): 200 means the proxy serves the database.
    const probe = await getBounded(`${base}/supported`, {
      maxBytes: 64 * 1024,
      timeoutMs: options.timeoutMs ?? 20_000,
      errorBodyBytes: 200,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      error: (failure) =>
        new EnvironmentError(
          'SUMDB_NOT_PROXIED',
          failure.kind === 'status'
            ? `${base}/supported: HTTP ${failure.status} ${new TextDecoder().decode(failure.body ?? new Uint8Array(0))}`
            : failure.kind === 'too-large'
              ? `${base}/supported: more than the ${failure.maxBytes} bytes accepted`
              : `${base}/supported: ${(failure.cause as Error)?.message ?? String(failure.cause)}`,
        ),
    }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    if (probe === undefined) {
      const client = new SumdbClient({ ...options, baseUrl: base, verifierKey: sumdb.verifierKey });
      return { client, label: `${sumdb.name} via $GOPROXY`, location: base };
    }
    answers.push(sanitizeGoMessage(probe, go.goproxy, 200));
  }
  throw new EnvironmentError('SUMDB_NOT_PROXIED', `no GOPROXY entry serves the checksum database ${sumdb.name}: ${answers.join('; ')}`);
}

/** The go command's cached notes and tiles of the database GOSUMDB names (default sum.golang.org). */
export function goCacheRoute(cache: GoSumdbCache, verifierKey?: string, options: Omit<SumdbClientOptions, 'baseUrl' | 'fetch' | 'verifierKey'> = {}): SumdbRoute {
  const client = goCacheSumdbClient(cache, { ...options, ...(verifierKey ? { verifierKey } : {}) });
  return { client, label: `${cache.name ?? 'sum.golang.org'} from the go command's cache`, location: goSumdbCachePaths(cache).base };
}
