package dev.troupe.core.health;

import dev.troupe.core.internal.NodeHealth;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * Troupe's readiness check for Pekko Management ({@code /ready}), registered by Troupe's {@code
 * reference.conf} as {@code pekko.management.health-checks.readiness-checks.troupe}: Management
 * creates it with the node's actor system. It completes with {@code true} when the system's Troupe
 * node is {@linkplain Readiness ready}, and fails with an {@link IllegalStateException} naming what
 * is not ready otherwise (Management shows the message in the response). A system without a Troupe
 * node has nothing for Troupe to wait for: {@code true}.
 *
 * @since 0.3.0
 */
public final class ReadinessCheck implements Supplier<CompletionStage<Boolean>> {
  private final org.apache.pekko.actor.typed.ActorSystem<?> system;

  /** Called by Pekko Management with the node's (classic) actor system. */
  public ReadinessCheck(ActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public CompletionStage<Boolean> get() {
    return NodeHealth.readinessOfSystem(system)
        .thenApply(
            readiness -> {
              if (!readiness.isReady()) {
                throw new IllegalStateException("Troupe node " + readiness);
              }
              return Boolean.TRUE;
            });
  }
}
