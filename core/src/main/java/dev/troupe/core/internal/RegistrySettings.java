package dev.troupe.core.internal;

import static dev.troupe.core.internal.Preconditions.requirePositive;
import static dev.troupe.core.internal.Preconditions.requireRange;

import com.typesafe.config.Config;
import java.time.Duration;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * INTERNAL API. The settings of the worker registry, {@code troupe.core.registry}.
 *
 * @param writeTimeout {@code troupe.core.registry.write-timeout}
 * @param pruneInterval {@code troupe.core.registry.prune-interval}
 * @param pruneGrace {@code troupe.core.registry.prune-grace}
 * @param distributedKeyCount {@code troupe.core.registry.distributed-key-count}
 * @param confirmWithin {@code troupe.core.registry.confirm-within}
 */
public record RegistrySettings(
    Duration writeTimeout,
    Duration pruneInterval,
    Duration pruneGrace,
    int distributedKeyCount,
    Duration confirmWithin) {

  /** Validates; every message names the key. */
  public RegistrySettings {
    requirePositive(writeTimeout, "troupe.core.registry.write-timeout");
    requirePositive(pruneInterval, "troupe.core.registry.prune-interval");
    requirePositive(pruneGrace, "troupe.core.registry.prune-grace");
    requireRange(distributedKeyCount, 1, 1024, "troupe.core.registry.distributed-key-count");
    requirePositive(confirmWithin, "troupe.core.registry.confirm-within");
  }

  /** Reads {@code troupe.core.registry} of {@code config} (the whole configuration). */
  public static RegistrySettings fromConfig(Config config) {
    Config c = config.getConfig("troupe.core.registry");
    return new RegistrySettings(
        c.getDuration("write-timeout"),
        c.getDuration("prune-interval"),
        c.getDuration("prune-grace"),
        c.getInt("distributed-key-count"),
        c.getDuration("confirm-within"));
  }

  /** WriteAll with the write timeout. */
  Replicator.WriteConsistency writeAll() {
    return new Replicator.WriteAll(writeTimeout);
  }
}
