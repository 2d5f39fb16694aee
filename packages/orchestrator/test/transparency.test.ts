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

transparencySuite('sharding transparency', TOPOLOGIES, (t) => startCluster({ nodes: t.nodes, groups: t.groups, rf: t.rf, shards: 8 }));
