package dev.troupe.core;

import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

/**
 * A named, typed group of workers in the {@link WorkerRegistry}: Erlang {@code pg}'s group, with
 * the protocol its members accept.
 *
 * <pre>{@code
 * WorkerGroup<StoreWorker.Command> storeA = WorkerGroup.of("store-a", StoreWorker.Command.class);
 * node.registry().register(storeA, ctx.getSelf());
 * node.registry().pick(storeA).ifPresent(worker -> worker.tell(new StoreWorker.Order(42)));
 * }</pre>
 *
 * <p>Two groups are equal when name and protocol are. A group exists as long as it has members:
 * there is nothing to create or delete.
 *
 * @param name the group name: 1 to 200 characters, not blank
 * @param protocol the message type every member accepts
 * @param <T> the protocol
 * @since 0.1.0
 */
public record WorkerGroup<T>(String name, Class<T> protocol) {
  /** The longest group name accepted: {@value}. */
  public static final int MAX_NAME_LENGTH = 200;

  /**
   * Validates the components.
   *
   * @throws IllegalArgumentException if {@code name} is null, blank or longer than {@value
   *     #MAX_NAME_LENGTH} characters, or {@code protocol} is null; the message names the value
   */
  public WorkerGroup {
    requireNonBlank(name, "WorkerGroup name");
    if (name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "WorkerGroup name must be at most "
              + MAX_NAME_LENGTH
              + " characters, got "
              + name.length()
              + ": ["
              + name.substring(0, 40)
              + "...]");
    }
    requireNonNull(protocol, "WorkerGroup protocol");
  }

  /**
   * Returns the group {@code name} whose members accept {@code protocol}.
   *
   * @throws IllegalArgumentException if {@code name} is null, blank or too long, or {@code
   *     protocol} is null
   */
  public static <T> WorkerGroup<T> of(String name, Class<T> protocol) {
    return new WorkerGroup<>(name, protocol);
  }
}
