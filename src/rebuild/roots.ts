// The root of a bootstrap chain: what every toolchain of the chain, and every release built with it,
// ultimately trusts. A compromised root could hide itself in everything it builds (Ken Thompson,
// "Reflections on Trusting Trust", CACM 27(8), 1984); diverse double compilation (David A. Wheeler,
// https://dwheeler.com/trusting-trust/) counters it by reaching the same release from independent roots
// and requiring identical bytes. Two roots are independent here when they are different binaries taken
// as is (different GOROOT hashes), or Go 1.4 built from C by different C compilers.
import type { BootstrapRootKind, BootstrapToolchain } from './result.js';

export interface ChainRoot {
  readonly kind: BootstrapRootKind;
  /** The root toolchain (the chain's last). */
  readonly toolchain: BootstrapToolchain;
  /** Root `c`: "gcc 12.2.0". */
  readonly compiler?: string;
  /** Root `c`: the branch built, e.g. release-branch.go1.4. */
  readonly branch?: string;
  /**
   * What tells roots apart: `binary <version> <hash>` for a toolchain taken as is, `c <compiler>` for Go
   * 1.4 built from C (the same compiler on another machine, or at another head, is not an independent root).
   */
  readonly key: string;
  /** For people: "binary go1.19.8", "C (gcc 12.2.0) -> go1.4-bootstrap-20170531". */
  readonly label: string;
}

/**
 * The root of `chain` (used toolchain first, root last). Chains recorded before roots were (no `root`
 * field) always ended in a binary root.
 */
export function chainRoot(chain: readonly BootstrapToolchain[]): ChainRoot {
  const toolchain = chain[chain.length - 1];
  if (!toolchain) throw new Error('an empty bootstrap chain has no root');
  if (toolchain.root === 'c') {
    return {
      kind: 'c',
      toolchain,
      compiler: toolchain.compiler!,
      branch: toolchain.branch!,
      key: `c ${toolchain.compiler}`,
      label: `C (${toolchain.compiler}) -> ${toolchain.version}`,
    };
  }
  return { kind: 'binary', toolchain, key: `binary ${toolchain.version} ${toolchain.hash}`, label: `binary ${toolchain.version}` };
}

/** A chain as one line of `<version>=<h1>` words, used toolchain first. */
export function chainWords(chain: readonly BootstrapToolchain[]): string[] {
  return chain.map((b) => `${b.version}=${b.hash}`);
}
