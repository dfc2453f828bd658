package dev.troupe.core.internal;

import dev.troupe.core.HashRing;
import dev.troupe.core.WorkerEntry;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
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

  private final String name;
  private final Map<String, ProtocolView> byProtocol;
  private final List<WorkerEntry<?>> all;

  private GroupView(String name, Map<String, ProtocolView> byProtocol, List<WorkerEntry<?>> all) {
    this.name = name;
    this.byProtocol = byProtocol;
    this.all = all;
  }

  /**
   * The view of {@code name}: the entries of {@code order}, whose caches hold their reader objects
   * ({@link ReplicaEntry#view} a {@code WorkerEntry}, {@link ReplicaEntry#pick} the Optional of its
   * ref); members on {@code unreachable} nodes are listed only in {@link #all()}; {@code previous}
   * (may be null) lends its round-robin counters. O(members) array copies, nothing per member
   * allocated.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static GroupView of(
      String name, GroupOrder order, Set<String> unreachable, GroupView previous) {
    int m = order.size();
    WorkerEntry<Object>[] all = new WorkerEntry[m];
    String firstProtocol = m == 0 ? "" : order.entry(0).protocol();
    boolean oneProtocol = true;
    for (int i = 0; i < m; i++) {
      ReplicaEntry entry = order.entry(i);
      all[i] = (WorkerEntry<Object>) entry.view;
      oneProtocol &= entry.protocol().equals(firstProtocol);
    }
    List<WorkerEntry<?>> allList = (List) Collections.unmodifiableList(Arrays.asList(all));
    if (m == 0) {
      return new GroupView(name, Map.of(), allList);
    }
    if (oneProtocol) {
      return new GroupView(
          name,
          Map.of(
              firstProtocol,
              ProtocolView.of(order, null, all, unreachable, counter(previous, firstProtocol))),
          allList);
    }
    Map<String, ProtocolView> views = new HashMap<>();
    for (int i = 0; i < m; i++) {
      String protocol = order.entry(i).protocol();
      if (!views.containsKey(protocol)) {
        views.put(
            protocol,
            ProtocolView.of(order, protocol, all, unreachable, counter(previous, protocol)));
      }
    }
    return new GroupView(name, Map.copyOf(views), allList);
  }

  private static AtomicLong counter(GroupView previous, String protocol) {
    ProtocolView old = previous == null ? null : previous.byProtocol.get(protocol);
    return old == null ? new AtomicLong() : old.next;
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
    private final WorkerEntry<Object>[] activeEntries;
    private final AtomicLong next;
    private volatile Optional<ActorRef<Object>>[] ring; // owner of every partition, on first use

    private ProtocolView(
        List<WorkerEntry<Object>> reachable,
        Optional<ActorRef<Object>>[] active,
        WorkerEntry<Object>[] activeEntries,
        AtomicLong next) {
      this.reachable = reachable;
      this.active = active;
      this.activeEntries = activeEntries;
      this.next = next;
    }

    /**
     * The members of {@code order} with {@code protocol} (null: every member, all of one protocol);
     * {@code all} holds their entries by index. When every member is reachable and ACTIVE (the
     * usual case) the lists share {@code all}'s array.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static ProtocolView of(
        GroupOrder order,
        String protocol,
        WorkerEntry<Object>[] all,
        Set<String> unreachable,
        AtomicLong next) {
      int m = order.size();
      boolean anyUnreachable = !unreachable.isEmpty();
      int members = 0;
      int reachableCount = 0;
      int activeCount = 0;
      for (int i = 0; i < m; i++) {
        if (protocol != null && !order.entry(i).protocol().equals(protocol)) {
          continue;
        }
        members++;
        if (!anyUnreachable || !unreachable.contains(order.node(i))) {
          reachableCount++;
          if (all[i].isActive()) {
            activeCount++;
          }
        }
      }
      Optional<ActorRef<Object>>[] active = new Optional[activeCount];
      if (members == m && activeCount == m) {
        for (int i = 0; i < m; i++) {
          active[i] = (Optional<ActorRef<Object>>) order.entry(i).pick;
        }
        return new ProtocolView(
            Collections.unmodifiableList(Arrays.asList(all)), active, all, next);
      }
      WorkerEntry<Object>[] reachable = new WorkerEntry[reachableCount];
      WorkerEntry<Object>[] activeEntries = new WorkerEntry[activeCount];
      int r = 0;
      int a = 0;
      for (int i = 0; i < m; i++) {
        if (protocol != null && !order.entry(i).protocol().equals(protocol)) {
          continue;
        }
        if (!anyUnreachable || !unreachable.contains(order.node(i))) {
          reachable[r++] = all[i];
          if (all[i].isActive()) {
            active[a] = (Optional<ActorRef<Object>>) order.entry(i).pick;
            activeEntries[a++] = all[i];
          }
        }
      }
      return new ProtocolView(
          Collections.unmodifiableList(Arrays.asList(reachable)), active, activeEntries, next);
    }

    /** The ACTIVE member owning each partition of the ring over the ACTIVE members. */
    @SuppressWarnings("unchecked")
    private Optional<ActorRef<Object>>[] ownersByPartition() {
      Map<String, Optional<ActorRef<Object>>> refs = new HashMap<>();
      for (int i = 0; i < active.length; i++) {
        // The ref with its node's address: the same string on every node.
        refs.put(
            active[i].get().path().toSerializationFormatWithAddress(activeEntries[i].node()),
            active[i]);
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
