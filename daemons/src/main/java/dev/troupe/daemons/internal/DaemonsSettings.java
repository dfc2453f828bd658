package dev.troupe.daemons.internal;

import static dev.troupe.core.Preconditions.requireArgument;
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
 * @param leaseDuration {@code lease-duration}
 * @param leaseRenewInterval {@code lease-renew-interval}
 * @param leaseSafetyMargin {@code lease-safety-margin}
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
    Duration askTimeout,
    Duration leaseDuration,
    Duration leaseRenewInterval,
    Duration leaseSafetyMargin) {

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
    requirePositive(leaseDuration, "troupe.daemons.lease-duration");
    requirePositive(leaseRenewInterval, "troupe.daemons.lease-renew-interval");
    requirePositive(leaseSafetyMargin, "troupe.daemons.lease-safety-margin");
    requireArgument(
        leaseRenewInterval.plus(leaseSafetyMargin).compareTo(leaseDuration) < 0,
        "troupe.daemons.lease-renew-interval ("
            + leaseRenewInterval
            + ") plus lease-safety-margin ("
            + leaseSafetyMargin
            + ") must be shorter than lease-duration ("
            + leaseDuration
            + "): a healthy node would stop its daemons between two renewals");
  }

  /** How long after the start of a good renewal (or claim) this node trusts its leases. */
  public Duration leaseTrust() {
    return leaseDuration.minus(leaseSafetyMargin);
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
        c.getDuration("ask-timeout"),
        c.getDuration("lease-duration"),
        c.getDuration("lease-renew-interval"),
        c.getDuration("lease-safety-margin"));
  }
}
