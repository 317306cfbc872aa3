/**
 * Operator Lambda: one per stage, fed by the stage's FIFO queue with partial batch responses
 * (ReportBatchItemFailures). The stage comes from TIDEMARK_STAGE.
 *
 * Errors are decided per message group inside the runtime (`classify`: retry, fail over, or
 * dead-letter). One that escapes it — a cold start that cannot build the runtime — fails the
 * invocation, so SQS redelivers the whole batch: `classify`'s retry, whatever the error.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ConfigError } from '../lib/core/errors.js';
import { stageById } from '../lib/core/topology.js';
import { OperatorRuntime, type OperatorRuntimeOptions } from '../lib/runtime/operator-runtime.js';
import { ENV } from '../lib/adapters/aws/config.js';
import { handlerContext, type HandlerDeps, type JobInput } from './handler-context.js';

export interface OperatorHandlerDeps extends HandlerDeps {
  readonly runtime?: OperatorRuntimeOptions;
  /** Called with the runtime once it exists (the local host reads its counters). */
  readonly observe?: (runtime: OperatorRuntime) => void;
}

export function createOperatorHandler(job: JobInput, deps: OperatorHandlerDeps = {}) {
  let state: { runtime: OperatorRuntime; stage: string } | undefined;
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    if (!state) {
      const ctx = handlerContext(job, deps);
      const stage = ctx.env[ENV.stage];
      if (!stage) throw new ConfigError(ENV.stage, 'is not set: the operator function must know its stage');
      stageById(ctx.topology, stage);
      state = { runtime: new OperatorRuntime(ctx.graph, ctx.ports, { logger: console, ...deps.runtime }), stage };
      deps.observe?.(state.runtime);
    }
    const messages = event.Records.map((r) => ({ messageId: r.messageId, body: r.body, group: r.attributes.MessageGroupId ?? '' }));
    return state.runtime.handleBatch(state.stage, messages);
  };
}
