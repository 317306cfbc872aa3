/**
 * What one call of a process function emits, held until the call returns: then it goes on
 * (main output to the rest of the chain, side outputs routed from the operator), and a call
 * that throws — and is skipped — leaves nothing behind. Shared by the keyed process operator
 * and the one with operator state.
 */
import { UserFunctionError } from '../core/errors.js';
import { sideOutputPort, type OutputPort } from '../core/graph.js';
import type { RoutedPort } from './output-router.js';

export interface CallOutputsIO {
  /** The rest of the chain (main output). */
  readonly next: (value: unknown, timestamp: number | undefined) => void;
  /** Other outputs, routed from this operator. */
  readonly out: (value: unknown, timestamp: number | undefined, fromOp: string, port: RoutedPort) => void;
}

export class CallOutputs {
  private held: [unknown, number | undefined, OutputPort | null][] = [];
  private readonly declared: ReadonlySet<string>;

  constructor(
    private readonly operator: string,
    sideOutputs: readonly string[] | undefined,
    private readonly io: CallOutputsIO,
  ) {
    this.declared = new Set(sideOutputs ?? []);
  }

  /** A call begins: nothing held. */
  clear(): void {
    this.held = [];
  }

  emit(value: unknown, timestamp: number | undefined): void {
    this.held.push([value, timestamp, null]);
  }

  /** To side output `tag`, which the function must declare. */
  output(tag: string, value: unknown, timestamp: number | undefined): void {
    if (!this.declared.has(tag)) throw UserFunctionError.invalid(this.operator, `emitted to side output ${JSON.stringify(tag)}, which it does not declare in sideOutputs`, null);
    this.held.push([value, timestamp, sideOutputPort(tag)]);
  }

  /** The call returned: what it emitted goes on, in order. */
  passOn(): void {
    for (const [value, at, port] of this.held) {
      if (port === null) this.io.next(value, at);
      else this.io.out(value, at, this.operator, port);
    }
    this.held = [];
  }
}
