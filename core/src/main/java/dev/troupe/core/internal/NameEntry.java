package dev.troupe.core.internal;

import dev.troupe.core.TroupeSerializable;
import java.util.Comparator;

/**
 * INTERNAL API. One holder of an address-book name, as replicated. Written (added and removed) by
 * the holder's node; removed by any node once the holder's node is removed from the cluster.
 *
 * @param ref the holder, in {@code ActorRefResolver} serialization format (with the node address)
 * @param node the holder's node address
 * @param registeredAt epoch milliseconds, by the registering node's clock
 * @param protocol the protocol class name given at registration; empty if none was given
 * @param rank the registration's rank: a higher rank wins over an older registration
 */
public record NameEntry(String ref, String node, long registeredAt, String protocol, long rank)
    implements TroupeSerializable {

  /** The winner order: highest rank, then earliest registration, then node address, then ref. */
  public static final Comparator<NameEntry> OLDEST_FIRST =
      Comparator.comparingLong((NameEntry e) -> -e.rank())
          .thenComparingLong(NameEntry::registeredAt)
          .thenComparing(NameEntry::node)
          .thenComparing(NameEntry::ref);
}
