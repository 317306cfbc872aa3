/**
 * What the sequential evaluation does with a record a user function throws on, operator by
 * operator as the engine does (`onUserError`, stamped on every operator). By default the
 * error ends the evaluation, as it fails the job over. With 'dead-letter' the record is
 * skipped at that operator: the caller undoes what the call did (evaluate-operators.ts,
 * evaluate-windows.ts) and the record is kept as the engine's dead letter for it: one per
 * distinct (operator, record JSON), since the engine names the object by the record's
 * digest and equal records (a broadcast's copies among them) share it.
 */
import type { OperatorNode } from '../core/graph.js';
import { encodeKey } from '../core/keygroups.js';

export interface UserErrors {
  /** Whether a record a user function throws on is skipped (then the call must be undone). */
  readonly skips: boolean;
  /** A copy of state handed to a user function, when a throw must leave the state as it was. */
  readonly own: <T>(value: T) => T;
  /** The operator threw `error` on `record`: rethrows it, or (dead-letter) skips the record. */
  readonly reject: (error: unknown, record: unknown) => void;
  /**
   * The key `selector` gives `record` crossing a keyBy into the operator, with its encoding;
   * null when the record is skipped there. A key is a string or a finite number — the rule of
   * `encodeKey`, which throws otherwise, as the engine's keyBy does — and it is computed before
   * the operator sees the record, so a bad one is the operator's error on that record.
   */
  readonly key: (selector: (value: unknown) => unknown, record: unknown) => { key: unknown; encoded: string } | null;
}

/** The records skipped to the dead-letter output, distinct by JSON, per operator. */
export class DeadLetters {
  private readonly byOperator = new Map<string, Map<string, unknown>>();

  add(operator: string, record: unknown): void {
    let records = this.byOperator.get(operator);
    if (!records) this.byOperator.set(operator, (records = new Map()));
    const json = recordJson(record);
    if (!records.has(json)) records.set(json, record);
  }

  /** Per operator, the records the engine writes one dead letter each for. */
  records(): Map<string, unknown[]> {
    return new Map([...this.byOperator].map(([operator, records]) => [operator, [...records.values()]]));
  }
}

const rethrow = (error: unknown): never => {
  throw error;
};

/** Default: the raw key, and the raw error, exactly as the evaluation always did. */
const failing: UserErrors = {
  skips: false,
  own: (value) => value,
  reject: rethrow,
  key: (selector, record) => {
    const key = selector(record);
    return { key, encoded: encodeKey(key) };
  },
};

export function userErrors(op: OperatorNode, letters: DeadLetters): UserErrors {
  if (op.onUserError !== 'dead-letter') return failing;
  const reject = (_error: unknown, record: unknown) => letters.add(op.name, record);
  return {
    skips: true,
    own: structuredClone,
    reject,
    key: (selector, record) => {
      try {
        const key = selector(record);
        return { key, encoded: encodeKey(key) };
      } catch (error) {
        reject(error, record);
        return null;
      }
    },
  };
}

/** As the engine writes a dead letter's record: its JSON, or the text of what is not JSON. */
function recordJson(record: unknown): string {
  try {
    return JSON.stringify(record) ?? 'null';
  } catch {
    return JSON.stringify(String(record));
  }
}
