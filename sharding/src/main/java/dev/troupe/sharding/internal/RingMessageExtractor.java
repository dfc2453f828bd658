package dev.troupe.sharding.internal;

import dev.troupe.core.HashRing;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;

/**
 * INTERNAL API. A key's shard is its {@link HashRing} partition (modulo the number of shards when a
 * fleet has fewer shards than partitions). Tells travel in {@link FleetEnvelope}s; asks through
 * {@code EntityRef}s in Pekko's {@code ShardingEnvelope}, which Pekko unwraps itself.
 */
public final class RingMessageExtractor extends ShardingMessageExtractor<FleetEnvelope, Object> {
  private static final HashRing PARTITIONER = HashRing.of(java.util.List.of());

  private final int shards;

  public RingMessageExtractor(int shards) {
    this.shards = shards;
  }

  /** The shard of {@code key}. */
  public static String shardOf(String key, int shards) {
    int partition = PARTITIONER.partition(key);
    return Integer.toString(shards == HashRing.PARTITIONS ? partition : partition % shards);
  }

  @Override
  public String entityId(FleetEnvelope envelope) {
    return envelope.key();
  }

  @Override
  public String shardId(String entityId) {
    return shardOf(entityId, shards);
  }

  @Override
  public Object unwrapMessage(FleetEnvelope envelope) {
    return envelope.message();
  }
}
