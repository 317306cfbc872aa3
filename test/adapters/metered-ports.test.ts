/** The memory adapters count billing units the way lib/adapters/memory/metered-ports.ts says. */
import { describe, expect, it } from 'vitest';
import { KEY_BYTES, ManualClock, memoryPorts, meterPorts } from '../../lib/adapters/memory/index.js';
import { Billing } from '../../lib/core/cost.js';
import { generation, type SubtaskRef } from '../../lib/core/ids.js';

const KiB = 1024;

function world() {
  const ports = memoryPorts(new ManualClock(0));
  ports.queue.createQueue('q.fifo');
  ports.queue.createQueue('timer');
  const billing = new Billing();
  return { ports: meterPorts(ports, billing), units: billing.units };
}

describe('metered memory ports', () => {
  it('SQS: one 70 KiB message is 2 billed requests to send and 2 to receive; deleting is 1', async () => {
    const { ports, units } = world();
    await ports.queue.sendBatch('q.fifo', [{ group: '0', body: 'x'.repeat(70 * KiB), dedupId: 'a' }]);
    expect(units).toMatchObject({ sqsRequests: 1, sqsFifoBilled: 2, sqsMessagesSent: 1, sqsBodiesOver64KiB: 1, sqsLargestBody: 70 * KiB });
    const [m] = await ports.queue.receive('q.fifo', { max: 10, visibilityTimeoutMs: 1000 });
    expect(units.sqsFifoBilled).toBe(4);
    await ports.queue.delete('q.fifo', [m!.receiptHandle]);
    expect(units).toMatchObject({ sqsRequests: 3, sqsFifoBilled: 5 });
  });

  it('SQS: a batch of ten 10 KiB bodies is 100 KiB: 2 billed requests; an empty receive is 1; a standard queue is billed apart', async () => {
    const { ports, units } = world();
    const ten = Array.from({ length: 10 }, (_, i) => ({ group: '0', body: 'y'.repeat(10 * KiB), dedupId: `d${i}` }));
    await ports.queue.sendBatch('q.fifo', ten);
    await ports.queue.receive('timer', { max: 10, visibilityTimeoutMs: 1000 });
    expect(units).toMatchObject({ sqsFifoBilled: 2, sqsStandardBilled: 1, sqsRequests: 2 });
  });

  it('DynamoDB: a state item of 3 KB in all (body + keys) is 3 WRU; reading it back is 1 RRU', async () => {
    const { ports, units } = world();
    const ref = { stage: 'op', index: 0 } as SubtaskRef;
    const body = 'z'.repeat(3 * 1024 - KEY_BYTES);
    await ports.state.put('job', ref, { version: { gen: generation(1), ver: 1 }, kind: 'b', body });
    expect(units).toMatchObject({ dynamodbRequests: 1, dynamodbWriteUnits: 3 });
    await ports.state.readToBase('job', ref);
    expect(units).toMatchObject({ dynamodbRequests: 2, dynamodbReadUnits: 1 });
  });

  it('S3: PUT and LIST are tier 1, GET tier 2, DELETE free', async () => {
    const { ports, units } = world();
    await ports.blobs.put('a', 'x');
    await ports.blobs.get('a');
    await ports.blobs.list('');
    await ports.blobs.delete(['a']);
    expect(units).toMatchObject({ s3Tier1: 2, s3Tier2: 1, s3Free: 1 });
  });
});
