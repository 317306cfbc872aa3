/**
 * The local Lambda host: plays, for every stage queue, the part of Lambda's SQS event
 * source that Tidemark relies on — receive a batch (at most `batchSize`), call the same
 * operator runtime the Lambda handler calls, delete what succeeded, leave failed messages
 * to their visibility timeout — and ticks the coordinator on a schedule. Dead-letter queues
 * feed the recovery/dead-letter runtime. It only talks to the ports, so it drives the
 * memory adapters and an SQS emulator alike.
 */
import type { JobGraph } from '../lib/core/graph.js';
import { compileTopology, type StageTopology } from '../lib/core/topology.js';
import type { Ports } from '../lib/ports/index.js';
import { CoordinatorRuntime } from '../lib/runtime/coordinator-runtime.js';
import { DeadLetterRuntime } from '../lib/runtime/dead-letter-runtime.js';
import { OperatorRuntime, type OperatorRuntimeOptions } from '../lib/runtime/operator-runtime.js';
import { RecoveryManager } from '../lib/runtime/recovery-manager.js';

export interface EventSourceHostOptions {
  /** Lambda's SQS batch size. @default 10 */
  readonly batchSize?: number;
  /** @default 30 s */
  readonly visibilityTimeoutMs?: number;
  /** Concurrent receivers per queue (Lambda's pollers). @default 1 */
  readonly receiversPerQueue?: number;
  /** Coordinator tick period (the sub-minute timer). @default 100 ms */
  readonly tickMs?: number;
  /** Pause of a receiver that found its queue empty. @default 5 ms */
  readonly idleMs?: number;
  readonly runtime?: OperatorRuntimeOptions;
}

export interface HostStats {
  batches: number;
  messages: number;
  failedMessages: number;
  ticks: number;
}

export class EventSourceHost {
  readonly runtime: OperatorRuntime;
  readonly recovery: RecoveryManager;
  readonly coordinator: CoordinatorRuntime;
  private readonly deadLetters: DeadLetterRuntime;
  private readonly stages: readonly StageTopology[];
  private running = false;
  private loops: Promise<void>[] = [];
  readonly stats: HostStats = { batches: 0, messages: 0, failedMessages: 0, ticks: 0 };

  constructor(
    readonly graph: JobGraph,
    private readonly ports: Ports,
    private readonly options: EventSourceHostOptions = {},
  ) {
    this.runtime = new OperatorRuntime(graph, ports, options.runtime);
    this.recovery = new RecoveryManager(graph, ports, options.runtime ?? {});
    this.coordinator = new CoordinatorRuntime(graph, ports, this.recovery);
    this.deadLetters = new DeadLetterRuntime(graph, ports);
    this.stages = compileTopology(graph).stages;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const receivers = this.options.receiversPerQueue ?? 1;
    for (const stage of this.stages) {
      for (let i = 0; i < receivers; i++) this.loops.push(this.receive(stage));
      this.loops.push(this.drainDeadLetters(stage));
    }
    this.loops.push(this.tickLoop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Yields to timers and I/O: in-memory ports otherwise keep the microtask queue busy forever. */
  private yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  private async receive(stage: StageTopology): Promise<void> {
    const { queue, clock } = this.ports;
    const visibilityTimeoutMs = this.options.visibilityTimeoutMs ?? 30_000;
    let empty = 0;
    while (this.running) {
      const messages = await queue.receive(stage.queue, { max: this.options.batchSize ?? 10, visibilityTimeoutMs });
      if (messages.length === 0) {
        // Back off gradually: the first empty receives only yield, long idleness sleeps.
        if (++empty < 8) await this.yieldTurn();
        else await clock.sleep(Math.min(this.options.idleMs ?? 5, empty));
        continue;
      }
      empty = 0;
      const { batchItemFailures } = await this.runtime.handleBatch(stage.id, messages);
      const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.messageId)).map((m) => m.receiptHandle);
      if (done.length > 0) await queue.delete(stage.queue, done);
      this.stats.batches++;
      this.stats.messages += messages.length;
      this.stats.failedMessages += failed.size;
      await this.yieldTurn();
    }
  }

  private async drainDeadLetters(stage: StageTopology): Promise<void> {
    const { queue, clock } = this.ports;
    while (this.running) {
      const messages = await queue.receive(stage.deadLetterQueue, { max: 10, visibilityTimeoutMs: 30_000 });
      if (messages.length === 0) {
        await clock.sleep(200);
        continue;
      }
      await this.deadLetters.handle(messages.map((m) => m.body));
      await queue.delete(stage.deadLetterQueue, messages.map((m) => m.receiptHandle));
    }
  }

  private async tickLoop(): Promise<void> {
    const period = this.options.tickMs ?? 100;
    while (this.running) {
      await this.coordinator.tick();
      this.stats.ticks++;
      await this.ports.clock.sleep(period);
    }
  }
}
