// Reading every tag of a Go git repository (bare or not) with the git binary: one `for-each-ref` and
// one `cat-file --batch-check` for the peeled objects and trees, whatever the number of tags. (For the
// Go repository's 430 tags, isomorphic-git took 83x as long and 933 MiB: `npm run bench -- git-tags`.)
import { EnvironmentError } from '../errors.js';
import { git, gitText } from '../infra/git.js';
import { OBJECT_ID, tagRefProblem } from './refname.js';

export type ObjectType = 'commit' | 'tag' | 'tree' | 'blob';

export interface RepoTag {
  readonly ref: string;
  /** What the ref points at: the commit (lightweight tag) or the tag object (annotated tag). */
  readonly object: string;
  readonly objectType: ObjectType;
  /** The object the tag finally points at after peeling tag objects (`<object>^{}`). */
  readonly target: string;
  readonly targetType: ObjectType;
  /** The tree of the target commit, when the target is a commit. */
  readonly tree?: string;
}

export interface RejectedRef {
  /** The name as git printed it (may contain anything: escape before showing). */
  readonly ref: string;
  readonly reason: string;
}

export interface RepoTags {
  readonly tags: RepoTag[];
  readonly rejected: RejectedRef[];
}

const OBJECT_TYPES = new Set(['commit', 'tag', 'tree', 'blob']);

export interface ReadTagsOptions {
  /** Also find the tree of every commit target (needed for records; not for comparing). Default true. */
  readonly trees?: boolean;
}

export async function readRepoTags(repository: string, options: ReadTagsOptions = {}): Promise<RepoTags> {
  const trees = options.trees ?? true;
  const listing = await git(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(objecttype)', 'refs/tags/'], {
    cwd: repository,
    okCodes: [128],
  }).catch((error: unknown) => {
    throw new EnvironmentError('NOT_A_GIT_REPOSITORY', `cannot read the repository: ${(error as Error).message}`, { cause: error });
  });
  if (listing.code !== 0) throw new EnvironmentError('NOT_A_GIT_REPOSITORY', `${repository} is not a git repository`);
  const tags: Array<{ ref: string; object: string; objectType: ObjectType }> = [];
  const rejected: RejectedRef[] = [];
  for (const line of listing.stdout.toString('utf8').split('\n')) {
    if (line === '') continue;
    const [ref = '', object = '', objectType = ''] = line.split('\0');
    const problem = tagRefProblem(ref) ?? (OBJECT_ID.test(object) && OBJECT_TYPES.has(objectType) ? undefined : 'unexpected object');
    if (problem) rejected.push({ ref, reason: problem });
    else tags.push({ ref, object, objectType: objectType as ObjectType });
  }
  // Peel annotated tags (`^{}`) and find the tree of commit targets (`^{tree}`), in one batch; a
  // lightweight tag to a commit needs nothing when trees are not wanted.
  const queries: Array<{ tag: number; kind: 'target' | 'tree'; spec: string }> = [];
  tags.forEach((tag, i) => {
    if (tag.objectType === 'tag') queries.push({ tag: i, kind: 'target', spec: `${tag.object}^{}` });
    if (trees && (tag.objectType === 'tag' || tag.objectType === 'commit')) queries.push({ tag: i, kind: 'tree', spec: `${tag.object}^{tree}` });
  });
  const answers = queries.length
    ? (await gitText(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { cwd: repository, input: queries.map((q) => `${q.spec}\n`).join('') })).split('\n')
    : [];
  const found = tags.map((tag) => ({ target: tag.object, targetType: tag.objectType as string, tree: undefined as string | undefined, treeType: '' }));
  queries.forEach((query, i) => {
    const [oid = '', type = ''] = (answers[i] ?? '').split(' ');
    const entry = found[query.tag]!;
    if (query.kind === 'target') {
      entry.target = oid;
      entry.targetType = type;
    } else {
      entry.tree = oid;
      entry.treeType = type;
    }
  });
  const result: RepoTag[] = [];
  tags.forEach((tag, i) => {
    const { target, targetType, tree, treeType } = found[i]!;
    if (!OBJECT_ID.test(target) || !OBJECT_TYPES.has(targetType) || targetType === 'tag') {
      rejected.push({ ref: tag.ref, reason: 'its object cannot be read' });
      return;
    }
    const wantsTree = trees && targetType === 'commit';
    if (wantsTree && (treeType !== 'tree' || !OBJECT_ID.test(tree ?? ''))) {
      rejected.push({ ref: tag.ref, reason: 'its commit cannot be read' });
      return;
    }
    result.push({ ...tag, target, targetType: targetType as ObjectType, ...(wantsTree ? { tree: tree! } : {}) });
  });
  return { tags: result, rejected };
}

/** The URL the repository was cloned from (`remote.origin.url`), if any. */
export async function repositoryRemoteUrl(repository: string): Promise<string | undefined> {
  const result = await git(['config', '--get', 'remote.origin.url'], { cwd: repository, okCodes: [1] });
  const url = result.stdout.toString('utf8').trim();
  return result.code === 0 && url !== '' ? url : undefined;
}
