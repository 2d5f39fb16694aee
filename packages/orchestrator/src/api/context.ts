/**
 * What every route shares: the cluster, its caches and the workers a request may call on. Built
 * once by `main.ts` (wiring), passed to each `register*Routes`; kept apart so that routes import
 * a type, never the wiring.
 */
import type { Logger } from 'pino';
import type { Aliases } from '../aliases/registry.js';
import type { WriteTokens } from '../guarantees/write-token.js';
import type { Sessions } from '../guarantees/sessions.js';
import type { Catalog } from '../catalog.js';
import type { Cluster } from '../cluster.js';
import type { Metrics } from '../obs/metrics.js';
import type { AntiEntropy } from '../work/anti-entropy.js';
import type { Background } from '../work/background.js';
import type { RoutingFence } from '../work/fence.js';
import type { Handoff } from '../work/handoff.js';
import type { Rebalancer } from '../work/rebalancer.js';
import type { SettingsBroadcaster } from '../work/settings-broadcast.js';
import type { SettingsDriftReconciler } from '../work/settings-drift.js';
import type { SettingsVersions } from '../work/settings-versions.js';
import type { TaskRegistry } from '../work/tasks.js';
import type { Authenticator } from './auth.js';
import type { Idempotency } from './idempotency.js';
import type { KeyCache } from './keys.js';
import type { ReadCache } from './read-cache.js';
import type { ReadPath } from '../reads/read-path.js';
import type { Tenants } from '../reads/tenants.js';

/** Everything a route handler may use. */
export interface AppContext {
  readonly cluster: Cluster;
  readonly catalog: Catalog;
  readonly tasks: TaskRegistry;
  readonly auth: Authenticator;
  readonly keys: KeyCache;
  readonly log: Logger;
  /** The Prometheus registry (spec S10.2); routes may record their own families into it. */
  readonly metrics: Metrics;
  /** Writes nodes missed, replayed when they come back. */
  readonly handoff: Handoff;
  /** The anti-entropy reconciler; undefined when `anti_entropy.enabled` is false. */
  readonly antiEntropy: AntiEntropy | undefined;
  /** Settings broadcasts (spec S13.5). */
  readonly broadcasts: SettingsBroadcaster;
  /** Committed settings versions, node versions and frozen flags, as the request path reads them. */
  readonly versions: SettingsVersions;
  /** The settings drift reconciler; also says which recovered nodes may serve reads again. */
  readonly drift: SettingsDriftReconciler;
  /** Topology changes and the shard moves that carry them out. */
  readonly rebalancer: Rebalancer;
  /** The routing epoch every write is planned under and confirmed against (work/fence.ts). */
  readonly fence: RoutingFence;
  /** Read-your-writes sessions (spec S13.6). */
  readonly sessions: Sessions;
  /** Write tokens and the reads that wait for them (causal reads). */
  readonly writeTokens: WriteTokens;
  /** Index aliases (spec S13.7), resolved wherever a client names an index. */
  readonly aliases: Aliases;
  /** Query coalescing and the result cache for searches (spec S13.10). */
  readonly reads: ReadCache;
  /** Ownership (Mode A), leases (Mode B) and jobs (Mode C) shared with the other orchestrators. */
  readonly background: Background;
  /** `Idempotency-Key` on client writes (spec S13.10), applied by api/writes.ts. */
  readonly idempotency: Idempotency;
  /** Replica selection and hedged reads (spec S13.2, S13.3). */
  readonly readPath: ReadPath;
  /** Tenant-to-group affinity of reads (spec S13.15). */
  readonly tenants: Tenants;
}
