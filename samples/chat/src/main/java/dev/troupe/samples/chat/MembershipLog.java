package dev.troupe.samples.chat;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/** Logs every membership and reachability change this node sees. */
final class MembershipLog extends AbstractBehavior<ClusterEvent.ClusterDomainEvent> {

  static Behavior<ClusterEvent.ClusterDomainEvent> create() {
    return Behaviors.setup(MembershipLog::new);
  }

  private MembershipLog(ActorContext<ClusterEvent.ClusterDomainEvent> ctx) {
    super(ctx);
    Cluster.get(ctx.getSystem())
        .subscriptions()
        .tell(Subscribe.create(ctx.getSelf(), ClusterEvent.ClusterDomainEvent.class));
  }

  @Override
  public Receive<ClusterEvent.ClusterDomainEvent> createReceive() {
    return newReceiveBuilder()
        .onMessage(ClusterEvent.MemberEvent.class, this::onMemberEvent)
        .onMessage(ClusterEvent.ReachabilityEvent.class, this::onReachability)
        .onAnyMessage(e -> this)
        .build();
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> onMemberEvent(ClusterEvent.MemberEvent e) {
    getContext().getLog().info("Member [{}] is [{}]", e.member().address(), e.member().status());
    return this;
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> onReachability(
      ClusterEvent.ReachabilityEvent e) {
    getContext()
        .getLog()
        .info("Member [{}]: {}", e.member().address(), e.getClass().getSimpleName());
    return this;
  }
}
