package dev.troupe.core.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * INTERNAL API. What changed in an {@link OwnedReplicas} table since its owning actor last took the
 * changes, per key: the entries added and removed (by identity, with their node), the nodes whose
 * entries were all dropped, or only that the key must be rebuilt from all its entries. A registry
 * view applies these to the order it already has instead of re-reading and re-sorting the whole key
 * at every batch. Pure and single-threaded, like the table.
 */
public final class ReplicaChanges {
  /** The changes of one key; see {@link ReplicaChanges}. */
  public static final class Change {
    private boolean full;
    private IdentityHashMap<ReplicaEntry, String> added;
    private List<ReplicaEntry> removed;
    private List<String> removedNodes;
    private Set<String> droppedNodes;

    /**
     * Whether the key must be rebuilt from all its entries (a full copy replaced them); the other
     * accessors are then empty.
     */
    public boolean full() {
      return full;
    }

    /** The entries added, each with its node; none of them was removed again. */
    public Map<ReplicaEntry, String> added() {
      return added == null ? Map.of() : added;
    }

    /**
     * The entries removed that were not added in the same window (the caller may not have them).
     */
    public List<ReplicaEntry> removed() {
      return removed == null ? List.of() : removed;
    }

    /** The node of each entry of {@link #removed()}, by index. */
    public List<String> removedNodes() {
      return removedNodes == null ? List.of() : removedNodes;
    }

    /** Nodes whose entries under this key were all dropped (before any of {@link #added()}). */
    public Set<String> droppedNodes() {
      return droppedNodes == null ? Set.of() : droppedNodes;
    }

    void add(String node, ReplicaEntry entry) {
      if (full) {
        return;
      }
      if (added == null) {
        added = new IdentityHashMap<>();
      }
      added.put(entry, node);
    }

    void remove(String node, ReplicaEntry entry) {
      if (full || (added != null && added.remove(entry) != null)) {
        return;
      }
      if (removed == null) {
        removed = new ArrayList<>();
        removedNodes = new ArrayList<>();
      }
      removed.add(entry);
      removedNodes.add(node);
    }

    void drop(String node) {
      if (full) {
        return;
      }
      if (added != null) {
        added.values().removeIf(node::equals);
      }
      if (droppedNodes == null) {
        droppedNodes = new HashSet<>();
      }
      droppedNodes.add(node);
    }

    void markFull() {
      full = true;
      added = null;
      removed = null;
      removedNodes = null;
      droppedNodes = null;
    }

    @Override
    public String toString() {
      return full
          ? "Change[full]"
          : "Change[added="
              + added().size()
              + ", removed="
              + removed().size()
              + ", dropped="
              + droppedNodes()
              + "]";
    }
  }

  private LinkedHashMap<String, Change> changes = new LinkedHashMap<>();

  private Change change(String key) {
    return changes.computeIfAbsent(key, k -> new Change());
  }

  /** {@code entry} of {@code node} was added under {@code key}. */
  public void added(String key, String node, ReplicaEntry entry) {
    change(key).add(node, entry);
  }

  /** {@code entry} of {@code node} was removed (or replaced) under {@code key}. */
  public void removed(String key, String node, ReplicaEntry entry) {
    change(key).remove(node, entry);
  }

  /** Every entry of {@code node} under {@code key} was dropped. */
  public void dropped(String key, String node) {
    change(key).drop(node);
  }

  /** {@code key} must be rebuilt from all its entries. */
  public void full(String key) {
    change(key).markFull();
  }

  /** {@code key} must be rebuilt, with no entry changed (a node's reachability changed). */
  public void touched(String key) {
    change(key);
  }

  /** Whether nothing changed since the last take. */
  public boolean isEmpty() {
    return changes.isEmpty();
  }

  /** The changes since the last take, by key in the order keys first changed; forgets them. */
  public Map<String, Change> take() {
    if (changes.isEmpty()) {
      return Map.of();
    }
    Map<String, Change> taken = changes;
    changes = new LinkedHashMap<>();
    return taken;
  }
}
