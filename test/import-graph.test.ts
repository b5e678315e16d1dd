// The import graph of src/ has one direction: no file imports itself back through other files, and no
// folder imports itself back through other folders (src/log/ stores entries and knows no record types;
// src/infra/ holds the tools every folder uses and imports no folder of its own project). Every
// `import`, `export ... from` and `import()` of every src file counts, type-only ones too: a cycle of
// types is a cycle of concepts.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const src = path.join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [file] : [];
  });
}

/** Every string a package.json `imports` entry can map to (any condition). */
function importTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(importTargets);
  return [];
}

const packageImports = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { imports?: Record<string, unknown> }).imports ?? {};

/** The src files a specifier of `from` can load (none for packages and node:*). */
function resolve(from: string, specifier: string): string[] {
  const candidates = specifier.startsWith('.')
    ? [path.resolve(path.dirname(from), specifier)]
    : specifier.startsWith('#')
      ? importTargets(packageImports[specifier]).map((target) => path.resolve(root, target))
      : [];
  return candidates
    .map((file) => file.replace(/\.(js|mjs)$/, (ext) => (ext === '.js' ? '.ts' : '.mts')))
    .filter((file) => file.startsWith(src + path.sep));
}

/** file -> files it imports (relative to src, slash-separated). */
function fileGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const name = (file: string) => path.relative(src, file).split(path.sep).join('/');
  for (const file of sourceFiles(src)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const { fileName } of info.importedFiles) {
      for (const target of resolve(file, fileName)) {
        assert.ok(sourceFiles(path.dirname(target)).includes(target), `${name(file)} imports ${fileName}, which is not a file of src/`);
        targets.add(name(target));
      }
    }
    graph.set(name(file), targets);
  }
  return graph;
}

/** A folder of src/ is its first path component; a file directly in src/ is a unit of its own. */
function folderOf(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? file : `${file.slice(0, slash)}/`;
}

function folderGraph(files: Map<string, Set<string>>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [file, targets] of files) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const target of targets) if (folderOf(target) !== from) edges.add(folderOf(target));
  }
  return graph;
}

/** One shortest cycle through each strongly connected component with more than one node (or a self-loop). */
export function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const found: string[][] = [];
  const seen = new Set<string>();
  for (const start of [...graph.keys()].sort()) {
    if (seen.has(start)) continue;
    // Breadth-first from start back to start: the shortest cycle through it, if any.
    const previous = new Map<string, string>();
    const queue = [start];
    let closing: string | undefined;
    for (let i = 0; i < queue.length && closing === undefined; i++) {
      const node = queue[i]!;
      for (const next of [...(graph.get(node) ?? [])].sort()) {
        if (next === start) {
          closing = node;
          break;
        }
        if (!previous.has(next)) {
          previous.set(next, node);
          queue.push(next);
        }
      }
    }
    if (closing === undefined) continue;
    const cycle = [start];
    for (let node = closing; node !== start; node = previous.get(node)!) cycle.splice(1, 0, node);
    cycle.forEach((node) => seen.add(node));
    found.push([...cycle, start]);
  }
  return found;
}

const files = fileGraph();

test('the import graph sees the files and edges it should (the check cannot pass by reading nothing)', () => {
  assert.ok(files.size > 100, `only ${files.size} files under src/`);
  assert.ok(files.get('cli/main.ts')!.size > 3);
  assert.deepEqual(
    cycles(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['d'])]])),
    [['a', 'b', 'c', 'a'], ['d', 'd']],
  );
  assert.deepEqual(cycles(new Map([['a', new Set(['b'])], ['b', new Set()]])), []);
});

test('no file of src/ imports itself back through other files', () => {
  const found = cycles(files);
  assert.equal(found.length, 0, `import cycles between files:\n${found.map((cycle) => `  ${cycle.join(' -> ')}`).join('\n')}`);
});

test('no folder of src/ imports itself back through other folders', () => {
  const folders = folderGraph(files);
  const found = cycles(folders);
  const why = (from: string, to: string) =>
    [...files].filter(([file]) => folderOf(file) === from).flatMap(([file, targets]) => [...targets].filter((t) => folderOf(t) === to).map((t) => `${file} -> ${t}`));
  const explain = found.map((cycle) => `  ${cycle.join(' -> ')}\n${cycle.slice(1).map((to, i) => `      ${why(cycle[i]!, to).slice(0, 3).join(', ')}`).join('\n')}`);
  assert.equal(found.length, 0, `import cycles between folders:\n${explain.join('\n')}`);
});

test('src/log/ and src/infra/ import no domain folder; src/infra/ imports no folder of the project at all', () => {
  const domains = ['tags/', 'cosign/', 'rebuild/', 'toolchains/', 'sumdb/', 'publish/', 'cli/', 'gitsrc/'];
  const folders = folderGraph(files);
  for (const folder of ['log/', 'infra/']) {
    const bad = [...(folders.get(folder) ?? [])].filter((target) => domains.includes(target));
    assert.deepEqual(bad, [], `${folder} imports ${bad.join(', ')}`);
  }
  const infra = [...(folders.get('infra/') ?? [])].filter((target) => target.endsWith('/'));
  assert.deepEqual(infra, [], `infra/ imports ${infra.join(', ')}`);
});
