package dev.troupe.daemons.internal;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.daemons.DaemonSpec;
import dev.troupe.daemons.Launcher;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * INTERNAL API. Runs the daemons the leader places on this node ({@code /system/troupeDaemonHost}).
 */
public final class DaemonHost extends AbstractBehavior<DaemonHost.Command> {
  /*
   * Protocol with the leader:
   * - Start(launcher, spec with epoch): idempotent per (name, epoch). A running instance of the
   *   name with an older epoch is stopped first (the leader moved it back here), and the new one
   *   starts only once the old one has ended; one with the same or a newer epoch is answered as
   *   Started. The daemon runs as a child named after name and
   *   epoch, supervised with restartWithBackoff (a daemon that keeps failing restarts at most
   *   about 6 times a minute by default), and is registered in the address book under its name.
   *   An unknown launcher is answered StartFailed: the leader reports it and places nothing.
   * - Stop(name, epoch): stops the instance if its epoch is not newer; answered Stopped either way,
   *   but only once the instance (or one of the name still stopping) has ended: the leader starts
   *   the daemon elsewhere on Stopped, so an earlier answer would let two instances overlap.
   * - Report: every instance running here, so that a new leader adopts them instead of restarting
   *   them, and so that re-scans find duplicates and silently stopped daemons.
   * - A daemon that stops without a Stop (it stopped itself, or the address book stopped it as a
   *   stale duplicate: names are ranked by epoch) is reported to the leader (Terminated), which
   *   restarts it if it should run.
   */

  /** The protocol of a daemon host. */
  public sealed interface Command {}

  /** Starts a daemon of {@code launcher} as {@code spec} (with its epoch). */
  public record Start(String launcher, DaemonSpec spec, ActorRef<StartResult> replyTo)
      implements Command, TroupeSerializable {}

  /** The answer to {@link Start}. */
  public sealed interface StartResult extends TroupeSerializable {}

  /** The daemon runs here as {@code ref}. */
  public record Started(String name, long epoch, ActorRef<Object> ref) implements StartResult {}

  /** The daemon could not start here. */
  public record StartFailed(String name, long epoch, String reason) implements StartResult {}

  /** Stops the instance of {@code name} unless it is newer than {@code epoch} (0 = any). */
  public record Stop(String name, long epoch, ActorRef<Stopped> replyTo)
      implements Command, TroupeSerializable {}

  /** The answer to {@link Stop}. */
  public record Stopped(String name, long epoch) implements TroupeSerializable {}

  /** Asks which daemons run here. */
  public record Report(ActorRef<Running> replyTo) implements Command, TroupeSerializable {}

  /** The daemons that run on {@code node}. */
  public record Running(String node, List<Instance> instances) implements TroupeSerializable {}

  /** One running daemon. */
  public record Instance(String name, String launcher, long epoch, ActorRef<Object> ref)
      implements TroupeSerializable {}

  private record ChildStopped(String name, long epoch) implements Command {}

  /** A running daemon of this node. */
  private record Hosted(String launcher, DaemonSpec spec, ActorRef<Object> ref) {}

  /** An instance asked to stop that has not ended yet, and what waits for its end. */
  private record Stopping(long epoch, List<Stop> stops, List<Start> starts) {}

  private final TroupeNode node;
  private final Map<String, Launcher<?>> launchers;
  private final Function<String, ActorRef<DaemonLeader.Command>> leader;
  private final DaemonsSettings settings;
  private final Map<String, Hosted> running = new HashMap<>();
  private final Map<String, Stopping> stopping = new HashMap<>();

  private DaemonHost(
      ActorContext<Command> ctx,
      TroupeNode node,
      Map<String, Launcher<?>> launchers,
      Function<String, ActorRef<DaemonLeader.Command>> leader,
      DaemonsSettings settings) {
    super(ctx);
    this.node = node;
    this.launchers = launchers;
    this.leader = leader;
    this.settings = settings;
  }

  /**
   * The host of {@code node}; {@code launchers} is the node's live launcher map, {@code leader}
   * gives the leader proxy (called lazily).
   */
  public static Behavior<Command> create(
      TroupeNode node,
      Map<String, Launcher<?>> launchers,
      Function<String, ActorRef<DaemonLeader.Command>> leader,
      DaemonsSettings settings) {
    return Behaviors.setup(ctx -> new DaemonHost(ctx, node, launchers, leader, settings));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Start.class, this::onStart)
        .onMessage(Stop.class, this::onStop)
        .onMessage(Report.class, this::onReport)
        .onMessage(ChildStopped.class, this::onChildStopped)
        .build();
  }

  private Behavior<Command> onStart(Start cmd) {
    String name = cmd.spec().name();
    long epoch = cmd.spec().epoch();
    Hosted current = running.get(name);
    if (current != null && current.spec().epoch() >= epoch) {
      cmd.replyTo().tell(new Started(name, current.spec().epoch(), current.ref()));
      return this;
    }
    if (current != null) {
      stopChild(name, current); // an older instance: the newer one replaces it once it has ended
    }
    if (stopping.containsKey(name)) {
      stopping.get(name).starts().add(cmd);
      return this;
    }
    Launcher<?> launcher = launchers.get(cmd.launcher());
    if (launcher == null) {
      cmd.replyTo()
          .tell(
              new StartFailed(
                  name,
                  epoch,
                  "no launcher ["
                      + cmd.launcher()
                      + "] is registered on node ["
                      + node.address()
                      + "]; registered: "
                      + launchers.keySet()));
      return this;
    }
    ActorRef<Object> ref;
    try {
      ref = spawn(launcher, cmd.spec());
    } catch (RuntimeException e) {
      cmd.replyTo()
          .tell(
              new StartFailed(
                  name, epoch, "launcher [" + cmd.launcher() + "] failed: " + e.getMessage()));
      return this;
    }
    running.put(name, new Hosted(cmd.launcher(), cmd.spec(), ref));
    getContext().watchWith(ref, new ChildStopped(name, epoch));
    register(launcher, name, ref, epoch);
    getContext()
        .getLog()
        .info("Daemon [{}] (launcher [{}], epoch {}) started", name, cmd.launcher(), epoch);
    cmd.replyTo().tell(new Started(name, epoch, ref));
    return this;
  }

  @SuppressWarnings("unchecked")
  private <M> ActorRef<Object> spawn(Launcher<M> launcher, DaemonSpec spec) {
    Behavior<M> behavior = launcher.factory().apply(spec);
    Behavior<M> supervised =
        Behaviors.supervise(behavior)
            .onFailure(
                SupervisorStrategy.restartWithBackoff(
                    settings.restartBackoffMin(), settings.restartBackoffMax(), 0.2));
    String childName =
        "d-" + URLEncoder.encode(spec.name(), StandardCharsets.UTF_8) + "-" + spec.epoch();
    return (ActorRef<Object>) (ActorRef<?>) getContext().spawn(supervised, childName);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void register(Launcher<?> launcher, String name, ActorRef<Object> ref, long epoch) {
    // Ranked by epoch: the newest placement wins the name, also over an older instance that
    // reappears from a node that was unreachable (whose node then stops it).
    node.addressBook().registerRanked(name, (ActorRef) ref, (Class) launcher.protocol(), epoch);
  }

  private Behavior<Command> onStop(Stop cmd) {
    Hosted current = running.get(cmd.name());
    if (current != null && (cmd.epoch() <= 0 || current.spec().epoch() <= cmd.epoch())) {
      stopChild(cmd.name(), current);
      getContext()
          .getLog()
          .info("Daemon [{}] (epoch {}) stopping", cmd.name(), current.spec().epoch());
    }
    Stopping ending = stopping.get(cmd.name());
    if (ending != null) {
      ending.stops().add(cmd); // answered when it has ended
    } else {
      cmd.replyTo().tell(new Stopped(cmd.name(), cmd.epoch()));
    }
    return this;
  }

  /** Stops {@code hosted}; its ChildStopped then answers what waits for its end. */
  private void stopChild(String name, Hosted hosted) {
    running.remove(name);
    stopping.put(name, new Stopping(hosted.spec().epoch(), new ArrayList<>(), new ArrayList<>()));
    getContext().stop(hosted.ref());
  }

  private Behavior<Command> onReport(Report cmd) {
    List<Instance> instances = new ArrayList<>();
    running.forEach(
        (name, hosted) ->
            instances.add(
                new Instance(name, hosted.launcher(), hosted.spec().epoch(), hosted.ref())));
    cmd.replyTo().tell(new Running(node.address().toString(), instances));
    return this;
  }

  private Behavior<Command> onChildStopped(ChildStopped msg) {
    Stopping ended = stopping.get(msg.name());
    if (ended != null && ended.epoch() == msg.epoch()) {
      stopping.remove(msg.name());
      getContext().getLog().info("Daemon [{}] (epoch {}) stopped", msg.name(), msg.epoch());
      ended.stops().forEach(stop -> stop.replyTo().tell(new Stopped(stop.name(), stop.epoch())));
      ended.starts().forEach(this::onStart);
      return this;
    }
    Hosted current = running.get(msg.name());
    if (current != null && current.spec().epoch() == msg.epoch()) {
      running.remove(msg.name());
      getContext()
          .getLog()
          .warn("Daemon [{}] (epoch {}) stopped by itself", msg.name(), msg.epoch());
      leader
          .apply("terminated")
          .tell(new DaemonLeader.Terminated(msg.name(), msg.epoch(), node.address().toString()));
    }
    return this;
  }
}
