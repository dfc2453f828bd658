package dev.troupe.core.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * INTERNAL API. Completes futures when watched actors stop, for {@code TroupeNode.watch}: one actor
 * per node watching any number of refs (local or remote; a remote ref also counts as stopped when
 * its node is removed from the cluster).
 */
public final class WatchActor extends AbstractBehavior<WatchActor.Command> {
  /** The protocol of the watch actor. */
  public sealed interface Command {}

  /** Completes {@code done} when {@code ref} stops. */
  public record Watch(ActorRef<?> ref, CompletableFuture<Done> done) implements Command {}

  private record Stopped(ActorRef<?> ref) implements Command {}

  private final Map<ActorRef<?>, List<CompletableFuture<Done>>> waiting = new HashMap<>();

  private WatchActor(ActorContext<Command> ctx) {
    super(ctx);
  }

  /** The watch actor. */
  public static Behavior<Command> create() {
    return Behaviors.setup(WatchActor::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Watch.class, this::onWatch)
        .onMessage(Stopped.class, this::onStopped)
        .build();
  }

  private Behavior<Command> onWatch(Watch cmd) {
    List<CompletableFuture<Done>> futures = waiting.get(cmd.ref());
    if (futures == null) {
      futures = new ArrayList<>();
      waiting.put(cmd.ref(), futures);
      getContext().watchWith(cmd.ref(), new Stopped(cmd.ref()));
    }
    futures.add(cmd.done());
    return this;
  }

  private Behavior<Command> onStopped(Stopped msg) {
    List<CompletableFuture<Done>> futures = waiting.remove(msg.ref());
    if (futures != null) {
      futures.forEach(f -> f.complete(Done.getInstance()));
    }
    return this;
  }
}
