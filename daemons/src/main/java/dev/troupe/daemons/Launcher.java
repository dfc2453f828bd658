package dev.troupe.daemons;

import static dev.troupe.core.Preconditions.requireNonNull;

import dev.troupe.core.Names;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.actor.typed.Behavior;

/**
 * How to run daemons of one kind: their protocol and the behavior of a daemon from its spec, and
 * optionally where to find the daemons that should run. Immutable.
 *
 * <pre>{@code
 * Launcher<Importer.Command> importers =
 *     Launcher.of(Importer.Command.class, spec -> Importer.create(spec.name(), spec.epoch()))
 *         .withRecovery(() -> importerTable.pages());     // the daemons that should run
 * Daemons.get(node).registerLauncher("importer", importers);
 * }</pre>
 *
 * @param <M> the daemons' protocol
 * @since 0.1.0
 */
public final class Launcher<M> {
  private final Class<M> protocol;
  private final Function<DaemonSpec, Behavior<M>> factory;
  private final Optional<RecoveryScanner> recovery;

  private Launcher(
      Class<M> protocol,
      Function<DaemonSpec, Behavior<M>> factory,
      Optional<RecoveryScanner> recovery) {
    this.protocol = protocol;
    this.factory = factory;
    this.recovery = recovery;
  }

  /**
   * A launcher of daemons of {@code protocol} made by {@code factory}.
   *
   * @throws IllegalArgumentException if an argument is null
   */
  public static <M> Launcher<M> of(Class<M> protocol, Function<DaemonSpec, Behavior<M>> factory) {
    requireNonNull(protocol, "protocol");
    requireNonNull(factory, "factory");
    return new Launcher<>(protocol, factory, Optional.empty());
  }

  /**
   * This launcher with {@code scanner}, which lists the daemons that should run.
   *
   * @throws IllegalArgumentException if {@code scanner} is null
   */
  public Launcher<M> withRecovery(RecoveryScanner scanner) {
    requireNonNull(scanner, "scanner");
    return new Launcher<>(protocol, factory, Optional.of(scanner));
  }

  /**
   * A scanner of exactly one daemon, {@code name} with {@code args}: a singleton daemon that runs
   * once in the cluster, always.
   *
   * @throws IllegalArgumentException if {@code name} is not a valid {@linkplain Names name}; the
   *     message names the value and the rule
   */
  public static RecoveryScanner singletonDaemon(String name, List<Object> args) {
    Names.require(name, "daemon name");
    DaemonSpec spec = new DaemonSpec(name, args, 0);
    return () -> List.of(List.of(spec)).iterator();
  }

  /** The daemons' protocol. */
  public Class<M> protocol() {
    return protocol;
  }

  /** The daemon factory. */
  public Function<DaemonSpec, Behavior<M>> factory() {
    return factory;
  }

  /** The recovery scanner, if any. */
  public Optional<RecoveryScanner> recovery() {
    return recovery;
  }

  /** An empty scanner, for launchers without recovery. */
  static Iterator<List<DaemonSpec>> none() {
    return List.<List<DaemonSpec>>of().iterator();
  }
}
