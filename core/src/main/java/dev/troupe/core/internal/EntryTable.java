package dev.troupe.core.internal;

import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * INTERNAL API. The entries of one {@link OwnedReplicas} bucket by path: an open-addressing table
 * with linear probing and backward-shift deletion, holding the entries themselves. A {@code
 * HashMap} would add a 32-byte node per entry; this costs one array slot per entry at a load
 * between 3/8 and 3/4. Single-threaded, like the table that owns it.
 */
final class EntryTable {
  private ReplicaEntry[] slots;
  private int size;

  EntryTable() {
    slots = new ReplicaEntry[8];
  }

  int size() {
    return size;
  }

  private static int hash(String path) {
    int h = path.hashCode(); // cached by the String
    return h ^ (h >>> 16);
  }

  /** The slot holding {@code path}, or {@code ~slot} of the free slot where it would go. */
  private int find(String path) {
    int mask = slots.length - 1;
    int i = hash(path) & mask;
    ReplicaEntry e;
    while ((e = slots[i]) != null) {
      if (e.path().equals(path)) {
        return i;
      }
      i = (i + 1) & mask;
    }
    return ~i;
  }

  ReplicaEntry get(String path) {
    int i = find(path);
    return i >= 0 ? slots[i] : null;
  }

  /** Adds or replaces the entry of its path; returns the previous one, or null. */
  ReplicaEntry put(ReplicaEntry entry) {
    int i = find(entry.path());
    if (i >= 0) {
      ReplicaEntry previous = slots[i];
      slots[i] = entry;
      return previous;
    }
    if ((size + 1) * 4L > slots.length * 3L) {
      grow();
      i = find(entry.path());
    }
    slots[~i] = entry;
    size++;
    return null;
  }

  /** Removes the entry of {@code path}; returns it, or null. */
  ReplicaEntry remove(String path) {
    int i = find(path);
    if (i < 0) {
      return null;
    }
    ReplicaEntry removed = slots[i];
    deleteAt(i);
    size--;
    return removed;
  }

  /** Empties slot {@code hole} and moves back the entries after it that probed past it. */
  private void deleteAt(int hole) {
    int mask = slots.length - 1;
    slots[hole] = null;
    int j = hole;
    while (true) {
      j = (j + 1) & mask;
      ReplicaEntry e = slots[j];
      if (e == null) {
        return;
      }
      int home = hash(e.path()) & mask;
      // e may move into the hole unless its home lies cyclically in (hole, j].
      boolean homeAfterHole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!homeAfterHole) {
        slots[hole] = e;
        slots[j] = null;
        hole = j;
      }
    }
  }

  private void grow() {
    ReplicaEntry[] old = slots;
    slots = new ReplicaEntry[old.length * 2];
    int mask = slots.length - 1;
    for (ReplicaEntry e : old) {
      if (e != null) {
        int i = hash(e.path()) & mask;
        while (slots[i] != null) {
          i = (i + 1) & mask;
        }
        slots[i] = e;
      }
    }
  }

  void forEach(Consumer<ReplicaEntry> action) {
    for (ReplicaEntry e : slots) {
      if (e != null) {
        action.accept(e);
      }
    }
  }

  /** Replaces each entry by {@code f} of it, which must have the same path. */
  void replaceEach(UnaryOperator<ReplicaEntry> f) {
    for (int i = 0; i < slots.length; i++) {
      if (slots[i] != null) {
        ReplicaEntry replacement = f.apply(slots[i]);
        if (!replacement.path().equals(slots[i].path())) {
          throw new IllegalArgumentException(
              "a replacement must keep the path: " + slots[i] + " -> " + replacement);
        }
        slots[i] = replacement;
      }
    }
  }
}
