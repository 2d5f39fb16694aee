/**
 * The engine's task system: a persisted, single-worker queue and the `/tasks` and `/batches`
 * routes.
 */
export { TaskQueue, FULL_ACCESS } from './queue.js';
export type { Task, TaskProcessor, EnqueueInput, TaskAccess } from './queue.js';
export { registerTaskRoutes } from './routes.js';
export type { TaskRoutesAuth } from './routes.js';
export { nowMicros } from './clock.js';
