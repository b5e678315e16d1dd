// Checking the command line before a command acts. yargs refuses unknown options and commands and
// missing required ones (its messages are rewritten here into one line that names the flag); then every
// given value is checked by what it names (a Go version, a target, a URL, a key, a folder that must
// exist), in a middleware that runs before any handler. A handler may read, but writes nothing and
// starts nothing, until its arguments have passed.
import { readFile, stat } from 'node:fs/promises';
import yargs, { type CommandModule } from 'yargs';
import { type ErrorCode, UsageError, WitnessError } from '../errors.js';
import { parseTarget, requireGoVersion } from '../release/target.js';
import { isValidKeyName, parseVerifierKey } from '../tlog/note.js';

/** A command as defined for yargs, with its subcommands (the CLI's command tree). */
export interface CommandNode {
  readonly module: CommandModule;
  readonly subcommands?: readonly CommandNode[];
}

/** The part of yargs' instance this module reads (not in @types/yargs). */
interface YargsInternals {
  getOptions(): {
    key: Record<string, unknown>;
    string: string[];
    boolean: string[];
    number: string[];
    array: string[];
    demandedOptions?: Record<string, unknown>;
  };
  getInternalMethods(): { getContext(): { commands: string[] } };
}

export function commandName(module: CommandModule): string {
  return String(module.command).split(' ')[0]!;
}

/** The positional arguments in a command string: `build <release>` -> release (required). */
export function positionals(module: CommandModule): Array<{ name: string; required: boolean; variadic: boolean }> {
  return [...String(module.command).matchAll(/([<[])([a-z][a-z0-9-]*)(\.\.)?[>\]]/g)].map((match) => ({
    name: match[2]!,
    required: match[1] === '<',
    variadic: match[3] !== undefined,
  }));
}

/** The node for a command path (['sumdb', 'cosign']), or undefined at the top. */
export function findCommand(tree: readonly CommandNode[], path: readonly string[]): CommandNode | undefined {
  let nodes: readonly CommandNode[] = tree;
  let found: CommandNode | undefined;
  for (const name of path) {
    found = nodes.find((node) => commandName(node.module) === name);
    if (!found) return undefined;
    nodes = found.subcommands ?? [];
  }
  return found;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest known name, if it is close enough to be a typo (or equal once dashes are ignored). */
function suggestion(name: string, known: readonly string[]): string | undefined {
  const flat = (text: string) => text.replace(/-/g, '').toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const d = flat(candidate) === flat(name) ? 0 : distance(name.toLowerCase(), candidate);
    if (d <= Math.max(1, Math.floor(candidate.length / 4)) && (!best || d < best.distance)) best = { name: candidate, distance: d };
  }
  return best?.name;
}

/** A printable, bounded rendering of a value the user typed. */
function shown(value: unknown): string {
  const raw = String(value);
  // Plain printable text as typed; anything else quoted and escaped, so a line stays one line.
  const text = /^[\x21-\x7e]{1,80}$/.test(raw) && !raw.includes('"') ? raw : JSON.stringify(raw);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The command path named by argv (['sumdb', 'cosign']), as far as it names commands of the tree. */
export function commandPath(argv: readonly string[], tree: readonly CommandNode[]): string[] {
  const path: string[] = [];
  let nodes = tree;
  for (const word of words(argv)) {
    const node = nodes.find((candidate) => commandName(candidate.module) === word);
    if (!node) break;
    path.push(word);
    nodes = node.subcommands ?? [];
    if (nodes.length === 0) break;
  }
  return path;
}

/** The words of argv that are not options, before `--` (the command path, then positionals). */
function words(argv: readonly string[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') break;
    if (token.startsWith('-')) {
      if (token === '--log') i++; // the one global option with a value
      continue;
    }
    found.push(token);
  }
  return found;
}

/**
 * The refusal of a group command (`witness sumdb`) given no subcommand, or one it does not have: a group
 * has nothing to do by itself, so it never exits 0. Its handler throws this (yargs runs it when no
 * subcommand matched, e.g. `witness sumdb "" -- ...`), and so does the yargs failure of its builder.
 */
export function subcommandFailure(path: readonly string[], subcommands: readonly CommandModule[], given: unknown): UsageError {
  const where = `witness ${path.join(' ')}`;
  const help = `see ${where} --help`;
  const names = subcommands.map(commandName);
  const word = given === undefined ? '' : String(given);
  if (word.trim() === '') return new UsageError('MISSING_COMMAND', `${where} needs a command: ${names.join(', ')} (${help})`);
  const near = suggestion(word, names);
  return new UsageError('UNKNOWN_COMMAND', `unknown command ${shown(`${path.join(' ')} ${word}`)}${near ? `; did you mean ${near}?` : ''} (${help})`);
}

/** The options a command declares, read from its yargs builder (for suggestions on a typo). */
function optionsOf(node: CommandNode | undefined): string[] {
  const names = ['log', 'json', 'debug', 'help', 'version'];
  const builder = node?.module.builder;
  if (typeof builder === 'function') {
    const probe = yargs([]);
    builder(probe);
    names.push(...knownOptions(probe as unknown as YargsInternals));
  } else if (builder) {
    names.push(...Object.keys(builder));
  }
  return [...new Set(names)];
}

/** The options a command accepts (kebab-case, without yargs' own). */
function knownOptions(y: YargsInternals): string[] {
  const keys = Object.keys(y.getOptions().key).filter((key) => key !== '$0' && !/[A-Z]/.test(key));
  return [...new Set(keys)];
}

/**
 * The error for a yargs failure: WitnessErrors (thrown by middleware or handlers) and other errors pass
 * through unchanged; yargs' own messages become a UsageError of one line that names the flag.
 */
export function usageFailure(message: string | null | undefined, error: Error | undefined, yargs: unknown, argv: readonly string[], tree: readonly CommandNode[]): Error {
  if (error instanceof WitnessError) return error;
  // yargs' YError carries its own message; anything else thrown by a handler is a bug, reported as such.
  if (error && error.name !== 'YError') return error;
  void yargs;
  const path = commandPath(argv, tree);
  const node = findCommand(tree, path);
  const where = path.length ? `witness ${path.join(' ')}` : 'witness';
  const help = `see ${where} --help`;
  const text = message ?? error?.message ?? 'bad command line';
  let match: RegExpExecArray | null;

  // An option the command does not know is named first, even when yargs found a required one missing
  // (a typo of a required option is both).
  const unknownOption = (): UsageError | undefined => {
    const known = optionsOf(node);
    for (const token of argv) {
      if (token === '--') break;
      // -x: yargs' short options (only -h is one here); -1 is a value.
      const short = /^-([A-Za-z])[A-Za-z]*$/.exec(token)?.[1];
      if (short !== undefined && short !== 'h') return new UsageError('UNKNOWN_OPTION', `unknown option -${short} (${help})`);
      const name = /^--(?:no-)?([^=]+)/.exec(token)?.[1];
      if (name === undefined || known.includes(name) || known.some((option) => option.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) === name)) continue;
      const near = suggestion(name, known);
      return new UsageError('UNKNOWN_OPTION', `unknown option ${token.split('=')[0]}${near ? `; did you mean --${near}?` : ''} (${help})`);
    }
    return undefined;
  };
  if ((match = /^Unknown arguments?: (.*)$/s.exec(text))) {
    const names = match[1]!.split(', ');
    // At the top, a word that is not a command comes first.
    const firstWord = path.length === 0 ? argv.find((token) => !token.startsWith('-')) : undefined;
    if (firstWord !== undefined && names.includes(firstWord)) {
      const near = suggestion(firstWord, tree.map((child) => commandName(child.module)));
      return new UsageError('UNKNOWN_COMMAND', `unknown command ${shown(firstWord)}${near ? `; did you mean ${near}?` : ''} (${help})`);
    }
    const name = names[0]!;
    const optionToken = argv.find((token) => token === `--${name}` || token.startsWith(`--${name}=`) || token === `--no-${name}` || token === `-${name}`);
    if (optionToken !== undefined) {
      const flag = optionToken.startsWith('--') ? `--${optionToken.slice(2).split('=')[0]!}` : optionToken;
      const near = suggestion(flag.replace(/^-+(no-)?/, ''), optionsOf(node));
      return new UsageError('UNKNOWN_OPTION', `unknown option ${flag}${near ? `; did you mean --${near}?` : ''} (${help})`);
    }
    const children = path.length === 0 ? tree : (node?.subcommands ?? []);
    if (children.length > 0 && (path.length === 0 || node?.subcommands)) {
      const near = suggestion(name, children.map((child) => commandName(child.module)));
      return new UsageError('UNKNOWN_COMMAND', `unknown command ${shown(name)}${near ? `; did you mean ${near}?` : ''} (${help})`);
    }
    return new UsageError('UNEXPECTED_ARGUMENT', `unexpected argument ${shown(name)} (${help})`);
  }
  const unknown = unknownOption();
  if (unknown) return unknown;
  if ((match = /^Missing required arguments?: (.*)$/s.exec(text))) {
    const wanted = new Set((node ? positionals(node.module) : []).map((p) => p.name));
    const flags = match[1]!.split(', ').map((name) => (wanted.has(name) ? `<${name}>` : `--${kebab(name)}`));
    return new UsageError('MISSING_OPTION', `missing ${flags.length === 1 ? 'required' : 'required options'} ${flags.join(', ')} (${help})`);
  }
  if (/^Not enough non-option arguments/.test(text)) {
    if (node?.subcommands) return subcommandFailure(path, node.subcommands.map((child) => child.module), words(argv)[path.length]);
    if (!node) return new UsageError('MISSING_COMMAND', `name a command (see witness --help)`);
    const missing = positionals(node.module).filter((p) => p.required).map((p) => `<${p.name}>`);
    return new UsageError('MISSING_OPTION', `missing required ${missing.join(', ') || 'argument'} (${help})`);
  }
  if (/^Too many non-option arguments/.test(text)) return new UsageError('UNEXPECTED_ARGUMENT', `too many arguments (${help})`);
  if ((match = /^Arguments (\S+) and (\S+) are mutually exclusive$/.exec(text))) {
    return new UsageError('CONFLICTING_OPTIONS', `--${kebab(match[1]!)} and --${kebab(match[2]!)} cannot be used together (${help})`);
  }
  if ((match = /^Not enough arguments following: (\S+)$/.exec(text))) return new UsageError('MISSING_VALUE', `--${kebab(match[1]!)} needs a value (${help})`);
  return new UsageError('USAGE', `${text.replace(/\s*\n\s*/g, ' ')} (${help})`);
}

/** Whether `--json` is on in argv (the last of --json, --no-json, --json=true|false wins), before yargs parses. */
export function flagRequested(argv: readonly string[], name: string): boolean {
  let on = false;
  for (const token of argv) {
    if (token === '--') break;
    if (token === `--${name}` || token === `--${name}=true`) on = true;
    else if (token === `--no-${name}` || token === `--${name}=false`) on = false;
  }
  return on;
}

type Check = (value: string, flag: string) => void | Promise<void>;

async function pathKind(file: string): Promise<'file' | 'directory' | 'other' | undefined> {
  const info = await stat(file).catch(() => undefined);
  return info === undefined ? undefined : info.isFile() ? 'file' : info.isDirectory() ? 'directory' : 'other';
}

const folder =
  (code: ErrorCode): Check =>
  async (value, flag) => {
    const kind = await pathKind(value);
    if (kind !== 'directory') throw new UsageError(code, `${flag} ${shown(value)}: ${kind === undefined ? 'no such folder' : 'not a folder'}`);
  };
/** Options whose value may be left out (`--sumdb-from-gomodcache [DIR]`: without DIR, the --go-download cache). */
const OPTIONAL_VALUE = new Set(['sumdb-from-gomodcache', 'sumdbFromGomodcache']);

const directory = folder('NOT_FOUND');

const file: Check = async (value, flag) => {
  const kind = await pathKind(value);
  if (kind !== 'file') throw new UsageError('NOT_FOUND', `${flag} ${shown(value)}: ${kind === undefined ? 'no such file' : 'not a regular file'}`);
};

/** An http(s) URL without white space or control characters. */
export function checkHttpUrl(value: string, flag: string): URL {
  let url: URL | undefined;
  try {
    url = /[\s\u0000-\u001f\u007f]/.test(value) ? undefined : new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new UsageError('BAD_URL', `${flag} ${shown(value)} is not an http(s) URL`);
  }
  return url;
}

const httpUrl: Check = (value, flag) => {
  checkHttpUrl(value, flag);
};

const looksLikeUrl = (value: string) => /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value);

const verifierKey = (value: string, flag: string): void => {
  try {
    parseVerifierKey(value.trim());
  } catch (error) {
    throw new UsageError('BAD_VERIFIER_KEY', `${flag}: not a verifier key (name+hash+base64): ${error instanceof Error ? error.message : String(error)}`);
  }
};

/** Checks for values by the name of their option (the same name means the same thing in every command, but for COMMAND_CHECKS). */
const CHECKS: Record<string, Check> = {
  release: (value, flag) => wrap(flag, () => requireGoVersion(value)),
  tag: (value, flag) => wrap(flag, () => requireGoVersion(value)),
  target: (value, flag) => wrap(flag, () => parseTarget(value)),
  url: httpUrl,
  'sumdb-url': httpUrl,
  'github-api': httpUrl,
  via: httpUrl,
  published: async (value, flag) => (looksLikeUrl(value) ? httpUrl(value, flag) : file(value, flag)),
  log: (value, flag) => (looksLikeUrl(value) ? httpUrl(value, flag) : undefined),
  vkey: async (value, flag) => {
    // The key itself, or a file holding it (src/cli/vkey.ts).
    if ((await pathKind(value)) === 'file') return verifierKey(await readFile(value, 'utf8'), `${flag} ${shown(value)}`);
    return verifierKey(value, flag);
  },
  'sumdb-vkey': verifierKey,
  'go-repo': directory,
  repo: directory,
  'all-ports': directory,
  // A GOROOT (src/rebuild/bootstrap.ts checks it is a built toolchain, before anything is exported).
  bootstrap: folder('BAD_BOOTSTRAP'),
  // bootstrap --root/--from: a GOROOT, or `c` (Go 1.4 built from C; a folder named c is ./c).
  from: (value: string, flag: string) => (value === 'c' ? undefined : folder('BAD_BOOTSTRAP')(value, flag)),
  root: (value: string, flag: string) => (value === 'c' ? undefined : folder('BAD_BOOTSTRAP')(value, flag)),
  logs: file,
  results: file,
  files: file,
  tarball: file,
  origin: (value, flag) => {
    if (!isValidKeyName(value)) throw new UsageError('BAD_ORIGIN', `${flag} ${shown(value)} is not a key name (non-empty, no spaces, no "+")`);
  },
  remote: (value, flag) => {
    if (/[\s\u0000-\u001f\u007f]/.test(value)) throw new UsageError('BAD_REPOSITORY_URL', `${flag} ${shown(value)} contains white space or control characters`);
  },
  github: (value, flag) => {
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(value)) throw new UsageError('BAD_GITHUB_REPO', `${flag} ${shown(value)} is not OWNER/REPO`);
  },
  branch: (value, flag) => {
    // git check-ref-format's rules for a branch name.
    if (!/^[^\s\u0000-\u001f\u007f~^:?*[\\]+$/.test(value) || /(^[-/.])|\.\.|@\{|\/\/|\/\.|(\.lock|[/.])$/.test(value)) {
      throw new UsageError('BAD_BRANCH', `${flag} ${shown(value)} is not a valid branch name`);
    }
  },
  module: (value, flag) => {
    const at = value.lastIndexOf('@');
    if (at <= 0 || at === value.length - 1 || /[\s\u0000-\u001f\u007f]/.test(value)) throw new UsageError('BAD_MODULE', `${flag} ${shown(value)}: want module@version`);
  },
  input: (value, flag) => {
    // yargs hands a lone "-" over as an empty string.
    if (value !== '' && value !== '-') throw new UsageError('UNEXPECTED_ARGUMENT', `unexpected argument ${shown(value)}: use "-" to read show-ref output from stdin, or --repo DIR`);
    void flag;
  },
};

/** A record number or tree size of the checksum database: decimal digits, no sign, below 2^63. */
const recordNumber: Check = (value, flag) => {
  if (!/^(0|[1-9][0-9]{0,18})$/.test(value) || BigInt(value) >= 2n ** 63n) throw new UsageError('BAD_NUMBER', `${flag} takes a whole number >= 0, not ${shown(value)}`);
};

/**
 * Where one command gives a name another meaning (bootstrap's --from is a GOROOT, sumdb scan's a record
 * number), its checks, by command path; they come before CHECKS.
 */
const COMMAND_CHECKS: Record<string, Record<string, Check>> = {
  'sumdb scan': { from: recordNumber, to: recordNumber },
};

function wrap(flag: string, body: () => unknown): void {
  try {
    body();
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(error.code, `${flag}: ${error.message}`);
    throw error;
  }
}

/**
 * yargs middleware (after yargs' own validation, before the handler): every option and positional the
 * command declares is checked: not repeated unless it is a list, not empty, numbers whole and >= 0,
 * booleans not given other values, and each value by CHECKS.
 */
export async function checkArguments(parsed: Record<string, unknown>, yargs: unknown, argv: readonly string[], tree: readonly CommandNode[]): Promise<void> {
  const y = yargs as YargsInternals;
  const options = y.getOptions();
  const path = (parsed._ as unknown[] | undefined)?.map(String) ?? [];
  const node = findCommand(tree, path.slice(0, 2)) ?? findCommand(tree, path.slice(0, 1));
  const positional = new Set((node ? positionals(node.module) : []).map((p) => p.name));
  const commandChecks = COMMAND_CHECKS[path.slice(0, 2).join(' ')];
  const booleans = new Set(options.boolean);
  for (const token of argv) {
    if (token === '--') break;
    const match = /^--([^=]+)=(.*)$/s.exec(token);
    if (match && booleans.has(match[1]!) && match[2] !== 'true' && match[2] !== 'false') {
      throw new UsageError('BAD_VALUE', `--${match[1]} takes no value (or =true, =false), not ${shown(match[2])}`);
    }
  }
  for (const name of knownOptions(y)) {
    const value = parsed[name];
    if (value === undefined || name === 'help' || name === 'version') continue;
    const flag = positional.has(name) ? `<${name}>` : `--${name}`;
    const isList = options.array.includes(name);
    if (!isList && Array.isArray(value)) throw new UsageError('REPEATED_OPTION', `${flag} is given more than once`);
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (booleans.has(name)) continue;
    for (const item of values) {
      if (options.number.includes(name)) {
        if (typeof item !== 'number' || !Number.isSafeInteger(item) || item < 0) throw new UsageError('BAD_NUMBER', `${flag} takes a whole number >= 0`);
        continue;
      }
      // yargs turns --no-X into X=false for every option: only flags may be negated.
      if (typeof item === 'boolean' && (options.string.includes(name) || options.array.includes(name))) throw new UsageError('UNKNOWN_OPTION', `--no-${name} is not an option: ${flag} takes a value`);
      if (typeof item !== 'string') continue;
      if (item === '' && options.string.includes(name) && !positional.has(name) && !OPTIONAL_VALUE.has(name)) throw new UsageError('MISSING_VALUE', `${flag} needs a value`);
      await (commandChecks?.[name] ?? CHECKS[name])?.(item, flag);
    }
  }
  // Untyped options (check's --gomodcache: a flag, or a folder).
  if (typeof parsed.sumdbFromGomodcache === 'string' && parsed.sumdbFromGomodcache !== '') await directory(parsed.sumdbFromGomodcache, '--sumdb-from-gomodcache');
  if (typeof parsed.gomodcache === 'string' && parsed.gomodcache !== '') await directory(parsed.gomodcache, '--gomodcache');
}
