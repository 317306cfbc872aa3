/**
 * Queue port on SQS. FIFO queues (names ending in `.fifo`) get MessageGroupId and
 * MessageDeduplicationId; standard queues (the coordinator's timer) get DelaySeconds instead.
 *
 * What must hold:
 * - `sendBatch` reports exactly the entries SQS did not accept for reasons of its own (an
 *   entry refused as invalid, SenderFault, throws AwsRequestError). SQS reports each entry on its
 *   own and does not promise that a failed FIFO entry stops later entries of its group (the
 *   SendMessageBatch reference only says entries are enqueued in order and results may mix),
 *   so a later entry of the same group may be in the queue ahead of the failed one; the
 *   caller (runtime/sender) must be written for that.
 * - Queue URLs are looked up by name once per adapter (GetQueueUrl) and forgotten when SQS
 *   says the queue does not exist, so a queue created later is found.
 * Some emulators end deduplication when a message is deleted (SQS keeps ids for 5 minutes):
 * downstream sequence dedup drops such a resend.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MAX_SEND_BATCH, type OutgoingMessage, type Queue, type QueueDepth, type ReceivedMessage, type SendOutcome } from '../../ports/queue.js';
import { InvariantError, TransientStorageError } from '../../core/errors.js';
import { attempt, awsCode, AwsRequestError } from './errors.js';

/** SQS's rule: FIFO queue names end in `.fifo`. */
const isFifo = (name: string) => name.endsWith('.fifo');
const MAX_DELAY_SECONDS = 900;
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

export interface SqsQueueOptions {
  /** ReceiveMessage long-poll wait. @default 0 */
  readonly waitTimeSeconds?: number;
}

export class SqsQueue implements Queue {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(
    private readonly client: SQSClient,
    private readonly options: SqsQueueOptions = {},
  ) {}

  async sendBatch(queue: string, messages: readonly OutgoingMessage[]): Promise<SendOutcome> {
    if (messages.length === 0) return { failed: [] };
    if (messages.length > MAX_SEND_BATCH) throw new InvariantError(`sendBatch to ${queue}: ${messages.length} entries, SQS takes at most ${MAX_SEND_BATCH}`);
    const fifo = isFifo(queue);
    const Entries = messages.map((m, i) =>
      fifo
        ? { Id: String(i), MessageBody: m.body, MessageGroupId: m.group, MessageDeduplicationId: m.dedupId }
        : { Id: String(i), MessageBody: m.body, ...(m.delaySeconds ? { DelaySeconds: clampDelay(m.delaySeconds) } : {}) },
    );
    const out = await this.call(queue, 'SendMessageBatch', (QueueUrl) => this.client.send(new SendMessageBatchCommand({ QueueUrl, Entries })));
    // An entry refused for what it is (InvalidMessageContents, too long, ...) fails again on
    // every resend: that is an error to report, not an entry to retry.
    const refused = (out.Failed ?? []).find((f) => f.SenderFault);
    if (refused) {
      const detail = new Error(`entry ${refused.Id} refused: ${refused.Code}: ${refused.Message ?? ''}`);
      throw new AwsRequestError('sqs', `SendMessageBatch ${queue}`, refused.Code ?? 'Unknown', 200, { cause: detail });
    }
    const failed = (out.Failed ?? []).map((f) => Number(f.Id)).filter((i) => Number.isInteger(i));
    return { failed: failed.sort((a, b) => a - b) };
  }

  async receive(queue: string, options: { max: number; visibilityTimeoutMs: number }): Promise<ReceivedMessage[]> {
    const out = await this.call(queue, 'ReceiveMessage', (QueueUrl) =>
      this.client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: Math.max(1, Math.min(MAX_SEND_BATCH, options.max)),
          VisibilityTimeout: toSeconds(options.visibilityTimeoutMs),
          WaitTimeSeconds: this.options.waitTimeSeconds ?? 0,
          MessageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount'],
        }),
      ),
    );
    return (out.Messages ?? []).map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      group: m.Attributes?.MessageGroupId ?? '',
      body: m.Body ?? '',
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
    }));
  }

  async delete(queue: string, receiptHandles: readonly string[]): Promise<void> {
    for (let i = 0; i < receiptHandles.length; i += MAX_SEND_BATCH) {
      const chunk = receiptHandles.slice(i, i + MAX_SEND_BATCH);
      const Entries = chunk.map((ReceiptHandle, j) => ({ Id: String(j), ReceiptHandle }));
      const out = await this.call(queue, 'DeleteMessageBatch', (QueueUrl) => this.client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries })));
      // A stale receipt handle (the message was redelivered meanwhile) fails its entry; like
      // the memory queue, that is not an error: the newer receiver owns the message now.
      const failed = (out.Failed ?? []).filter((f) => f.Code !== 'ReceiptHandleIsInvalid');
      const first = failed[0];
      if (first) {
        const detail = new Error(`${failed.length} of ${chunk.length} deletes failed, first: ${first.Code}: ${first.Message ?? ''}`);
        if (first.SenderFault) throw new AwsRequestError('sqs', `DeleteMessageBatch ${queue}`, first.Code ?? 'Unknown', 200, { cause: detail });
        throw new TransientStorageError(`sqs DeleteMessageBatch ${queue}`, { cause: detail });
      }
    }
  }

  async changeVisibility(queue: string, receiptHandle: string, timeoutMs: number): Promise<void> {
    await this.call(queue, 'ChangeMessageVisibility', (QueueUrl) =>
      this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: toSeconds(timeoutMs) })),
    );
  }

  async depth(queue: string): Promise<QueueDepth> {
    const out = await this.call(queue, 'GetQueueAttributes', (QueueUrl) =>
      this.client.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      ),
    );
    return {
      visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  /** Resolves the URL (cached) and runs one call; errors come back translated. */
  private async call<T>(queue: string, operation: string, send: (url: string) => Promise<T>): Promise<T> {
    const url = await this.url(queue);
    try {
      return await attempt('sqs', `${operation} ${queue}`, () => send(url));
    } catch (e) {
      if (isMissingQueue(e)) this.urls.delete(queue);
      throw e;
    }
  }

  private url(queue: string): Promise<string> {
    let url = this.urls.get(queue);
    if (!url) {
      url = attempt('sqs', `GetQueueUrl ${queue}`, async () => (await this.client.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl!);
      this.urls.set(queue, url);
      // A failed lookup is not cached: the next call asks again.
      url.catch(() => this.urls.delete(queue));
    }
    return url;
  }
}

/** Milliseconds to SQS's whole seconds, rounding up (a timeout never ends early). */
const toSeconds = (ms: number) => Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(ms / 1000)));
const clampDelay = (s: number) => Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(s)));

const isMissingQueue = (e: unknown) => {
  const code = awsCode((e as { cause?: unknown }).cause ?? e);
  return code === 'QueueDoesNotExist' || code === 'AWS.SimpleQueueService.NonExistentQueue';
};
