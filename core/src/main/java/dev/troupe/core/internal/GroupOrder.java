package dev.troupe.core.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * INTERNAL API. The entries of one registry group on every node, oldest registration first (then
 * node, then path: the same order on every node), kept by the registry actor and brought up to date
 * with each batch's {@link ReplicaChanges.Change} instead of being rebuilt: a batch that adds k
 * entries to a group of m and removes r costs O(m + k log k + r log m) in array copies and
 * comparisons, not a sort or a hash lookup per member. Mutable and single-threaded; the readers get
 * immutable copies ({@link GroupView}).
 */
public final class GroupOrder {
  private static final ReplicaEntry[] NO_ENTRIES = new ReplicaEntry[0];
  private static final String[] NO_NODES = new String[0];

  /** An entry with its node, for sorting. */
  private record Item(String node, ReplicaEntry entry) {}

  private static final Comparator<Item> OLDEST_FIRST =
      (a, b) -> compare(a.entry, a.node, b.entry, b.node);

  private ReplicaEntry[] entries = NO_ENTRIES;
  private String[] nodes = NO_NODES;
  private int size;

  /** The number of entries. */
  public int size() {
    return size;
  }

  /** The entry at {@code i}, oldest first. */
  public ReplicaEntry entry(int i) {
    return entries[i];
  }

  /** The node of the entry at {@code i}. */
  public String node(int i) {
    return nodes[i];
  }

  /**
   * The order of two entries: registration time, then node, then path. Entries of one group are
   * unique by (node, path), so no two distinct entries of a group compare equal.
   */
  static int compare(ReplicaEntry a, String nodeA, ReplicaEntry b, String nodeB) {
    int c = Long.compare(a.registeredAt(), b.registeredAt());
    if (c != 0) {
      return c;
    }
    if (nodeA != nodeB) { // one string per node, mostly
      c = nodeA.compareTo(nodeB);
      if (c != 0) {
        return c;
      }
    }
    return a.path().compareTo(b.path());
  }

  /** Replaces the whole order by {@code source}'s entries, sorted. */
  public void reset(Consumer<BiConsumer<String, ReplicaEntry>> source) {
    List<Item> items = new ArrayList<>();
    source.accept((node, entry) -> items.add(new Item(node, entry)));
    items.sort(OLDEST_FIRST);
    entries = new ReplicaEntry[items.size()];
    nodes = new String[items.size()];
    for (int i = 0; i < items.size(); i++) {
      entries[i] = items.get(i).entry;
      nodes[i] = items.get(i).node;
    }
    size = items.size();
  }

  /**
   * Applies an incremental change (not {@link ReplicaChanges.Change#full()}): drops the entries of
   * its dropped nodes, removes its removed entries (those not found are ignored: they were dropped
   * or never listed), then merges its added entries in.
   */
  public void apply(ReplicaChanges.Change change) {
    if (change.full()) {
      throw new IllegalArgumentException("a full change needs reset, not apply: " + change);
    }
    // Find every removed entry first, in the intact order; then punch the holes and close them.
    List<ReplicaEntry> removed = change.removed();
    List<String> removedNodes = change.removedNodes();
    int[] found = new int[removed.size()];
    for (int r = 0; r < found.length; r++) {
      found[r] = indexOf(removed.get(r), removedNodes.get(r));
    }
    boolean holes = false;
    for (int at : found) {
      if (at >= 0) {
        entries[at] = null;
        holes = true;
      }
    }
    Set<String> dropped = change.droppedNodes();
    if (!dropped.isEmpty()) {
      for (int i = 0; i < size; i++) {
        if (entries[i] != null && dropped.contains(nodes[i])) {
          entries[i] = null;
          holes = true;
        }
      }
    }
    if (holes) {
      compact();
    }
    Map<ReplicaEntry, String> added = change.added();
    if (!added.isEmpty()) {
      merge(added);
    }
  }

  /** The index of {@code entry} itself (by identity), or -1. */
  private int indexOf(ReplicaEntry entry, String node) {
    int low = 0;
    int high = size - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int c = compare(entries[mid], nodes[mid], entry, node);
      if (c < 0) {
        low = mid + 1;
      } else if (c > 0) {
        high = mid - 1;
      } else {
        return entries[mid] == entry ? mid : -1; // an equal entry that is not this one
      }
    }
    return -1;
  }

  private void compact() {
    int to = 0;
    for (int from = 0; from < size; from++) {
      if (entries[from] != null) {
        entries[to] = entries[from];
        nodes[to] = nodes[from];
        to++;
      }
    }
    Arrays.fill(entries, to, size, null);
    Arrays.fill(nodes, to, size, null);
    size = to;
  }

  private void merge(Map<ReplicaEntry, String> added) {
    Item[] items = new Item[added.size()];
    int k = 0;
    for (Map.Entry<ReplicaEntry, String> e : added.entrySet()) {
      items[k++] = new Item(e.getValue(), e.getKey());
    }
    Arrays.sort(items, OLDEST_FIRST);
    int total = size + items.length;
    // A burst registers in time order: the new entries usually all go after the old ones.
    if (size == 0
        || compare(entries[size - 1], nodes[size - 1], items[0].entry, items[0].node) < 0) {
      if (total > entries.length) {
        int capacity = Math.max(total, entries.length + (entries.length >> 1));
        entries = Arrays.copyOf(entries, capacity);
        nodes = Arrays.copyOf(nodes, capacity);
      }
      for (Item item : items) {
        entries[size] = item.entry;
        nodes[size++] = item.node;
      }
      return;
    }
    ReplicaEntry[] mergedEntries = new ReplicaEntry[total];
    String[] mergedNodes = new String[total];
    int i = 0;
    int j = 0;
    int out = 0;
    while (i < size && j < items.length) {
      if (compare(entries[i], nodes[i], items[j].entry, items[j].node) < 0) {
        mergedEntries[out] = entries[i];
        mergedNodes[out++] = nodes[i++];
      } else {
        mergedEntries[out] = items[j].entry;
        mergedNodes[out++] = items[j++].node;
      }
    }
    while (i < size) {
      mergedEntries[out] = entries[i];
      mergedNodes[out++] = nodes[i++];
    }
    while (j < items.length) {
      mergedEntries[out] = items[j].entry;
      mergedNodes[out++] = items[j++].node;
    }
    entries = mergedEntries;
    nodes = mergedNodes;
    size = total;
  }
}
