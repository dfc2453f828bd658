package dev.troupe.sharding;

/**
 * What a {@link Reconciler} does with a running worker whose key is no longer desired (its stored
 * value is gone or no longer passes {@code activeWhen}, or its {@link DesiredKeys} source says no).
 * Set with {@link Reconciler.Builder#retire}; the default is {@link #OFF}.
 *
 * @since 0.3.0
 */
public enum RetireMode {
  /** Leave it running: idle passivation, if any, stops it in time. */
  OFF,

  /**
   * Passivate it through its shard, as the fleet's idle passivation does: the fleet's stop message
   * ({@link FleetSpec#withStopMessage}), if any, is its last message, and messages that reach the
   * shard meanwhile are kept and start the worker again afterwards.
   */
  PASSIVATE,

  /**
   * Stop it at once, without the stop message: it handles the messages that were already in its
   * mailbox and then stops; its {@code PostStop} signal still runs. Messages that reach it while it
   * stops are lost (dead letters); the next message after it stopped starts it again.
   */
  STOP
}
