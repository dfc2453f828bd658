package dev.troupe.core;

/**
 * The state of a worker in the {@link WorkerRegistry}.
 *
 * @since 0.1.0
 */
public enum WorkerState {
  /** The worker takes new work: {@link WorkerRegistry#pick} may return it. */
  ACTIVE,
  /**
   * The worker finishes the work it has but takes no new work: {@link WorkerRegistry#pick} skips it
   * on every node that has seen the change, and {@link WorkerRegistry#workers} still lists it.
   */
  DRAINING
}
