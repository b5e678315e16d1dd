import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { resolveLogFolder } from '../log-location.js';
import { field, printJson, printLines } from '../output.js';
import { progress } from '../progress.js';
import { resolveVerifierKey } from '../vkey.js';

interface PublishArgs {
  log?: string;
  vkey?: string;
  out: string;
  push?: string;
  branch: string;
  github?: string;
  'github-api'?: string;
  message?: string;
  json: boolean;
}

export const publishCommand: CommandModule = {
  command: 'publish',
  describe: 'Verify the log, then write it as a static site (pages, Atom feed, JSON, and the log itself); optionally deploy it to a branch or GitHub Pages',
  builder: (yargs: Argv) =>
    yargs
      .option('out', { type: 'string', demandOption: true, describe: 'The site folder: created, or replaced if it holds a previous site' })
      .option('vkey', { type: 'string', describe: 'Pinned verifier key (key or file); default: the embedded log key for the embedded log, else the folder\'s log.vkey' })
      .option('push', { type: 'string', describe: 'Deploy: commit the site onto --branch of this git remote (URL or path) and push (never forced)' })
      .option('branch', { type: 'string', default: 'gh-pages', describe: 'Branch to deploy to' })
      .option('github', { type: 'string', describe: 'Deploy: OWNER/REPO on GitHub, through the API (token in GITHUB_TOKEN), and make Pages serve --branch' })
      .option('github-api', { type: 'string', describe: 'GitHub API root (default https://api.github.com)' })
      .option('message', { type: 'string', describe: 'Commit message of the deploy (default: names the log and its size)' })
      .conflicts('push', 'github'),
  handler: async (parsed) => {
    const args = parsed as unknown as PublishArgs;
    const location = await resolveLogFolder(args.log, 'witness publish');
    let github: { owner: string; repo: string } | undefined;
    if (args.github !== undefined) {
      const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(args.github);
      if (!match) throw new UsageError('BAD_GITHUB_REPO', `--github ${JSON.stringify(args.github)} is not OWNER/REPO`);
      github = { owner: match[1]!, repo: match[2]! };
      if (!process.env.GITHUB_TOKEN) throw new UsageError('TOKEN_REQUIRED', '--github needs a token in the GITHUB_TOKEN environment variable');
    }
    const verifierKey = await resolveVerifierKey(args.vkey, location);
    const { publishSite } = await import('../../publish/site.js');
    const result = await publishSite({ logDir: location, outDir: args.out, ...(verifierKey ? { verifierKey } : {}), onProgress: progress().onProgress });

    const message = args.message ?? `witness publish: ${result.origin} at size ${result.size}\n\nroot ${result.rootHash}\n`;
    let deploy: { kind: 'push' | 'github'; where: string; branch: string; commit: string; changed: boolean; pagesUrl?: string; uploadedBlobs?: number } | undefined;
    if (args.push !== undefined) {
      const { pushSiteToBranch, redactCredentials } = await import('../../publish/deploy.js');
      const pushed = await pushSiteToBranch({ siteDir: result.outDir, remote: args.push, branch: args.branch, message });
      deploy = { kind: 'push', where: redactCredentials(args.push), branch: args.branch, ...pushed };
    } else if (github) {
      const { deploySiteToGitHub } = await import('../../publish/deploy.js');
      const deployed = await deploySiteToGitHub({
        siteDir: result.outDir,
        owner: github.owner,
        repo: github.repo,
        branch: args.branch,
        token: process.env.GITHUB_TOKEN!,
        ...(args['github-api'] !== undefined ? { baseUrl: args['github-api'] } : {}),
        message,
      });
      deploy = { kind: 'github', where: `${github.owner}/${github.repo}`, branch: args.branch, ...deployed };
    }

    if (args.json) {
      printJson({ ok: true, ...result, alarms: result.alarms, deploy: deploy ?? null });
      return;
    }
    const counts = new Map<string, number>();
    for (const alarm of result.alarms) counts.set(alarm.kind, (counts.get(alarm.kind) ?? 0) + 1);
    printLines([
      `Published witness log ${result.origin} to ${result.outDir}`,
      field('verifier key', `${result.verifierKey}${result.verifierKeyPinned ? ' (pinned)' : ' (read from the log folder; pass --vkey to pin it)'}`),
      field('checkpoint', `size ${result.size}, root ${result.rootHash}: the log verifies${result.checkpointTime ? `; as of ${result.checkpointTime}` : ''}`),
      field('site', `${result.files.length} files: index.html, ${result.releases} release page${result.releases === 1 ? '' : 's'}, tags.html, cosigned.html, feed.atom, api/, and the log itself`),
      field('verify page', result.verifyPage ? 'verify.html written' : 'not written (src/publish/verify-page.ts is not available)'),
      field(
        'alarms',
        result.alarms.length === 0
          ? 'none'
          : `${result.alarms.length}: ${[...counts.entries()].map(([kind, count]) => `${count} ${kind}`).join(', ')} (listed at the top of index.html)`,
      ),
      ...result.warnings.map((warning) => `  warning: ${warning}`),
      ...(deploy
        ? [
            field(
              'deployed',
              deploy.changed
                ? `commit ${deploy.commit} on ${deploy.branch} of ${deploy.where}${deploy.uploadedBlobs !== undefined ? ` (${deploy.uploadedBlobs} blobs uploaded)` : ''}`
                : `unchanged: ${deploy.branch} of ${deploy.where} already holds this site (commit ${deploy.commit})`,
            ),
            ...(deploy.pagesUrl ? [field('pages', deploy.pagesUrl)] : []),
          ]
        : []),
    ]);
  },
};
