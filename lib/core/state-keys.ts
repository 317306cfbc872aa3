/**
 * Keys inside a subtask's working state (a flat key-value map). Entries under `c/` belong
 * to the generation (channel sequence numbers, alignment, buffer) and are never part of a
 * snapshot; entries under `src/`, `k/`, `snk/`, `wm/` and `cnt/` are operator state and are
 * snapshotted. Keyed entries carry their key group: `k/<op>/<state>/<kg>/<key>`; a window
 * operator's timers are keyed entries too (`k/<op>/$t/<kg>/<time>`).
 */
import type { KeyGroup } from './ids.js';

export const stateKeys = {
  inSeq: (channel: string) => `c/i/${channel}`,
  outSeq: (channel: string) => `c/o/${channel}`,
  ended: (channel: string) => `c/e/${channel}`,
  alignment: 'c/a',
  bufferHead: 'c/bh',
  bufferTail: 'c/bt',
  buffered: (n: number) => `c/b/${n}`,
  progress: 'c/p',
  /** End of input was forwarded: every input channel ended. */
  finished: 'c/f',
  /** Parallelism overrides of the state's generation, written by the restore. */
  topology: 'c/t',
  /** The last watermark (and idleness) received from an upstream subtask. Snapshotted: an
   *  upstream subtask sends the same watermarks to every channel, in the same order relative
   *  to a barrier, so after a restore — at any parallelism — every channel starts from it. */
  inputWatermark: (upstream: string) => `wm/in/${upstream}`,
  /** Sorted times of a window operator's pending timers (rebuilt from `k/…/$t/` entries). */
  timerIndex: (op: string) => `c/ti/${op}`,
  /** The subtask's watermark: snapshotted, so a restore resumes with it. */
  watermark: 'wm/current',
  /** The watermark last sent downstream (idle flag included). */
  watermarkSent: 'c/ws',
  /** Counters an operator reports (late records dropped); summed when rescaling. */
  counter: (op: string, name: string) => `cnt/${op}/${name}`,
  source: (op: string) => `src/${op}`,
  keyed: (op: string, state: string, group: KeyGroup | number, encodedKey: string) => `k/${op}/${state}/${group}/${encodedKey}`,
  sinkPartPrefix: (op: string) => `snk/${op}/p/`,
  sinkPart: (op: string, part: string) => `snk/${op}/p/${part}`,
  sinkTxnPrefix: (op: string) => `snk/${op}/t/`,
  sinkTxn: (op: string, checkpoint: number, subtask: number) => `snk/${op}/t/${checkpoint}/${subtask}`,
};

export const SNAPSHOT_PREFIXES = ['src/', 'k/', 'snk/', 'wm/', 'cnt/'] as const;
export const isSnapshotted = (key: string) => SNAPSHOT_PREFIXES.some((p) => key.startsWith(p));

/** Key group of a keyed-state entry key, or null for other entries. */
export function keyGroupOfEntry(key: string): number | null {
  if (!key.startsWith('k/')) return null;
  let slash = 1;
  for (let i = 0; i < 2; i++) slash = key.indexOf('/', slash + 1);
  const end = key.indexOf('/', slash + 1);
  return Number(key.slice(slash + 1, end));
}
