package dev.troupe.core.internal;

import static dev.troupe.core.Preconditions.requireNonNull;

import dev.troupe.core.Subscription;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerGroup;
import dev.troupe.core.WorkerListing;
import dev.troupe.core.WorkerRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;

/**
 * INTERNAL API. {@link WorkerRegistry} over {@link RegistryActor} and its {@link RegistryViews}.
 */
public final class WorkerRegistryImpl implements WorkerRegistry {
  private final ActorSystem<?> system;
  private final ActorRef<RegistryActor.Command> actor;
  private final RegistryViews views;
  private final Duration askTimeout;
  private final ReplicaMeters meters;

  public WorkerRegistryImpl(
      ActorSystem<?> system,
      ActorRef<RegistryActor.Command> actor,
      RegistryViews views,
      RegistrySettings settings,
      ReplicaMeters meters) {
    this.system = system;
    this.meters = meters;
    this.actor = actor;
    this.views = views;
    this.askTimeout = settings.writeTimeout().multipliedBy(5);
  }

  @Override
  public <T> CompletionStage<Done> register(WorkerGroup<T> group, ActorRef<T> worker) {
    return localCommand(
        "register",
        group,
        worker,
        reply ->
            new RegistryActor.Register(
                group.name(), group.protocol().getName(), worker.unsafeUpcast(), reply));
  }

  @Override
  public <T> CompletionStage<Done> unregister(WorkerGroup<T> group, ActorRef<T> worker) {
    return localCommand(
        "unregister",
        group,
        worker,
        reply -> new RegistryActor.Unregister(group.name(), worker.unsafeUpcast(), reply));
  }

  @Override
  public <T> CompletionStage<Done> drain(WorkerGroup<T> group, ActorRef<T> worker) {
    return localCommand(
        "drain",
        group,
        worker,
        reply -> new RegistryActor.Drain(group.name(), worker.unsafeUpcast(), reply));
  }

  @Override
  public <T> void register(
      WorkerGroup<T> group, ActorRef<T> worker, ActorRef<StatusReply<Done>> replyTo) {
    requireNonNull(replyTo, "replyTo");
    StatusReplies.tell(register(group, worker), replyTo);
  }

  @Override
  public <T> void unregister(
      WorkerGroup<T> group, ActorRef<T> worker, ActorRef<StatusReply<Done>> replyTo) {
    requireNonNull(replyTo, "replyTo");
    StatusReplies.tell(unregister(group, worker), replyTo);
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public <T> void subscribe(WorkerGroup<T> group, ActorRef<WorkerListing<T>> subscriber) {
    requireNonNull(group, "group");
    requireNonNull(subscriber, "subscriber");
    if (!LocalRefs.isLocal(system, subscriber)) {
      throw new IllegalArgumentException(
          "WorkerRegistry.subscribe: the subscriber must be an actor of this node; ["
              + subscriber
              + "] lives on ["
              + subscriber.path().address()
              + "]");
    }
    RegistryViews.Subscriber s =
        new RegistryViews.Subscriber(
            group.name(),
            group.protocol().getName(),
            list -> subscriber.tell(new WorkerListing<>(group, (List) list)),
            subscriber.unsafeUpcast());
    actor.tell(new RegistryActor.AddSubscriber(s));
  }

  @Override
  public <T> void unsubscribe(WorkerGroup<T> group, ActorRef<WorkerListing<T>> subscriber) {
    requireNonNull(group, "group");
    requireNonNull(subscriber, "subscriber");
    actor.tell(
        new RegistryActor.RemoveSubscriber(
            group.name(), group.protocol().getName(), subscriber.unsafeUpcast()));
  }

  private <T> CompletionStage<Done> localCommand(
      String operation,
      WorkerGroup<T> group,
      ActorRef<T> worker,
      Function<CompletableFuture<Done>, RegistryActor.Command> command) {
    requireNonNull(group, "group");
    requireNonNull(worker, "worker");
    if (!LocalRefs.isLocal(system, worker)) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "WorkerRegistry."
                  + operation
                  + ": only actors of this node can be registered in a group (as with pg:join);"
                  + " ["
                  + worker
                  + "] lives on ["
                  + worker.path().address()
                  + "]"));
    }
    // No ask: a stage of Pekko's ask is a Scala future's CompletableFuture, which runs even the
    // non-async callbacks of callers on the common pool, and on 2 cores that is a new thread per
    // callback (ForkJoinPool parallelism 1). The actor completes this future off its own thread.
    CompletableFuture<Done> reply = new CompletableFuture<>();
    actor.tell(command.apply(reply));
    return reply;
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public <T> List<WorkerEntry<T>> workers(WorkerGroup<T> group) {
    GroupView.ProtocolView view = protocolView(group);
    List<WorkerEntry<T>> workers = view == null ? List.of() : (List) view.reachable();
    if (workers.isEmpty()) {
      meters.empty();
    } else {
      meters.found();
    }
    return workers;
  }

  @Override
  public Map<String, List<WorkerEntry<?>>> allWorkers() {
    Map<String, List<WorkerEntry<?>>> all = new LinkedHashMap<>();
    views.views().forEach((name, view) -> all.put(name, view.all()));
    return Map.copyOf(all);
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public <T> Optional<ActorRef<T>> pick(WorkerGroup<T> group) {
    GroupView.ProtocolView view = protocolView(group);
    return counted(view == null ? Optional.empty() : (Optional) view.pick());
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public <T> Optional<ActorRef<T>> pick(WorkerGroup<T> group, String key) {
    if (key == null) {
      meters.failed();
    }
    requireNonNull(key, "key");
    GroupView.ProtocolView view = protocolView(group);
    return counted(view == null ? Optional.empty() : (Optional) view.pick(key));
  }

  private <R> Optional<R> counted(Optional<R> picked) {
    if (picked.isPresent()) {
      meters.found();
    } else {
      meters.empty();
    }
    return picked;
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public <T> Subscription subscribe(WorkerGroup<T> group, Consumer<List<WorkerEntry<T>>> listener) {
    requireNonNull(group, "group");
    requireNonNull(listener, "listener");
    RegistryViews.Subscriber subscriber =
        new RegistryViews.Subscriber(group.name(), group.protocol().getName(), (Consumer) listener);
    actor.tell(new RegistryActor.AddSubscriber(subscriber));
    return () -> {
      if (!subscriber.isClosed()) {
        subscriber.close();
        actor.tell(RegistryActor.RemoveClosedSubscribers.INSTANCE);
      }
    };
  }

  /** The view of {@code group}'s protocol, or null; a null group is a failed lookup. */
  private GroupView.ProtocolView protocolView(WorkerGroup<?> group) {
    if (group == null) {
      meters.failed();
    }
    requireNonNull(group, "group");
    GroupView view = views.view(group.name());
    return view == null ? null : view.protocol(group.protocol().getName());
  }

  /** Marks every local worker DRAINING; for the graceful leave. */
  public CompletionStage<Done> drainAll() {
    return AskPattern.ask(actor, RegistryActor.DrainAll::new, askTimeout, system.scheduler());
  }
}
