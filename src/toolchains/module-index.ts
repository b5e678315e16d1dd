// The index `sumdb scan` keeps to notice two records for one module version (any module): for every
// record scanned, in record order, a 64-bit key of "<module path> <version>". The record number is
// implied by the position (record = start + offset / 8), so the file costs 8 bytes per record scanned
// (45,000 records a day: 360 KB a day; the 47 million records from go1.21.0's first toolchain record to
// today: about 380 MB) and only ever grows at its end, which makes it easy to keep consistent with the
// scan position (state.ts truncates it to the committed position).
//
// In memory it is an open-addressing hash table over those keys (8 bytes of keys and 16-32 bytes of table
// per record: the table is between a quarter and half full). Keys are not
// unique: two module versions may share a key (FNV-1a is not collision resistant, and need not be), so
// a lookup returns every earlier record with the key and the caller compares the module versions of
// those records (re-reading their authenticated tiles) before it raises anything. A collision only
// costs that re-read; it can never hide a duplicate, because every record is inserted.

/** The 64-bit key of a module version, as [high, low] 32-bit halves: moduleVersionKeyOfBytes of "<path> <version>". */
export function moduleVersionKey(path: string, version: string): [number, number] {
  const bytes = Buffer.from(`${path} ${version}`, 'utf8');
  return moduleVersionKeyOfBytes(bytes, 0, bytes.length);
}

/** The key of the UTF-8 bytes [start, end) of `bytes` (two FNV-1a lanes). */
export function moduleVersionKeyOfBytes(bytes: Uint8Array, start: number, end: number): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return [a >>> 0, b >>> 0];
}

const GO_MOD_H1 = new TextEncoder().encode('/go.mod h1:');
/** The array moduleVersionKeyInto last read, and a DataView of it. */
let viewed: Uint8Array | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * The module-version key of a record (moduleVersionKeyOfBytes) into `key` ([high, low]),
 * and where "<path> <version>" ends, in one pass over the bytes. The key is of "<path> <version>" when
 * the record looks like two go.sum lines for one module version (`<path> <version> h1:<hash>` then
 * `<path> <version>/go.mod h1:<hash>`), and the return value is where it ends; otherwise the key is of
 * the whole text and the return value -1. Cheap, on the bytes: the text was checked as record text by
 * decodeDataTile; hashes are not decoded (parseGoSumRecord does). The record may be bytes[start, stop)
 * of a larger array (a data tile): the result is then relative to start.
 */
export function moduleVersionKeyInto(bytes: Uint8Array, key: Uint32Array, start = 0, stop = bytes.length): number {
  // The record is bytes[start, stop); positions below are absolute, the result is relative to start.
  const n = stop;
  // FNV-1a, two lanes, exactly as moduleVersionKeyOfBytes: continued over the rest of the text when the
  // record is not two go.sum lines.
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  let first = -1;
  let i = start;
  for (; i < n; i++) {
    const c = bytes[i]!;
    if (c === 0x20) {
      if (first >= 0) break;
      first = i;
    } else if (c === 0x0a) {
      break;
    }
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  const second = i;
  const length = second - start; // of "<path> <version>"
  let end = -1;
  // "<path> <version> h1:<hash>\n": a path and a version, then "h1:", no third space in the line.
  if (first > start && second < n && bytes[second] === 0x20 && second > first + 1 && bytes[second + 1] === 0x68 && bytes[second + 2] === 0x31 && bytes[second + 3] === 0x3a) {
    let newline = second + 4;
    while (newline < n && bytes[newline] !== 0x0a && bytes[newline] !== 0x20) newline++;
    // The second line, the last: the same "<path> <version>", then "/go.mod h1:".
    const line2 = newline + 1;
    if (newline < n && bytes[newline] === 0x0a && line2 + length + GO_MOD_H1.length <= n && bytes.indexOf(0x0a, line2) === n - 1) {
      // The same "<path> <version>": four bytes at a time (a view per array, kept for the next record of a
      // tile), then the rest one by one.
      if (bytes !== viewed) {
        viewed = bytes;
        view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      let same = true;
      let j = 0;
      for (; j + 4 <= length; j += 4) {
        if (view.getUint32(line2 + j) !== view.getUint32(start + j)) {
          same = false;
          break;
        }
      }
      for (; same && j < length; j++) if (bytes[line2 + j] !== bytes[start + j]) same = false;
      for (let j = 0; same && j < GO_MOD_H1.length; j++) if (bytes[line2 + length + j] !== GO_MOD_H1[j]) same = false;
      if (same) end = length;
    }
  }
  if (end < 0) {
    for (; i < n; i++) {
      const c = bytes[i]!;
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
    }
  }
  key[0] = a >>> 0;
  key[1] = b >>> 0;
  return end;
}

const NONE: readonly bigint[] = Object.freeze([]);

/** The most entries one table holds: its slots are an Int32Array of 2 ints each (2^30 ints at most). */
const MAX_SLOTS = 2 ** 29;

export class ModuleVersionIndex {
  /** Record number of entry 0. */
  readonly start: bigint;
  private high: Uint32Array;
  private low: Uint32Array;
  private count = 0;
  /**
   * Open addressing with linear probing, at most half full: slot s is table[2s] = the key's low half and
   * table[2s + 1] = entry number + 1 (0 for empty). The low half beside the entry makes a probe one
   * memory access; the high half is read only when the low halves are equal.
   */
  private table: Int32Array;
  private mask: number;
  /** What findAndAddAll's first pass read (an OR of slots): stored only so that its loads are kept. */
  protected touched = 0;

  constructor(start: bigint, capacity = 1024) {
    this.start = start;
    const size = Math.max(16, capacity);
    this.high = new Uint32Array(size);
    this.low = new Uint32Array(size);
    const slots = tableSize(size);
    this.table = new Int32Array(slots * 2);
    this.mask = slots - 1;
  }

  /** Entries (records) indexed. */
  get size(): number {
    return this.count;
  }

  /** The next record number: start + size. */
  get end(): bigint {
    return this.start + BigInt(this.count);
  }

  /** An index from its file content: 8 bytes per record, big-endian high then low half. */
  static fromBytes(start: bigint, bytes: Uint8Array, reserve = 0): ModuleVersionIndex {
    if (bytes.length % 8 !== 0) throw new Error('internal: index bytes are not a multiple of 8');
    const n = bytes.length / 8;
    const index = new ModuleVersionIndex(start, n + Math.max(1024, reserve));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) index.add(view.getUint32(i * 8), view.getUint32(i * 8 + 4));
    return index;
  }

  /**
   * Makes room for `more` entries at once (one resize instead of one per doubling). The keys grow at
   * least twofold, so that reserving a little at a time (findAndAddAll, per tile) stays linear.
   */
  reserve(more: number): void {
    const want = this.count + Math.max(0, more);
    if (want > this.high.length) this.resizeKeys(Math.max(want, this.high.length * 2));
    if (tableSize(want) > this.mask + 1) this.rehash(tableSize(want));
  }

  /** The file bytes of entries [from, size): what to append after `from` entries were saved. */
  bytesFrom(from: number): Uint8Array {
    const out = new Uint8Array((this.count - from) * 8);
    const view = new DataView(out.buffer);
    for (let i = from; i < this.count; i++) {
      view.setUint32((i - from) * 8, this.high[i]!);
      view.setUint32((i - from) * 8 + 4, this.low[i]!);
    }
    return out;
  }

  /** Record numbers of earlier entries with this key, oldest first. */
  find(high: number, low: number): readonly bigint[] {
    return this.probe(high >>> 0, low >>> 0, false);
  }

  /** Indexes the next record (number `end`). */
  add(high: number, low: number): void {
    this.probe(high >>> 0, low >>> 0, true);
  }

  /** find(high, low), then add(high, low), in one probe: what the scan does for every record. */
  findAndAdd(high: number, low: number): readonly bigint[] {
    return this.probe(high >>> 0, low >>> 0, true);
  }

  /**
   * findAndAdd of keys[2i] (high), keys[2i + 1] (low) for i in [from, to), in that order: what the scan
   * does for every record of a tile. Returns the i whose key was seen before, each with the record numbers
   * of those earlier entries (oldest first), or undefined when there is none (the usual case).
   *
   * The table is far larger than the caches, so each probe starts with a cache (and TLB) miss. A first
   * pass loads the first slot of every key: the loads do not depend on each other, so the CPU overlaps
   * their misses, and the second pass, which inserts one key after the other, finds them in cache
   * ("group prefetching": Chen et al., "Improving Hash Join Performance through Prefetching", ICDE 2004).
   */
  findAndAddAll(keys: Uint32Array, from: number, to: number): Array<{ i: number; earlier: readonly bigint[] }> | undefined {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || 2 * to > keys.length) {
      throw new Error(`internal: keys ${from}..${to} of ${keys.length / 2}`);
    }
    this.reserve(to - from);
    const { table, mask, high, low } = this;
    let touched = 0;
    for (let i = from; i < to; i++) touched |= table[this.slotOf(keys[2 * i]!, keys[2 * i + 1]!) * 2 + 1]!;
    this.touched = touched; // kept, so that the loads above are not optimized away
    let seen: Array<{ i: number; earlier: readonly bigint[] }> | undefined;
    let count = this.count;
    for (let i = from; i < to; i++) {
      const h = keys[2 * i]!;
      const l = keys[2 * i + 1]!;
      const lowBits = l | 0;
      let slot = this.slotOf(h, l);
      let found: number[] | undefined;
      for (; ; slot = (slot + 1) & mask) {
        const entry = table[slot * 2 + 1]!;
        if (entry === 0) break;
        if (table[slot * 2] === lowBits && high[entry - 1] === h) (found ??= []).push(entry - 1);
      }
      high[count] = h;
      low[count] = l;
      table[slot * 2] = lowBits;
      table[slot * 2 + 1] = ++count;
      if (found) (seen ??= []).push({ i, earlier: found.sort((x, y) => x - y).map((entry) => this.start + BigInt(entry)) });
    }
    this.count = count;
    return seen;
  }

  /** Walks the probe sequence of the key: collects its entries; with `insert`, adds it in the empty slot ending it. */
  private probe(high: number, low: number, insert: boolean): readonly bigint[] {
    if (insert && (this.count + 1) * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
    const table = this.table;
    const mask = this.mask;
    const lowBits = low | 0;
    let found: number[] | undefined;
    let slot = this.slotOf(high, low);
    for (; ; slot = (slot + 1) & mask) {
      const entry = table[slot * 2 + 1]!;
      if (entry === 0) break;
      if (table[slot * 2] === lowBits && this.high[entry - 1] === high) (found ??= []).push(entry - 1);
    }
    if (insert) {
      if (this.count === this.high.length) this.resizeKeys(this.count * 2);
      const entry = this.count++;
      this.high[entry] = high;
      this.low[entry] = low;
      table[slot * 2] = lowBits;
      table[slot * 2 + 1] = entry + 1;
    }
    if (!found) return NONE;
    return found.sort((x, y) => x - y).map((entry) => this.start + BigInt(entry));
  }

  private slotOf(high: number, low: number): number {
    return (Math.imul(high ^ (low >>> 7), 0x9e3779b1) ^ low) & this.mask;
  }

  private resizeKeys(size: number): void {
    const high = new Uint32Array(size);
    const low = new Uint32Array(size);
    high.set(this.high.subarray(0, this.count));
    low.set(this.low.subarray(0, this.count));
    this.high = high;
    this.low = low;
  }

  private rehash(slots: number): void {
    if (slots > MAX_SLOTS) throw new Error(`internal: the module index cannot hold more than ${MAX_SLOTS / 2} records in memory`);
    this.table = new Int32Array(slots * 2);
    this.mask = slots - 1;
    const table = this.table;
    for (let entry = 0; entry < this.count; entry++) {
      const high = this.high[entry]!;
      const low = this.low[entry]!;
      let slot = this.slotOf(high, low);
      while (table[slot * 2 + 1] !== 0) slot = (slot + 1) & this.mask;
      table[slot * 2] = low | 0;
      table[slot * 2 + 1] = entry + 1;
    }
  }
}

/** A power of two at least 2 * n: the table stays at most half full. */
function tableSize(n: number): number {
  let size = 16;
  while (size < n * 2) size *= 2;
  return size;
}
