/**
 * The wire format: everything the job writes that something else reads back as text —
 * envelopes and the other SQS bodies, SQS deduplication ids, S3 and DynamoDB keys, the keys
 * inside working state, and the bodies of stored objects and state items. Each is built
 * (and, where it is read back, parsed) in exactly one module of this directory, so a change
 * to the format is a change here and nowhere else.
 */
export * from './envelope.js';
export * from './envelope-builders.js';
export * from './queue-bodies.js';
export * from './dedup-ids.js';
export * from './storage-keys.js';
export * from './state-keys.js';
export * from './state-items.js';
export * from './manifest-items.js';
export * from './blob-bodies.js';
export * from './state-descriptor.js';
