/**
 * Operator Lambda: one per stage, fed by the stage's FIFO queue with partial batch responses
 * (ReportBatchItemFailures). The stage comes from TIDEMARK_STAGE.
 *
 * Errors are decided per message group inside the runtime (`classify`: retry, fail over, or
 * dead-letter). One that escapes it — a cold start that cannot build the runtime — fails the
 * invocation, so SQS redelivers the whole batch: `classify`'s retry, whatever the error.
 *
 * Sources pace themselves by the depth of the queues downstream (checkpointPacedFlow).
 *
 * A stack synthesized with `faultInjection` sets TIDEMARK_KILL_RATE: that fraction of
 * invocations ends the process at a random protocol step, as a crash would.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ConfigError } from '../lib/core/errors.js';
import { stageById } from '../lib/core/topology.js';
import { dieNow, KillSwitch, killRateFromEnv } from '../lib/runtime/kill-switch.js';
import { OperatorRuntime, type OperatorRuntimeOptions } from '../lib/runtime/operator-runtime.js';
import { checkpointPacedFlow } from '../lib/runtime/flow-control.js';
import { ENV } from '../lib/adapters/aws/config.js';
import { handlerContext, type HandlerDeps, type JobInput } from './handler-context.js';

export interface OperatorHandlerDeps extends HandlerDeps {
  readonly runtime?: OperatorRuntimeOptions;
  /** Called with the runtime once it exists (the local host reads its counters). */
  readonly observe?: (runtime: OperatorRuntime) => void;
}

interface ColdStart {
  readonly runtime: OperatorRuntime;
  readonly stage: string;
  readonly kill: KillSwitch | undefined;
}

export function createOperatorHandler(job: JobInput, deps: OperatorHandlerDeps = {}) {
  let state: ColdStart | undefined;
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    state ??= coldStart(job, deps);
    const { runtime, stage, kill } = state;
    const messages = event.Records.map((r) => ({ messageId: r.messageId, body: r.body, group: r.attributes.MessageGroupId ?? '' }));
    if (!kill) return runtime.handleBatch(stage, messages);
    const outcome = await kill.run(() => runtime.handleBatch(stage, messages));
    return outcome.killed ? dieNow() : outcome.value;
  };
}

function coldStart(job: JobInput, deps: OperatorHandlerDeps): ColdStart {
  const ctx = handlerContext(job, deps);
  const stage = ctx.env[ENV.stage];
  if (!stage) throw new ConfigError(ENV.stage, 'is not set: the operator function must know its stage');
  stageById(ctx.topology, stage);
  const rate = killRateFromEnv(ctx.env[ENV.killRate]);
  const kill = rate === undefined ? undefined : new KillSwitch(rate);
  const ports = kill ? kill.wrap(ctx.ports) : ctx.ports;
  // Sources wait while a downstream queue holds about half a checkpoint interval of work, so
  // a barrier never queues behind more (lib/runtime/flow-control.ts); the sends' grants
  // already allow the GetQueueAttributes this takes.
  const flow = checkpointPacedFlow(ports.queue, ctx.graph.checkpoints.interval, () => ports.clock.now(), 20);
  const runtime = new OperatorRuntime(ctx.graph, ports, { logger: console, flow, ...deps.runtime });
  deps.observe?.(runtime);
  return { runtime, stage, kill };
}
