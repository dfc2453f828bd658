package dev.troupe.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.storage.Storage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The {@link Repository} contract, run against each database by a subclass that provides the {@link
 * Storage}. Every test uses repositories of its own, so tests share one database.
 */
abstract class RepositoryContract {
  private static final AtomicInteger repositories = new AtomicInteger();

  /** A storage on the database under test, opened once per test class. */
  protected abstract Storage storage();

  record Item(String sku, int quantity) {}

  record Cart(String owner, List<Item> items, Instant updatedAt, Optional<String> coupon) {
    static Cart of(String owner, Item... items) {
      return new Cart(
          owner, List.of(items), Instant.parse("2026-01-02T03:04:05Z"), Optional.empty());
    }
  }

  /** A repository that no other test uses. */
  protected <V> Repository<V> fresh(Class<V> type) {
    return Repository.create(storage(), "repo-" + repositories.incrementAndGet(), type);
  }

  @Test
  void savingANewKeyStoresVersionOne() {
    Repository<Cart> carts = fresh(Cart.class);
    Cart cart = Cart.of("ann", new Item("apple", 2));

    Versioned<Cart> saved = carts.save("cart-1", cart, 0);

    assertEquals(new Versioned<>(cart, 1), saved);
    assertEquals(Optional.of(new Versioned<>(cart, 1)), carts.load("cart-1"));
  }

  @Test
  void loadingAnAbsentKeyIsEmpty() {
    assertEquals(Optional.empty(), fresh(Cart.class).load("nobody"));
  }

  @Test
  void eachUpdateRaisesTheVersionByOne() {
    Repository<Cart> carts = fresh(Cart.class);
    Versioned<Cart> v1 = carts.save("cart-1", Cart.of("ann"), 0);
    Versioned<Cart> v2 = carts.save("cart-1", Cart.of("ann", new Item("pear", 1)), v1.version());
    Cart third = Cart.of("ann", new Item("pear", 1), new Item("fig", 3));
    Versioned<Cart> v3 = carts.save("cart-1", third, v2.version());

    assertEquals(2, v2.version());
    assertEquals(3, v3.version());
    assertEquals(Optional.of(new Versioned<>(third, 3)), carts.load("cart-1"));
  }

  @Test
  void savingWithAStaleVersionConflictsAndChangesNothing() {
    Repository<Cart> carts = fresh(Cart.class);
    carts.save("cart-1", Cart.of("ann"), 0);
    Cart current = Cart.of("ann", new Item("plum", 1));
    carts.save("cart-1", current, 1);

    VersionConflictException e =
        assertThrows(
            VersionConflictException.class,
            () -> carts.save("cart-1", Cart.of("bob", new Item("kiwi", 9)), 1));

    assertEquals(carts.name(), e.repository());
    assertEquals("cart-1", e.key());
    assertEquals(1, e.expectedVersion());
    assertEquals(2, e.actualVersion());
    assertTrue(e.getMessage().contains("[cart-1]"), e.getMessage());
    assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    assertTrue(e.getMessage().contains("expected 1"), e.getMessage());
    assertEquals(Optional.of(new Versioned<>(current, 2)), carts.load("cart-1"));
  }

  @Test
  void savingWithAVersionFromTheFutureConflicts() {
    Repository<Cart> carts = fresh(Cart.class);
    Cart cart = Cart.of("ann");
    carts.save("cart-1", cart, 0);

    VersionConflictException e =
        assertThrows(VersionConflictException.class, () -> carts.save("cart-1", cart, 7));

    assertEquals(1, e.actualVersion());
    assertEquals(Optional.of(new Versioned<>(cart, 1)), carts.load("cart-1"));
  }

  @Test
  void creatingAnExistingKeyConflictsWithTheStoredVersion() {
    Repository<Cart> carts = fresh(Cart.class);
    Cart first = Cart.of("ann");
    carts.save("cart-1", first, 0);
    carts.save("cart-1", first, 1);

    VersionConflictException e =
        assertThrows(VersionConflictException.class, () -> carts.save("cart-1", Cart.of("bob"), 0));

    assertEquals(0, e.expectedVersion());
    assertEquals(2, e.actualVersion());
    assertTrue(e.getMessage().contains("(new)"), e.getMessage());
    assertEquals(Optional.of(new Versioned<>(first, 2)), carts.load("cart-1"));
  }

  @Test
  void updatingAnAbsentKeyConflictsWithVersionZero() {
    Repository<Cart> carts = fresh(Cart.class);

    VersionConflictException e =
        assertThrows(VersionConflictException.class, () -> carts.save("ghost", Cart.of("x"), 3));

    assertEquals(0, e.actualVersion());
    assertTrue(e.getMessage().contains("absent"), e.getMessage());
    assertEquals(Optional.empty(), carts.load("ghost"));
  }

  @Test
  void deleteRemovesTheKeyAndTellsWhetherItExisted() {
    Repository<Cart> carts = fresh(Cart.class);
    carts.save("cart-1", Cart.of("ann"), 0);
    carts.save("cart-2", Cart.of("bob"), 0);

    assertTrue(carts.delete("cart-1"));
    assertFalse(carts.delete("cart-1"), "second delete of the same key");
    assertEquals(Optional.empty(), carts.load("cart-1"));
    assertTrue(carts.load("cart-2").isPresent(), "the other key stays");
    // A deleted key is new again.
    assertEquals(1, carts.save("cart-1", Cart.of("ann"), 0).version());
  }

  @Test
  void repositoriesWithTheSameKeysAreSeparate() {
    Repository<Cart> a = fresh(Cart.class);
    Repository<Cart> b = fresh(Cart.class);
    a.save("k", Cart.of("in-a"), 0);

    assertEquals(Optional.empty(), b.load("k"));
    assertEquals(1, b.save("k", Cart.of("in-b"), 0).version());
    assertEquals("in-a", a.load("k").orElseThrow().value().owner());
    assertEquals(List.of("k"), a.keys(0, 10));
    assertTrue(b.delete("k"));
    assertTrue(a.load("k").isPresent(), "a delete in b leaves a alone");
  }

  @Test
  void keysArePagedInKeyOrder() {
    Repository<Cart> carts = fresh(Cart.class);
    List<String> expected = keys(25);
    List<String> shuffled = new ArrayList<>(expected);
    Collections.shuffle(shuffled, new Random(42));
    for (String key : shuffled) {
      carts.save(key, Cart.of(key), 0);
    }
    fresh(Cart.class).save("k-005", Cart.of("elsewhere"), 0); // another repository's key

    assertEquals(expected.subList(0, 10), carts.keys(0, 10));
    assertEquals(expected.subList(10, 20), carts.keys(10, 10));
    assertEquals(expected.subList(20, 25), carts.keys(20, 10));
    assertEquals(List.of(), carts.keys(25, 10));
    assertEquals(expected, carts.keys(0, 1000));
    assertEquals(List.of(), fresh(Cart.class).keys(0, 10), "an empty repository");
  }

  @Test
  void keysAreOrderedByCodePointWhateverTheDatabaseCollation() {
    Repository<String> repo = fresh(String.class);
    for (String key : List.of("b", "B", "a-b", "ab", "a b", "_x", "é")) {
      repo.save(key, key, 0);
    }
    // Code point order on every database: a linguistic collation (PostgreSQL's default, e.g.
    // en_US) would interleave case and punctuation.
    assertEquals(List.of("B", "_x", "a b", "a-b", "ab", "b", "é"), repo.keys(0, 10));
    assertEquals(List.of("a-b", "ab"), repo.keysAfter("a b", 2));
  }

  @Test
  void keysAfterIsACursorThatStaysCorrectWhileKeysChange() {
    Repository<Cart> carts = fresh(Cart.class);
    for (String key : keys(25)) {
      carts.save(key, Cart.of(key), 0);
    }

    List<String> first = carts.keysAfter(null, 10);
    assertEquals(keys(25).subList(0, 10), first);

    // Between pages: delete a key already seen and one not yet seen, add one behind the cursor
    // and one ahead of it.
    carts.delete("k-003");
    carts.delete("k-012");
    carts.save("k-0005", Cart.of("behind"), 0);
    carts.save("k-0145", Cart.of("ahead"), 0);

    List<String> seen = new ArrayList<>(first);
    String cursor = first.get(first.size() - 1);
    List<String> page;
    while (!(page = carts.keysAfter(cursor, 10)).isEmpty()) {
      seen.addAll(page);
      cursor = page.get(page.size() - 1);
    }

    List<String> expected = new ArrayList<>(keys(25));
    expected.remove("k-012");
    expected.add(14, "k-0145");
    assertEquals(expected, seen, "every key once, in order; k-003 was seen before its delete");
    assertEquals(List.of("k-000", "k-0005"), carts.keysAfter(null, 2));
    assertEquals(List.of(), carts.keysAfter("k-024", 10), "after the last key");
    assertEquals(List.of("k-000"), carts.keysAfter("", 1), "every key is after the empty string");
  }

  @Test
  void aRecordWithNestedListInstantAndOptionalRoundTrips() {
    Repository<Cart> carts = fresh(Cart.class);
    Cart full =
        new Cart(
            "ann \"quoted\" ünïcödé",
            List.of(new Item("apple", 2), new Item("pear", 0)),
            Instant.parse("2026-11-24T15:09:01.123456789Z"),
            Optional.of("SAVE10"));
    Cart sparse = new Cart("bob", List.of(), Instant.EPOCH, Optional.empty());

    carts.save("full", full, 0);
    carts.save("sparse", sparse, 0);

    assertEquals(full, carts.load("full").orElseThrow().value());
    assertEquals(sparse, carts.load("sparse").orElseThrow().value());
  }

  @Test
  void plainValuesRoundTrip() {
    Repository<Duration> durations = fresh(Duration.class);
    durations.save("d", Duration.ofMillis(1500), 0);
    assertEquals(Duration.ofMillis(1500), durations.load("d").orElseThrow().value());

    Repository<String> strings = fresh(String.class);
    strings.save("s", "line 1\nline 2", 0);
    assertEquals("line 1\nline 2", strings.load("s").orElseThrow().value());
  }

  @Test
  void aStoredValueOfAnotherShapeFailsNamingRepositoryAndKey() {
    Repository<Cart> carts = fresh(Cart.class);
    carts.save("cart-1", Cart.of("ann"), 0);
    Repository<Integer> asNumbers = Repository.create(storage(), carts.name(), Integer.class);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> asNumbers.load("cart-1"));

    assertTrue(e.getMessage().contains("[" + carts.name() + "]"), e.getMessage());
    assertTrue(e.getMessage().contains("[cart-1]"), e.getMessage());
    assertTrue(e.getMessage().contains("java.lang.Integer"), e.getMessage());
  }

  @Test
  void aValueThatCannotBeWrittenFailsNamingTheKeyAndStoresNothing() {
    Repository<Object> objects = fresh(Object.class);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> objects.save("o", new Object(), 0));

    assertTrue(e.getMessage().contains("[o]"), e.getMessage());
    assertEquals(Optional.empty(), objects.load("o"));
  }

  @Test
  void badArgumentsAreRejectedNamingTheValue() {
    Repository<Cart> carts = fresh(Cart.class);
    Cart cart = Cart.of("ann");

    assertRejected("key must not be null", () -> carts.load(null));
    assertRejected("key must not be empty", () -> carts.load(""));
    assertRejected("key must not be null", () -> carts.save(null, cart, 0));
    assertRejected("key must not be empty", () -> carts.save("", cart, 0));
    assertRejected("key must not be null", () -> carts.delete(null));
    assertRejected("key must not be empty", () -> carts.delete(""));
    assertRejected("at most 500 characters, got 501", () -> carts.load("x".repeat(501)));
    assertRejected("value of key [k] must not be null", () -> carts.save("k", null, 0));
    assertRejected("must be >= 0, got: -1", () -> carts.save("k", cart, -1));
    assertRejected("offset must be >= 0, got: -1", () -> carts.keys(-1, 10));
    assertRejected("limit must be > 0, got: 0", () -> carts.keys(0, 0));
    assertRejected("limit must be > 0, got: -5", () -> carts.keysAfter(null, -5));
    assertEquals(List.of(), carts.keys(0, 10), "nothing was written");

    assertRejected(
        "storage must not be null", () -> Repository.create((Storage) null, "r", Cart.class));
    assertRejected(
        "node must not be null",
        () -> Repository.create((dev.troupe.core.TroupeNode) null, "r", Cart.class));
    assertRejected("name must not be null", () -> Repository.create(storage(), null, Cart.class));
    assertRejected("name must not be empty", () -> Repository.create(storage(), " ", Cart.class));
    assertRejected(
        "at most 200 characters, got 201",
        () -> Repository.create(storage(), "r".repeat(201), Cart.class));
    assertRejected("type must not be null", () -> Repository.create(storage(), "r", null));
  }

  @Test
  void theLongestKeyAndNameFit() {
    Repository<Cart> carts = Repository.create(storage(), "n".repeat(200), Cart.class);
    String key = "k".repeat(500);
    carts.save(key, Cart.of("ann"), 0);
    assertEquals(1, carts.load(key).orElseThrow().version());
    assertTrue(carts.delete(key));
  }

  private static void assertRejected(String expectedInMessage, Executable call) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, call, expectedInMessage);
    assertTrue(
        e.getMessage().contains(expectedInMessage),
        "message [" + e.getMessage() + "] should contain [" + expectedInMessage + "]");
  }

  private static List<String> keys(int count) {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      keys.add(String.format("k-%03d", i));
    }
    return keys;
  }
}
