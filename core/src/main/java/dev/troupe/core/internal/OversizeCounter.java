package dev.troupe.core.internal;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.Dropped;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * INTERNAL API. Counts the remote messages Artery dropped because they exceed {@code
 * pekko.remote.artery.advanced.maximum-frame-size}: Artery logs an error and publishes a {@link
 * Dropped} event for each, and nothing else keeps a count.
 */
public final class OversizeCounter {
  private OversizeCounter() {}

  public static Behavior<Dropped> create(AtomicLong count) {
    return Behaviors.setup(
        context -> {
          context
              .getSystem()
              .eventStream()
              .tell(new EventStream.Subscribe<>(Dropped.class, context.getSelf()));
          return Behaviors.receiveMessage(
              dropped -> {
                if (dropped.reason().toLowerCase(Locale.ROOT).contains("oversized")) {
                  count.incrementAndGet();
                }
                return Behaviors.same();
              });
        });
  }
}
