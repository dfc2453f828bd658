package dev.troupe.core.internal;

import com.typesafe.config.Config;
import dev.troupe.core.health.Readiness;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.internal.StorageExtension;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * INTERNAL API. The conditions behind {@code TroupeNode.readiness()} and Pekko Management's
 * readiness and liveness checks ({@code dev.troupe.core.health}).
 */
public final class NodeHealth {
  /** When the readiness looks at the storage ({@code troupe.core.health.storage}). */
  enum StorageMode {
    /** Only when the node has opened its storage (something on it uses the database). */
    AUTO,
    /** Always: opens the storage if need be. */
    ON,
    /** Never. */
    OFF
  }

  private NodeHealth() {}

  /** The readiness of the system's Troupe node; ready if the system has none. */
  public static CompletionStage<Readiness> readinessOfSystem(ActorSystem<?> system) {
    if (NodeHolder.get(system).existing().isEmpty()) {
      return CompletableFuture.completedFuture(new Readiness(List.of()));
    }
    return readiness(system);
  }

  /** The readiness of the Troupe node of {@code system} (which has one). */
  public static CompletionStage<Readiness> readiness(ActorSystem<?> system) {
    Config config = system.settings().config().getConfig("troupe.core.health");
    StorageMode mode = storageMode(config.getString("storage"));
    Duration timeout = config.getDuration("storage-timeout");
    List<String> notReady = new ArrayList<>();
    MemberStatus status = Cluster.get(system).selfMember().status();
    if (!status.equals(MemberStatus.up())) {
      notReady.add("this member is " + status + ", not Up");
    }
    CoreExtension core = CoreExtension.get(system);
    if (!core.registryView().reached()) {
      notReady.add("the worker registry has no complete view of the other members yet");
    }
    if (!core.addressBookView().reached()) {
      notReady.add("the address book has no complete view of the other members yet");
    }
    if (mode == StorageMode.OFF) {
      return CompletableFuture.completedFuture(new Readiness(notReady));
    }
    StorageExtension extension = StorageExtension.get(system);
    Optional<Storage> opened = extension.opened();
    if (mode == StorageMode.AUTO && opened.isEmpty()) {
      return CompletableFuture.completedFuture(new Readiness(notReady));
    }
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    // ON may have to open the storage: that blocks too, so it runs where the ping runs.
    Supplier<Storage> storage = () -> opened.orElseGet(extension::storage);
    return ping(storage, timeout, blocking)
        .thenApply(
            problem -> {
              problem.ifPresent(notReady::add);
              return new Readiness(notReady);
            });
  }

  /** Empty if the storage answered a validation within {@code timeout}, else what went wrong. */
  static CompletionStage<Optional<String>> ping(
      Supplier<Storage> storage, Duration timeout, Executor blocking) {
    int seconds = (int) Math.max(1, (timeout.toMillis() + 999) / 1000);
    return CompletableFuture.supplyAsync(
            () -> {
              Storage opened;
              try {
                opened = storage.get();
              } catch (RuntimeException e) {
                return Optional.of("the storage cannot be opened: " + e.getMessage());
              }
              try (Connection connection = opened.dataSource().getConnection()) {
                return connection.isValid(seconds)
                    ? Optional.<String>empty()
                    : Optional.of("the storage " + opened.displayUrl() + " did not validate");
              } catch (Exception e) {
                return Optional.of(
                    "the storage " + opened.displayUrl() + " does not answer: " + e.getMessage());
              }
            },
            blocking)
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(
            e ->
                Optional.of(
                    e instanceof TimeoutException
                        ? "the storage did not answer within " + timeout.toMillis() + " ms"
                        : "the storage check failed: " + e));
  }

  /**
   * Completes with {@code true} while the node's cluster runs and its default dispatcher runs a
   * task; fails naming the reason once the cluster has shut down.
   */
  public static CompletionStage<Boolean> liveness(ActorSystem<?> system) {
    if (system.whenTerminated().isCompleted()) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("actor system [" + system.name() + "] has terminated"));
    }
    org.apache.pekko.cluster.Cluster classic =
        org.apache.pekko.cluster.Cluster.get(system.classicSystem());
    if (classic.isTerminated()) {
      return CompletableFuture.failedFuture(
          new IllegalStateException(
              "the cluster of ["
                  + classic.selfAddress()
                  + "] has shut down (this node was downed or has left): restart it"));
    }
    return CompletableFuture.supplyAsync(() -> Boolean.TRUE, system.executionContext());
  }

  static StorageMode storageMode(String value) {
    return switch (value) {
      case "auto" -> StorageMode.AUTO;
      case "on", "true" -> StorageMode.ON;
      case "off", "false" -> StorageMode.OFF;
      default ->
          throw new IllegalArgumentException(
              "troupe.core.health.storage must be auto, on or off, got: [" + value + "]");
    };
  }
}
