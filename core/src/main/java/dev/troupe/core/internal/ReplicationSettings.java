package dev.troupe.core.internal;

import static dev.troupe.core.Preconditions.requirePositive;
import static dev.troupe.core.Preconditions.requireRange;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * INTERNAL API. How the registry and the address book replicate ({@code troupe.core.replication}).
 *
 * @param statusInterval {@code troupe.core.replication.status-interval}
 * @param resyncAfter {@code troupe.core.replication.resync-after}
 * @param maxMessageBytes {@code troupe.core.replication.max-message-bytes}
 * @param pruneInterval {@code troupe.core.replication.prune-interval}
 * @param pruneGrace {@code troupe.core.replication.prune-grace}
 */
public record ReplicationSettings(
    Duration statusInterval,
    Duration resyncAfter,
    int maxMessageBytes,
    Duration pruneInterval,
    Duration pruneGrace) {

  /** Validates; every message names the key. */
  public ReplicationSettings {
    requirePositive(statusInterval, "troupe.core.replication.status-interval");
    requirePositive(resyncAfter, "troupe.core.replication.resync-after");
    requireRange(
        maxMessageBytes, 16 * 1024, 192 * 1024, "troupe.core.replication.max-message-bytes");
    requirePositive(pruneInterval, "troupe.core.replication.prune-interval");
    requirePositive(pruneGrace, "troupe.core.replication.prune-grace");
  }

  /** Reads {@code troupe.core.replication} of {@code config} (the whole configuration). */
  public static ReplicationSettings fromConfig(Config config) {
    Config c = config.getConfig("troupe.core.replication");
    return new ReplicationSettings(
        c.getDuration("status-interval"),
        c.getDuration("resync-after"),
        (int) Math.min(Integer.MAX_VALUE, c.getBytes("max-message-bytes")),
        c.getDuration("prune-interval"),
        c.getDuration("prune-grace"));
  }
}
