/**
 * Coordinator Lambda: invoked by the EventBridge heartbeat (a scheduled event) and by its own
 * timer queue (SQS events), it runs the schedule and one checkpoint-coordinator tick.
 */
import type { ScheduledEvent, SQSEvent } from 'aws-lambda';
import { CoordinatorRuntime, type CoordinatorOptions } from '../lib/runtime/coordinator-runtime.js';
import { onSchedule, parseTimerMessage } from '../lib/runtime/coordinator-schedule.js';
import { RecoveryManager } from '../lib/runtime/recovery-manager.js';
import { handlerContext, type HandlerContext, type HandlerDeps, type JobInput } from './handler-context.js';

export function createCoordinatorHandler(job: JobInput, deps: HandlerDeps & { coordinator?: CoordinatorOptions } = {}) {
  let state: { ctx: HandlerContext; coordinator: CoordinatorRuntime } | undefined;
  return async (event: SQSEvent | ScheduledEvent): Promise<void> => {
    if (!state) {
      const ctx = handlerContext(job, deps);
      state = { ctx, coordinator: new CoordinatorRuntime(ctx.graph, ctx.ports, new RecoveryManager(ctx.graph, ctx.ports), deps.coordinator) };
    }
    const { ctx, coordinator } = state;
    if ('Records' in event) {
      for (const record of event.Records) {
        const timer = parseTimerMessage(record.body, ctx.graph.name);
        if (timer) await onSchedule(ctx.graph, ctx.ports, coordinator, { kind: 'timer', token: timer.token });
      }
      return;
    }
    await onSchedule(ctx.graph, ctx.ports, coordinator, { kind: 'heartbeat' });
  };
}
