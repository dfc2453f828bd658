package dev.troupe.sharding.internal;

import java.time.Duration;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * INTERNAL API. The sharded entity of a fleet: the user's worker behavior, supervised and watched.
 */
public final class FleetWorker {
  /*
   * Layers, outside in:
   *   1. supervise(restartWithBackoff(min, max)): while the worker keeps failing, restarts after a
   *      growing backoff, stashing the messages that arrive meanwhile.
   *   2. supervise(restart().withLimit(3, 10 s)): the first failures restart the worker at once,
   *      in the same turn (its factory reloads its state), so it answers again within
   *      milliseconds; a fourth failure within 10 s goes to the backoff.
   *   3. an interceptor that registers the worker in LocalWorkers when it starts (again after a
   *      restart: the same record), removes it on PostStop, stamps each message's time, unwraps
   *      Traced broadcast envelopes, and on a failure counts it, notes its time and reports it to
   *      the broadcaster before rethrowing it to the supervisors; when the restarted behavior has
   *      started, it records the time since the failure (troupe.fleet.restart). The supervisors
   *      make a new interceptor for each start, so the failure's time lives in a holder of the
   *      entity's, made once in create; messages of another type than the fleet's
   *      protocol are dropped with a warning (the API refuses them; this guards raw senders).
   *   4. the user's behavior, made by the fleet's factory from the key.
   * Before each message the interceptor asks the node's FleetFence whether the generation of the
   * fence lease its shard started under is still current and trusted (a compare and a nanoTime
   * read); if not, the message is dropped: the single-writer fence, which also holds on a node
   * resumed from a pause before Pekko has stopped its shards, and after the node's next
   * generation took over from the lapsed one.
   * Retire (sent to the worker itself by a reconciler that retires with STOP) is handled by the
   * interceptor before anything else, fence or not: the worker stops at once, without the fleet's
   * stop message, and its PostStop still runs (the layers below see the signal), which also removes
   * it from LocalWorkers. The shard sees an entity that stopped by itself and starts it again on
   * the next message.
   * The strategies are shared by all workers of a fleet, and there is no other wrapper: an idle
   * worker costs the bare actor, the two supervisors, the interceptor and its LocalWorkers entry.
   */
  private FleetWorker() {}

  /** Immediate restarts before the backoff takes over: 3 within 10 s, shared by every worker. */
  static final SupervisorStrategy IMMEDIATE =
      SupervisorStrategy.restart().withLimit(3, Duration.ofSeconds(10));

  /** Tells a worker to stop at once, without the stop message: a reconciler's STOP retirement. */
  enum Retire {
    INSTANCE
  }

  /** The entity behavior of {@code key}. */
  public static <M> Behavior<Object> create(
      String key,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Class<M> protocol,
      Function<String, Behavior<M>> factory,
      SupervisorStrategy backoff,
      LocalWorkers workers,
      FleetMeters metrics,
      FleetFence fence,
      String shardLease) {
    long[] failedAt = {0}; // the entity's last failure (nanoTime), 0 once restarted; one actor
    Behavior<Object> watched =
        Behaviors.intercept(
            () -> new Watch<>(key, shard, protocol, workers, metrics, fence, shardLease, failedAt),
            factory.apply(key));
    return Behaviors.supervise(Behaviors.supervise(watched).onFailure(IMMEDIATE))
        .onFailure(backoff);
  }

  /** Registers the worker, stamps activity, unwraps broadcasts, reports failures. */
  private static final class Watch<M> extends BehaviorInterceptor<Object, M> {
    private final String key;
    private final ActorRef<ClusterSharding.ShardCommand> shard;
    private final Class<M> protocol;
    private final LocalWorkers workers;
    private final FleetMeters metrics;
    private final FleetFence fence;
    private final String shardLease;
    private final long[] failedAt;
    private Object holding;
    private LocalWorkers.Activity activity;

    Watch(
        String key,
        ActorRef<ClusterSharding.ShardCommand> shard,
        Class<M> protocol,
        LocalWorkers workers,
        FleetMeters metrics,
        FleetFence fence,
        String shardLease,
        long[] failedAt) {
      super(Object.class);
      this.failedAt = failedAt;
      this.fence = fence;
      this.shardLease = shardLease;
      this.key = key;
      this.shard = shard;
      this.protocol = protocol;
      this.workers = workers;
      this.metrics = metrics;
    }

    @Override
    public Behavior<M> aroundStart(TypedActorContext<Object> ctx, PreStartTarget<M> target) {
      activity = workers.register(key, ctx.asJava().getSelf(), shard);
      holding = fence.holding(shardLease); // the shard started under it
      Behavior<M> started = target.start(ctx);
      if (failedAt[0] != 0) {
        metrics.readyAfterRestart(System.nanoTime() - failedAt[0]);
        failedAt[0] = 0;
      }
      return started;
    }

    private void failed() {
      metrics.restarted();
      failedAt[0] = System.nanoTime();
    }

    @Override
    public Behavior<M> aroundSignal(
        TypedActorContext<Object> ctx, Signal signal, SignalTarget<M> target) {
      if (signal instanceof PostStop) {
        workers.remove(activity);
      }
      return target.apply(ctx, signal);
    }

    @Override
    public Behavior<M> aroundReceive(
        TypedActorContext<Object> ctx, Object msg, ReceiveTarget<M> target) {
      if (msg == Retire.INSTANCE) {
        return Behaviors.stopped();
      }
      if (!fence.mayAct(holding)) {
        // The node no longer trusts its fence lease: another node may own this key's shard by
        // now (this one was paused, cut off or removed), and Pekko is about to stop this shard.
        fence.dropped(key);
        return Behaviors.same();
      }
      activity.touch();
      if (msg instanceof Traced traced) {
        try {
          return target.apply(ctx, protocol.cast(traced.message()));
        } catch (RuntimeException | Error e) {
          failed();
          traced.crashes().tell(new FleetNode.CrashReport(traced.broadcast(), key, e.toString()));
          throw e;
        }
      }
      if (!protocol.isInstance(msg)) {
        ctx.asJava()
            .getLog()
            .warn(
                "Worker [{}] dropped a message of type [{}]: not its protocol [{}]",
                key,
                msg.getClass().getName(),
                protocol.getName());
        return Behaviors.same();
      }
      try {
        return target.apply(ctx, protocol.cast(msg));
      } catch (RuntimeException | Error e) {
        failed();
        throw e;
      }
    }
  }
}
