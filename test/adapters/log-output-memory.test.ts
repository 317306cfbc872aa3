/** The log store and output table contracts on the memory adapters the simulation uses. */
import { describe } from 'vitest';
import { MemoryLogStore } from '../../lib/adapters/memory/memory-log-store.js';
import { MemoryOutputTable } from '../../lib/adapters/memory/memory-output-table.js';
import { logStoreContract, outputTableContract } from '../contracts/log-and-output-contracts.js';

describe('memory log store', () => logStoreContract(async () => new MemoryLogStore()));
describe('memory output table', () => outputTableContract(async () => new MemoryOutputTable()));
