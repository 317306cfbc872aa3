/**
 * The local Lambda host: what AWS does around Tidemark's functions, played over the ports
 * (memory adapters or an SQS/S3/DynamoDB emulator), calling the same handlers `functions/`
 * exports.
 *
 * - Per stage queue, Lambda's SQS event source: one receiver (which keeps the FIFO order of
 *   any emulator, even one without group locking; it short-polls, backing off when idle, so
 *   that an emulator whose long polls return late costs nothing), batches of
 *   at most `batchSize`, each handed to
 *   an invocation while the receiver goes on receiving; the queue itself keeps one batch in
 *   flight per message group; up to `parallelism` invocations at once (the construct's
 *   maximum concurrency); successful messages deleted, failed ones left to their
 *   visibility timeout, and the queue's redrive policy moves them to the DLQ.
 * - The DLQs feed the recovery function; the coordinator runs on the EventBridge heartbeat
 *   and on its own timer queue. Its metric lines go to stderr (or `metrics`), not stdout.
 * - `killRate` makes a fraction of operator invocations die at a random protocol step
 *   (the coordinator and recovery functions are left alone: their schedule would otherwise
 *   wait for the next heartbeat, a minute, after a kill).
 */
import { settle, type PartialBatchResponse } from './event-source.js';
import { scheduledEvent, sqsEvent } from './lambda-events.js';
import { KillSwitch } from '../lib/runtime/kill-switch.js';
import { createCoordinatorHandler } from '../functions/coordinator.js';
import { createOperatorHandler } from '../functions/operator.js';
import { createRecoveryHandler } from '../functions/recovery.js';
import { ENV } from '../lib/adapters/aws/config.js';
import { HEARTBEAT_MS } from '../lib/core/coordinator-timer.js';
import type { JobGraph } from '../lib/core/graph.js';
import { compileTopology, type Topology } from '../lib/core/topology.js';
import type { Ports } from '../lib/ports/index.js';
import type { ReceivedMessage } from '../lib/ports/queue.js';
import type { CoordinatorOptions } from '../lib/runtime/coordinator-runtime.js';
import type { OperatorRuntime, OperatorRuntimeOptions } from '../lib/runtime/operator-runtime.js';
import { RecoveryManager } from '../lib/runtime/recovery-manager.js';
import type { Billing, LambdaRole } from '../lib/core/cost.js';

/** The construct's default memory sizes (infra/validate-props.ts), in MiB. */
export const DEFAULT_MEMORY_MIB: Readonly<Record<LambdaRole, number>> = { operator: 1024, coordinator: 512, recovery: 512 };

export interface LocalHostOptions {
  /** Lambda's SQS batch size. @default 10 */
  readonly batchSize?: number;
  /** Visibility timeout of received messages (extended while their invocation runs). @default 30 s */
  readonly visibilityTimeoutMs?: number;
  /** Heartbeat period (EventBridge's rate). @default 60 s */
  readonly heartbeatMs?: number;
  /** Longest pause of a receiver that keeps finding its queue empty. @default 100 ms */
  readonly idleMs?: number;
  /** Fraction of invocations that die mid-batch. @default 0 */
  readonly killRate?: number;
  readonly random?: () => number;
  readonly runtime?: OperatorRuntimeOptions;
  readonly coordinator?: CoordinatorOptions;
  /** Where handler warnings go. @default silent */
  readonly log?: (message: string) => void;
  /**
   * Where the coordinator's CloudWatch metric lines (EMF) go. @default stderr: on Lambda they
   * belong on stdout, locally stdout is the CLI's (one JSON summary with `--json`).
   */
  readonly metrics?: (line: string) => void;
  /**
   * Where invocations are counted for the bill: one Lambda request each and GB-seconds from
   * the invocation's duration measured here, in process (concurrent invocations share one
   * CPU, so these are local durations, not what AWS would measure), times the role's memory.
   */
  readonly billing?: Billing;
  /** @default DEFAULT_MEMORY_MIB */
  readonly memoryMiB?: Readonly<Record<LambdaRole, number>>;
}

export interface HostStats {
  invocations: number;
  messages: number;
  failedMessages: number;
  kills: number;
  coordinatorInvocations: number;
}

type SqsHandler = (event: ReturnType<typeof sqsEvent>) => Promise<unknown>;

/** Dead letters are rare: their queues are polled lazily. The timer needs ~0.2 s precision. */
const DEAD_LETTER_IDLE_MS = 1000;
const TIMER_IDLE_MS = 200;

export class LocalLambdaHost {
  readonly topology: Topology;
  readonly recovery: RecoveryManager;
  readonly stats: HostStats = { invocations: 0, messages: 0, failedMessages: 0, kills: 0, coordinatorInvocations: 0 };
  private readonly runtimes = new Map<string, OperatorRuntime>();
  private readonly kill: KillSwitch;
  private running = false;
  private loops: Promise<void>[] = [];
  private inFlight = new Set<Promise<unknown>>();

  constructor(
    readonly graph: JobGraph,
    private readonly ports: Ports,
    private readonly options: LocalHostOptions = {},
  ) {
    this.topology = compileTopology(graph);
    this.recovery = new RecoveryManager(graph, ports, options.runtime ?? {});
    this.kill = new KillSwitch(options.killRate ?? 0, options.random);
  }

  /** Records counted by the operator functions: read by sources, into sinks, and taken in
   *  by non-source stages (records that crossed a queue). */
  get records() {
    const all = [...this.runtimes.values()];
    const sum = (k: 'sourceRecords' | 'recordsToSinks') => all.reduce((n, r) => n + r.stats[k], 0);
    const crossed = this.topology.stages.filter((s) => !s.isSource).reduce((n, s) => n + (this.runtimes.get(s.id)?.stats.recordsIn ?? 0), 0);
    return { sourceRecords: sum('sourceRecords'), recordsToSinks: sum('recordsToSinks'), crossedQueues: crossed };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const killable = this.kill.wrap(this.ports);
    const ports = this.ports;
    const logger = this.options.log ? { warn: (m: string, d?: unknown) => this.options.log!(`${m} ${JSON.stringify(d ?? {})}`) } : { warn: () => {} };
    const runtime = { ...this.options.runtime, logger };
    const idle = this.options.idleMs ?? 100;
    for (const stage of this.topology.stages) {
      const handler = createOperatorHandler(this.graph, {
        ports: killable,
        env: { [ENV.stage]: stage.id },
        runtime,
        observe: (r) => this.runtimes.set(stage.id, r),
      });
      this.loops.push(this.receive(stage.queue, handler, stage.parallelism, true, idle, 'operator'));
      const recovery = createRecoveryHandler(this.graph, { ports, env: {} });
      this.loops.push(this.receive(stage.deadLetterQueue, recovery, 1, false, DEAD_LETTER_IDLE_MS, 'recovery'));
    }
    const metrics = this.options.metrics ?? ((line: string) => process.stderr.write(`${line}\n`));
    const coordinator = createCoordinatorHandler(this.graph, { ports, env: {}, metrics, ...(this.options.coordinator ? { coordinator: this.options.coordinator } : {}) });
    this.loops.push(this.receive(this.topology.resources.timerQueue, async (e) => this.coordinatorCall(() => coordinator(e)), 1, false, Math.max(idle, TIMER_IDLE_MS), 'coordinator'));
    this.loops.push(this.heartbeat(coordinator));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.all(this.inFlight);
    this.loops = [];
  }

  private async coordinatorCall(call: () => Promise<unknown>): Promise<unknown> {
    this.stats.coordinatorInvocations++;
    return call();
  }

  private async heartbeat(coordinator: (e: ReturnType<typeof scheduledEvent>) => Promise<void>): Promise<void> {
    const period = this.options.heartbeatMs ?? HEARTBEAT_MS;
    while (this.running) {
      await this.invoke(() => this.coordinatorCall(() => coordinator(scheduledEvent('heartbeat', this.ports.clock.now()))), [], false, 'coordinator');
      for (let waited = 0; this.running && waited < period; waited += 100) await this.ports.clock.sleep(Math.min(100, period));
    }
  }

  /** Lambda's event source for one queue. */
  private async receive(queue: string, handler: SqsHandler, concurrency: number, killable: boolean, idleMs: number, role: LambdaRole): Promise<void> {
    const visibilityTimeoutMs = this.visibilityTimeoutMs();
    const mine = new Set<Promise<unknown>>();
    let empty = 0;
    while (this.running) {
      if (mine.size >= concurrency) {
        await Promise.race(mine);
        continue;
      }
      let messages: ReceivedMessage[];
      try {
        messages = await this.ports.queue.receive(queue, { max: this.options.batchSize ?? 10, visibilityTimeoutMs });
      } catch (e) {
        this.options.log?.(`receive from ${queue} failed: ${String(e)}`);
        await this.ports.clock.sleep(500);
        continue;
      }
      if (messages.length === 0) {
        empty++;
        await (empty < 4 ? new Promise((r) => setImmediate(r)) : this.ports.clock.sleep(Math.min(idleMs, 5 * empty)));
        continue;
      }
      empty = 0;
      const p = this.invoke(() => handler(sqsEvent(queue, messages, this.ports.clock.now())), messages, killable, role, queue).finally(() => {
        mine.delete(p);
        this.inFlight.delete(p);
      });
      mine.add(p);
      this.inFlight.add(p);
    }
    await Promise.all(mine);
  }

  /**
   * While an invocation runs, its messages' visibility timeout is extended every half
   * timeout, so the timeout can be short: a batch whose invocation died (or whose receive
   * response was lost) comes back after one short timeout, while a slow live invocation
   * keeps its batch. Best effort: a failed extension at worst redelivers a batch, which the
   * protocol absorbs (sequence dedup, fencing).
   */
  private keepInFlight(queue: string, messages: readonly ReceivedMessage[]): () => void {
    const timeoutMs = this.visibilityTimeoutMs();
    if (messages.length === 0) return () => {};
    const timer = setInterval(() => {
      for (const m of messages) {
        this.ports.queue.changeVisibility(queue, m.receiptHandle, timeoutMs).catch((e) => this.options.log?.(`extending visibility failed: ${String(e)}`));
      }
    }, timeoutMs / 2);
    timer.unref();
    return () => clearInterval(timer);
  }

  private visibilityTimeoutMs(): number {
    return this.options.visibilityTimeoutMs ?? 30_000;
  }

  /** One invocation: may die (kill switch); afterwards, deletes what succeeded. */
  private async invoke(call: () => Promise<unknown>, messages: readonly ReceivedMessage[], killable: boolean, role: LambdaRole, queue?: string): Promise<void> {
    this.stats.invocations++;
    this.stats.messages += messages.length;
    let outcome;
    const stopExtending = queue ? this.keepInFlight(queue, messages) : () => {};
    const started = performance.now();
    const billed = () => this.options.billing?.lambdaInvocation(performance.now() - started, (this.options.memoryMiB ?? DEFAULT_MEMORY_MIB)[role]);
    try {
      outcome = killable ? await this.kill.run(call) : { killed: false as const, value: await call() };
      billed();
    } catch (e) {
      billed();
      // An unhandled error fails the whole batch, as in Lambda.
      this.options.log?.(`invocation failed: ${String(e)}`);
      this.stats.failedMessages += messages.length;
      return;
    } finally {
      stopExtending();
    }
    if (outcome.killed) {
      this.stats.kills++;
      return;
    }
    if (!queue || messages.length === 0) return;
    try {
      const settled = await settle(this.ports.queue, queue, messages, { returned: outcome.value as PartialBatchResponse | undefined });
      this.stats.failedMessages += settled.failed;
    } catch (e) {
      this.options.log?.(`delete failed: ${String(e)}`);
    }
  }
}
