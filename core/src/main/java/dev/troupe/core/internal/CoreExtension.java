package dev.troupe.core.internal;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * INTERNAL API. Core's per-node services: the worker registry, the address book and the watch
 * helper, created once per actor system.
 */
public final class CoreExtension implements Extension {
  /*
   * The registry and the address book are system actors with fixed names (troupeRegistry,
   * troupeAddressBook): the same path on every node, which is how they find their peers.
   *
   * The registry's drain runs in CoordinatedShutdown's first phase (before-service-unbind), so a
   * leaving node's workers are DRAINING on the other nodes before the node starts to leave.
   */

  private static final Id ID = new Id();

  private final WorkerRegistryImpl registry;
  private final AddressBookImpl addressBook;
  private final ActorRef<WatchActor.Command> watcher;
  private final AtomicLong droppedOversized = new AtomicLong();
  private final FirstView registryView = new FirstView("worker registry");
  private final FirstView bookView = new FirstView("address book");

  private CoreExtension(ActorSystem<?> system) {
    Config config = system.settings().config();
    MeterRegistry meterRegistry = NodeMeters.get(system).registry();
    ReplicaMeters registryMeters = ReplicaMeters.registry(meterRegistry);
    ReplicaMeters bookMeters = ReplicaMeters.addressBook(meterRegistry);
    RegistrySettings registrySettings = RegistrySettings.fromConfig(config);
    RegistryViews views = new RegistryViews();
    ActorRef<RegistryActor.Command> registryActor =
        system.systemActorOf(
            Behaviors.supervise(
                    RegistryActor.create(
                        views, registrySettings, Clock.systemUTC(), registryView, registryMeters))
                .onFailure(SupervisorStrategy.resume()),
            "troupeRegistry",
            Props.empty());
    this.registry =
        new WorkerRegistryImpl(system, registryActor, views, registrySettings, registryMeters);

    AddressBookSettings bookSettings = AddressBookSettings.fromConfig(config);
    AddressBookViewHolder holder = new AddressBookViewHolder();
    ActorRef<AddressBookActor.Command> bookActor =
        system.systemActorOf(
            Behaviors.supervise(
                    AddressBookActor.create(
                        holder, bookSettings, Clock.systemUTC(), bookView, bookMeters))
                .onFailure(SupervisorStrategy.resume()),
            "troupeAddressBook",
            Props.empty());
    this.addressBook = new AddressBookImpl(system, bookActor, holder, bookSettings, bookMeters);

    this.watcher = system.systemActorOf(WatchActor.create(), "troupeWatch", Props.empty());
    system.systemActorOf(
        OversizeCounter.create(droppedOversized), "troupeOversizeCounter", Props.empty());
    system.systemActorOf(TwoNodeWarning.create(), "troupeTwoNodeWarning", Props.empty());

    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeServiceUnbind(),
            "troupe-registry-drain",
            () -> registry.drainAll().exceptionally(e -> org.apache.pekko.Done.getInstance()));
  }

  /** The extension of {@code system}, created on first call. */
  public static CoreExtension get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The node's worker registry. */
  public WorkerRegistryImpl registry() {
    return registry;
  }

  /** The node's address book. */
  public AddressBookImpl addressBook() {
    return addressBook;
  }

  /** Whether the worker registry has had its first complete view of the cluster. */
  public FirstView registryView() {
    return registryView;
  }

  /** Whether the address book has had its first complete view of the cluster. */
  public FirstView addressBookView() {
    return bookView;
  }

  /** How many remote messages from this node Artery dropped for exceeding the frame size. */
  public long droppedOversized() {
    return droppedOversized.get();
  }

  /** The node's watch helper. */
  public ActorRef<WatchActor.Command> watcher() {
    return watcher;
  }

  /** The extension's id; Pekko keeps one extension per id and system. */
  static final class Id extends ExtensionId<CoreExtension> {
    @Override
    public CoreExtension createExtension(ActorSystem<?> system) {
      return new CoreExtension(system);
    }
  }
}
