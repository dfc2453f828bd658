package dev.troupe.core.internal;

import static dev.troupe.core.Preconditions.requireNonNull;
import static dev.troupe.core.Preconditions.requirePositive;

import dev.troupe.core.AddressBook;
import dev.troupe.core.Location;
import dev.troupe.core.Names;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;

/** INTERNAL API. {@link AddressBook} over {@link AddressBookActor} and its published view. */
public final class AddressBookImpl implements AddressBook {
  private final ActorSystem<?> system;
  private final ActorRef<AddressBookActor.Command> actor;
  private final AddressBookViewHolder holder;
  private final AddressBookSettings settings;
  private final ActorRefResolver resolver;
  private final Map<String, ActorRef<Object>> resolved = new ConcurrentHashMap<>();
  private final ReplicaMeters meters;

  public AddressBookImpl(
      ActorSystem<?> system,
      ActorRef<AddressBookActor.Command> actor,
      AddressBookViewHolder holder,
      AddressBookSettings settings,
      ReplicaMeters meters) {
    this.system = system;
    this.meters = meters;
    this.actor = actor;
    this.holder = holder;
    this.settings = settings;
    this.resolver = ActorRefResolver.get(system);
  }

  @Override
  public CompletionStage<Done> register(String name, ActorRef<?> ref) {
    return register(name, ref, "", Optional.empty(), 0);
  }

  @Override
  public <T> CompletionStage<Done> register(String name, ActorRef<T> ref, Class<T> protocol) {
    requireNonNull(protocol, "protocol");
    return register(name, ref, protocol.getName(), Optional.empty(), 0);
  }

  @Override
  public <T> CompletionStage<Done> registerRanked(
      String name, ActorRef<T> ref, Class<T> protocol, long rank) {
    requireNonNull(protocol, "protocol");
    return register(name, ref, protocol.getName(), Optional.empty(), rank);
  }

  @Override
  public <T> CompletionStage<Done> register(
      String name, ActorRef<T> ref, Class<T> protocol, T onDuplicate) {
    requireNonNull(protocol, "protocol");
    requireNonNull(onDuplicate, "onDuplicate");
    return register(name, ref, protocol.getName(), Optional.of(onDuplicate), 0);
  }

  private CompletionStage<Done> register(
      String name, ActorRef<?> ref, String protocol, Optional<Object> onDuplicate, long rank) {
    Names.require(name, "AddressBook name");
    requireNonNull(ref, "ref");
    if (!LocalRefs.isLocal(system, ref)) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "AddressBook.register: only actors of this node can be named; ["
                  + ref
                  + "] lives on ["
                  + ref.path().address()
                  + "]"));
    }
    ActorRef<Object> any = ref.unsafeUpcast();
    // No ask: see WorkerRegistryImpl.localCommand.
    CompletableFuture<Done> reply = new CompletableFuture<>();
    actor.tell(new AddressBookActor.Register(name, any, protocol, onDuplicate, rank, reply));
    return reply;
  }

  @Override
  public Optional<Address> locate(String name) {
    requireName(name);
    return counted(holder.view().locate(name));
  }

  /** Like requireNonNull, counting a null name as a failed lookup. */
  private void requireName(String name) {
    if (name == null) {
      meters.failed();
    }
    requireNonNull(name, "name");
  }

  private <R> Optional<R> counted(Optional<R> found) {
    if (found.isPresent()) {
      meters.found();
    } else {
      meters.empty();
    }
    return found;
  }

  @Override
  public Location resolve(String name) {
    requireName(name);
    Location location = resolveIn(holder.view(), name);
    if (location instanceof Location.Found) {
      meters.found();
    } else if (location instanceof Location.Absent) {
      meters.empty();
    } else {
      meters.unknown();
    }
    return location;
  }

  private Location resolveIn(AddressBookView view, String name) {
    if (!view.selfUp()) {
      return new Location.Unknown("this node is not an Up member yet");
    }
    Optional<NameEntry> winner = view.winner(name);
    if (winner.isPresent()) {
      return new Location.Found(
          view.ringNodes().get(winner.get().node()),
          Instant.ofEpochMilli(winner.get().registeredAt()));
    }
    List<NameEntry> unavailable = view.unavailableHolders(name);
    if (!unavailable.isEmpty()) {
      return new Location.Unknown(
          "["
              + name
              + "] is held only on nodes that are unreachable or not Up: "
              + unavailable.stream().map(NameEntry::node).collect(Collectors.toSet()));
    }
    long sinceChange = System.nanoTime() - view.changedAtNanos();
    if (sinceChange < settings.settleTime().toNanos()) {
      return new Location.Unknown(
          "membership changed "
              + Duration.ofNanos(sinceChange).toMillis()
              + " ms ago; replicas are converging (troupe.core.address-book.settle-time = "
              + settings.settleTime()
              + ")");
    }
    if (view.members().size() != view.available().size()) {
      return new Location.Unknown("some members are unreachable or not Up");
    }
    return new Location.Absent();
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> Optional<ActorRef<T>> lookup(String name, Class<T> protocol) {
    requireName(name);
    if (protocol == null) {
      meters.failed();
    }
    requireNonNull(protocol, "protocol");
    Optional<NameEntry> winner = holder.view().winner(name);
    if (winner.isEmpty()) {
      meters.empty();
      return Optional.empty();
    }
    NameEntry entry = winner.get();
    if (!entry.protocol().isEmpty() && !entry.protocol().equals(protocol.getName())) {
      meters.failed();
      throw new IllegalArgumentException(
          "AddressBook.lookup: ["
              + name
              + "] was registered with protocol ["
              + entry.protocol()
              + "], not ["
              + protocol.getName()
              + "]");
    }
    meters.found();
    return Optional.of((ActorRef<T>) resolve(entry));
  }

  /** The holder of {@code name} as an untyped ref, without a protocol check; for node helpers. */
  public Optional<ActorRef<Object>> lookupAny(String name) {
    requireName(name);
    return counted(holder.view().winner(name).map(this::resolve));
  }

  private ActorRef<Object> resolve(NameEntry entry) {
    ActorRef<Object> ref = resolved.get(entry.ref());
    if (ref == null) {
      if (resolved.size() > 100_000) {
        resolved.clear(); // a bound, not a cache policy: names churn slowly
      }
      ref = resolver.resolveActorRef(entry.ref());
      resolved.put(entry.ref(), ref);
    }
    return ref;
  }

  @Override
  public Address pickNode(String key) {
    requireNonNull(key, "key");
    AddressBookView view = holder.view();
    if (view.available().isEmpty()) {
      throw new IllegalStateException(
          "AddressBook.pickNode: no node is available yet (this node is not Up)");
    }
    return view.ringNodes().get(view.ring().pick(key));
  }

  @Override
  public Set<Address> availableNodes() {
    return holder.view().available();
  }

  @Override
  public Map<Address, Set<String>> snapshot() {
    Map<String, Set<String>> byNode = new HashMap<>();
    holder
        .view()
        .names()
        .forEach(
            (name, entries) -> {
              for (NameEntry entry : entries) {
                byNode.computeIfAbsent(entry.node(), n -> new TreeSet<>()).add(name);
              }
            });
    Map<Address, Set<String>> result = new HashMap<>();
    byNode.forEach(
        (node, names) -> result.put(AddressFromURIString.parse(node), Set.copyOf(names)));
    return Map.copyOf(result);
  }

  @Override
  public CompletionStage<Map<String, Address>> query(Duration timeout) {
    requirePositive(timeout, "timeout");
    return AskPattern.<AddressBookActor.Command, Map<String, Address>>askWithStatus(
            actor,
            replyTo -> new AddressBookActor.Query(timeout, replyTo),
            timeout.plus(settings.writeTimeout()),
            system.scheduler())
        .whenComplete(
            (holders, error) -> {
              if (error != null) {
                meters.failed();
              }
            });
  }

  @Override
  public void register(String name, ActorRef<?> ref, ActorRef<StatusReply<Done>> replyTo) {
    requireNonNull(replyTo, "replyTo");
    StatusReplies.tell(register(name, ref), replyTo);
  }
}
