package dev.troupe.samples.hello;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerGroup;
import dev.troupe.core.WorkerListing;
import dev.troupe.sharding.WorkerFleet;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;

/**
 * One front desk per node, a member of the cluster-wide "front-desks" group and subscribed to it:
 * it knows its colleagues from the listings it gets, and sends every guest to the greeter of their
 * name, wherever in the cluster that greeter lives. Plain typed behavior code: replies and listings
 * arrive as messages.
 */
public final class FrontDesk {
  /** The front desks of every node. */
  public static final WorkerGroup<Command> GROUP = WorkerGroup.of("front-desks", Command.class);

  /** The front desk's protocol (local only). */
  public sealed interface Command {}

  /** Welcomes a guest: the reply is the greeter's greeting. */
  public record Welcome(String guest, ActorRef<Greeter.Greeting> replyTo) implements Command {}

  /** Asks how many front desks this one knows of (itself included) and whether it is listed. */
  public record GetColleagues(ActorRef<Integer> replyTo) implements Command {}

  private record Colleagues(WorkerListing<Command> listing) implements Command {}

  private record Registered(StatusReply<Done> reply) implements Command {}

  private record Greeted(Greeter.Greeting greeting, Throwable failure, Welcome welcome)
      implements Command {}

  private FrontDesk() {}

  @SuppressWarnings({"unchecked", "rawtypes"})
  public static Behavior<Command> create(TroupeNode troupe, WorkerFleet<Greeter.Command> greeters) {
    return Behaviors.setup(
        ctx -> {
          ActorRef<WorkerListing<Command>> listings =
              ctx.messageAdapter(
                  (Class) WorkerListing.class, l -> new Colleagues((WorkerListing) l));
          ActorRef<StatusReply<Done>> acks =
              ctx.messageAdapter((Class) StatusReply.class, r -> new Registered((StatusReply) r));
          troupe.registry().register(GROUP, ctx.getSelf(), acks);
          troupe.registry().subscribe(GROUP, listings);
          int[] colleagues = {0};
          return Behaviors.receive(Command.class)
              .onMessage(
                  Registered.class,
                  r -> {
                    if (r.reply().isError()) {
                      ctx.getLog().error("Front desk not registered", r.reply().getError());
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  Colleagues.class,
                  c -> {
                    colleagues[0] = c.listing().workers().size();
                    ctx.getLog().info("{} front desk(s) in the cluster", colleagues[0]);
                    return Behaviors.same();
                  })
              .onMessage(
                  GetColleagues.class,
                  get -> {
                    get.replyTo().tell(colleagues[0]);
                    return Behaviors.same();
                  })
              .onMessage(
                  Welcome.class,
                  welcome -> {
                    ctx.pipeToSelf(
                        greeters.ask(welcome.guest(), Greeter.Greet::new, Duration.ofSeconds(5)),
                        (greeting, failure) -> new Greeted(greeting, failure, welcome));
                    return Behaviors.same();
                  })
              .onMessage(
                  Greeted.class,
                  g -> {
                    if (g.failure() == null) {
                      g.welcome().replyTo().tell(g.greeting());
                    } else {
                      ctx.getLog().warn("No greeting for {}", g.welcome().guest(), g.failure());
                    }
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
