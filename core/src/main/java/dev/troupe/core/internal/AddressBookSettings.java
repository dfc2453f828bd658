package dev.troupe.core.internal;

import static dev.troupe.core.internal.Preconditions.requirePositive;
import static dev.troupe.core.internal.Preconditions.requireRange;

import com.typesafe.config.Config;
import java.time.Duration;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * INTERNAL API. The settings of the address book, {@code troupe.core.address-book}.
 *
 * @param writeTimeout {@code troupe.core.address-book.write-timeout}
 * @param settleTime {@code troupe.core.address-book.settle-time}
 * @param pruneInterval {@code troupe.core.address-book.prune-interval}
 * @param pruneGrace {@code troupe.core.address-book.prune-grace}
 * @param distributedKeyCount {@code troupe.core.address-book.distributed-key-count}
 * @param pollInterval {@code troupe.core.address-book.poll-interval}
 * @param maxNames {@code troupe.core.address-book.max-names}
 */
public record AddressBookSettings(
    Duration writeTimeout,
    Duration settleTime,
    Duration pruneInterval,
    Duration pruneGrace,
    int distributedKeyCount,
    Duration pollInterval,
    int maxNames) {

  /** Validates; every message names the key. */
  public AddressBookSettings {
    requirePositive(writeTimeout, "troupe.core.address-book.write-timeout");
    requirePositive(settleTime, "troupe.core.address-book.settle-time");
    requirePositive(pruneInterval, "troupe.core.address-book.prune-interval");
    requirePositive(pruneGrace, "troupe.core.address-book.prune-grace");
    requireRange(distributedKeyCount, 1, 1024, "troupe.core.address-book.distributed-key-count");
    requirePositive(pollInterval, "troupe.core.address-book.poll-interval");
    requireRange(maxNames, 1, 1_000_000, "troupe.core.address-book.max-names");
  }

  /** Reads {@code troupe.core.address-book} of {@code config} (the whole configuration). */
  public static AddressBookSettings fromConfig(Config config) {
    Config c = config.getConfig("troupe.core.address-book");
    return new AddressBookSettings(
        c.getDuration("write-timeout"),
        c.getDuration("settle-time"),
        c.getDuration("prune-interval"),
        c.getDuration("prune-grace"),
        c.getInt("distributed-key-count"),
        c.getDuration("poll-interval"),
        c.getInt("max-names"));
  }

  /** WriteAll with the write timeout. */
  Replicator.WriteConsistency writeAll() {
    return new Replicator.WriteAll(writeTimeout);
  }
}
