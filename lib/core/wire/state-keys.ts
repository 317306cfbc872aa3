/**
 * Keys inside a subtask's working state (a flat key-value map). Entries under `c/` belong
 * to the generation (channel sequence numbers, alignment, buffer) and are never part of a
 * snapshot; entries under `src/`, `k/`, `b/`, `o/`, `snk/`, `wm/` and `cnt/` are operator state
 * and are snapshotted (`b/<op>/<state>`: a subtask's copy of a broadcast state; `o/…`: a
 * non-keyed function's list state). Keyed entries carry their key group: `k/<op>/<state>/<kg>/<key>`; a window
 * operator's timers are keyed entries too (`k/<op>/$t/<kg>/<time>`).
 *
 * The keys are short because every commit writes the changed ones; they are stored (in
 * working-state items and snapshots), so they must not change. Operator, stage and state
 * names hold no `/` (config.requireName), which is what makes the keys parseable; the
 * encoded key of a keyed entry is last and may hold anything.
 */
import type { KeyGroup } from '../ids.js';

/** Names of the keyed states the runtime keeps itself, beside the ones a process function declares. */
export const KEYED_STATE = {
  /** A reduce or aggregate operator's accumulator per key. */
  accumulator: 'acc',
  /** A window operator's cells per key: `{ [windowId]: cell }`. */
  windowCells: 'w',
  /** A window operator's timers: the keys with a window due at the entry's time. */
  windowTimers: '$t',
  /** A process function's state time-to-live cleanup timers: the keys with state expiring then. */
  ttlTimers: '$x',
  /** A process function's processing-time timers. */
  processingTimers: '$p',
  /** A window operator's processing-time early firings: the keys due at the entry's time. */
  windowProcessingTimers: '$q',
  /** Cleanup timers of state with a time-to-live in processing time. */
  processingTtlTimers: '$y',
} as const;

const keyed = (op: string, state: string, group: KeyGroup | number, encodedKey: string) => `k/${op}/${state}/${group}/${encodedKey}`;

export const stateKeys = {
  /** `c/i/<channel>`: the last sequence number taken from an input channel. */
  inSeq: (channel: string) => `c/i/${channel}`,
  /** `c/o/<channel>`: the last sequence number sent on an output channel. */
  outSeq: (channel: string) => `c/o/${channel}`,
  /** `c/e/<channel>`: the input channel delivered end of input. */
  ended: (channel: string) => `c/e/${channel}`,
  /** `c/a`: barrier alignment (core/alignment's AlignmentState). */
  alignment: 'c/a',
  /** `c/bh`: index of the first envelope in the alignment buffer. */
  bufferHead: 'c/bh',
  /** `c/bt`: index one past the last envelope in the alignment buffer. */
  bufferTail: 'c/bt',
  /** `c/b/<n>`: the n-th envelope held back by alignment, with its channel. */
  buffered: (n: number) => `c/b/${n}`,
  /** `c/p`: records taken in this generation, reported with each checkpoint's ack. */
  progress: 'c/p',
  /** `c/r`: records this generation sent on (downstream and into its sinks), reported with each ack. */
  emitted: 'c/r',
  /** `c/f`: end of input was forwarded: every input channel ended. */
  finished: 'c/f',
  /** `c/sc`: the subtask's incremental snapshot chain (core/snapshot-chain's SnapshotChain). */
  snapshotChain: 'c/sc',
  /** `c/t`: parallelism overrides of the state's generation, written by the restore. */
  topology: 'c/t',
  /** `wm/in/<upstream>`: the last watermark (and idleness) received from an upstream subtask.
   *  Snapshotted: an upstream subtask sends the same watermarks to every channel, in the same
   *  order relative to a barrier, so after a restore — at any parallelism — every channel starts from it. */
  inputWatermark: (upstream: string) => `wm/in/${upstream}`,
  /** `c/ti/<op>`: sorted times of a window operator's pending timers (rebuilt from `k/…/$t/` entries);
   *  `c/ti/<op>$x` those of its cleanup timers. */
  timerIndex: (op: string, timers: string = KEYED_STATE.windowTimers) => `c/ti/${op}${timers === KEYED_STATE.windowTimers ? '' : timers}`,
  /** `wm/current`: the subtask's watermark; snapshotted, so a restore resumes with it. */
  watermark: 'wm/current',
  /** `wm/pt`: the subtask's recorded processing time (the latest it received); snapshotted. */
  processingTime: 'wm/pt',
  /** `c/ws`: the watermark last sent downstream (idle flag included). */
  watermarkSent: 'c/ws',
  /** `cnt/<op>/<name>`: a counter an operator reports (late records dropped); summed when rescaling. */
  counter: (op: string, name: string) => `cnt/${op}/${name}`,
  /** `src/<op>`: a source's state (offset, round, rate limiting). */
  source: (op: string) => `src/${op}`,
  /** `k/<op>/<state>/<kg>/<key>`: one key's value of a keyed state. */
  keyed,
  /** `o/<op>/<s|u>/<state>`: a non-keyed function's list state, split evenly (`s`) or given
   *  whole (`u`, union) to the subtasks of a restore; one entry for the list. */
  operatorList: (op: string, state: string, union: boolean) => `o/${op}/${union ? 'u' : 's'}/${state}`,
  /** `b/<op>/<state>`: the subtask's copy of a broadcast (map) state, one entry for the map. */
  broadcast: (op: string, state: string) => `b/${op}/${state}`,
  windowCells: (op: string, group: KeyGroup | number, encodedKey: string) => keyed(op, KEYED_STATE.windowCells, group, encodedKey),
  windowTimers: (op: string, group: KeyGroup | number, time: number, timers: string = KEYED_STATE.windowTimers) => keyed(op, timers, group, String(time)),
  windowTimersPrefix: (op: string, timers: string = KEYED_STATE.windowTimers) => `k/${op}/${timers}/`,
  sinkPartPrefix: (op: string) => `snk/${op}/p/`,
  /** `snk/<op>/p/<part>`: a part staged since the last barrier; the value is its blob key. */
  sinkPart: (op: string, part: string) => `snk/${op}/p/${part}`,
  sinkTxnPrefix: (op: string) => `snk/${op}/t/`,
  /** `snk/<op>/t/<cp>/<subtask>`: a sealed transaction awaiting its commit (a SinkTransactionEntry). */
  sinkTxn: (op: string, checkpoint: number, subtask: number) => `snk/${op}/t/${checkpoint}/${subtask}`,
};

/** The value of a `sinkTxn` entry. */
export interface SinkTransactionEntry {
  /** Blob keys of the transaction's staged parts, in order. */
  readonly parts: string[];
}

export const SNAPSHOT_PREFIXES = ['src/', 'k/', 'b/', 'o/', 'snk/', 'wm/', 'cnt/'] as const;
/** Whether an entry is operator state (one of SNAPSHOT_PREFIXES), by its first letters:
 *  called for every changed key of every commit. */
export function isSnapshotted(key: string): boolean {
  switch (key.charCodeAt(0)) {
    case 107: // k/
    case 98: // b/
    case 111: // o/
      return key.charCodeAt(1) === 47;
    case 115: // src/, snk/
      return key.startsWith('src/') || key.startsWith('snk/');
    case 119: // wm/
      return key.startsWith('wm/');
    case 99: // cnt/ (c/ is the generation's own)
      return key.startsWith('cnt/');
    default:
      return false;
  }
}

/** The family of a key: its first segment (`k`, `snk`, `c`, …), as errors name it. */
export function stateKeyFamily(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}

/** Key group of a keyed-state entry key, or null for other entries. On the hot path: a
 *  hand-written scan rather than `parseStateKey`, which allocates. */
export function keyGroupOfEntry(key: string): number | null {
  if (!key.startsWith('k/')) return null;
  let slash = 1;
  for (let i = 0; i < 2; i++) slash = key.indexOf('/', slash + 1);
  const end = key.indexOf('/', slash + 1);
  return Number(key.slice(slash + 1, end));
}

/** The operator whose state a snapshotted entry is (`k/<op>/…`, `src/<op>`, `snk/<op>/…`,
 *  `cnt/<op>/…`), or null for a subtask's own entries (`wm/…`). A scan, as `keyGroupOfEntry`:
 *  a restore runs it over every entry. */
export function operatorOfEntry(key: string): string | null {
  const family = key.indexOf('/');
  if (family < 0) return null;
  const head = key.slice(0, family);
  if (head !== 'k' && head !== 'b' && head !== 'o' && head !== 'src' && head !== 'snk' && head !== 'cnt') return null;
  const end = key.indexOf('/', family + 1);
  return key.slice(family + 1, end < 0 ? key.length : end);
}

/** What a working-state key is an entry of, by family; built by the `stateKeys` builders above. */
export type StateKeyEntry =
  | { readonly kind: 'channel'; readonly field: 'inSeq' | 'outSeq' | 'ended'; readonly channel: string }
  | { readonly kind: 'generation'; readonly name: GenerationEntry }
  | { readonly kind: 'buffered'; readonly n: number }
  | { readonly kind: 'timer-index'; readonly op: string }
  | { readonly kind: 'watermark' }
  | { readonly kind: 'processing-time' }
  | { readonly kind: 'input-watermark'; readonly upstream: string }
  | { readonly kind: 'counter'; readonly op: string; readonly name: string }
  | { readonly kind: 'source'; readonly op: string }
  | { readonly kind: 'keyed'; readonly op: string; readonly state: string; readonly group: number; readonly key: string }
  | { readonly kind: 'broadcast'; readonly op: string; readonly state: string }
  | { readonly kind: 'operator-list'; readonly op: string; readonly state: string; readonly union: boolean }
  | { readonly kind: 'sink-part'; readonly op: string; readonly part: string }
  | { readonly kind: 'sink-txn'; readonly op: string; readonly checkpoint: number; readonly subtask: number }
  /** Not a key any builder makes; `family` is its first segment. */
  | { readonly kind: 'unknown'; readonly family: string };

type GenerationEntry = 'alignment' | 'bufferHead' | 'bufferTail' | 'progress' | 'emitted' | 'finished' | 'topology' | 'watermarkSent';

/** The generation's single entries by their short name under `c/`. */
const GENERATION_ENTRIES: ReadonlyMap<string, GenerationEntry> = new Map(
  (['alignment', 'bufferHead', 'bufferTail', 'progress', 'emitted', 'finished', 'topology', 'watermarkSent'] as const).map((name) => [
    stateKeys[name].slice(2),
    name,
  ]),
);

const CHANNEL_FIELDS: ReadonlyMap<string, 'inSeq' | 'outSeq' | 'ended'> = new Map([
  ['i', 'inSeq'],
  ['o', 'outSeq'],
  ['e', 'ended'],
]);

/** A segment of decimal digits as its number, or null: numeric segments are never anything else. */
function count(text: string): number | null {
  if (text.length === 0) return null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  return Number(text);
}

/** The `n` segments of `rest` split at its first `n - 1` slashes (the last keeps any further
 *  slashes, and may be empty: an encoded key or a part name is whatever it is), or null. */
function segments(rest: string, n: number): string[] | null {
  const out: string[] = [];
  let from = 0;
  for (let i = 0; i < n - 1; i++) {
    const slash = rest.indexOf('/', from);
    if (slash < 0) return null;
    out.push(rest.slice(from, slash));
    from = slash + 1;
  }
  out.push(rest.slice(from));
  return out.slice(0, -1).every((s) => s.length > 0) ? out : null;
}

/** Parses a working-state key into the entry it names (see `stateKeys`). */
export function parseStateKey(key: string): StateKeyEntry {
  const family = stateKeyFamily(key);
  const rest = key.slice(family.length + 1);
  const unknown = { kind: 'unknown', family } as const;
  switch (family) {
    case 'k': {
      const s = segments(rest, 4);
      const group = s && count(s[2]!);
      return s && group !== null ? { kind: 'keyed', op: s[0]!, state: s[1]!, group, key: s[3]! } : unknown;
    }
    case 'c': {
      const single = GENERATION_ENTRIES.get(rest);
      if (single) return { kind: 'generation', name: single };
      const s = segments(rest, 2);
      if (!s) return unknown;
      const field = CHANNEL_FIELDS.get(s[0]!);
      if (field) return { kind: 'channel', field, channel: s[1]! };
      const n = count(s[1]!);
      if (s[0] === 'b' && n !== null) return { kind: 'buffered', n };
      return s[0] === 'ti' ? { kind: 'timer-index', op: s[1]! } : unknown;
    }
    case 'wm': {
      if (key === stateKeys.watermark) return { kind: 'watermark' };
      if (key === stateKeys.processingTime) return { kind: 'processing-time' };
      const s = segments(rest, 2);
      return s && s[0] === 'in' ? { kind: 'input-watermark', upstream: s[1]! } : unknown;
    }
    case 'cnt': {
      const s = segments(rest, 2);
      return s ? { kind: 'counter', op: s[0]!, name: s[1]! } : unknown;
    }
    case 'b': {
      const s = segments(rest, 2);
      return s ? { kind: 'broadcast', op: s[0]!, state: s[1]! } : unknown;
    }
    case 'o': {
      const s = segments(rest, 3);
      return s && (s[1] === 's' || s[1] === 'u') ? { kind: 'operator-list', op: s[0]!, state: s[2]!, union: s[1] === 'u' } : unknown;
    }
    case 'src':
      return rest.length > 0 && !rest.includes('/') ? { kind: 'source', op: rest } : unknown;
    case 'snk': {
      const s = segments(rest, 3);
      if (s?.[1] === 'p') return { kind: 'sink-part', op: s[0]!, part: s[2]! };
      const t = s?.[1] === 't' ? segments(s[2]!, 2) : null;
      const [checkpoint, subtask] = t ? [count(t[0]!), count(t[1]!)] : [null, null];
      return checkpoint !== null && subtask !== null ? { kind: 'sink-txn', op: s![0]!, checkpoint, subtask } : unknown;
    }
    default:
      return unknown;
  }
}
