package dev.troupe.core.internal;

import dev.troupe.core.HashRing;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.Address;

/**
 * INTERNAL API. A view of the address book and of the node set, published by {@link
 * AddressBookActor} and read without locking. Everything but {@code names} is immutable; {@code
 * names} is the actor's concurrent map, which it updates one name at a time (each name's holders
 * are replaced atomically), shared by every view it publishes.
 *
 * @param names every name with its holders, oldest first (duplicates included)
 * @param available the Up and reachable members
 * @param members every member address, any status, as strings
 * @param selfUp whether this node is Up
 * @param changedAtNanos {@code System.nanoTime()} of the last membership or reachability change
 * @param ring the ring over {@code available}
 * @param ringNodes ring member string to address
 * @param located ring member string to the Optional that locate returns for it
 */
public record AddressBookView(
    Map<String, List<NameEntry>> names,
    Set<Address> available,
    Set<String> members,
    boolean selfUp,
    long changedAtNanos,
    HashRing ring,
    Map<String, Address> ringNodes,
    Map<String, Optional<Address>> located) {

  /** The empty view of a node that has not joined yet. */
  public static AddressBookView initial() {
    return new AddressBookView(
        Map.of(),
        Set.of(),
        Set.of(),
        false,
        System.nanoTime(),
        HashRing.of(List.of()),
        Map.of(),
        Map.of());
  }

  /** This view with {@code newNames}. */
  public AddressBookView withNames(Map<String, List<NameEntry>> newNames) {
    return new AddressBookView(
        newNames, available, members, selfUp, changedAtNanos, ring, ringNodes, located);
  }

  /** This view with new membership; the ring is rebuilt only if {@code available} changed. */
  public AddressBookView withMembership(
      Set<Address> newAvailable, Set<String> newMembers, boolean newSelfUp) {
    HashRing newRing = ring;
    Map<String, Address> newRingNodes = ringNodes;
    Map<String, Optional<Address>> newLocated = located;
    if (!newAvailable.equals(available)) {
      Map<String, Address> nodes = new HashMap<>();
      Map<String, Optional<Address>> optionals = new HashMap<>();
      newAvailable.forEach(
          a -> {
            nodes.put(a.toString(), a);
            optionals.put(a.toString(), Optional.of(a));
          });
      newRingNodes = Map.copyOf(nodes);
      newLocated = Map.copyOf(optionals);
      newRing = HashRing.of(newRingNodes.keySet());
    }
    return new AddressBookView(
        names,
        Set.copyOf(newAvailable),
        Set.copyOf(newMembers),
        newSelfUp,
        System.nanoTime(),
        newRing,
        newRingNodes,
        newLocated);
  }

  /**
   * The node of {@code name}'s holder by the oldest-wins rule among available nodes; empty if none.
   * Allocates nothing: the Optional is the view's own for that node.
   */
  public Optional<Address> locate(String name) {
    List<NameEntry> entries = names.get(name);
    if (entries != null) {
      for (int i = 0; i < entries.size(); i++) {
        Optional<Address> node = located.get(entries.get(i).node());
        if (node != null) {
          return node;
        }
      }
    }
    return Optional.empty();
  }

  /** The holder of {@code name} by the oldest-wins rule among available nodes; empty if none. */
  public Optional<NameEntry> winner(String name) {
    return winner(names.getOrDefault(name, List.of()));
  }

  /** The first entry of {@code sortedEntries} (oldest first) on an available node. */
  public Optional<NameEntry> winner(Collection<NameEntry> sortedEntries) {
    for (NameEntry entry : sortedEntries) {
      if (isAvailable(entry.node())) {
        return Optional.of(entry);
      }
    }
    return Optional.empty();
  }

  /** Whether the node with address string {@code node} is Up and reachable. */
  public boolean isAvailable(String node) {
    return ringNodes.containsKey(node);
  }

  /** The holders of {@code name} on nodes that are members but not available. */
  public List<NameEntry> unavailableHolders(String name) {
    List<NameEntry> result = new ArrayList<>();
    for (NameEntry entry : names.getOrDefault(name, List.of())) {
      if (!isAvailable(entry.node()) && members.contains(entry.node())) {
        result.add(entry);
      }
    }
    return result;
  }
}
