package dev.troupe.sharding.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/** INTERNAL API. The fleets started on one node, by name. */
public final class FleetsExtension implements Extension {
  private static final Id ID = new Id();

  private final Map<String, WorkerFleetImpl<?>> fleets = new HashMap<>(); // guarded by this

  /** The extension of {@code system}. */
  public static FleetsExtension get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The fleet {@code name}, started by {@code start} on first call. */
  synchronized WorkerFleetImpl<?> getOrStart(String name, Supplier<WorkerFleetImpl<?>> start) {
    return fleets.computeIfAbsent(name, n -> start.get());
  }

  static final class Id extends ExtensionId<FleetsExtension> {
    @Override
    public FleetsExtension createExtension(ActorSystem<?> system) {
      return new FleetsExtension();
    }
  }
}
