package dev.troupe.sharding;

/**
 * A worker failed while it handled a message of a {@link WorkerFleet#broadcast}: the value in
 * {@link BroadcastResult#crashed()}. The worker is being restarted.
 *
 * @since 0.1.0
 */
public final class WorkerCrashedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public WorkerCrashedException(String key, String error) {
    super("the worker of [" + key + "] failed while handling the message: " + error);
  }
}
