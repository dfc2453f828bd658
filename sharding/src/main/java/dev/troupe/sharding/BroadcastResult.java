package dev.troupe.sharding;

import java.util.Map;
import java.util.Set;

/**
 * What every key of a {@link WorkerFleet#broadcast} did by the deadline: replied, crashed while
 * handling the message (its worker failed and is being restarted), or neither (timed out). Every
 * key of the broadcast is in exactly one of the three.
 *
 * @param replies the keys that replied, with their replies
 * @param crashed the keys whose worker failed while handling the message, with the failure
 * @param timedOut the keys without a reply or a crash by the deadline
 * @param <R> the reply type
 * @since 0.1.0
 */
public record BroadcastResult<R>(
    Map<String, R> replies, Map<String, Throwable> crashed, Set<String> timedOut) {

  /** Copies the collections. */
  public BroadcastResult {
    replies = Map.copyOf(replies);
    crashed = Map.copyOf(crashed);
    timedOut = Set.copyOf(timedOut);
  }

  /** The number of keys of the broadcast. */
  public int size() {
    return replies.size() + crashed.size() + timedOut.size();
  }
}
