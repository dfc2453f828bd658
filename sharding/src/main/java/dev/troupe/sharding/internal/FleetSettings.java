package dev.troupe.sharding.internal;

import static dev.troupe.core.Preconditions.requireNonNegative;
import static dev.troupe.core.Preconditions.requirePositive;
import static dev.troupe.core.Preconditions.requireRange;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * INTERNAL API. The defaults and limits of fleets, {@code troupe.sharding.fleet}.
 *
 * @param idleTimeout {@code idle-timeout}
 * @param idleJitter {@code idle-jitter}
 * @param minBackoff {@code restart-backoff.min}
 * @param maxBackoff {@code restart-backoff.max}
 * @param sweepMin {@code sweep-interval.min}
 * @param sweepMax {@code sweep-interval.max}
 * @param rebalanceMaxShards {@code rebalance-max-shards-per-round}
 * @param queryTimeout {@code query-timeout}
 */
public record FleetSettings(
    Duration idleTimeout,
    Duration idleJitter,
    Duration minBackoff,
    Duration maxBackoff,
    Duration sweepMin,
    Duration sweepMax,
    int rebalanceMaxShards,
    Duration queryTimeout) {

  /** Validates; every message names the key. */
  public FleetSettings {
    requireNonNegative(idleTimeout, "troupe.sharding.fleet.idle-timeout");
    requireNonNegative(idleJitter, "troupe.sharding.fleet.idle-jitter");
    requirePositive(minBackoff, "troupe.sharding.fleet.restart-backoff.min");
    requirePositive(maxBackoff, "troupe.sharding.fleet.restart-backoff.max");
    requirePositive(sweepMin, "troupe.sharding.fleet.sweep-interval.min");
    requirePositive(sweepMax, "troupe.sharding.fleet.sweep-interval.max");
    requireRange(
        rebalanceMaxShards, 1, 1_000_000, "troupe.sharding.fleet.rebalance-max-shards-per-round");
    requirePositive(queryTimeout, "troupe.sharding.fleet.query-timeout");
  }

  /** Reads {@code troupe.sharding.fleet} of the whole configuration {@code config}. */
  public static FleetSettings fromConfig(Config config) {
    Config c = config.getConfig("troupe.sharding.fleet");
    return new FleetSettings(
        c.getDuration("idle-timeout"),
        c.getDuration("idle-jitter"),
        c.getDuration("restart-backoff.min"),
        c.getDuration("restart-backoff.max"),
        c.getDuration("sweep-interval.min"),
        c.getDuration("sweep-interval.max"),
        c.getInt("rebalance-max-shards-per-round"),
        c.getDuration("query-timeout"));
  }
}
