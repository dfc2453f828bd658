package dev.troupe.sharding.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.storage.Storage;
import dev.troupe.sharding.internal.FenceRules.ShardLease;
import dev.troupe.testkit.TestDatabases;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The fence's tables, on H2 and (when reachable, always under CI) on PostgreSQL. */
final class FenceStoreTest {
  private static final String A = "pekko://t@h:1#1";
  private static final String B = "pekko://t@h:2#2";

  private static void onBoth(java.util.function.Consumer<Storage> test) {
    try (TestDatabases.TestDatabase h2 = TestDatabases.freshH2()) {
      test.accept(h2.storage());
    }
    TestDatabases.assumePostgres();
    try (TestDatabases.TestDatabase pg = TestDatabases.freshPostgres()) {
      test.accept(pg.storage());
    }
  }

  @Test
  void aFenceLeaseRenewsUntilItIsRevokedOrExpiresAndThenNever() {
    onBoth(
        storage -> {
          FenceStore store = new FenceStore(storage, "ns", 5);
          store.register(A + "#1", A, 60_000);
          assertTrue(store.renew(A + "#1", 60_000));
          assertEquals(1, store.revoke(A), "every generation of the removed node");
          assertFalse(store.renew(A + "#1", 60_000), "a revoked lease is not renewed");

          store.register(B + "#1", B, -1000); // expired a second ago (a paused node's lease)
          assertFalse(store.renew(B + "#1", 60_000), "an expired lease is not renewed");
          assertFalse(store.renew("nobody#1", 60_000), "no lease, no renewal");
        });
  }

  @Test
  void aShardLeaseIsTakenOnlyAsItWasReadAndShowsItsOwnersRemainingLease() {
    onBoth(
        storage -> {
          FenceStore store = new FenceStore(storage, "ns", 5);
          store.register(A + "#1", A, 60_000);
          store.register(B + "#1", B, 60_000);
          assertTrue(store.read(List.of("s1")).isEmpty());

          Map<String, ShardLease> none = new HashMap<>();
          none.put("s1", null);
          assertEquals(Map.of("s1", 1L), store.take(A + "#1", none));
          assertTrue(store.take(B + "#1", none).isEmpty(), "B lost the race for the insert");

          ShardLease a = store.read(List.of("s1")).get("s1");
          assertEquals(A + "#1", a.owner());
          assertEquals(1, a.epoch());
          assertFalse(a.released());
          long remaining = a.ownerRemainingMillis();
          assertTrue(remaining > 50_000 && remaining <= 60_000, "A's lease runs: " + remaining);

          store.release(B + "#1", "s1"); // not B's: nothing happens
          assertFalse(store.read(List.of("s1")).get("s1").released());
          store.release(A + "#1", "s1");
          ShardLease released = store.read(List.of("s1")).get("s1");
          assertTrue(released.released());

          assertEquals(Map.of("s1", 2L), store.take(B + "#1", Map.of("s1", released)));
          assertTrue(
              store.take(A + "#1", Map.of("s1", released)).isEmpty(),
              "a take from a stale read loses");

          store.deregister(B + "#1");
          assertNull(
              store.read(List.of("s1")).get("s1").ownerRemainingMillis(),
              "an owner without a lease row");
          assertNull(store.read(List.of("s2")).get("s2"));
        });
  }

  @Test
  void manyShardLeasesAreReadAndTakenInBatches() {
    onBoth(
        storage -> {
          FenceStore store = new FenceStore(storage, "ns", 5);
          store.register(A + "#1", A, 60_000);
          List<String> names =
              IntStream.range(0, 1200).mapToObj(i -> "shard-" + i).collect(Collectors.toList());
          Map<String, ShardLease> none = new HashMap<>();
          names.forEach(n -> none.put(n, null));
          assertEquals(1200, store.take(A + "#1", none).size());
          Map<String, ShardLease> read = store.read(names);
          assertEquals(1200, read.size(), "read in chunks of 500");
          assertEquals(1200, store.take(A + "#1", read).size(), "retaken as read");
          assertTrue(store.read(names).values().stream().allMatch(l -> l.epoch() == 2));
        });
  }

  @Test
  void twoNamespacesDoNotShareLeases() {
    onBoth(
        storage -> {
          FenceStore one = new FenceStore(storage, "one", 5);
          FenceStore two = new FenceStore(storage, "two", 5);
          one.register(A + "#1", A, 60_000);
          Map<String, ShardLease> none = new HashMap<>();
          none.put("s", null);
          assertEquals(Map.of("s", 1L), one.take(A + "#1", none));
          assertTrue(two.read(List.of("s")).isEmpty());
          assertEquals(0, two.revoke(A));
        });
  }
}
