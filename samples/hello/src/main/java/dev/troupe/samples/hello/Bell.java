package dev.troupe.samples.hello;

import dev.troupe.core.TroupeSerializable;
import dev.troupe.cron.CronTick;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The bell a cron job rings: a daemon (one in the cluster, moved on failover) that counts the cron
 * ticks it gets under its address-book name.
 */
public final class Bell {
  /** The bell's protocol. */
  public sealed interface Command extends TroupeSerializable {}

  /** A cron tick, adapted. */
  public record Ring(CronTick tick) implements Command {}

  /** Asks how often the bell rang. */
  public record GetRings(ActorRef<Integer> replyTo) implements Command {}

  private Bell() {}

  /** The bell, registered in the address book as {@code name} for cron's ticks. */
  public static Behavior<Command> create(String name, dev.troupe.core.TroupeNode troupe) {
    return Behaviors.setup(
        ctx -> {
          ActorRef<CronTick> ticks = ctx.messageAdapter(CronTick.class, Ring::new);
          troupe.addressBook().register(name, ticks);
          int[] rings = {0};
          return Behaviors.receive(Command.class)
              .onMessage(
                  Ring.class,
                  ring -> {
                    rings[0]++;
                    ctx.getLog().info("Ding ({}): {}", rings[0], ring.tick().idempotencyKey());
                    return Behaviors.same();
                  })
              .onMessage(
                  GetRings.class,
                  get -> {
                    get.replyTo().tell(rings[0]);
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
