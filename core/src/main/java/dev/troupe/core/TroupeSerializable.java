package dev.troupe.core;

/**
 * Marker for messages that cross the network.
 *
 * <p>Troupe binds this interface to Pekko's {@code jackson-cbor} serializer in its {@code
 * reference.conf} ({@code pekko.actor.serialization-bindings}); Java serialization stays off.
 * Implement it on every message, reply and event record that may be sent to another node:
 *
 * <pre>{@code
 * public record Greet(String whom, ActorRef<Greeted> replyTo) implements TroupeSerializable {}
 * }</pre>
 *
 * <p>A message that is not bound to a serializer is dropped by the sending node with an error log,
 * so a missing marker shows up as lost messages, not as an exception at the call site.
 *
 * @since 0.1.0
 */
public interface TroupeSerializable {}
