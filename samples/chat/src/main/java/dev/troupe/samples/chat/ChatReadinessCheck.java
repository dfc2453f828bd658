package dev.troupe.samples.chat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * The chat's readiness check in Pekko Management's {@code /ready} (registered in {@code
 * application.conf} as {@code readiness-checks.chat}, next to Troupe's own): ready once the chat's
 * HTTP server is bound, so that a load balancer sends clients only to nodes that serve them.
 */
public final class ChatReadinessCheck implements Supplier<CompletionStage<Boolean>> {
  private final Serving serving;

  /** Called by Pekko Management with the node's actor system. */
  public ChatReadinessCheck(ActorSystem system) {
    this.serving = Serving.ID.apply(Adapter.toTyped(system));
  }

  @Override
  public CompletionStage<Boolean> get() {
    return serving.port > 0
        ? CompletableFuture.completedFuture(Boolean.TRUE)
        : CompletableFuture.failedFuture(
            new IllegalStateException("the chat's HTTP server is not bound yet"));
  }

  /** Marks the chat of {@code system} as serving on {@code port}. */
  static void serving(org.apache.pekko.actor.typed.ActorSystem<?> system, int port) {
    Serving.ID.apply(system).port = port;
  }

  /** Whether and where the chat of one actor system serves: a Pekko extension. */
  static final class Serving implements Extension {
    static final ExtensionId<Serving> ID =
        new ExtensionId<>() {
          @Override
          public Serving createExtension(org.apache.pekko.actor.typed.ActorSystem<?> system) {
            return new Serving();
          }
        };

    volatile int port;
  }
}
