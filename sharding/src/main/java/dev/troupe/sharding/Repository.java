package dev.troupe.sharding;

import dev.troupe.core.storage.Storage;
import dev.troupe.sharding.internal.JdbcRepository;
import java.util.List;
import java.util.Optional;

/**
 * Versioned values by key in a Troupe table on {@link Storage} (H2 by default, PostgreSQL by URL):
 * the durable state of fleet workers, written through on every change.
 *
 * <pre>{@code
 * Repository<Cart> carts = Repository.create(Storage.get(system), "carts", Cart.class);
 * Versioned<Cart> v1 = carts.save("cart-42", new Cart(List.of()), 0);        // new key
 * Versioned<Cart> v2 = carts.save("cart-42", v1.value().add(item), v1.version());
 * carts.save("cart-42", other, v1.version());      // VersionConflictException: v2 is stored
 * }</pre>
 *
 * <p>Optimistic concurrency: {@link #save} names the version it read; a stale version fails with
 * {@link VersionConflictException} and changes nothing. Values are stored as JSON (Jackson:
 * records, {@code java.time} types, collections); a value that cannot be written or read fails with
 * an {@link IllegalArgumentException} naming the repository and key. Blocking JDBC calls: call them
 * from a worker's own thread or a blocking dispatcher, never in a tight actor loop of many workers.
 *
 * @param <V> the value type
 * @since 0.1.0
 */
public interface Repository<V> {

  /**
   * The repository {@code name} of {@code type} values on {@code storage}; its table ({@code
   * troupe_fleet_state}) is created with the storage's other tables.
   *
   * @throws IllegalArgumentException if an argument is null or {@code name} blank or longer than
   *     200 characters
   */
  static <V> Repository<V> create(Storage storage, String name, Class<V> type) {
    return JdbcRepository.create(storage, name, type);
  }

  /**
   * The value of {@code key} with its version; empty if absent.
   *
   * @throws IllegalArgumentException if {@code key} is null, empty or longer than 500 characters
   */
  Optional<Versioned<V>> load(String key);

  /**
   * Saves {@code value} under {@code key} if the stored version is {@code expectedVersion} ({@code
   * 0} = the key must be new) and returns it with the new version.
   *
   * @throws VersionConflictException if the stored version differs; nothing is changed
   * @throws IllegalArgumentException if {@code key} is null, empty or longer than 500 characters,
   *     {@code value} null, {@code expectedVersion} negative, or the value cannot be serialized
   */
  Versioned<V> save(String key, V value, long expectedVersion);

  /**
   * Deletes {@code key}; returns whether it existed.
   *
   * @throws IllegalArgumentException if {@code key} is null or empty
   */
  boolean delete(String key);

  /**
   * A page of keys in key order: {@code limit} keys from position {@code offset}.
   *
   * @throws IllegalArgumentException if {@code offset} is negative or {@code limit} not positive
   */
  List<String> keys(int offset, int limit);

  /**
   * Up to {@code limit} keys greater than {@code afterKey} (null = from the first), in key order: a
   * cursor that stays correct while keys are added and deleted.
   *
   * @throws IllegalArgumentException if {@code limit} is not positive
   */
  List<String> keysAfter(String afterKey, int limit);

  /** The repository's name. */
  String name();
}
