/**
 * The engine's webhooks: kept in the meta table, called with the tasks of every finished batch
 * (in the background, in webhook order; a failed call is logged, not retried, as Meilisearch does).
 *
 * @see https://www.meilisearch.com/docs/reference/api/webhooks
 */
import { callWebhook, type TaskView, type Webhook, type WebhookBook } from '@miroir/protocol';
import type { Store } from './store.js';

/** Meta key of the stored webhooks (uuid → webhook). */
const WEBHOOKS_KEY = 'webhooks';

export class Webhooks implements WebhookBook {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  all(): Map<string, Webhook> {
    const raw = this.#store.getMeta(WEBHOOKS_KEY);
    return new Map(Object.entries(raw === undefined ? {} : (JSON.parse(raw) as Record<string, Webhook>)));
  }

  get(uuid: string): Webhook | undefined {
    return this.all().get(uuid);
  }

  put(uuid: string, w: Webhook): void {
    this.#save(this.all().set(uuid, w));
  }

  delete(uuid: string): void {
    const all = this.all();
    all.delete(uuid);
    this.#save(all);
  }

  #save(all: ReadonlyMap<string, Webhook>): void {
    this.#store.setMeta(WEBHOOKS_KEY, JSON.stringify(Object.fromEntries(all)));
  }

  /** Sends `tasks` to every webhook; resolves once every call ended. */
  async notify(tasks: readonly TaskView[]): Promise<void> {
    if (tasks.length === 0) return;
    const hooks = this.all();
    for (const [uuid, w] of hooks) {
      try {
        await callWebhook(w, tasks);
      } catch (e) {
        process.emitWarning(`While sending data to the webhook ${uuid}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
