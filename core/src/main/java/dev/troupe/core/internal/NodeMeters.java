package dev.troupe.core.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * INTERNAL API. The meter registry of an actor system's Troupe node (a Pekko extension): one {@link
 * CompositeMeterRegistry} that every Troupe module registers its meters on, tagged {@code node}
 * with the node's name. It records nothing until the application adds its own registry ({@code
 * NodeOptions.Builder.meterRegistry}, {@code TroupeNode.attach(system, registry)}); meters
 * registered before that are passed on to it once added.
 */
public final class NodeMeters implements Extension {
  private static final Id ID = new Id();

  private final CompositeMeterRegistry registry = new CompositeMeterRegistry();

  private NodeMeters(String node) {
    registry.config().commonTags("node", node);
  }

  /** The meters of {@code system}'s node. */
  public static NodeMeters get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Where Troupe's meters go: the application's registry once added; nothing before. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Passes every Troupe meter, present and future, to {@code application} too. */
  public synchronized void add(MeterRegistry application) {
    if (application != null && !registry.getRegistries().contains(application)) {
      registry.add(application);
    }
  }

  /** The node name of {@code system}: {@code troupe.core.node-name}, or its host and port. */
  public static String nodeName(ActorSystem<?> system) {
    String configured = system.settings().config().getString("troupe.core.node-name");
    if (!configured.isEmpty()) {
      return configured;
    }
    Address self = system.address();
    return self.getHost().orElse("local") + ":" + self.getPort().orElse(0);
  }

  /** The extension's id; Pekko keeps one extension per id and system. */
  static final class Id extends ExtensionId<NodeMeters> {
    @Override
    public NodeMeters createExtension(ActorSystem<?> system) {
      return new NodeMeters(nodeName(system));
    }
  }
}
