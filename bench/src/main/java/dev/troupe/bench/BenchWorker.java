package dev.troupe.bench;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The trivial worker of the registry benchmarks: its protocol ({@link Command}) types the {@code
 * WorkerGroup}s, and {@link #create()} is an actor that ignores everything but {@link Stop}.
 *
 * <p>Messages never cross the network in the benchmarks (a worker is only ever told to stop by its
 * own node), so the protocol needs no serializer.
 */
public final class BenchWorker {

  /** The protocol of a benchmark worker. */
  public sealed interface Command permits Stop {}

  /** Stops the worker. */
  public enum Stop implements Command {
    INSTANCE
  }

  private BenchWorker() {}

  /** A worker that does nothing until it is told {@link Stop}, its only message. */
  public static Behavior<Command> create() {
    return Behaviors.receiveMessage(message -> Behaviors.stopped());
  }
}
