package dev.troupe.core.internal;

import static dev.troupe.core.Preconditions.requireNonNull;
import static dev.troupe.core.Preconditions.requirePositive;
import static dev.troupe.core.Preconditions.requireRange;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * INTERNAL API. The settings of the address book, {@code troupe.core.address-book}, and of its
 * replication, {@code troupe.core.replication}.
 *
 * @param writeTimeout {@code troupe.core.address-book.write-timeout}
 * @param settleTime {@code troupe.core.address-book.settle-time}
 * @param maxNames {@code troupe.core.address-book.max-names}
 * @param replication {@code troupe.core.replication}
 */
public record AddressBookSettings(
    Duration writeTimeout, Duration settleTime, int maxNames, ReplicationSettings replication) {

  /** The largest max-names accepted. */
  public static final int MAX_NAMES_LIMIT = 100_000_000;

  /** Validates; every message names the key. */
  public AddressBookSettings {
    requirePositive(writeTimeout, "troupe.core.address-book.write-timeout");
    requirePositive(settleTime, "troupe.core.address-book.settle-time");
    requireRange(maxNames, 1, MAX_NAMES_LIMIT, "troupe.core.address-book.max-names");
    requireNonNull(replication, "troupe.core.replication");
  }

  /** Reads {@code troupe.core.address-book} of {@code config} (the whole configuration). */
  public static AddressBookSettings fromConfig(Config config) {
    Config c = config.getConfig("troupe.core.address-book");
    return new AddressBookSettings(
        c.getDuration("write-timeout"),
        c.getDuration("settle-time"),
        c.getInt("max-names"),
        ReplicationSettings.fromConfig(config));
  }
}
