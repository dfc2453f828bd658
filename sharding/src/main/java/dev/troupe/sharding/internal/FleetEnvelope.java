package dev.troupe.sharding.internal;

/**
 * INTERNAL API. A message for the worker of {@code key} of fleet {@code fleet}, as {@code tell} and
 * {@code publish} send it through the shard region. The fleet name lets the fleet recognise its own
 * messages when Pekko drops them during a shard hand-off (see {@link FleetNode}); {@code attempt}
 * counts those re-deliveries. Serialized by {@link FleetSerializer}.
 *
 * @param fleet the fleet's name
 * @param key the worker's key
 * @param message the user's message
 * @param attempt 0 for the first delivery, one more for each re-delivery
 */
public record FleetEnvelope(String fleet, String key, Object message, int attempt) {
  /** This envelope for one more delivery attempt. */
  public FleetEnvelope retried() {
    return new FleetEnvelope(fleet, key, message, attempt + 1);
  }
}
