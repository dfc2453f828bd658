package dev.troupe.core.internal;

import java.util.Comparator;

/**
 * INTERNAL API. One holder of an address-book name, as readers see it. Owned (added and removed) by
 * the holder's node; dropped by every node once the holder's node is removed from the cluster.
 *
 * @param node the holder's node address
 * @param path the holder's path on its node ({@code /user/a#123})
 * @param registeredAt epoch milliseconds, by the registering node's clock
 * @param protocol the protocol class name given at registration; empty if none was given
 * @param rank the registration's rank: a higher rank wins over an older registration
 */
public record NameEntry(String node, String path, long registeredAt, String protocol, long rank) {

  /** The winner order: highest rank, then earliest registration, then node address, then path. */
  public static final Comparator<NameEntry> OLDEST_FIRST =
      Comparator.comparingLong((NameEntry e) -> -e.rank())
          .thenComparingLong(NameEntry::registeredAt)
          .thenComparing(NameEntry::node)
          .thenComparing(NameEntry::path);

  /** The holder in {@code ActorRefResolver} serialization format. */
  public String ref() {
    return node + path;
  }
}
