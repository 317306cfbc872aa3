/**
 * The events Lambda hands to functions, built from what the local host received: an SQS
 * event for a batch (with the attributes our handlers read), and EventBridge's scheduled
 * event for the heartbeat.
 */
import type { ScheduledEvent, SQSEvent } from 'aws-lambda';
import type { ReceivedMessage } from '../lib/ports/queue.js';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

export function sqsEvent(queue: string, messages: readonly ReceivedMessage[], now: number): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: m.receiptHandle,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(now),
        SenderId: ACCOUNT,
        ApproximateFirstReceiveTimestamp: String(now),
        ...(queue.endsWith('.fifo') ? { MessageGroupId: m.group, MessageDeduplicationId: m.messageId } : {}),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}`,
      awsRegion: REGION,
    })),
  };
}

export function scheduledEvent(rule: string, now: number): ScheduledEvent {
  return {
    version: '0',
    id: `local-${now}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: new Date(now).toISOString(),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule}`],
    detail: {},
  };
}
