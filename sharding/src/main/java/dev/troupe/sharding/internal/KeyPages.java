package dev.troupe.sharding.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * INTERNAL API. A page of keys in order from an unsorted set of keys: the cursor walks of the
 * reconciler over the running workers and the cache entries of a node.
 */
public final class KeyPages {
  /*
   * Cost: one pass over every key with a max-heap of `limit` keys, O(n log limit), and no copy of
   * the set. The sets it reads (LocalWorkers, a ReadCache) stay hash maps, cheap to change on
   * every worker start and stop; a sorted map would make each of those O(log n) to serve a walk
   * that runs once per reconciler round (measured at 100k keys: a skip list's put + remove took
   * about 10x a ConcurrentHashMap's). The idle sweep reads every worker each sweep-interval too.
   * Keys added or removed during the pass may or may not be seen, as with any weakly consistent
   * iterator.
   */
  private KeyPages() {}

  /**
   * Up to {@code limit} of {@code keys} greater than {@code after} ({@code null}: from the
   * smallest), in ascending order.
   */
  public static List<String> after(Iterable<String> keys, String after, int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be > 0, got: " + limit);
    }
    PriorityQueue<String> smallest = new PriorityQueue<>(Comparator.reverseOrder());
    for (String key : keys) {
      if (after != null && key.compareTo(after) <= 0) {
        continue;
      }
      if (smallest.size() < limit) {
        smallest.add(key);
      } else if (key.compareTo(smallest.peek()) < 0) {
        smallest.poll();
        smallest.add(key);
      }
    }
    List<String> page = new ArrayList<>(smallest);
    page.sort(null);
    return page;
  }
}
