package dev.troupe.sharding;

/**
 * A value of a {@link Repository} with its version: 1 for the first save, one more for each save
 * after it.
 *
 * @param value the value
 * @param version its version, at least 1
 * @param <V> the value type
 * @since 0.1.0
 */
public record Versioned<V>(V value, long version) {}
