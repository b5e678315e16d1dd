// Benchmark: reading every tag of a Go repository with its target and tree, as `witness tags` and
// `compare` need them: src/gitsrc/tags.ts readRepoTags (the git binary: one for-each-ref and one
// cat-file --batch-check) against isomorphic-git (listTags, then resolveRef, readTag and readCommit for
// each tag, with a shared object cache: its fastest way). Needs WITNESS_GO_REPO=<a Go repository, bare or
// not>; both sides must find the same tags, targets and trees. Ours runs 5 times (median printed),
// isomorphic-git once (it is the slow side).
import * as fs from 'node:fs';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import git from 'isomorphic-git';
import { readRepoTags } from '../../src/gitsrc/tags.js';

async function isomorphicTags(gitdir: string): Promise<Map<string, { target: string; tree?: string }>> {
  const cache = {};
  const out = new Map<string, { target: string; tree?: string }>();
  for (const name of await git.listTags({ fs, gitdir })) {
    let oid = await git.resolveRef({ fs, gitdir, ref: `refs/tags/${name}` });
    let object = await git.readObject({ fs, gitdir, oid, cache });
    while (object.type === 'tag') {
      oid = (await git.readTag({ fs, gitdir, oid, cache })).tag.object;
      object = await git.readObject({ fs, gitdir, oid, cache });
    }
    const tree = object.type === 'commit' ? (await git.readCommit({ fs, gitdir, oid, cache })).commit.tree : undefined;
    out.set(`refs/tags/${name}`, { target: oid, ...(tree ? { tree } : {}) });
  }
  return out;
}

export async function benchGitTags(): Promise<void> {
  const repo = process.env.WITNESS_GO_REPO;
  if (!repo) {
    console.log('git-tags: skipped (set WITNESS_GO_REPO to a Go repository)');
    return;
  }
  const gitdir = existsSync(path.join(repo, '.git')) ? path.join(repo, '.git') : repo;
  console.log(`git-tags: ${repo}; load average ${loadavg()[0]!.toFixed(1)}`);
  const ours: number[] = [];
  let tags = (await readRepoTags(repo)).tags;
  for (let run = 0; run < 5; run++) {
    const start = performance.now();
    tags = (await readRepoTags(repo)).tags;
    ours.push(performance.now() - start);
  }
  const oursMs = [...ours].sort((a, b) => a - b)[2]!;
  const start = performance.now();
  const theirs = await isomorphicTags(gitdir);
  const theirsMs = performance.now() - start;
  const rss = process.memoryUsage().rss / 2 ** 20;
  const same = tags.length === theirs.size && tags.every((tag) => theirs.get(tag.ref)?.target === tag.target && theirs.get(tag.ref)?.tree === tag.tree);
  console.log(`  ${tags.length} tags: readRepoTags (git) ${oursMs.toFixed(0)} ms, isomorphic-git ${theirsMs.toFixed(0)} ms (${(theirsMs / oursMs).toFixed(0)}x; RSS after ${rss.toFixed(0)} MiB); same tags, targets and trees: ${same ? 'yes' : 'NO'}`);
}
