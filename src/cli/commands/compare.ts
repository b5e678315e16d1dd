import type { Argv, CommandModule } from 'yargs';
import { EMBEDDED_LOG_VERIFIER_KEY } from '../../embedded.js';
import { resolveLogLocation } from '../log-location.js';
import { field, printJson, printLines, session, setExitCode } from '../output.js';
import { readStdin } from '../stdin.js';
import { resolveVerifierKey } from '../vkey.js';

interface CompareArgs {
  log?: string;
  vkey?: string;
  repo?: string;
  input?: string;
  json: boolean;
}

export const compareCommand: CommandModule = {
  command: 'compare [input]',
  describe: 'Compare your Go checkout\'s tags (or `git show-ref --tags` text on stdin, with `-`) with the witness log. Exit 0 all equal, 1 any difference, 2 error',
  builder: (yargs: Argv) =>
    yargs
      .positional('input', { type: 'string', describe: '"-" to read `git show-ref --tags [-d]` output from stdin' })
      .option('repo', { type: 'string', describe: 'The git repository to compare (default: the current folder)' })
      .option('vkey', { type: 'string', describe: 'Pinned verifier key of the log (key or file); default: the embedded log key shipped with this package' }),
  handler: async (parsed) => {
    // compare's contract: 2 for any error, including a log that does not verify; 1 only for differences.
    session().errorExitCode = 2;
    await compare(parsed as unknown as CompareArgs);
  },
};

async function compare(args: CompareArgs): Promise<void> {
  const { printableRef } = await import('../../gitsrc/refname.js');
  const { parseShowRefTags } = await import('../../gitsrc/show-ref.js');
  const { compareTags, localTagsFromRepository, readVerifiedTagLog } = await import('../../tags/compare.js');
  const logLocation = await resolveLogLocation(args.log);
  const verifierKey = args.vkey !== undefined ? await resolveVerifierKey(args.vkey, logLocation) : EMBEDDED_LOG_VERIFIER_KEY;
  // yargs hands a lone "-" over as an empty string (src/cli/arguments.ts refuses anything else).
  const fromStdin = args.input === '-' || args.input === '';
  const [local, log] = await Promise.all([
    fromStdin
      ? readStdin().then(parseShowRefTags)
      : localTagsFromRepository(args.repo ?? '.'),
    readVerifiedTagLog(logLocation, verifierKey!),
  ]);
  const result = compareTags(local.tags, log.state);
  // A tag the witness can never record (its name) is a difference too: it cannot be vouched for.
  const differences = result.differ.length + result.onlyYours.length + result.onlyWitness.length + local.rejected.length;
  setExitCode(differences > 0 ? 1 : 0);
  const yoursName = fromStdin ? 'the show-ref input' : `your repository ${args.repo ?? '.'}`;
  if (args.json) {
    printJson({
      log: { origin: log.origin, location: log.location, verifierKey: log.verifierKey, size: log.size },
      yours: { source: fromStdin ? 'stdin' : (args.repo ?? '.'), tags: local.tags.size, skipped: local.rejected },
      ...result,
      same: differences === 0,
    });
    return;
  }
  const lines = [
    `Tags of ${yoursName} (${local.tags.size}) vs the witness log ${log.origin}`,
    field('witness log', `${log.location}, size ${log.size}, every entry verified against the checkpoint signed by ${log.verifierKey.split('+').slice(0, 2).join('+')}`),
    field('equal', String(result.equal)),
    field('differ', String(result.differ.length)),
  ];
  for (const { ref, yours, witness } of result.differ) {
    lines.push(`    ${printableRef(ref)}`);
    lines.push(`      yours    ${yours.object}${yours.peeled && yours.peeled !== yours.object ? ` (peeled ${yours.peeled})` : ''}`);
    lines.push(`      witness  ${witness.object}${witness.target !== witness.object ? ` (peeled ${witness.target})` : ''}  first seen ${witness.firstSeen}, log index ${witness.index}`);
  }
  lines.push(field('only yours', String(result.onlyYours.length)));
  for (const { ref, yours, vanished } of result.onlyYours) {
    lines.push(`    ${printableRef(ref)} ${yours.object}${vanished ? `  (the witness saw it vanish ${vanished.firstSeen}, log index ${vanished.index})` : ''}`);
  }
  lines.push(field('only witness', String(result.onlyWitness.length)));
  for (const { ref, witness } of result.onlyWitness) lines.push(`    ${printableRef(ref)} ${witness.object}  first seen ${witness.firstSeen}`);
  lines.push(field('unrecordable', String(local.rejected.length)));
  for (const skipped of local.rejected) lines.push(`    ${printableRef(skipped.ref)}: ${skipped.reason}; the witness never records such a tag`);
  lines.push(
    differences === 0
      ? `SAME: all ${result.equal} tags equal the witness log.`
      : `DIFFERENT: ${differences} tag${differences === 1 ? ' differs' : 's differ'} from the witness log.`,
  );
  printLines(lines);
}
