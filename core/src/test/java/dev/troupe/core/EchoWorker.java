package dev.troupe.core;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** A test worker: answers every {@link Echo} with its name and the text. */
public final class EchoWorker {
  private EchoWorker() {}

  /** The worker's protocol. */
  public sealed interface Command extends TroupeSerializable {}

  /** Replies {@code "<worker name>:<text>"}. */
  public record Echo(String text, ActorRef<String> replyTo) implements Command {}

  /** Stops the worker. */
  public enum Stop implements Command {
    INSTANCE
  }

  /** The worker named {@code name}. */
  public static Behavior<Command> create(String name) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Echo.class,
            echo -> {
              echo.replyTo().tell(name + ":" + echo.text());
              return Behaviors.same();
            })
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .build();
  }

  /** Spawns a worker named {@code name} on {@code node}. */
  public static ActorRef<Command> spawn(TroupeNode node, String name) {
    return node.system().systemActorOf(create(name), name, Props.empty());
  }
}
