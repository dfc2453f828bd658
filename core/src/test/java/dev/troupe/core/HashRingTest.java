package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.openhft.hashing.LongHashFunction;
import org.junit.jupiter.api.Test;

/**
 * Properties of {@link HashRing} over many random member sets (seeded; every assertion message
 * names the seed) and 100k keys.
 *
 * <p>Key movement is counted per key: the keys' partitions are computed once, and a key moves when
 * the owner of its partition changes ({@link #pickOfKeyIsTheOwnerOfItsPartition} checks that this
 * is what {@code pick(key)} answers).
 */
final class HashRingTest {
  private static final int KEY_COUNT = 100_000;
  private static final long KEY_SEED = 20240611L;
  private static final List<String> KEYS = keys(KEY_COUNT, KEY_SEED);

  /** How many of {@link #KEYS} fall into each partition. */
  private static final int[] KEYS_PER_PARTITION = keysPerPartition(KEYS);

  private static final int[] MEMBER_COUNTS = {2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 30, 40, 50};
  private static final int SETS_PER_COUNT = 60;

  @Test
  void loadNeverExceedsTheBoundAndLoadsSumToAllPartitions() {
    long seed = 1L;
    Random random = new Random(seed);
    int[] counts = {1, 2, 3, 5, 7, 10, 13, 20, 33, 50, 64, 100, 300, 1000};
    for (int n : counts) {
      for (int set = 0; set < 5; set++) {
        HashRing ring = HashRing.of(randomMembers(random, n));
        String context = "seed=" + seed + ", n=" + n + ", set=" + set;
        Map<String, Integer> loads = ring.loads();
        assertEquals(ring.members(), loads.keySet(), context);
        assertEquals(
            HashRing.PARTITIONS,
            loads.values().stream().mapToInt(Integer::intValue).sum(),
            "loads sum, " + context);
        double mean = (double) HashRing.PARTITIONS / n;
        int max = Collections.max(loads.values());
        assertTrue(
            max / mean <= HashRing.LOAD_FACTOR,
            "max load / mean = " + max / mean + " > " + HashRing.LOAD_FACTOR + ", " + context);
        int[] owned = new int[n];
        List<String> members = List.copyOf(ring.members());
        for (int p = 0; p < HashRing.PARTITIONS; p++) {
          owned[members.indexOf(ring.ownerOfPartition(p))]++;
        }
        for (int m = 0; m < n; m++) {
          assertEquals(owned[m], loads.get(members.get(m)), "load of " + members.get(m) + context);
        }
      }
    }
  }

  /**
   * A join moves the newcomer's share of the keys, about 1/N, plus a little bounded-load cascade.
   * On average over random member sets this stays within 1.2/N for every N in 2..50. A single join
   * can exceed 1.2/N (the newcomer's share of the ring varies by about 16% with 40 virtual nodes;
   * the load bound caps it at 1.25/N), so per set the documented bound is 1.25/N for the keys the
   * newcomer takes plus 0.5/N of keys moving between old members.
   */
  @Test
  void aJoinMovesAboutOneNthOfTheKeys() {
    long seed = 2L;
    Random random = new Random(seed);
    StringBuilder figures = new StringBuilder("join movement x N (mean/max over sets):");
    for (int n : MEMBER_COUNTS) {
      double sum = 0;
      double max = 0;
      for (int set = 0; set < SETS_PER_COUNT; set++) {
        List<String> members = randomMembers(random, n);
        String newcomer = members.remove(n - 1);
        HashRing before = HashRing.of(members);
        HashRing after = before.withMember(newcomer);
        String context = "seed=" + seed + ", N=" + n + ", set=" + set + ", newcomer=" + newcomer;
        int moved = 0;
        int movedElsewhere = 0;
        for (int p = 0; p < HashRing.PARTITIONS; p++) {
          String owner = after.ownerOfPartition(p);
          if (!before.ownerOfPartition(p).equals(owner)) {
            moved += KEYS_PER_PARTITION[p];
            if (!owner.equals(newcomer)) {
              movedElsewhere += KEYS_PER_PARTITION[p];
            }
          }
        }
        double movedTimesN = (double) moved / KEY_COUNT * n;
        double elsewhereTimesN = (double) movedElsewhere / KEY_COUNT * n;
        assertTrue(
            elsewhereTimesN <= 0.5,
            "keys moving between old members x N = " + elsewhereTimesN + " > 0.5, " + context);
        // The newcomer owns at most 1.25/N of the partitions; the slack allows five standard
        // deviations for how 100k keys happen to fall into them.
        double slack = 5 * Math.sqrt(1.25 * n / KEY_COUNT);
        assertTrue(
            movedTimesN <= 1.25 + slack + elsewhereTimesN,
            "moved keys x N = " + movedTimesN + ", " + context);
        sum += movedTimesN;
        max = Math.max(max, movedTimesN);
      }
      double mean = sum / SETS_PER_COUNT;
      figures.append(String.format(" N=%d %.3f/%.3f", n, mean, max));
      assertTrue(
          mean <= 1.2,
          "mean fraction of keys moved on a join x N = "
              + mean
              + " > 1.2, seed="
              + seed
              + ", N="
              + n);
    }
    System.out.println(figures);
  }

  /**
   * A leave moves every key of the leaving member and, through the bounded-load cascade, a few keys
   * that it did not own (spilled partitions find room again): measured below 0.3/N per set and
   * 0.1/N on average; asserted at 0.5/N per set and 0.2/N on average.
   */
  @Test
  void aLeaveMovesTheLeaversKeysAndFewOthers() {
    long seed = 3L;
    Random random = new Random(seed);
    StringBuilder figures = new StringBuilder("leave collateral x N (mean/max over sets):");
    for (int n : MEMBER_COUNTS) {
      double sum = 0;
      double max = 0;
      for (int set = 0; set < SETS_PER_COUNT; set++) {
        List<String> members = randomMembers(random, n);
        String leaver = members.get(random.nextInt(n));
        HashRing before = HashRing.of(members);
        HashRing after = before.withoutMember(leaver);
        String context = "seed=" + seed + ", N=" + n + ", set=" + set + ", leaver=" + leaver;
        int others = 0;
        for (int p = 0; p < HashRing.PARTITIONS; p++) {
          String owner = before.ownerOfPartition(p);
          String next = after.ownerOfPartition(p);
          assertNotEquals(leaver, next, context);
          if (!owner.equals(leaver) && !owner.equals(next)) {
            others += KEYS_PER_PARTITION[p];
          }
        }
        double othersTimesN = (double) others / KEY_COUNT * n;
        assertTrue(
            othersTimesN <= 0.5,
            "keys not owned by the leaver that moved x N = " + othersTimesN + ", " + context);
        sum += othersTimesN;
        max = Math.max(max, othersTimesN);
      }
      double mean = sum / SETS_PER_COUNT;
      figures.append(String.format(" N=%d %.3f/%.3f", n, mean, max));
      assertTrue(mean <= 0.2, "mean collateral x N = " + mean + ", seed=" + seed + ", N=" + n);
    }
    System.out.println(figures);
  }

  @Test
  void twoMembersShareTheKeysWithoutCascade() {
    long seed = 4L;
    Random random = new Random(seed);
    for (int set = 0; set < 20; set++) {
      List<String> members = randomMembers(random, 2);
      HashRing two = HashRing.of(members);
      HashRing one = two.withoutMember(members.get(1));
      for (int p = 0; p < HashRing.PARTITIONS; p++) {
        assertEquals(members.get(0), one.ownerOfPartition(p), "seed=" + seed + ", set=" + set);
      }
    }
  }

  @Test
  void sameMembersInAnyOrderGiveTheSameRing() {
    long seed = 5L;
    Random random = new Random(seed);
    for (int n : new int[] {1, 2, 7, 31}) {
      List<String> members = randomMembers(random, n);
      HashRing reference = HashRing.of(members);
      for (int shuffle = 0; shuffle < 5; shuffle++) {
        List<String> shuffled = new ArrayList<>(members);
        Collections.shuffle(shuffled, random);
        shuffled.add(shuffled.get(0)); // duplicates count once
        HashRing ring = HashRing.of(shuffled);
        HashRing grown = HashRing.of(shuffled.subList(1, shuffled.size() - 1));
        grown = grown.withMember(shuffled.get(0));
        String context = "seed=" + seed + ", n=" + n + ", shuffle=" + shuffle + ": " + shuffled;
        assertEquals(reference, ring, context);
        assertEquals(reference.hashCode(), ring.hashCode(), context);
        assertEquals(reference.loads(), ring.loads(), context);
        for (int p = 0; p < HashRing.PARTITIONS; p++) {
          assertEquals(reference.ownerOfPartition(p), ring.ownerOfPartition(p), context);
          assertEquals(reference.ownerOfPartition(p), grown.ownerOfPartition(p), context);
        }
        for (String key : KEYS.subList(0, 200)) {
          assertEquals(reference.pick(key, n), ring.pick(key, n), context + ", key=" + key);
        }
      }
    }
  }

  @Test
  void pickOfKeyIsTheOwnerOfItsPartition() {
    long seed = 6L;
    Random random = new Random(seed);
    for (int n : new int[] {1, 5, 50}) {
      HashRing ring = HashRing.of(randomMembers(random, n));
      for (String key : KEYS) {
        assertEquals(
            ring.ownerOfPartition(ring.partition(key)),
            ring.pick(key),
            "seed=" + seed + ", n=" + n + ", key=" + key);
      }
    }
  }

  @Test
  void pickOfKeyIsTheFirstOfNDistinctMembers() {
    long seed = 7L;
    Random random = new Random(seed);
    for (int n : new int[] {1, 2, 5, 12}) {
      HashRing ring = HashRing.of(randomMembers(random, n));
      for (String key : KEYS.subList(0, 500)) {
        String context = "seed=" + seed + ", n=" + n + ", key=" + key;
        for (int count = 1; count <= n; count++) {
          List<String> picked = ring.pick(key, count);
          assertEquals(count, picked.size(), context);
          assertEquals(count, new HashSet<>(picked).size(), "distinct: " + picked + ", " + context);
          assertEquals(ring.pick(key), picked.get(0), context);
          assertTrue(ring.members().containsAll(picked), context);
        }
        List<String> all = ring.pick(key, n);
        for (int count = 1; count < n; count++) {
          assertEquals(all.subList(0, count), ring.pick(key, count), "prefix, " + context);
        }
      }
    }
  }

  @Test
  void partitionIsTheUnsignedRemainderOfXxHash64OfTheUtf8Bytes() {
    LongHashFunction xx = LongHashFunction.xx();
    HashRing empty = HashRing.of(List.of());
    List<String> keys = new ArrayList<>(KEYS.subList(0, 1000));
    StringBuilder ascii = new StringBuilder();
    StringBuilder mixed = new StringBuilder();
    for (int length = 0; length <= 70; length++) { // every xxHash64 tail and block path
      keys.add(ascii.toString());
      keys.add(mixed.toString());
      ascii.append((char) ('a' + length % 26));
      mixed.append(length % 3 == 0 ? "é" : length % 3 == 1 ? "x" : "日\uD83D\uDE00");
    }
    keys.add("\u007f\u0080");
    for (String key : keys) {
      long hash = xx.hashBytes(key.getBytes(StandardCharsets.UTF_8));
      assertEquals(
          (int) Long.remainderUnsigned(hash, HashRing.PARTITIONS),
          empty.partition(key),
          "key=[" + key + "]");
    }
  }

  /** Pins the placement so that nodes on different Troupe versions keep agreeing. */
  @Test
  void placementOfAKnownRingDoesNotChange() {
    HashRing ring = HashRing.of(List.of("node-a", "node-b", "node-c"));
    assertEquals(Map.of("node-a", 3797, "node-b", 2970, "node-c", 3473), ring.loads());
    assertEquals(5249, ring.partition("user-42"));
    assertEquals("node-b", ring.pick("user-42"));
    assertEquals(List.of("node-b", "node-a", "node-c"), ring.pick("user-42", 3));
    assertEquals("node-a", ring.pick("order-7"));
  }

  @Test
  void emptyRingThrowsIllegalStateNamingTheKey() {
    HashRing empty = HashRing.of(List.of());
    assertTrue(empty.members().isEmpty());
    assertTrue(empty.loads().isEmpty());
    IllegalStateException one = assertThrows(IllegalStateException.class, () -> empty.pick("k-1"));
    assertTrue(one.getMessage().contains("[k-1]"), one.getMessage());
    IllegalStateException some =
        assertThrows(IllegalStateException.class, () -> empty.pick("k-2", 1));
    assertTrue(some.getMessage().contains("[k-2]"), some.getMessage());
    assertThrows(IllegalStateException.class, () -> empty.ownerOfPartition(0));
    HashRing emptied = HashRing.of(List.of("only")).withoutMember("only");
    assertEquals(empty, emptied);
    assertThrows(IllegalStateException.class, () -> emptied.pick("k-3"));
    assertEquals(empty.partition("k-4"), HashRing.of(List.of("x")).partition("k-4"));
  }

  @Test
  void badInputIsRejectedNamingTheValue() {
    HashRing ring = HashRing.of(List.of("a", "b", "c"));
    assertMessageContains("key", () -> ring.pick(null));
    assertMessageContains("key", () -> ring.pick(null, 1));
    assertMessageContains("key", () -> ring.partition(null));
    assertMessageContains("null", () -> HashRing.of(null));
    assertMessageContains("null", () -> HashRing.of(java.util.Arrays.asList("a", null)));
    assertMessageContains("[  ]", () -> HashRing.of(List.of("a", "  ")));
    assertMessageContains("[]", () -> HashRing.of(List.of("")));
    assertMessageContains("null", () -> ring.withMember(null));
    assertMessageContains("[ ]", () -> ring.withMember(" "));
    assertMessageContains("null", () -> ring.withoutMember(null));
    assertMessageContains("got: 0", () -> ring.pick("k", 0));
    assertMessageContains("got: 4", () -> ring.pick("k", 4));
    assertMessageContains("member count is 3", () -> ring.pick("k", 4));
    assertMessageContains("got: -1", () -> ring.pick("k", -1));
    assertMessageContains("got: -1", () -> ring.ownerOfPartition(-1));
    assertMessageContains("got: 10240", () -> ring.ownerOfPartition(HashRing.PARTITIONS));
  }

  @Test
  void withMemberOfAMemberAndWithoutMemberOfAStrangerChangeNothing() {
    HashRing ring = HashRing.of(List.of("a", "b", "c"));
    assertEquals(ring, ring.withMember("b"));
    assertSame(ring, ring.withoutMember("z"));
    assertSame(ring, ring.withoutMember(" "));
    assertEquals(ring, ring.withMember("d").withoutMember("d"));
    assertEquals(HashRing.of(List.of("a", "b", "c", "d")), ring.withMember("d"));
    assertEquals(Set.of("a", "b", "c"), ring.withMember("d").withoutMember("d").members());
    assertEquals(List.of("a", "b", "c"), List.copyOf(ring.members())); // natural order
    assertThrows(UnsupportedOperationException.class, () -> ring.members().add("x"));
    assertThrows(UnsupportedOperationException.class, () -> ring.loads().put("x", 1));
  }

  // ---- helpers ----

  private static void assertMessageContains(String expected, Runnable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
    assertTrue(
        e.getMessage().contains(expected),
        "message should contain [" + expected + "]: " + e.getMessage());
  }

  /** {@code n} distinct node-address-like members, in random order (a mutable list). */
  private static List<String> randomMembers(Random random, int n) {
    Set<String> members = new LinkedHashSet<>();
    while (members.size() < n) {
      members.add(
          "pekko://troupe@10."
              + random.nextInt(256)
              + "."
              + random.nextInt(256)
              + "."
              + random.nextInt(256)
              + ":"
              + (25520 + random.nextInt(1000)));
    }
    return new ArrayList<>(members);
  }

  private static List<String> keys(int count, long seed) {
    Random random = new Random(seed);
    List<String> keys = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      keys.add("user-" + random.nextInt(1_000_000_000));
    }
    return List.copyOf(keys);
  }

  private static int[] keysPerPartition(List<String> keys) {
    HashRing empty = HashRing.of(List.of());
    int[] counts = new int[HashRing.PARTITIONS];
    for (String key : keys) {
      counts[empty.partition(key)]++;
    }
    return counts;
  }
}
