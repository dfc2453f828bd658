package dev.troupe.core;

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
 * @param name the group name, a {@linkplain Names name}: {@value Names#RULE}
 * @param protocol the message type every member accepts
 * @param <T> the protocol
 * @since 0.1.0
 */
public record WorkerGroup<T>(String name, Class<T> protocol) {
  /**
   * The longest group name accepted, now in UTF-8 bytes: {@value}.
   *
   * @deprecated group names follow {@link Names}; use {@link Names#MAX_UTF8_BYTES}. Until 0.3.0
   *     this was 200 characters.
   */
  @Deprecated(since = "0.3.0", forRemoval = true)
  public static final int MAX_NAME_LENGTH = Names.MAX_UTF8_BYTES;

  /**
   * Validates the components.
   *
   * @throws IllegalArgumentException if {@code name} is not a valid {@linkplain Names name} or
   *     {@code protocol} is null; the message names the value and the rule
   */
  public WorkerGroup {
    Names.require(name, "WorkerGroup name");
    requireNonNull(protocol, "WorkerGroup protocol");
  }

  /**
   * Returns the group {@code name} whose members accept {@code protocol}.
   *
   * @throws IllegalArgumentException if {@code name} is not a valid {@linkplain Names name} (null,
   *     empty, longer than {@value Names#MAX_UTF8_BYTES} bytes in UTF-8, or with a character
   *     outside the rule), or {@code protocol} is null; the message names the value and the rule
   */
  public static <T> WorkerGroup<T> of(String name, Class<T> protocol) {
    return new WorkerGroup<>(name, protocol);
  }
}
