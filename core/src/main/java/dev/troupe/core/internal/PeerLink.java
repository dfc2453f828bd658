package dev.troupe.core.internal;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.ReceiveBuilder;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * INTERNAL API. What the registry and the address-book actors share: an {@link OwnedReplicas} core,
 * the same actor on every peer (by its fixed system path), membership and reachability from cluster
 * events, the periodic status tick and the sweep of nodes that are no longer members. Not
 * thread-safe: one per actor, used on the actor only.
 *
 * @param <C> the actor's command type; {@link ReplicaMessage}, {@link ClusterChanged}, {@link Tick}
 *     and {@link Sweep} implement it
 */
final class PeerLink<C> {

  /** A membership or reachability event. */
  record ClusterChanged(ClusterEvent.ClusterDomainEvent event)
      implements RegistryActor.Command, AddressBookActor.Command {}

  /** The status tick. */
  enum Tick implements RegistryActor.Command, AddressBookActor.Command {
    INSTANCE
  }

  /** The sweep of non-members' entries. */
  enum Sweep implements RegistryActor.Command, AddressBookActor.Command {
    INSTANCE
  }

  private static final Object TICK_TIMER = "replication-tick";
  private static final Object SWEEP_TIMER = "replication-sweep";

  private final ActorContext<C> ctx;
  private final ReplicationSettings settings;
  private final Runnable onChange;
  private final String path;
  private final Address self;
  private final ActorRefResolver resolver;
  private final OwnedReplicas core;
  private final OwnedReplicas.Outbox outbox;
  private final Map<String, ActorRef<ReplicaMessage>> peers = new HashMap<>();
  private final Set<String> unreachable = new HashSet<>();
  private final FirstView firstView;
  private final ReplicaMeters meters;

  /**
   * @param onChange called after every message the link handled (the actor then batches)
   * @param firstView set, once and for good, when this member is Up and holds a complete copy of
   *     the entries of every other reachable Up member (a readiness condition)
   * @param meters where the link counts the entries it prunes (of removed and swept nodes)
   */
  @SuppressWarnings("unchecked")
  PeerLink(
      ActorContext<C> ctx,
      TimerScheduler<C> timers,
      ReplicationSettings settings,
      Runnable onChange,
      FirstView firstView,
      ReplicaMeters meters) {
    this.ctx = ctx;
    this.meters = meters;
    this.settings = settings;
    this.onChange = onChange;
    this.firstView = firstView;
    this.path = ctx.getSelf().path().toStringWithoutAddress();
    Cluster cluster = Cluster.get(ctx.getSystem());
    this.self = cluster.selfMember().address();
    this.resolver = ActorRefResolver.get(ctx.getSystem());
    this.core =
        new OwnedReplicas(
            self.toString(),
            cluster.selfMember().uniqueAddress().longUid(),
            settings.maxMessageBytes(),
            settings.resyncAfter().toNanos());
    this.outbox = (peer, message) -> peer(peer.node()).tell(message);
    ActorRef<ClusterEvent.MemberEvent> members =
        ctx.messageAdapter(ClusterEvent.MemberEvent.class, e -> (C) new ClusterChanged(e));
    ActorRef<ClusterEvent.ReachabilityEvent> reachability =
        ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, e -> (C) new ClusterChanged(e));
    cluster.subscriptions().tell(Subscribe.create(members, ClusterEvent.MemberEvent.class));
    cluster
        .subscriptions()
        .tell(Subscribe.create(reachability, ClusterEvent.ReachabilityEvent.class));
    timers.startTimerWithFixedDelay(TICK_TIMER, (C) Tick.INSTANCE, settings.statusInterval());
    timers.startTimerWithFixedDelay(SWEEP_TIMER, (C) Sweep.INSTANCE, settings.pruneInterval());
  }

  /** Adds the link's messages to {@code builder}. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  ReceiveBuilder<C> handle(ReceiveBuilder<C> builder) {
    return builder
        .onMessage((Class) ReplicaMessage.class, m -> onReplica((ReplicaMessage) m))
        .onMessage((Class) ClusterChanged.class, m -> onCluster((ClusterChanged) m))
        .onMessageEquals((C) Tick.INSTANCE, this::onTick)
        .onMessageEquals((C) Sweep.INSTANCE, this::onSweep);
  }

  OwnedReplicas core() {
    return core;
  }

  OwnedReplicas.Outbox outbox() {
    return outbox;
  }

  Address selfAddress() {
    return self;
  }

  /** Nodes (address strings) this node sees as unreachable. */
  Set<String> unreachable() {
    return unreachable;
  }

  /** The path of a local actor relative to its node ({@code /user/a#123}), as peers resolve it. */
  String pathOf(ActorRef<?> ref) {
    String full = resolver.toSerializationFormat(ref);
    String prefix = self.toString();
    if (full.startsWith(prefix)) {
      return full.substring(prefix.length());
    }
    throw new IllegalArgumentException(
        "[" + ref + "] is not an actor of this node [" + prefix + "]");
  }

  private ActorRef<ReplicaMessage> peer(String node) {
    return peers.computeIfAbsent(node, n -> resolver.resolveActorRef(n + path));
  }

  private Behavior<C> onReplica(ReplicaMessage message) {
    core.receive(message, outbox, System.nanoTime());
    checkFirstView();
    onChange.run();
    return Behaviors.same();
  }

  private Behavior<C> onCluster(ClusterChanged msg) {
    ClusterEvent.ClusterDomainEvent event = msg.event();
    if (event instanceof ClusterEvent.MemberRemoved removed) {
      Member member = removed.member();
      String node = member.address().toString();
      int dropped = core.removePeer(node, member.uniqueAddress().longUid());
      meters.pruned(ReplicaMeters.PruneReason.NODE_REMOVED, dropped);
      unreachable.remove(node);
      peers.remove(node);
      if (dropped > 0) {
        ctx.getLog().debug("Dropped {} entries of removed node [{}]", dropped, node);
      }
    } else if (event instanceof ClusterEvent.MemberEvent memberEvent) {
      discover(memberEvent.member());
    } else if (event instanceof ClusterEvent.UnreachableMember u) {
      String node = u.member().address().toString();
      if (unreachable.add(node)) {
        core.markNode(node);
      }
    } else if (event instanceof ClusterEvent.ReachableMember r) {
      String node = r.member().address().toString();
      if (unreachable.remove(node)) {
        core.markNode(node);
      }
    }
    checkFirstView();
    onChange.run();
    return Behaviors.same();
  }

  /**
   * Sets {@link #firstView} once this member is Up and holds a complete copy from every other
   * reachable Up (or WeaklyUp) member; a cheap no-op after that.
   */
  private void checkFirstView() {
    if (firstView.reached()) {
      return;
    }
    CurrentClusterState state = Cluster.get(ctx.getSystem()).state();
    Set<Member> unreachableMembers = state.getUnreachable();
    boolean selfUp = false;
    int peers = 0;
    for (Member member : state.getMembers()) {
      MemberStatus status = member.status();
      boolean up = status.equals(MemberStatus.up()) || status.equals(MemberStatus.weaklyUp());
      if (member.address().equals(self)) {
        selfUp = up;
        continue;
      }
      if (!up
          || unreachableMembers.contains(member)
          || unreachable.contains(member.address().toString())) {
        continue;
      }
      peers++;
      OwnedReplicas.Peer peer =
          new OwnedReplicas.Peer(member.address().toString(), member.uniqueAddress().longUid());
      if (!core.holdsCopyOf(peer)) {
        return;
      }
    }
    if (selfUp) {
      firstView.reach(peers);
    }
  }

  private void discover(Member member) {
    MemberStatus status = member.status();
    if (member.address().equals(self)
        || status.equals(MemberStatus.down())
        || status.equals(MemberStatus.removed())) {
      return;
    }
    core.discover(
        new OwnedReplicas.Peer(member.address().toString(), member.uniqueAddress().longUid()),
        outbox,
        System.nanoTime());
  }

  private Behavior<C> onTick() {
    // Membership from the cluster's state too: an event can arrive before the state shows it,
    // and a peer whose SyncRequest went missing is asked again here.
    Cluster.get(ctx.getSystem()).state().getMembers().forEach(this::discover);
    core.tick(outbox, System.nanoTime());
    checkFirstView();
    onChange.run();
    return Behaviors.same();
  }

  private Behavior<C> onSweep() {
    Set<String> members = new HashSet<>();
    Cluster.get(ctx.getSystem())
        .state()
        .getMembers()
        .forEach(m -> members.add(m.address().toString()));
    long before = System.nanoTime() - settings.pruneGrace().toNanos();
    core.heldNodes()
        .forEach(
            (node, since) -> {
              if (!members.contains(node) && since - before < 0) {
                int dropped = core.dropNode(node);
                meters.pruned(ReplicaMeters.PruneReason.NODE_SWEPT, dropped);
                peers.remove(node);
                ctx.getLog().info("Swept {} entries of [{}], which is not a member", dropped, node);
              }
            });
    onChange.run();
    return Behaviors.same();
  }
}
