package dev.troupe.core;

/**
 * A subscription to changes, for example from {@link WorkerRegistry#subscribe}; {@link #close()}
 * cancels it.
 *
 * @since 0.1.0
 */
public interface Subscription extends AutoCloseable {
  /** Cancels the subscription: no call of the listener starts after this returns. Idempotent. */
  @Override
  void close();
}
