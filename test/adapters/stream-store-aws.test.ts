/** The stream store contract on the Kinesis adapter, against the emulator the global setup started. */
import { describe, inject } from 'vitest';
import { awsPorts } from '../../lib/adapters/aws/index.js';
import { streamStoreContract } from '../contracts/stream-store-contract.js';

describe('aws stream store (Kinesis on the emulator)', () => {
  streamStoreContract(async () =>
    awsPorts({ region: 'us-east-1', endpoint: inject('awsEndpoint'), table: 'unused', bucket: 'unused', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }).streams,
  );
});
