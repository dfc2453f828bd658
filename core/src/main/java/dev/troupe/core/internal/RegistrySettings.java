package dev.troupe.core.internal;

import static dev.troupe.core.Preconditions.requireNonNull;
import static dev.troupe.core.Preconditions.requirePositive;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * INTERNAL API. The settings of the worker registry, {@code troupe.core.registry}, and of its
 * replication, {@code troupe.core.replication}.
 *
 * @param writeTimeout {@code troupe.core.registry.write-timeout}
 * @param replication {@code troupe.core.replication}
 */
public record RegistrySettings(Duration writeTimeout, ReplicationSettings replication) {

  /** Validates; every message names the key. */
  public RegistrySettings {
    requirePositive(writeTimeout, "troupe.core.registry.write-timeout");
    requireNonNull(replication, "troupe.core.replication");
  }

  /** Reads {@code troupe.core.registry} of {@code config} (the whole configuration). */
  public static RegistrySettings fromConfig(Config config) {
    Config c = config.getConfig("troupe.core.registry");
    return new RegistrySettings(
        c.getDuration("write-timeout"), ReplicationSettings.fromConfig(config));
  }
}
