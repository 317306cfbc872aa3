/**
 * Recovery / dead-letter Lambda: fed by every stage's dead-letter queue. Counts malformed
 * messages, fails the job over when a valid message of the current generation was lost.
 *
 * A failed batch is retried whatever `classify` decides: a dead-letter queue is the last
 * stop of a message, so nothing here may be dropped or dead-lettered again, and a failover
 * request that did not land must be made again. The decision is logged with the error.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { classify } from '../lib/core/error-boundary.js';
import { DeadLetterRuntime } from '../lib/runtime/dead-letter-runtime.js';
import { handlerContext, type HandlerDeps, type JobInput } from './handler-context.js';

export function createRecoveryHandler(job: JobInput, deps: HandlerDeps = {}) {
  let runtime: DeadLetterRuntime | undefined;
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    if (!runtime) {
      const ctx = handlerContext(job, deps);
      runtime = new DeadLetterRuntime(ctx.graph, ctx.ports);
    }
    try {
      await runtime.handle(event.Records.map((r) => r.body));
      return { batchItemFailures: [] };
    } catch (e) {
      console.warn(`dead-letter handling failed (${classify(e)}); the batch will be retried`, e);
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    }
  };
}
