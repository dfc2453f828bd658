package dev.troupe.core.internal;

import dev.troupe.core.HashRing;
import dev.troupe.core.WorkerEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * INTERNAL API. The immutable members of one group name, as the registry's readers see them; one
 * {@link ProtocolView} per protocol class registered under the name (normally exactly one).
 */
public final class GroupView {
  /*
   * Hot path: pick(group) = one map lookup for the name, one for the protocol, an atomic
   * increment and an array read. The round-robin counter is carried over from the previous view
   * of the same group so that fairness survives changes. The ring for pick(group, key) is built on
   * first use per view (a few milliseconds per 10240 partitions) and cached as the owner of every
   * partition, so pick(group, key) is the key's hash and an array read; racing builders compute
   * equal arrays, so the benign race needs no lock.
   */

  /**
   * One registration with what the readers need of it.
   *
   * @param entry the entry readers see
   * @param protocol the protocol class name
   * @param node the worker's node address, as a string
   * @param path the worker's path on its node ({@code /user/a#123}); node + path names the worker
   *     alike on every node
   * @param reachable whether the worker's node is reachable
   * @param picked the Optional of the worker that pick returns (kept by the registry per entry)
   */
  public record Member(
      WorkerEntry<Object> entry,
      String protocol,
      String node,
      String path,
      boolean reachable,
      Optional<ActorRef<Object>> picked) {

    /** A member whose pick Optional is made here. */
    public Member(
        WorkerEntry<Object> entry, String protocol, String node, String path, boolean reachable) {
      this(entry, protocol, node, path, reachable, Optional.of(entry.ref()));
    }
  }

  /** Oldest registration first, then node, then path: the same order on every node. */
  private static final Comparator<Member> OLDEST_FIRST =
      (a, b) -> {
        Instant atA = a.entry().registeredAt();
        Instant atB = b.entry().registeredAt();
        if (atA != atB) { // a burst shares one Instant per millisecond
          int c = atA.compareTo(atB);
          if (c != 0) {
            return c;
          }
        }
        if (a.node() != b.node()) { // one string per node
          int c = a.node().compareTo(b.node());
          if (c != 0) {
            return c;
          }
        }
        return a.path().compareTo(b.path());
      };

  private final String name;
  private final Map<String, ProtocolView> byProtocol;
  private final List<WorkerEntry<?>> all;

  private GroupView(String name, Map<String, ProtocolView> byProtocol, List<WorkerEntry<?>> all) {
    this.name = name;
    this.byProtocol = byProtocol;
    this.all = all;
  }

  /**
   * Builds the view of {@code name} from its members; {@code previous} (may be null) lends its
   * round-robin counters.
   */
  public static GroupView of(String name, List<Member> members, GroupView previous) {
    List<Member> sorted = ordered(members, previous);
    Map<String, List<Member>> grouped = new LinkedHashMap<>();
    List<WorkerEntry<?>> all = new ArrayList<>(sorted.size());
    for (Member m : sorted) {
      grouped.computeIfAbsent(m.protocol(), p -> new ArrayList<>()).add(m);
      all.add(m.entry());
    }
    Map<String, ProtocolView> views = new HashMap<>();
    grouped.forEach(
        (protocol, list) -> {
          ProtocolView old = previous == null ? null : previous.byProtocol.get(protocol);
          views.put(protocol, new ProtocolView(list, old == null ? new AtomicLong() : old.next));
        });
    return new GroupView(name, Map.copyOf(views), List.copyOf(all));
  }

  /**
   * {@code members} oldest first. With a previous view, members it listed keep its order (by the
   * identity of their entries, which the registry reuses while an entry is unchanged) and only the
   * new ones are sorted and merged in: a burst that adds k members to a group of m costs O(m + k
   * log k), not a full sort, at every rebuild.
   */
  private static List<Member> ordered(List<Member> members, GroupView previous) {
    if (previous == null || previous.all.isEmpty()) {
      List<Member> sorted = new ArrayList<>(members);
      sorted.sort(OLDEST_FIRST);
      return sorted;
    }
    Map<WorkerEntry<?>, Member> byEntry = new IdentityHashMap<>(members.size() * 2);
    for (Member m : members) {
      byEntry.put(m.entry(), m);
    }
    List<Member> kept = new ArrayList<>(members.size());
    for (WorkerEntry<?> entry : previous.all) {
      Member m = byEntry.remove(entry);
      if (m != null) {
        kept.add(m);
      }
    }
    if (byEntry.isEmpty()) {
      return kept;
    }
    List<Member> added = new ArrayList<>(byEntry.values());
    added.sort(OLDEST_FIRST);
    List<Member> merged = new ArrayList<>(kept.size() + added.size());
    int i = 0;
    int j = 0;
    while (i < kept.size() && j < added.size()) {
      merged.add(
          OLDEST_FIRST.compare(kept.get(i), added.get(j)) <= 0 ? kept.get(i++) : added.get(j++));
    }
    merged.addAll(kept.subList(i, kept.size()));
    merged.addAll(added.subList(j, added.size()));
    return merged;
  }

  /** The group name. */
  public String name() {
    return name;
  }

  /** Whether the group has no members at all. */
  public boolean isEmpty() {
    return all.isEmpty();
  }

  /** All members of every protocol, including those on unreachable nodes, oldest first. */
  public List<WorkerEntry<?>> all() {
    return all;
  }

  /** The view of members registered with {@code protocol}; null if none. */
  public ProtocolView protocol(String protocol) {
    return byProtocol.get(protocol);
  }

  /** The empty ring: its partition(key) is the same on every ring. */
  private static final HashRing PARTITIONER = HashRing.of(List.of());

  /** The members of one group registered with one protocol. */
  @SuppressWarnings("unchecked")
  public static final class ProtocolView {
    private final List<WorkerEntry<Object>> reachable;
    // Each ACTIVE member as the Optional that pick returns: a pick allocates nothing.
    private final Optional<ActorRef<Object>>[] active;
    private final Address[] activeNodes;
    private final AtomicLong next;
    private volatile Optional<ActorRef<Object>>[] ring; // owner of every partition, on first use

    @SuppressWarnings("unchecked")
    private ProtocolView(List<Member> members, AtomicLong next) {
      List<WorkerEntry<Object>> reachableEntries = new ArrayList<>();
      List<Member> activeMembers = new ArrayList<>();
      for (Member m : members) {
        if (m.reachable()) {
          reachableEntries.add(m.entry());
          if (m.entry().isActive()) {
            activeMembers.add(m);
          }
        }
      }
      this.reachable = List.copyOf(reachableEntries);
      this.active = new Optional[activeMembers.size()];
      this.activeNodes = new Address[activeMembers.size()];
      for (int i = 0; i < active.length; i++) {
        active[i] = activeMembers.get(i).picked();
        activeNodes[i] = activeMembers.get(i).entry().node();
      }
      this.next = next;
    }

    /** The ACTIVE member owning each partition of the ring over the ACTIVE members. */
    @SuppressWarnings("unchecked")
    private Optional<ActorRef<Object>>[] ownersByPartition() {
      Map<String, Optional<ActorRef<Object>>> refs = new HashMap<>();
      for (int i = 0; i < active.length; i++) {
        // The ref with its node's address: the same string on every node.
        refs.put(
            active[i].get().path().toSerializationFormatWithAddress(activeNodes[i]), active[i]);
      }
      HashRing hashRing = HashRing.of(refs.keySet());
      Optional<ActorRef<Object>>[] owners = new Optional[HashRing.PARTITIONS];
      for (int p = 0; p < owners.length; p++) {
        owners[p] = refs.get(hashRing.ownerOfPartition(p));
      }
      return owners;
    }

    /** Members on reachable nodes, ACTIVE and DRAINING, oldest first. */
    public List<WorkerEntry<Object>> reachable() {
      return reachable;
    }

    /** The next ACTIVE member, round-robin; empty if none. */
    public Optional<ActorRef<Object>> pick() {
      Optional<ActorRef<Object>>[] candidates = active;
      if (candidates.length == 0) {
        return Optional.empty();
      }
      int index = (int) Math.floorMod(next.getAndIncrement(), (long) candidates.length);
      return candidates[index];
    }

    /** The ACTIVE member owning {@code key} on the ring over the ACTIVE members; empty if none. */
    public Optional<ActorRef<Object>> pick(String key) {
      if (active.length == 0) {
        return Optional.empty();
      }
      if (active.length == 1) {
        return active[0];
      }
      Optional<ActorRef<Object>>[] owners = ring;
      if (owners == null) {
        owners = ownersByPartition();
        ring = owners;
      }
      return owners[PARTITIONER.partition(key)];
    }
  }
}
