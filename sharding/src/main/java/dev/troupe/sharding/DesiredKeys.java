package dev.troupe.sharding;

import static dev.troupe.core.Preconditions.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;

/**
 * The keys that should have a running worker, for a {@link Reconciler} that takes them from
 * somewhere else than its repository's values ({@link Reconciler.Builder#desired}): a table of
 * subscriptions, a configuration list, another service.
 *
 * <pre>{@code
 * NavigableSet<String> open = new ConcurrentSkipListSet<>(List.of("room-1", "room-7"));
 * Reconciler.builder(rooms, roomRepository)
 *     .desired(DesiredKeys.of(open))             // a live view: later changes count
 *     .wakeWith(key -> new Room.Wake())
 *     .retire(RetireMode.PASSIVATE)               // rooms no longer in the set are passivated
 *     .start(node);
 * }</pre>
 *
 * <p>The reconciler pages through {@link #keysAfter} with a cursor, a bounded number of keys per
 * round (so a source of millions of keys costs the same per round as one of ten), and asks {@link
 * #isDesired} for the workers that run and for keys it is about to fix. Both are called on the
 * reconciler's thread, from the blocking dispatcher; they may block on I/O. An exception from
 * either ends the round early, without fixing the key it was about (no worker is retired because
 * its key could not be checked); the next round continues with that key.
 *
 * <p>Implementations must be thread-safe: every node runs its own reconciler, and a node may run
 * several.
 *
 * @since 0.3.0
 */
public interface DesiredKeys {

  /**
   * Up to {@code limit} desired keys greater than {@code afterKey} ({@code null}: from the first),
   * in ascending {@link String#compareTo} order, like {@link Repository#keysAfter}. Fewer than
   * {@code limit} keys means there are no more: the reconciler starts again from the first in its
   * next round.
   *
   * @param afterKey the last key of the previous page, exclusive; {@code null} for the first page
   * @param limit the most keys to return, positive
   * @return the keys, sorted, without duplicates; never {@code null}
   */
  List<String> keysAfter(String afterKey, int limit);

  /**
   * Whether {@code key} should have a running worker now. Asked for the workers that run on a node
   * (a worker whose key is not desired is retired, if the reconciler retires) and for listed keys
   * before their worker is started or their value is warmed.
   *
   * @param key a key, not empty
   * @return whether it is desired
   */
  boolean isDesired(String key);

  /**
   * The keys of {@code keys}: a live view of the set, whose changes the next round sees. The set
   * must be thread-safe (for example a {@link java.util.concurrent.ConcurrentSkipListSet}) and
   * sorted by the natural order of strings.
   *
   * @param keys the desired keys
   * @return a source reading {@code keys}
   * @throws IllegalArgumentException if {@code keys} is null or has a comparator
   */
  static DesiredKeys of(NavigableSet<String> keys) {
    requireNonNull(keys, "keys");
    if (keys.comparator() != null) {
      throw new IllegalArgumentException(
          "DesiredKeys.of: the set must use the natural order of strings, not "
              + keys.comparator());
    }
    return new DesiredKeys() {
      @Override
      public List<String> keysAfter(String afterKey, int limit) {
        List<String> page = new ArrayList<>(Math.min(limit, 1024));
        for (String key : afterKey == null ? keys : keys.tailSet(afterKey, false)) {
          if (page.size() >= limit) {
            break;
          }
          page.add(key);
        }
        return page;
      }

      @Override
      public boolean isDesired(String key) {
        return keys.contains(key);
      }

      @Override
      public String toString() {
        return "DesiredKeys.of(" + keys.size() + " keys)";
      }
    };
  }
}
