package dev.troupe.daemons;

import dev.troupe.core.TroupeSerializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * A test daemon that records its starts and stops (a witness log, as the chaos harness keeps) so
 * that a test can count the instances of each name over time.
 */
final class Witness {
  private Witness() {}

  /** The daemon's protocol. */
  sealed interface Command extends TroupeSerializable {}

  /** Replies "node epoch". */
  record Where(ActorRef<String> replyTo) implements Command {}

  /** Stops the daemon (as if it finished its work). */
  record Quit() implements Command {}

  /** A start or stop of an instance. */
  record Event(String name, String node, long epoch, boolean start, long nanos) {}

  static final ConcurrentLinkedQueue<Event> EVENTS = new ConcurrentLinkedQueue<>();

  static Behavior<Command> create(DaemonSpec spec) {
    return Behaviors.setup(
        ctx -> {
          String node = Cluster.get(ctx.getSystem()).selfMember().address().toString();
          EVENTS.add(new Event(spec.name(), node, spec.epoch(), true, System.nanoTime()));
          return Behaviors.receive(Command.class)
              .onMessage(
                  Where.class,
                  where -> {
                    where.replyTo().tell(node + " " + spec.epoch());
                    return Behaviors.same();
                  })
              .onMessage(Quit.class, quit -> Behaviors.stopped())
              .onSignal(
                  PostStop.class,
                  signal -> {
                    EVENTS.add(
                        new Event(spec.name(), node, spec.epoch(), false, System.nanoTime()));
                    return Behaviors.same();
                  })
              .build();
        });
  }

  /** The number of running instances of {@code name} now. */
  static int running(String name) {
    int count = 0;
    for (Event e : EVENTS) {
      if (e.name().equals(name)) {
        count += e.start() ? 1 : -1;
      }
    }
    return count;
  }

  /** The most instances of {@code name} that ran at the same time, from the events so far. */
  static int maxConcurrent(String name) {
    int now = 0;
    int max = 0;
    for (Event e : EVENTS) {
      if (e.name().equals(name)) {
        now += e.start() ? 1 : -1;
        max = Math.max(max, now);
      }
    }
    return max;
  }

  /** Running instances per name now. */
  static Map<String, List<Event>> live() {
    Map<String, List<Event>> live = new HashMap<>();
    for (Event e : EVENTS) {
      List<Event> list = live.computeIfAbsent(e.name(), n -> new ArrayList<>());
      if (e.start()) {
        list.add(e);
      } else {
        list.removeIf(s -> s.epoch() == e.epoch() && s.node().equals(e.node()));
      }
    }
    live.values().removeIf(List::isEmpty);
    return live;
  }
}
