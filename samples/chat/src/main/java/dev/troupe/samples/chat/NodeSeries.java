package dev.troupe.samples.chat;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerGroup;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The dashboard's graphs: every node runs one, in worker group {@link #GROUP}. Each interval it
 * samples its own node ({@link #SERIES}) and tells the sample to every member of the group, itself
 * included, so every node holds every node's recent samples, a {@link SampleRing} per node (the
 * window over the interval, at most {@link #MAX_SAMPLES}). A node that is gone stops sending: its
 * ring is dropped once its newest sample is older than the window.
 *
 * <p>Why not fetch the other nodes' {@code /api/dashboard}: the snapshot does not know their HTTP
 * ports, and the registry already tells every node who the others are. Samples are best effort: one
 * lost in flight is a gap in the graph.
 */
final class NodeSeries extends AbstractBehavior<NodeSeries.Command> {
  static final WorkerGroup<Command> GROUP = WorkerGroup.of("chat-dashboard-series", Command.class);

  /** The series, in the order of {@link Sample#values()}. */
  static final List<String> SERIES =
      List.of("postsPerSecond", "deliveryP99Ms", "members", "registryEntries", "fleetWorkers");

  static final int MAX_SAMPLES = 600;

  sealed interface Command extends TroupeSerializable {}

  /**
   * One node's sample.
   *
   * @param node the node's address
   * @param at epoch millis, by the sampling node's clock
   * @param values one value per {@link #SERIES}
   */
  record Sample(String node, long at, double[] values) implements Command {}

  /** Replies with every node's samples, by node address. */
  record Get(ActorRef<Map<String, SampleRing.View>> replyTo) implements Command {}

  /** Leaves the group and stops. */
  enum Stop implements Command {
    INSTANCE
  }

  private enum Tick implements Command {
    INSTANCE
  }

  private final TroupeNode node;
  private final Supplier<double[]> sampler;
  private final int capacity;
  private final long window;
  private final Map<String, SampleRing> rings = new HashMap<>();

  private NodeSeries(
      ActorContext<Command> ctx,
      TroupeNode node,
      Supplier<double[]> sampler,
      Duration interval,
      Duration window) {
    super(ctx);
    this.node = node;
    this.sampler = sampler;
    this.capacity =
        (int) Math.max(2, Math.min(MAX_SAMPLES, window.toMillis() / interval.toMillis()));
    this.window = window.toMillis();
    node.registry().register(GROUP, ctx.getSelf());
  }

  /**
   * @param sampler this node's values, one per {@link #SERIES}, called once per interval
   * @param window how long the graphs reach back
   */
  static Behavior<Command> create(
      TroupeNode node, Supplier<double[]> sampler, Duration interval, Duration window) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerAtFixedRate(Tick.INSTANCE, interval);
                  return new NodeSeries(ctx, node, sampler, interval, window);
                }));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(Sample.class, this::onSample)
        .onMessage(Get.class, this::onGet)
        .onMessageEquals(Stop.INSTANCE, this::onStop)
        .build();
  }

  private Behavior<Command> onTick() {
    Sample sample =
        new Sample(node.address().toString(), System.currentTimeMillis(), sampler.get());
    for (WorkerEntry<Command> peer : node.registry().workers(GROUP)) {
      peer.ref().tell(sample);
    }
    long oldest = sample.at() - window;
    rings.values().removeIf(ring -> ring.newest() < oldest);
    return this;
  }

  private Behavior<Command> onSample(Sample sample) {
    rings
        .computeIfAbsent(sample.node(), n -> new SampleRing(capacity, SERIES.size()))
        .add(sample.at(), sample.values());
    return this;
  }

  private Behavior<Command> onStop() {
    node.registry().unregister(GROUP, getContext().getSelf());
    return Behaviors.stopped();
  }

  private Behavior<Command> onGet(Get get) {
    Map<String, SampleRing.View> views = new TreeMap<>();
    rings.forEach((n, ring) -> views.put(n, ring.view()));
    get.replyTo().tell(views);
    return this;
  }
}
