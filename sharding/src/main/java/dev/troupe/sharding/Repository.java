package dev.troupe.sharding;

import dev.troupe.core.storage.Namespaces;
import dev.troupe.core.storage.Storage;
import dev.troupe.sharding.internal.JdbcRepository;
import java.util.List;
import java.util.Optional;

/**
 * Versioned values by key in a Troupe table on {@link Storage} (H2 by default, PostgreSQL by URL):
 * the durable state of fleet workers, written through on every change.
 *
 * <pre>{@code
 * Repository<Cart> carts = Repository.create(node, "carts", Cart.class);
 * Versioned<Cart> v1 = carts.save("cart-42", new Cart(List.of()), 0);        // new key
 * Versioned<Cart> v2 = carts.save("cart-42", v1.value().add(item), v1.version());
 * carts.save("cart-42", other, v1.version());      // VersionConflictException: v2 is stored
 * }</pre>
 *
 * <p>A repository is identified by its namespace and name: its rows belong to one {@linkplain
 * Namespaces namespace} ({@code troupe.namespace}, see {@link
 * dev.troupe.core.TroupeNode#namespace()}), and a repository of the same name in another namespace
 * on the same database (another cluster's) has keys, values and versions of its own, never read,
 * written, deleted or listed by this one. Create the repositories of a node with the node's
 * namespace; {@link #create(Storage, String, Class)} uses namespace {@value Namespaces#DEFAULT}.
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
   * The repository {@code name} of {@code type} values on {@code storage} in namespace {@value
   * Namespaces#DEFAULT}, the namespace of nodes that set no {@code troupe.namespace} (and of rows
   * written before namespaces existed); its table ({@code troupe_fleet_state}) is created with the
   * storage's other tables. For a node with a namespace of its own use {@link #create(Storage,
   * String, String, Class)} with {@code node.namespace()}.
   *
   * @throws IllegalArgumentException if an argument is null or {@code name} blank or longer than
   *     200 characters
   */
  static <V> Repository<V> create(Storage storage, String name, Class<V> type) {
    return JdbcRepository.create(storage, name, type);
  }

  /**
   * The repository {@code name} of {@code type} values on {@code storage} in {@code namespace}
   * (usually the node's, {@link dev.troupe.core.TroupeNode#namespace()}): it reads, writes, deletes
   * and lists only that namespace's rows, so repositories of the same name in other namespaces on
   * the same database are separate. Its table ({@code troupe_fleet_state}) is created with the
   * storage's other tables.
   *
   * @throws IllegalArgumentException if an argument is null, {@code namespace} is not 1 to 63
   *     letters, digits, '.', '_' or '-' starting with a letter or digit (the message names the
   *     value), or {@code name} is blank or longer than 200 characters
   */
  static <V> Repository<V> create(Storage storage, String namespace, String name, Class<V> type) {
    return JdbcRepository.create(storage, namespace, name, type);
  }

  /**
   * The repository {@code name} of {@code type} values of {@code node}: on its storage ({@link
   * Storage#get}) in its namespace ({@link dev.troupe.core.TroupeNode#namespace()}).
   *
   * @throws IllegalArgumentException if an argument is null or {@code name} blank or longer than
   *     200 characters
   */
  static <V> Repository<V> create(dev.troupe.core.TroupeNode node, String name, Class<V> type) {
    if (node == null) {
      throw new IllegalArgumentException("node must not be null");
    }
    return create(Storage.get(node.system()), node.namespace(), name, type);
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
