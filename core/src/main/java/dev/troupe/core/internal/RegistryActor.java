package dev.troupe.core.internal;

import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerState;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.pattern.StatusReply;

/** INTERNAL API. Keeps this node's view of the worker registry; see the design notes. */
public final class RegistryActor extends AbstractBehavior<RegistryActor.Command> {
  /*
   * Design notes.
   *
   * Two sources, one view. Membership comes from the Pekko Receptionist: every registration is
   * registered there under ServiceKey<Object>("troupe-group:" + name) as a RegistrationHandle, a
   * child of this actor that stops when its worker stops, so the receptionist removes it when the
   * worker stops or is unregistered (the handle is stopped), drops it from the reachable listing
   * while its node is unreachable and from the full listing when the node is removed. (The
   * registry never sends Deregister: Pekko's receptionist crashes for good when asked to deregister
   * an actor it no longer has, a race with the worker's own termination.) What the receptionist
   * cannot carry - the worker itself, the registering node's time, the worker's state (ACTIVE /
   * DRAINING), and the set of group names for allWorkers() - lives in LWWMap<String, WorkerMeta>
   * entries (keyed by handle) of Troupe's own replicator, spread over distributed-key-count keys by
   * group name. Each entry is written only by the worker's node.
   *
   * The view of a group joins the two: this node's own workers come straight from this actor's
   * state (so a completed register is visible here at once); a remote worker is shown when its
   * metadata has arrived and the receptionist lists its handle, reachable when the reachable
   * listing has it. A worker whose metadata arrived less than confirm-within ago and that the
   * receptionist does not list yet is shown too (reachable unless its node is unreachable): the
   * receptionist's replicator only tells its subscribers on a timer, and the metadata is the
   * faster of the two. An entry the receptionist never confirms disappears after confirm-within.
   * The actor subscribes to the receptionist for every group name it learns of from the metadata,
   * so allWorkers() is cluster-wide.
   *
   * Latency: both the receptionist (pekko.cluster.typed.receptionist.write-consistency = all) and
   * the metadata (WriteAll) send a change to every node at once, so the other replicas have it
   * when the metadata write is acknowledged. Replicators tell their subscribers only on a timer
   * (10 ms here, ticking on Pekko's 10 ms scheduler), so this actor then sends a Flush hint to the
   * registry actor of every other Up member, which asks its two replicators to notify their
   * subscribers now (FlushChanges). One small message per member and change; no periodic traffic.
   *
   * Failures: metadata of a removed node is pruned by every node when it sees the removal, and by
   * a periodic sweep (for removals a node never saw); the sweep spares entries younger than
   * prune-grace, and each node re-writes its own entries if they went missing from the replica,
   * so a mistaken prune heals itself. A graceful leave drains this node's workers (DrainAll from
   * CoordinatedShutdown) before the node leaves.
   */

  /** The protocol of the registry actor. */
  public sealed interface Command {}

  /** Registers a local worker. */
  public record Register(
      String group, String protocol, ActorRef<Object> worker, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Unregisters a local worker. */
  public record Unregister(
      String group, ActorRef<Object> worker, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Marks a local worker DRAINING. */
  public record Drain(String group, ActorRef<Object> worker, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Marks every local worker DRAINING; replies when the writes are acknowledged or timed out. */
  public record DrainAll(ActorRef<Done> replyTo) implements Command {}

  /** Adds a subscriber (on the actor, so it sees its lists in order). */
  public record AddSubscriber(RegistryViews.Subscriber subscriber) implements Command {}

  /** Drops closed subscribers. */
  public enum RemoveClosedSubscribers implements Command {
    INSTANCE
  }

  /**
   * From another node's registry actor: a change it made is in this node's replicas now; notify
   * their subscribers without waiting for the timer.
   */
  public enum Flush implements Command, TroupeSerializable {
    INSTANCE
  }

  private record WorkerTerminated(ActorRef<Object> worker) implements Command {}

  private record ListingChanged(Receptionist.Listing listing) implements Command {}

  private record MetaChanged(Replicator.SubscribeResponse<LWWMap<String, WorkerMeta>> rsp)
      implements Command {}

  private record MetaWritten(Runnable then, boolean flush) implements Command {}

  private record ReceptionistAcked(ActorRef<StatusReply<Done>> replyTo, Throwable failure)
      implements Command {}

  private record MemberRemoved(Member member) implements Command {}

  private record ReachabilityChanged(ClusterEvent.ReachabilityEvent event) implements Command {}

  private enum ConfirmCheck implements Command {
    INSTANCE
  }

  private enum Sweep implements Command {
    INSTANCE
  }

  /** A registration of a worker of this node. */
  private record Local(WorkerMeta meta, ActorRef<Object> worker, ActorRef<Object> handle) {}

  private static final String KEY_PREFIX = "troupe-group:";

  private final RegistryViews views;
  private final RegistrySettings settings;
  private final Clock clock;
  private final ActorRefResolver resolver;
  private final SelfUniqueAddress selfUniqueAddress;
  private final Address self;
  private final ActorRef<Receptionist.Listing> listingAdapter;
  private final ReplicatorMessageAdapter<Command, LWWMap<String, WorkerMeta>> replicator;
  private final List<Key<LWWMap<String, WorkerMeta>>> dataKeys;
  private final ActorRef<Replicator.Command> replicatorRef;
  private final org.apache.pekko.actor.ActorRef receptionistReplicator;
  private final Peers<Command> peers;

  // group -> worker -> registration of this node
  private final Map<String, Map<ActorRef<Object>, Local>> local = new HashMap<>();
  private final Map<ActorRef<Object>, Set<String>> groupsOfWorker = new HashMap<>();
  // group -> receptionist key subscribed, and the latest listing (reachable, all)
  private final Map<String, ServiceKey<Object>> serviceKeys = new HashMap<>();
  private final Map<String, Set<String>> reachableListing = new HashMap<>(); // handle strings
  private final Map<String, Set<String>> allListing = new HashMap<>();
  // group -> handle -> metadata of other nodes' workers, and when each first arrived here
  private final Map<String, Map<String, WorkerMeta>> metaByGroup = new HashMap<>();
  private final Map<String, Long> firstSeenNanos = new HashMap<>();
  private final Set<String> unreachable = new HashSet<>(); // node address strings
  private final Map<String, Address> addresses = new HashMap<>();
  // worker ref string -> resolved ref, for the workers in the metadata
  private final Map<String, ActorRef<Object>> resolved = new HashMap<>();
  private long handles;
  // data key index -> metadata entries in the replica
  private final List<Map<String, WorkerMeta>> meta = new ArrayList<>();

  private RegistryActor(
      ActorContext<Command> ctx,
      RegistryViews views,
      RegistrySettings settings,
      ActorRef<Replicator.Command> replicatorRef,
      Clock clock) {
    super(ctx);
    this.views = views;
    this.settings = settings;
    this.clock = clock;
    this.resolver = ActorRefResolver.get(ctx.getSystem());
    this.selfUniqueAddress = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    this.self = Cluster.get(ctx.getSystem()).selfMember().address();
    this.listingAdapter = ctx.messageAdapter(Receptionist.Listing.class, ListingChanged::new);
    this.replicator =
        new ReplicatorMessageAdapter<>(ctx, replicatorRef, settings.writeTimeout().multipliedBy(5));
    this.replicatorRef = replicatorRef;
    this.receptionistReplicator =
        org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(
            resolver.<Object>resolveActorRef(
                self.toString() + "/system/clusterReceptionist/replicator"));
    this.peers = new Peers<>(ctx.getSystem(), ctx.getSelf().path().name());
    this.dataKeys = new ArrayList<>();
    for (int i = 0; i < settings.distributedKeyCount(); i++) {
      Key<LWWMap<String, WorkerMeta>> key = LWWMapKey.create("troupe-registry-" + i);
      dataKeys.add(key);
      meta.add(Map.of());
      replicator.subscribe(key, MetaChanged::new);
    }
    Cluster.get(ctx.getSystem())
        .subscriptions()
        .tell(
            Subscribe.create(
                ctx.messageAdapter(
                    ClusterEvent.MemberRemoved.class, e -> new MemberRemoved(e.member())),
                ClusterEvent.MemberRemoved.class));
    Cluster.get(ctx.getSystem())
        .subscriptions()
        .tell(
            Subscribe.create(
                ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, ReachabilityChanged::new),
                ClusterEvent.ReachabilityEvent.class));
  }

  /** The registry actor, publishing into {@code views}. */
  public static Behavior<Command> create(
      RegistryViews views,
      RegistrySettings settings,
      ActorRef<Replicator.Command> replicator,
      Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Sweep.INSTANCE, settings.pruneInterval());
                  timers.startTimerWithFixedDelay(
                      ConfirmCheck.INSTANCE, settings.confirmWithin().dividedBy(2));
                  return new RegistryActor(ctx, views, settings, replicator, clock);
                }));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(DrainAll.class, this::onDrainAll)
        .onMessage(AddSubscriber.class, this::onAddSubscriber)
        .onMessageEquals(RemoveClosedSubscribers.INSTANCE, this::onRemoveClosedSubscribers)
        .onMessageEquals(Flush.INSTANCE, this::onFlush)
        .onMessage(WorkerTerminated.class, this::onWorkerTerminated)
        .onMessage(ListingChanged.class, this::onListingChanged)
        .onMessage(MetaChanged.class, this::onMetaChanged)
        .onMessage(MetaWritten.class, this::onMetaWritten)
        .onMessage(ReceptionistAcked.class, this::onReceptionistAcked)
        .onMessage(MemberRemoved.class, this::onMemberRemoved)
        .onMessageEquals(Sweep.INSTANCE, this::onSweep)
        .onMessage(ReachabilityChanged.class, this::onReachabilityChanged)
        .onMessageEquals(ConfirmCheck.INSTANCE, this::onConfirmCheck)
        .build();
  }

  // ---- commands of this node ----

  private Behavior<Command> onRegister(Register cmd) {
    Map<ActorRef<Object>, Local> members = local.computeIfAbsent(cmd.group(), g -> new HashMap<>());
    Local registration = members.get(cmd.worker());
    boolean added = registration == null;
    if (added) {
      ActorRef<Object> handle =
          getContext().spawn(RegistrationHandle.create(cmd.worker()), "handle-" + ++handles);
      WorkerMeta entry =
          new WorkerMeta(
              cmd.group(),
              cmd.protocol(),
              resolver.toSerializationFormat(cmd.worker()),
              resolver.toSerializationFormat(handle),
              self.toString(),
              clock.millis(),
              WorkerState.ACTIVE);
      registration = new Local(entry, cmd.worker(), handle);
      members.put(cmd.worker(), registration);
      if (groupsOfWorker.computeIfAbsent(cmd.worker(), w -> new HashSet<>()).isEmpty()) {
        getContext().watchWith(cmd.worker(), new WorkerTerminated(cmd.worker()));
      }
      groupsOfWorker.get(cmd.worker()).add(cmd.group());
    }
    // The receptionist first, the metadata second: when the metadata write is acknowledged by
    // every node (and the Flush hints go out), the receptionist's own write is normally there too.
    ServiceKey<Object> key = serviceKey(cmd.group());
    ActorRef<Object> handle = registration.handle();
    getContext()
        .ask(
            Receptionist.Registered.class,
            getContext().getSystem().receptionist(),
            settings.writeTimeout().multipliedBy(5),
            replyTo -> Receptionist.register(key, handle, replyTo),
            (ok, failure) -> new ReceptionistAcked(cmd.replyTo(), failure));
    if (added) {
      writeMeta(registration.meta(), () -> {});
      ensureSubscribed(cmd.group());
      publish(Set.of(cmd.group()));
      getContext().getLog().debug("Worker [{}] joined group [{}]", cmd.worker(), cmd.group());
    }
    return this;
  }

  private Behavior<Command> onUnregister(Unregister cmd) {
    removeLocal(cmd.group(), cmd.worker());
    cmd.replyTo().tell(StatusReply.ack());
    return this;
  }

  private Behavior<Command> onDrain(Drain cmd) {
    Map<ActorRef<Object>, Local> members = local.get(cmd.group());
    Local entry = members == null ? null : members.get(cmd.worker());
    if (entry == null) {
      cmd.replyTo()
          .tell(
              StatusReply.error(
                  new IllegalArgumentException(
                      "cannot drain ["
                          + cmd.worker()
                          + "]: it is not a registered member of group ["
                          + cmd.group()
                          + "] on this node")));
      return this;
    }
    drain(entry, () -> cmd.replyTo().tell(StatusReply.ack()));
    return this;
  }

  private Behavior<Command> onDrainAll(DrainAll cmd) {
    List<Local> all = new ArrayList<>();
    local.values().forEach(members -> all.addAll(members.values()));
    if (all.isEmpty()) {
      cmd.replyTo().tell(Done.getInstance());
      return this;
    }
    getContext().getLog().info("Draining {} worker registration(s) before leaving", all.size());
    int[] pending = {all.size()};
    for (Local entry : all) {
      drain(
          entry,
          () -> {
            if (--pending[0] == 0) {
              cmd.replyTo().tell(Done.getInstance());
            }
          });
    }
    return this;
  }

  private void drain(Local entry, Runnable then) {
    WorkerMeta drained = entry.meta().withState(WorkerState.DRAINING);
    local
        .get(drained.group())
        .put(entry.worker(), new Local(drained, entry.worker(), entry.handle()));
    publish(Set.of(drained.group()));
    writeMeta(drained, then);
  }

  private Behavior<Command> onAddSubscriber(AddSubscriber cmd) {
    views.subscribe(cmd.subscriber());
    return this;
  }

  private Behavior<Command> onRemoveClosedSubscribers() {
    views.removeClosed();
    return this;
  }

  private Behavior<Command> onWorkerTerminated(WorkerTerminated msg) {
    Set<String> groups = groupsOfWorker.getOrDefault(msg.worker(), Set.of());
    for (String group : List.copyOf(groups)) {
      removeLocal(group, msg.worker());
    }
    return this;
  }

  private void removeLocal(String group, ActorRef<Object> worker) {
    Map<ActorRef<Object>, Local> members = local.get(group);
    Local removed = members == null ? null : members.remove(worker);
    if (removed == null) {
      return;
    }
    if (members.isEmpty()) {
      local.remove(group);
    }
    Set<String> groups = groupsOfWorker.get(worker);
    groups.remove(group);
    if (groups.isEmpty()) {
      groupsOfWorker.remove(worker);
      getContext().unwatch(worker);
    }
    getContext().stop(removed.handle()); // the receptionist drops it through its own watch
    String key = removed.meta().key();
    update(dataKey(group), settings.writeAll(), map -> map.remove(selfUniqueAddress, key), null);
    publish(Set.of(group));
    getContext().getLog().debug("Worker [{}] left group [{}]", worker, group);
  }

  private Behavior<Command> onReceptionistAcked(ReceptionistAcked msg) {
    if (msg.failure() == null) {
      msg.replyTo().tell(StatusReply.ack());
    } else {
      msg.replyTo().tell(StatusReply.error(msg.failure()));
    }
    return this;
  }

  // ---- replicated state ----

  private void writeMeta(WorkerMeta entry, Runnable then) {
    update(
        dataKey(entry.group()),
        settings.writeAll(),
        map -> map.put(selfUniqueAddress, entry.key(), entry),
        then);
  }

  private void update(
      Key<LWWMap<String, WorkerMeta>> key,
      Replicator.WriteConsistency consistency,
      java.util.function.Function<LWWMap<String, WorkerMeta>, LWWMap<String, WorkerMeta>> modify,
      Runnable then) {
    replicator.askUpdate(
        replyTo -> new Replicator.Update<>(key, LWWMap.create(), consistency, replyTo, modify),
        response ->
            new MetaWritten(
                then == null ? () -> {} : then, consistency instanceof Replicator.WriteAll));
  }

  private Behavior<Command> onMetaWritten(MetaWritten msg) {
    msg.then().run(); // success, or a timeout: the local replica has it and gossip spreads it
    if (msg.flush()) {
      peers.forEach(peer -> peer.tell(Flush.INSTANCE));
    }
    return this;
  }

  private Behavior<Command> onFlush() {
    replicatorRef.tell(Replicator.flushChanges());
    receptionistReplicator.tell(
        org.apache.pekko.cluster.ddata.Replicator.flushChanges(),
        org.apache.pekko.actor.ActorRef.noSender());
    return this;
  }

  private Behavior<Command> onMetaChanged(MetaChanged msg) {
    if (!(msg.rsp() instanceof Replicator.Changed<LWWMap<String, WorkerMeta>> changed)) {
      return this;
    }
    int index = dataKeys.indexOf(changed.key());
    Map<String, WorkerMeta> previous = meta.get(index);
    Map<String, WorkerMeta> current = Map.copyOf(changed.dataValue().getEntries());
    meta.set(index, current);
    Set<String> touched = new HashSet<>();
    long now = System.nanoTime();
    String selfNode = self.toString();
    current.forEach(
        (k, v) -> {
          if (!v.equals(previous.get(k))) {
            touched.add(v.group());
            if (!v.node().equals(selfNode)) {
              metaByGroup.computeIfAbsent(v.group(), g -> new HashMap<>()).put(k, v);
              firstSeenNanos.putIfAbsent(k, now);
            }
          }
        });
    previous.forEach(
        (k, v) -> {
          if (!current.containsKey(k)) {
            touched.add(v.group());
            resolved.remove(v.ref());
            firstSeenNanos.remove(k);
            Map<String, WorkerMeta> ofGroup = metaByGroup.get(v.group());
            if (ofGroup != null) {
              ofGroup.remove(k);
              if (ofGroup.isEmpty()) {
                metaByGroup.remove(v.group());
              }
            }
          }
        });
    getContext().getLog().debug("Registry metadata key [{}]: {} entries", index, current.size());
    healOwnEntries(index, current);
    touched.forEach(this::ensureSubscribed);
    publish(touched);
    return this;
  }

  /** Re-writes entries of this node that the replica lost or holds in an old state. */
  private void healOwnEntries(int index, Map<String, WorkerMeta> replica) {
    local.forEach(
        (group, members) -> {
          if (dataKeys.indexOf(dataKey(group)) != index) {
            return;
          }
          for (Local entry : members.values()) {
            if (!entry.meta().equals(replica.get(entry.meta().key()))) {
              writeMeta(entry.meta(), () -> {});
            }
          }
        });
  }

  private Behavior<Command> onListingChanged(ListingChanged msg) {
    Receptionist.Listing listing = msg.listing();
    String id = listing.getKey().id();
    if (!id.startsWith(KEY_PREFIX)) {
      return this;
    }
    String group = id.substring(KEY_PREFIX.length());
    ServiceKey<Object> key = serviceKey(group);
    getContext()
        .getLog()
        .debug("Receptionist listing of [{}]: {}", group, listing.getAllServiceInstances(key));
    reachableListing.put(group, handles(listing.getServiceInstances(key)));
    allListing.put(group, handles(listing.getAllServiceInstances(key)));
    publish(Set.of(group));
    return this;
  }

  private Set<String> handles(Set<ActorRef<Object>> refs) {
    Set<String> result = new HashSet<>();
    for (ActorRef<Object> ref : refs) {
      result.add(resolver.toSerializationFormat(ref));
    }
    return result;
  }

  private Behavior<Command> onReachabilityChanged(ReachabilityChanged msg) {
    String node = msg.event().member().address().toString();
    boolean changed =
        msg.event() instanceof ClusterEvent.UnreachableMember
            ? unreachable.add(node)
            : unreachable.remove(node);
    if (changed) {
      publish(Set.copyOf(metaByGroup.keySet()));
    }
    return this;
  }

  /** Rebuilds the groups with entries the receptionist has not confirmed in time. */
  private Behavior<Command> onConfirmCheck() {
    long expired = System.nanoTime() - settings.confirmWithin().toNanos();
    Set<String> groups = new HashSet<>();
    metaByGroup.forEach(
        (group, entries) ->
            entries.forEach(
                (handle, entry) -> {
                  Long seen = firstSeenNanos.get(handle);
                  if (seen != null
                      && seen - expired < 0
                      && !allListing.getOrDefault(group, Set.of()).contains(handle)) {
                    groups.add(group);
                    firstSeenNanos.remove(handle); // rebuild once; it stays hidden afterwards
                  }
                }));
    publish(groups);
    return this;
  }

  private Behavior<Command> onMemberRemoved(MemberRemoved msg) {
    unreachable.remove(msg.member().address().toString());
    prune(msg.member().address().toString(), Long.MAX_VALUE);
    return this;
  }

  private Behavior<Command> onSweep() {
    Set<String> members = new HashSet<>();
    Cluster.get(getContext().getSystem())
        .state()
        .getMembers()
        .forEach(m -> members.add(m.address().toString()));
    long registeredBefore = clock.millis() - settings.pruneGrace().toMillis();
    Set<String> gone = new HashSet<>();
    for (Map<String, WorkerMeta> entries : meta) {
      for (WorkerMeta entry : entries.values()) {
        if (!members.contains(entry.node())) {
          gone.add(entry.node());
        }
      }
    }
    gone.forEach(node -> prune(node, registeredBefore));
    views.removeClosed();
    return this;
  }

  /** Removes the metadata of {@code node} registered before {@code registeredBefore}. */
  private void prune(String node, long registeredBefore) {
    if (node.equals(self.toString())) {
      return;
    }
    for (int i = 0; i < dataKeys.size(); i++) {
      List<String> stale = new ArrayList<>();
      for (WorkerMeta entry : meta.get(i).values()) {
        if (entry.node().equals(node) && entry.registeredAt() < registeredBefore) {
          stale.add(entry.key());
        }
      }
      if (!stale.isEmpty()) {
        getContext()
            .getLog()
            .debug("Pruning {} registry entries of removed node [{}]", stale.size(), node);
        update(
            dataKeys.get(i),
            Replicator.writeLocal(),
            map -> {
              LWWMap<String, WorkerMeta> result = map;
              for (String k : stale) {
                result = result.remove(selfUniqueAddress, k);
              }
              return result;
            },
            null);
      }
    }
  }

  // ---- views ----

  private void ensureSubscribed(String group) {
    if (!serviceKeys.containsKey(group)) {
      ServiceKey<Object> key = serviceKey(group);
      serviceKeys.put(group, key);
      getContext().getSystem().receptionist().tell(Receptionist.subscribe(key, listingAdapter));
    }
  }

  private void publish(Set<String> groups) {
    Map<String, GroupView> changed = new LinkedHashMap<>();
    for (String group : groups) {
      changed.put(group, buildView(group));
    }
    views.publish(changed);
  }

  private GroupView buildView(String group) {
    List<GroupView.Member> members = new ArrayList<>();
    Map<ActorRef<Object>, Local> mine = local.getOrDefault(group, Map.of());
    for (Local entry : mine.values()) {
      members.add(member(entry.meta(), entry.worker(), self, true));
    }
    Set<String> reachable = reachableListing.getOrDefault(group, Set.of());
    Set<String> listed = allListing.getOrDefault(group, Set.of());
    long confirmBefore = System.nanoTime() - settings.confirmWithin().toNanos();
    for (WorkerMeta entry : metaByGroup.getOrDefault(group, Map.of()).values()) {
      boolean reachableNow;
      if (listed.contains(entry.handle())) {
        reachableNow = reachable.contains(entry.handle());
      } else {
        Long seen = firstSeenNanos.get(entry.handle());
        if (seen == null || seen - confirmBefore < 0 || unreachable.contains(entry.node())) {
          continue; // not confirmed by the receptionist in time, or its node is cut off
        }
        reachableNow = true;
      }
      ActorRef<Object> worker =
          resolved.computeIfAbsent(entry.ref(), resolver::<Object>resolveActorRef);
      Address node = addresses.computeIfAbsent(entry.node(), AddressFromURIString::parse);
      members.add(member(entry, worker, node, reachableNow));
    }
    return GroupView.of(group, members, views.view(group));
  }

  private static GroupView.Member member(
      WorkerMeta meta, ActorRef<Object> ref, Address node, boolean reachable) {
    WorkerEntry<Object> entry =
        new WorkerEntry<>(
            meta.group(), node, ref, Instant.ofEpochMilli(meta.registeredAt()), meta.state());
    return new GroupView.Member(entry, meta.protocol(), meta.ref(), reachable);
  }

  private Key<LWWMap<String, WorkerMeta>> dataKey(String group) {
    return dataKeys.get(Math.floorMod(group.hashCode(), dataKeys.size()));
  }

  private static ServiceKey<Object> serviceKey(String group) {
    return ServiceKey.create(Object.class, KEY_PREFIX + group);
  }
}
