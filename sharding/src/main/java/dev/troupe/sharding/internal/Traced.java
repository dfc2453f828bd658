package dev.troupe.sharding.internal;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * INTERNAL API. A broadcast message for a worker: if the worker fails while handling {@code
 * message}, it reports the failure to {@code crashes} before it is restarted. Serialized by {@link
 * FleetSerializer} (the inner message with its own serializer).
 *
 * @param message the user's message
 * @param broadcast the broadcast's id
 * @param key the worker's key
 * @param crashes where a failure is reported
 */
public record Traced(
    Object message, String broadcast, String key, ActorRef<FleetNode.Command> crashes) {}
