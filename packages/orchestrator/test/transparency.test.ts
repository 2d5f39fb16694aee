/**
 * Sharding transparency over one orchestrator and four topologies (the suite: transparency-kit.ts).
 */
import { startCluster } from './harness.js';
import { transparencySuite } from './transparency-kit.js';

const TOPOLOGIES = [
  { name: 'RG=1 RF=1 N=3', nodes: 3, groups: 1, rf: 1 },
  { name: 'RG=1 RF=2 N=3', nodes: 3, groups: 1, rf: 2 },
  { name: 'RG=2 RF=1 N=4', nodes: 4, groups: 2, rf: 1 },
  { name: 'RG=2 RF=2 N=6', nodes: 6, groups: 2, rf: 2 },
];

/** Clients use their own key; the nodes have another (the harness's node master key). */
const CLIENT_KEY = 'transparency-client-key';

transparencySuite('sharding transparency', TOPOLOGIES, async (t) => {
  const c = await startCluster({ nodes: t.nodes, groups: t.groups, rf: t.rf, shards: 8, masterKey: CLIENT_KEY });
  return { url: c.url, key: CLIENT_KEY, stop: () => c.stop() };
});
