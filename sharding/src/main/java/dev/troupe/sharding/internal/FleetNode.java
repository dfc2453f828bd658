package dev.troupe.sharding.internal;

import dev.troupe.core.TroupeSerializable;
import dev.troupe.sharding.WorkerCrashedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.AllDeadLetters;
import org.apache.pekko.actor.Dropped;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.LWWRegisterKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * INTERNAL API. One fleet's actor on one node ({@code /system/troupeFleet-<name>}): passivates idle
 * workers, applies passivation changes sent from any node (and keeps the latest in Distributed
 * Data, for nodes that start the fleet later), answers which keys run here, stops one worker on
 * request, and completes broadcast futures when a worker reports a crash.
 */
public final class FleetNode extends AbstractBehavior<FleetNode.Command> {
  /*
   * Passivation: Pekko's own idle passivation is fixed when sharding starts; Troupe's must change
   * at run time (setPassivation) and spread stops with jitter. So the fleet turns Pekko's off, every
   * worker stamps its last message in LocalWorkers, and this actor looks every sweep-interval for
   * workers idle past idle + their own jitter and asks their shard to passivate them (the shard
   * then sends the stop message, buffers what arrives meanwhile and restarts the worker if needed).
   *
   * Hand-off: when a shard moves, Pekko's region drops the messages it buffered for the shard
   * between BeginHandOff and HandOff ("to avoid re-ordering"), publishing each as Dropped. This
   * actor listens for Dropped FleetEnvelopes of its fleet on its node and sends them again through
   * the region, which buffers them until the shard's new home is known: no tell is lost to a
   * rebalance, at the price that such a message may arrive after messages sent later. A message is
   * re-sent at most MAX_REDELIVERIES times (then dropped with a warning: it keeps bouncing, for
   * example while the node shuts down).
   */

  /** The protocol of a fleet's node actor. */
  public sealed interface Command {}

  /**
   * Applies new passivation settings on this node; answers with how many running workers got them.
   */
  public record SetPassivation(long idleMillis, long jitterMillis, ActorRef<Reconfigured> replyTo)
      implements Command, TroupeSerializable {}

  /** The answer to {@link SetPassivation}: the running workers of the node that got it. */
  public record Reconfigured(int workers) implements TroupeSerializable {}

  /**
   * The fleet's passivation setting in Distributed Data, for the nodes that start the fleet later.
   */
  public record Passivation(long idleMillis, long jitterMillis) implements TroupeSerializable {}

  /**
   * Stores {@code setting} as the fleet's passivation in Distributed Data; answers when written.
   */
  public record Publish(Passivation setting, ActorRef<Done> replyTo) implements Command {}

  /** Asks whether the worker of {@code key} runs on this node. */
  public record Where(String key, ActorRef<Here> replyTo) implements Command, TroupeSerializable {}

  /** The answer to {@link Where}. */
  public record Here(boolean running) implements TroupeSerializable {}

  /**
   * Stops the worker of {@code key} if it runs on this node (through its shard, as a passivation);
   * answers once it has stopped, or at once if it does not run here.
   */
  public record StopWorker(String key, ActorRef<Stopped> replyTo)
      implements Command, TroupeSerializable {}

  /** The answer to {@link StopWorker}: whether a worker ran here and was stopped. */
  public record Stopped(boolean wasRunning) implements TroupeSerializable {}

  private record WorkerEnded(String key) implements Command {}

  private record Changed(Replicator.SubscribeResponse<LWWRegister<Passivation>> response)
      implements Command {}

  private record Written(
      Replicator.UpdateResponse<LWWRegister<Passivation>> response, ActorRef<Done> replyTo)
      implements Command {}

  /** A worker failed while handling a broadcast message. */
  public record CrashReport(String broadcast, String key, String error)
      implements Command, TroupeSerializable {}

  /** Asks for the keys of the workers whose shards live on this node. */
  public record GetKeys(ActorRef<Keys> replyTo) implements Command, TroupeSerializable {}

  /** The answer to {@link GetKeys}. */
  public record Keys(Set<String> keys) implements TroupeSerializable {}

  private enum Sweep implements Command {
    INSTANCE
  }

  private record WasDropped(Object message, String reason) implements Command {}

  /** How often one message is sent again after Pekko dropped it during a hand-off. */
  static final int MAX_REDELIVERIES = 5;

  private record RegionState(ShardRegion.CurrentShardRegionState state, ActorRef<Keys> replyTo)
      implements Command {}

  private final LocalWorkers workers;
  private final FleetMeters metrics;
  private final Map<String, CompletableFuture<Object>> broadcasts;
  private final EntityTypeKey<Object> typeKey;
  private final TimerScheduler<Command> timers;
  private final Duration sweepMin;
  private final Duration sweepMax;
  private final ActorRef<FleetEnvelope> region;
  private final String fleet;
  private Passivation applied; // the setting applied last (null: the spec's, from the start)
  private final ReplicatorMessageAdapter<Command, LWWRegister<Passivation>> replicator;
  private final Key<LWWRegister<Passivation>> passivationKey;
  private final Map<String, List<ActorRef<Stopped>>> stopping = new HashMap<>();

  private FleetNode(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      LocalWorkers workers,
      FleetMeters metrics,
      Map<String, CompletableFuture<Object>> broadcasts,
      EntityTypeKey<Object> typeKey,
      Duration sweepMin,
      Duration sweepMax,
      ActorRef<FleetEnvelope> region,
      String fleet,
      ReplicatorMessageAdapter<Command, LWWRegister<Passivation>> replicator) {
    super(ctx);
    this.region = region;
    this.fleet = fleet;
    this.replicator = replicator;
    this.passivationKey = LWWRegisterKey.create("troupe-fleet-passivation-" + fleet);
    replicator.subscribe(passivationKey, Changed::new);
    // Pekko's region sends Dropped(...) to deadLetters, which publishes it wrapped in a
    // DeadLetter; other paths publish Dropped itself. Listen for both.
    ctx.getSystem()
        .eventStream()
        .tell(
            new EventStream.Subscribe<>(
                AllDeadLetters.class, ctx.messageAdapter(AllDeadLetters.class, FleetNode::unwrap)));
    this.timers = timers;
    this.workers = workers;
    this.metrics = metrics;
    this.broadcasts = broadcasts;
    this.typeKey = typeKey;
    this.sweepMin = sweepMin;
    this.sweepMax = sweepMax;
    scheduleSweep();
  }

  /** The node actor of one fleet. */
  public static Behavior<Command> create(
      LocalWorkers workers,
      FleetMeters metrics,
      Map<String, CompletableFuture<Object>> broadcasts,
      EntityTypeKey<Object> typeKey,
      Duration sweepMin,
      Duration sweepMax,
      ActorRef<FleetEnvelope> region,
      String fleet) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    DistributedData.<Command, LWWRegister<Passivation>>withReplicatorMessageAdapter(
                        replicator ->
                            new FleetNode(
                                ctx,
                                timers,
                                workers,
                                metrics,
                                broadcasts,
                                typeKey,
                                sweepMin,
                                sweepMax,
                                region,
                                fleet,
                                replicator))));
  }

  /** The key of a broadcast future in the shared map. */
  public static String broadcastKey(String broadcast, String key) {
    return broadcast + '\u0000' + key;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Sweep.INSTANCE, this::onSweep)
        .onMessage(SetPassivation.class, this::onSetPassivation)
        .onMessage(CrashReport.class, this::onCrashReport)
        .onMessage(GetKeys.class, this::onGetKeys)
        .onMessage(RegionState.class, this::onRegionState)
        .onMessage(WasDropped.class, this::onDropped)
        .onMessage(Publish.class, this::onPublish)
        .onMessage(Written.class, this::onWritten)
        .onMessage(Changed.class, this::onChanged)
        .onMessage(Where.class, this::onWhere)
        .onMessage(StopWorker.class, this::onStopWorker)
        .onMessage(WorkerEnded.class, this::onWorkerEnded)
        .build();
  }

  /** Sweeps every tenth of the idle timeout, within [sweepMin, sweepMax]; not at all when off. */
  private void scheduleSweep() {
    long idle = workers.idleNanos();
    if (idle <= 0) {
      timers.cancel(Sweep.INSTANCE);
      return;
    }
    Duration every = Duration.ofNanos(idle / 10);
    if (every.compareTo(sweepMin) < 0) {
      every = sweepMin;
    } else if (every.compareTo(sweepMax) > 0) {
      every = sweepMax;
    }
    timers.startTimerWithFixedDelay(Sweep.INSTANCE, every);
  }

  private Behavior<Command> onSweep() {
    for (LocalWorkers.Activity idle : workers.expired(System.nanoTime())) {
      idle.passivating = true;
      idle.shard.tell(new ClusterSharding.Passivate<>(idle.self));
      metrics.passivated();
    }
    return this;
  }

  private static WasDropped unwrap(AllDeadLetters letter) {
    Object message = letter.message();
    if (message instanceof Dropped dropped) {
      return new WasDropped(dropped.message(), dropped.reason());
    }
    return new WasDropped(message, "dead letter to " + letter.recipient());
  }

  private Behavior<Command> onDropped(WasDropped msg) {
    if (msg.message() instanceof FleetEnvelope envelope && envelope.fleet().equals(fleet)) {
      if (envelope.attempt() < MAX_REDELIVERIES) {
        region.tell(envelope.retried());
        metrics.redelivered();
      } else {
        getContext()
            .getLog()
            .warn(
                "Fleet [{}]: a message for [{}] was dropped {} times ({}); giving up on it",
                fleet,
                envelope.key(),
                envelope.attempt() + 1,
                msg.reason());
      }
    }
    return this;
  }

  private Behavior<Command> onSetPassivation(SetPassivation cmd) {
    apply(new Passivation(cmd.idleMillis(), cmd.jitterMillis()));
    cmd.replyTo().tell(new Reconfigured(workers.size()));
    return this;
  }

  private void apply(Passivation setting) {
    workers.setPassivation(
        Duration.ofMillis(setting.idleMillis()).toNanos(),
        Duration.ofMillis(setting.jitterMillis()).toNanos());
    applied = setting;
    scheduleSweep();
    getContext()
        .getLog()
        .info(
            "Fleet [{}] passivation: idle {} ms, jitter {} ms ({} running worker(s) here)",
            fleet,
            setting.idleMillis(),
            setting.jitterMillis(),
            workers.size());
  }

  private Behavior<Command> onPublish(Publish cmd) {
    SelfUniqueAddress self = DistributedData.get(getContext().getSystem()).selfUniqueAddress();
    replicator.askUpdate(
        replyTo ->
            new Replicator.Update<>(
                passivationKey,
                LWWRegister.create(self, cmd.setting()),
                new Replicator.WriteMajority(Duration.ofSeconds(3)),
                replyTo,
                register -> register.withValue(self, cmd.setting())),
        response -> new Written(response, cmd.replyTo()));
    return this;
  }

  private Behavior<Command> onWritten(Written msg) {
    if (!(msg.response() instanceof Replicator.UpdateSuccess)) {
      // Written here; gossip spreads it to the others (a timeout does not undo the local write).
      getContext()
          .getLog()
          .debug("Fleet [{}] passivation: {}", fleet, msg.response().getClass().getSimpleName());
    }
    msg.replyTo().tell(Done.getInstance());
    return this;
  }

  /** A node that starts the fleet after a setPassivation gets the setting from here. */
  private Behavior<Command> onChanged(Changed msg) {
    if (msg.response() instanceof Replicator.Changed<LWWRegister<Passivation>> changed) {
      Passivation setting = changed.get(passivationKey).getValue();
      if (!setting.equals(applied)) {
        apply(setting);
      }
    }
    return this;
  }

  private Behavior<Command> onWhere(Where cmd) {
    cmd.replyTo().tell(new Here(workers.isRunning(cmd.key())));
    return this;
  }

  private Behavior<Command> onStopWorker(StopWorker cmd) {
    LocalWorkers.Activity worker = workers.get(cmd.key());
    if (worker == null) {
      cmd.replyTo().tell(new Stopped(false));
      return this;
    }
    List<ActorRef<Stopped>> waiting = stopping.get(cmd.key());
    if (waiting == null) {
      waiting = new ArrayList<>();
      stopping.put(cmd.key(), waiting);
      getContext().watchWith(worker.self, new WorkerEnded(cmd.key()));
      worker.passivating = true;
      worker.shard.tell(new ClusterSharding.Passivate<>(worker.self));
      metrics.passivated();
    }
    waiting.add(cmd.replyTo());
    return this;
  }

  private Behavior<Command> onWorkerEnded(WorkerEnded msg) {
    List<ActorRef<Stopped>> waiting = stopping.remove(msg.key());
    if (waiting != null) {
      waiting.forEach(r -> r.tell(new Stopped(true)));
    }
    return this;
  }

  private Behavior<Command> onCrashReport(CrashReport report) {
    CompletableFuture<Object> waiting =
        broadcasts.remove(broadcastKey(report.broadcast(), report.key()));
    if (waiting != null) {
      waiting.completeExceptionally(new WorkerCrashedException(report.key(), report.error()));
    }
    return this;
  }

  private Behavior<Command> onGetKeys(GetKeys cmd) {
    getContext()
        .ask(
            ShardRegion.CurrentShardRegionState.class,
            ClusterSharding.get(getContext().getSystem()).shardState(),
            Duration.ofSeconds(10),
            replyTo -> new GetShardRegionState(typeKey, replyTo),
            (state, failure) -> new RegionState(state == null ? null : state, cmd.replyTo()));
    return this;
  }

  private Behavior<Command> onRegionState(RegionState msg) {
    Set<String> keys = new HashSet<>();
    if (msg.state() != null) {
      for (ShardRegion.ShardState shard : msg.state().getShards()) {
        keys.addAll(shard.getEntityIds());
      }
    }
    msg.replyTo().tell(new Keys(Set.copyOf(keys)));
    return this;
  }
}
