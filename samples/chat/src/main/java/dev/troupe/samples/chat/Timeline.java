package dev.troupe.samples.chat;

import dev.troupe.cron.JobStatus;
import dev.troupe.cron.SchedulerEvent;
import dev.troupe.daemons.DaemonInfo;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The dashboard's event timeline on one node: the last {@code capacity} cluster events as this node
 * saw them, newest first. Membership and reachability come from Pekko Cluster's subscriptions; this
 * node's cron scheduler taking over or stopping from the event stream; daemon placements (name,
 * node, epoch), job owners and the oldest node (where the daemon leader and the cron scheduler
 * live) from what the {@link Dashboard} observes each interval, as differences to the previous
 * observation. Times are epoch millis by this node's clock.
 */
final class Timeline extends AbstractBehavior<Timeline.Command> {
  sealed interface Command {}

  /** What the dashboard saw this interval; {@code null} parts were not answered. */
  record Observed(Map<String, DaemonInfo> daemons, List<JobStatus> jobs, String oldest)
      implements Command {}

  /** Replies with the events, newest first. */
  record Get(ActorRef<List<Event>> replyTo) implements Command {}

  /**
   * One event.
   *
   * @param at epoch millis
   * @param kind {@code member}, {@code unreachable}, {@code reachable}, {@code downed}, {@code
   *     removed}, {@code oldest}, {@code daemon}, {@code cron}
   * @param text a short description
   */
  record Event(long at, String kind, String text) {}

  /** Stops. */
  enum Stop implements Command {
    INSTANCE
  }

  private record ClusterChanged(ClusterEvent.ClusterDomainEvent event) implements Command {}

  private record SchedulerChanged(SchedulerEvent event) implements Command {}

  private final int capacity;
  private final Deque<Event> events = new ArrayDeque<>();
  private final Map<String, DaemonInfo> daemons = new HashMap<>();
  private final Map<String, String> jobOwners = new HashMap<>();
  private String oldest;

  private Timeline(ActorContext<Command> ctx, int capacity) {
    super(ctx);
    this.capacity = capacity;
    ActorRef<ClusterEvent.ClusterDomainEvent> cluster =
        ctx.messageAdapter(ClusterEvent.ClusterDomainEvent.class, ClusterChanged::new);
    Cluster.get(ctx.getSystem())
        .subscriptions()
        .tell(Subscribe.create(cluster, ClusterEvent.ClusterDomainEvent.class));
    ctx.getSystem()
        .eventStream()
        .tell(
            new EventStream.Subscribe<>(
                SchedulerEvent.class,
                ctx.messageAdapter(SchedulerEvent.class, SchedulerChanged::new)));
  }

  static Behavior<Command> create(int capacity) {
    return Behaviors.setup(ctx -> new Timeline(ctx, capacity));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ClusterChanged.class, this::onClusterChanged)
        .onMessage(SchedulerChanged.class, this::onSchedulerChanged)
        .onMessage(Observed.class, this::onObserved)
        .onMessage(Get.class, this::onGet)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .build();
  }

  private void add(String kind, String text) {
    events.addFirst(new Event(System.currentTimeMillis(), kind, text));
    while (events.size() > capacity) {
      events.removeLast();
    }
  }

  private Behavior<Command> onClusterChanged(ClusterChanged msg) {
    ClusterEvent.ClusterDomainEvent e = msg.event();
    if (e instanceof ClusterEvent.MemberUp up) {
      add("member", up.member().address() + " is up");
    } else if (e instanceof ClusterEvent.UnreachableMember u) {
      add("unreachable", u.member().address() + " is unreachable");
    } else if (e instanceof ClusterEvent.ReachableMember r) {
      add("reachable", r.member().address() + " is reachable again");
    } else if (e instanceof ClusterEvent.MemberDowned d) {
      add("downed", d.member().address() + " was downed");
    } else if (e instanceof ClusterEvent.MemberLeft l) {
      add("member", l.member().address() + " is leaving");
    } else if (e instanceof ClusterEvent.MemberRemoved r) {
      add("removed", r.member().address() + " was removed (was " + r.previousStatus() + ")");
    }
    return this;
  }

  private Behavior<Command> onSchedulerChanged(SchedulerChanged msg) {
    SchedulerEvent e = msg.event();
    if (e.kind() == SchedulerEvent.Kind.TOOK_OVER) {
      add("cron", "the cron scheduler took over on this node (token " + e.token() + ")");
    } else if (e.kind() == SchedulerEvent.Kind.STOPPED) {
      add("cron", "the cron scheduler on this node stopped (token " + e.token() + ")");
    }
    return this;
  }

  private Behavior<Command> onObserved(Observed o) {
    if (o.oldest() != null && !o.oldest().equals(oldest)) {
      add(
          "oldest",
          (oldest == null ? "" : "singletons move: ")
              + o.oldest()
              + " is the oldest node: it runs the daemon leader and the cron scheduler");
      oldest = o.oldest();
    }
    if (o.daemons() != null) {
      for (DaemonInfo d : o.daemons().values()) {
        DaemonInfo before = daemons.put(d.name(), d);
        if (before == null || before.epoch() != d.epoch() || !before.node().equals(d.node())) {
          add(
              "daemon",
              "daemon "
                  + d.name()
                  + " placed on "
                  + d.node()
                  + " (epoch "
                  + d.epoch()
                  + (before == null ? "" : ", was " + before.epoch() + " on " + before.node())
                  + ")");
        }
      }
      for (String gone : new ArrayList<>(daemons.keySet())) {
        if (!o.daemons().containsKey(gone)) {
          daemons.remove(gone);
          add("daemon", "daemon " + gone + " is not running");
        }
      }
    }
    if (o.jobs() != null) {
      for (JobStatus j : o.jobs()) {
        String owner = j.owner().map(Address::toString).orElse(null);
        boolean known = jobOwners.containsKey(j.name());
        String before = jobOwners.put(j.name(), owner);
        if (!known || !Objects.equals(before, owner)) {
          add("cron", "cron job " + j.name() + " is delivered by " + (owner == null ? "—" : owner));
        }
      }
    }
    return this;
  }

  private Behavior<Command> onGet(Get get) {
    get.replyTo().tell(List.copyOf(events));
    return this;
  }
}
