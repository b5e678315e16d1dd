import type { Argv, CommandModule } from 'yargs';
import { field, printJson, printLines, setExitCode } from '../output.js';

interface SourceCheckArgs {
  tarball: string;
  tag: string;
  goRepo: string;
  json: boolean;
}

export const sourceCheckCommand: CommandModule = {
  command: 'source-check <tarball>',
  describe: 'Prove a Go source tarball holds exactly the tag\'s git tree under go/ (minus what cmd/distpack leaves out), file by file. Exit 0 same, 1 different, 2 error',
  builder: (yargs: Argv) =>
    yargs
      .positional('tarball', { type: 'string', demandOption: true, describe: 'goX.src.tar.gz (from make.bash -distpack, or go.dev/dl)' })
      .option('tag', { type: 'string', demandOption: true, describe: 'The release tag, e.g. go1.21.9' })
      .option('go-repo', { type: 'string', demandOption: true, describe: 'The Go git repository holding the tag' }),
  handler: async (parsed) => {
    const args = parsed as unknown as SourceCheckArgs;
    const { checkSourceTarball } = await import('../../rebuild/source-check.js');
    const { printableRef } = await import('../../gitsrc/refname.js');
    const result = await checkSourceTarball(args.tarball, args.goRepo, args.tag);
    setExitCode(result.equal ? 0 : 1);
    if (args.json) {
      printJson(result);
      return;
    }
    const show = (names: readonly string[]) => names.slice(0, 20).map((name) => `    ${printableRef(name)}`).concat(names.length > 20 ? [`    ... and ${names.length - 20} more`] : []);
    printLines([
      `${args.tarball} vs tag ${args.tag} (commit ${result.commit}, tree ${result.tree})`,
      field('files', `${result.files} in the tag's tree (after cmd/distpack's exclusions)`),
      field('differ', String(result.differ.length)),
      ...result.differ.slice(0, 20).map((d) => `    ${printableRef(d.path)}: ${d.reason}`),
      field('only tarball', String(result.onlyInTarball.length)),
      ...show(result.onlyInTarball),
      field('only git', String(result.onlyInGit.length)),
      ...show(result.onlyInGit),
      result.equal ? `SAME: the tarball holds exactly the git tree of ${args.tag}.` : `DIFFERENT: the tarball does not match the git tree of ${args.tag}.`,
    ]);
  },
};
