/**
 * Per-key worker fleets on Pekko Cluster Sharding with ring placement ({@link
 * dev.troupe.sharding.WorkerFleet}), their write-through {@link dev.troupe.sharding.Repository},
 * the node-local {@link dev.troupe.sharding.ReadCache} and the {@link
 * dev.troupe.sharding.Reconciler}.
 */
package dev.troupe.sharding;
