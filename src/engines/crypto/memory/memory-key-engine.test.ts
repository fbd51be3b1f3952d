import { runKeyEngineContract } from '../../../../test/support/key-engine-contract.ts';
import { MemoryKeyEngine } from './memory-key-engine.ts';

runKeyEngineContract('memory', async () => ({
  engine: new MemoryKeyEngine({ id: 'memory-1' }),
  cleanup: async () => {},
}));
