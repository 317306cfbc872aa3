/**
 * Coordinator Lambda: invoked by the EventBridge heartbeat (a scheduled event) and by its own
 * timer queue (SQS events), it runs the schedule and one checkpoint-coordinator tick. A
 * deployed job that was never started is started by the first heartbeat. Each aborted
 * checkpoint is published as a CloudWatch metric (an EMF log line) for the alarm.
 *
 * A tick has no batch to report on: an error fails the invocation, and the next heartbeat
 * or the redelivered timer message runs the tick again (`classify`'s retry, whatever the
 * error — a subtask's terminal errors are failed over by the operators, not here).
 */
import type { ScheduledEvent, SQSEvent } from 'aws-lambda';
import type { CheckpointFailureReason } from '../lib/core/manifest.js';
import { failedCheckpointMetric } from '../lib/core/metrics.js';
import { CoordinatorRuntime, type CoordinatorOptions } from '../lib/runtime/coordinator-runtime.js';
import { onSchedule } from '../lib/runtime/coordinator-schedule.js';
import { parseTimerMessage } from '../lib/core/wire/queue-bodies.js';
import { RecoveryManager } from '../lib/runtime/recovery-manager.js';
import { handlerContext, type HandlerContext, type HandlerDeps, type JobInput } from './handler-context.js';

export interface CoordinatorDeps extends HandlerDeps {
  readonly coordinator?: CoordinatorOptions;
  /**
   * Where the EMF metric lines go. @default stdout, where Lambda's log capture and CloudWatch
   * look for them; a local host sends them elsewhere (a `--json` run owns its stdout).
   */
  readonly metrics?: (line: string) => void;
}

export function createCoordinatorHandler(job: JobInput, deps: CoordinatorDeps = {}) {
  const metrics = deps.metrics ?? ((line: string) => process.stdout.write(`${line}\n`));
  let state: { ctx: HandlerContext; coordinator: CoordinatorRuntime; recovery: RecoveryManager } | undefined;
  return async (event: SQSEvent | ScheduledEvent): Promise<void> => {
    if (!state) {
      const ctx = handlerContext(job, deps);
      const recovery = new RecoveryManager(ctx.graph, ctx.ports);
      const onCheckpointFailed = (checkpoint: number, reason: CheckpointFailureReason) =>
        metrics(JSON.stringify(failedCheckpointMetric(ctx.graph.name, checkpoint, reason, ctx.ports.clock.now())));
      state = { ctx, recovery, coordinator: new CoordinatorRuntime(ctx.graph, ctx.ports, recovery, { onCheckpointFailed, ...deps.coordinator }) };
    }
    const { ctx, coordinator, recovery } = state;
    if ('Records' in event) {
      for (const record of event.Records) {
        const timer = parseTimerMessage(record.body, ctx.graph.name);
        if (timer) await onSchedule(ctx.graph, ctx.ports, coordinator, { kind: 'timer', token: timer.token });
      }
      return;
    }
    if (!(await ctx.ports.manifest.getJob(ctx.graph.name))) await recovery.start();
    await onSchedule(ctx.graph, ctx.ports, coordinator, { kind: 'heartbeat' });
  };
}
