package dev.troupe.core.health;

import dev.troupe.core.internal.NodeHealth;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * Troupe's liveness check for Pekko Management ({@code /alive}), registered by Troupe's {@code
 * reference.conf} as {@code pekko.management.health-checks.liveness-checks.troupe}. It completes
 * with {@code true} while the node can still do work: its cluster has not shut down (after this
 * node was downed or removed, only a restart brings it back) and its default dispatcher runs a task
 * (a deadlocked or starved dispatcher times out: Management's {@code check-timeout}). It fails with
 * an {@link IllegalStateException} naming the reason otherwise. Deliberately lenient: a node that
 * is joining, syncing or without its database is alive, only not {@linkplain ReadinessCheck ready}.
 *
 * @since 0.3.0
 */
public final class LivenessCheck implements Supplier<CompletionStage<Boolean>> {
  private final org.apache.pekko.actor.typed.ActorSystem<?> system;

  /** Called by Pekko Management with the node's (classic) actor system. */
  public LivenessCheck(ActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public CompletionStage<Boolean> get() {
    return NodeHealth.liveness(system);
  }
}
