package dev.troupe.core;

import java.time.Instant;
import org.apache.pekko.actor.Address;

/**
 * Where a name of the {@link AddressBook} lives, as this node currently sees it: {@link Found},
 * {@link Absent} or {@link Unknown}.
 *
 * <pre>{@code
 * switch (node.addressBook().resolve("billing")) {   // Java 17: if/instanceof
 *   case Location.Found f -> log.info("billing on {} since {}", f.node(), f.registeredAt());
 *   case Location.Absent a -> startBilling();
 *   case Location.Unknown u -> retryLater(u.reason());
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public sealed interface Location {
  /**
   * The name is held by a live actor on {@code node}, registered at {@code registeredAt} (by the
   * registering node's clock).
   */
  record Found(Address node, Instant registeredAt) implements Location {}

  /**
   * No live actor holds the name, and this node's view has settled: every member is reachable and
   * membership has not changed for {@code troupe.core.address-book.settle-time}.
   */
  record Absent() implements Location {}

  /**
   * This node cannot tell yet: it is not Up, its view is still converging after a membership
   * change, or the only holders of the name are on unreachable nodes; {@code reason} says which.
   */
  record Unknown(String reason) implements Location {}
}
