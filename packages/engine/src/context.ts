/**
 * What every route module receives: the store, the indexes, the task queue and auth.
 */
import type { AuthPort, DocumentsCodec, FilterSyntaxCheck, TaskQueuePort } from './ports.js';
import type { Processor } from './processor.js';
import type { Registry } from './registry.js';
import type { Store } from './store.js';

export interface EngineContext {
  readonly store: Store;
  readonly registry: Registry;
  readonly processor: Processor;
  readonly queue: TaskQueuePort;
  readonly auth: AuthPort | null;
  readonly codec: DocumentsCodec;
  readonly checkFilter: FilterSyntaxCheck;
}
