package dev.troupe.sharding.internal;

import dev.troupe.core.HashRing;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.apache.pekko.dispatch.Futures;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;

/**
 * INTERNAL API. Places each shard on the owner of its ring partition among the nodes whose shard
 * regions the coordinator knows, and on rebalance moves only the shards whose owner changed.
 */
public final class RingAllocationStrategy extends ShardCoordinator.AbstractShardAllocationStrategy {
  /*
   * The ring is HashRing.of(region node addresses): with every node running the fleet this is the
   * same member set as AddressBook.availableNodes() in a stable cluster, so a key's shard (= its
   * partition) lands exactly where pickNode(key) points. Only the coordinator's instance is used.
   * Rebalance compares each allocated shard with its ring owner and moves at most
   * maxPerRound shards per round (those not already in progress), so a join moves about 1/N of
   * the shards over a few rounds and nothing else; a leaving node's shards are reallocated by
   * allocateShard to their new owners.
   */
  private final Address self;
  private final int shards;
  private final int maxPerRound;
  private Set<String> ringNodes = Set.of();
  private HashRing ring = HashRing.of(List.of());

  public RingAllocationStrategy(Address self, int shards, int maxPerRound) {
    this.self = self;
    this.shards = shards;
    this.maxPerRound = maxPerRound;
  }

  @Override
  public Future<ActorRef> allocateShard(
      ActorRef requester, String shardId, Map<ActorRef, IndexedSeq<String>> current) {
    Map<String, ActorRef> byNode = byNode(current.keySet());
    if (byNode.isEmpty()) {
      return Futures.successful(requester);
    }
    ActorRef owner = byNode.get(ownerOf(shardId, byNode.keySet()));
    return Futures.successful(owner == null ? requester : owner);
  }

  @Override
  public Future<Set<String>> rebalance(
      Map<ActorRef, IndexedSeq<String>> current, Set<String> rebalanceInProgress) {
    Map<String, ActorRef> byNode = byNode(current.keySet());
    Set<String> move = new HashSet<>();
    if (byNode.size() < 2) {
      return Futures.successful(move);
    }
    for (Map.Entry<ActorRef, IndexedSeq<String>> region : current.entrySet()) {
      String node = nodeOf(region.getKey()).toString();
      scala.collection.Iterator<String> it = region.getValue().iterator();
      while (it.hasNext() && move.size() < maxPerRound) {
        String shard = it.next();
        if (!rebalanceInProgress.contains(shard) && !node.equals(ownerOf(shard, byNode.keySet()))) {
          move.add(shard);
        }
      }
    }
    return Futures.successful(move);
  }

  /** The ring owner of {@code shardId} among {@code nodes}. */
  private String ownerOf(String shardId, Set<String> nodes) {
    if (!nodes.equals(ringNodes)) {
      ring = HashRing.of(nodes);
      ringNodes = Set.copyOf(nodes);
    }
    return shards == HashRing.PARTITIONS
        ? ring.ownerOfPartition(Integer.parseInt(shardId))
        : ring.pick(shardId);
  }

  private Map<String, ActorRef> byNode(Set<ActorRef> regions) {
    Map<String, ActorRef> byNode = new HashMap<>();
    List<ActorRef> sorted = new ArrayList<>(regions);
    for (ActorRef region : sorted) {
      byNode.put(nodeOf(region).toString(), region);
    }
    return byNode;
  }

  private Address nodeOf(ActorRef region) {
    Address address = region.path().address();
    return address.hasLocalScope() ? self : address;
  }
}
