package dev.troupe.samples.hello;

import dev.troupe.core.TroupeSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Cluster;

/** One greeter per name, in the "greeters" fleet: counts how often its name was greeted. */
public final class Greeter {
  /** The greeter's protocol. */
  public sealed interface Command extends TroupeSerializable {}

  /** Greets the greeter's name; the reply says how often and on which node. */
  public record Greet(ActorRef<Greeting> replyTo) implements Command {}

  /** The reply to {@link Greet}. */
  public record Greeting(String text, int count, String node) implements TroupeSerializable {}

  private Greeter() {}

  /** The greeter of {@code name}. */
  public static Behavior<Command> create(String name) {
    return Behaviors.setup(
        ctx -> {
          String node = Cluster.get(ctx.getSystem().classicSystem()).selfAddress().toString();
          int[] count = {0};
          return Behaviors.receive(Command.class)
              .onMessage(
                  Greet.class,
                  greet -> {
                    count[0]++;
                    greet.replyTo().tell(new Greeting("Hello, " + name + "!", count[0], node));
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
