package dev.troupe.daemons.internal;

import static dev.troupe.core.Preconditions.requirePositive;
import static dev.troupe.core.Preconditions.requireRange;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * INTERNAL API. The settings of the daemons module, {@code troupe.daemons}.
 *
 * @param leaderLease {@code leader-lease}: the lease section for the leader singleton; empty = none
 * @param leaseRetryInterval {@code lease-retry-interval}
 * @param startTimeout {@code start-timeout}
 * @param reportTimeout {@code report-timeout}
 * @param rescanInterval {@code rescan-interval}
 * @param scanBackoffMin {@code scan-backoff.min}
 * @param scanBackoffMax {@code scan-backoff.max}
 * @param rebalanceInterval {@code rebalance-interval}
 * @param rebalanceMaxMoves {@code rebalance-max-moves}
 * @param restartBackoffMin {@code restart-backoff.min}
 * @param restartBackoffMax {@code restart-backoff.max}
 * @param handOverTimeout {@code hand-over-timeout}
 * @param askTimeout {@code ask-timeout}
 */
public record DaemonsSettings(
    String leaderLease,
    Duration leaseRetryInterval,
    Duration startTimeout,
    Duration reportTimeout,
    Duration rescanInterval,
    Duration scanBackoffMin,
    Duration scanBackoffMax,
    Duration rebalanceInterval,
    int rebalanceMaxMoves,
    Duration restartBackoffMin,
    Duration restartBackoffMax,
    Duration handOverTimeout,
    Duration askTimeout) {

  /** Validates; every message names the key. */
  public DaemonsSettings {
    requirePositive(leaseRetryInterval, "troupe.daemons.lease-retry-interval");
    requirePositive(startTimeout, "troupe.daemons.start-timeout");
    requirePositive(reportTimeout, "troupe.daemons.report-timeout");
    requirePositive(rescanInterval, "troupe.daemons.rescan-interval");
    requirePositive(scanBackoffMin, "troupe.daemons.scan-backoff.min");
    requirePositive(scanBackoffMax, "troupe.daemons.scan-backoff.max");
    requirePositive(rebalanceInterval, "troupe.daemons.rebalance-interval");
    requireRange(rebalanceMaxMoves, 1, 100_000, "troupe.daemons.rebalance-max-moves");
    requirePositive(restartBackoffMin, "troupe.daemons.restart-backoff.min");
    requirePositive(restartBackoffMax, "troupe.daemons.restart-backoff.max");
    requirePositive(handOverTimeout, "troupe.daemons.hand-over-timeout");
    requirePositive(askTimeout, "troupe.daemons.ask-timeout");
  }

  /** Reads {@code troupe.daemons} of the whole configuration {@code config}. */
  public static DaemonsSettings fromConfig(Config config) {
    Config c = config.getConfig("troupe.daemons");
    return new DaemonsSettings(
        c.getString("leader-lease"),
        c.getDuration("lease-retry-interval"),
        c.getDuration("start-timeout"),
        c.getDuration("report-timeout"),
        c.getDuration("rescan-interval"),
        c.getDuration("scan-backoff.min"),
        c.getDuration("scan-backoff.max"),
        c.getDuration("rebalance-interval"),
        c.getInt("rebalance-max-moves"),
        c.getDuration("restart-backoff.min"),
        c.getDuration("restart-backoff.max"),
        c.getDuration("hand-over-timeout"),
        c.getDuration("ask-timeout"));
  }
}
