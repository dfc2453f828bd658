package dev.troupe.sharding.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.sharding.internal.ReconcileRound.Cursors;
import dev.troupe.sharding.internal.ReconcileRound.Decisions;
import dev.troupe.sharding.internal.ReconcileRound.Desire;
import dev.troupe.sharding.internal.ReconcileRound.Pass;
import dev.troupe.sharding.internal.ReconcileRound.Rules;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

final class ReconcileRoundTest {
  private static final long MS = 1_000_000;
  private static final long NO_LIMIT = Long.MAX_VALUE;

  /** A node's world in memory; every read of a value (desire, isStale) costs `readNanos`. */
  private static final class World implements ReconcileRound.View {
    final NavigableSet<String> desiredKeys = new TreeSet<>();
    final Map<String, Desire> desire = new HashMap<>(); // absent: NO
    final Set<String> owned = new HashSet<>();
    final NavigableSet<String> running = new TreeSet<>();
    final NavigableSet<String> cached = new TreeSet<>();
    final Set<String> stale = new HashSet<>();
    final List<String> hot = new ArrayList<>();
    final Set<String> failing = new HashSet<>();
    final AtomicLong clock = new AtomicLong();
    final List<String> desireReads = new ArrayList<>();
    long readNanos;
    boolean runningForbidden;

    /** Desired keys key-00 .. key-(n-1), all owned here and desired. */
    World keys(int n) {
      for (int i = 0; i < n; i++) {
        String key = String.format("key-%02d", i);
        desiredKeys.add(key);
        owned.add(key);
        desire.put(key, Desire.YES);
      }
      return this;
    }

    @Override
    public List<String> desiredKeysAfter(String cursor, int limit) {
      return page(desiredKeys, cursor, limit);
    }

    @Override
    public Desire desire(String key) {
      clock.addAndGet(readNanos);
      desireReads.add(key);
      if (failing.contains(key)) {
        throw new IllegalStateException("storage down at " + key);
      }
      return desire.getOrDefault(key, Desire.NO);
    }

    @Override
    public boolean owns(String key) {
      return owned.contains(key);
    }

    @Override
    public boolean isRunning(String key) {
      return running.contains(key);
    }

    @Override
    public List<String> runningKeysAfter(String cursor, int limit) {
      assertFalse(runningForbidden, "running workers read although retire is off");
      return page(running, cursor, limit);
    }

    @Override
    public boolean isCached(String key) {
      return cached.contains(key);
    }

    @Override
    public List<String> cachedKeysAfter(String cursor, int limit) {
      return page(cached, cursor, limit);
    }

    @Override
    public boolean isStale(String key) {
      clock.addAndGet(readNanos);
      return stale.contains(key);
    }

    @Override
    public List<String> hottest(int n) {
      return hot.subList(0, Math.min(n, hot.size()));
    }

    private static List<String> page(NavigableSet<String> keys, String cursor, int limit) {
      List<String> page = new ArrayList<>();
      for (String key : cursor == null ? keys : keys.tailSet(cursor, false)) {
        if (page.size() == limit) {
          break;
        }
        page.add(key);
      }
      return page;
    }

    Decisions round(Rules rules, Cursors from) {
      return ReconcileRound.decide(this, rules, from, clock::get);
    }
  }

  private static Rules starting(int budget, long limitNanos) {
    return new Rules(budget, limitNanos, true, false, null, 0, false);
  }

  private static Rules retiring(int budget, long limitNanos) {
    return new Rules(budget, limitNanos, true, true, null, 0, false);
  }

  @Test
  void ownedDesiredKeysWithoutAWorkerHereAreStarted() {
    World world = new World().keys(6);
    world.owned.remove("key-01"); // another node's
    world.running.add("key-02"); // runs already
    world.desire.put("key-03", Desire.NO); // stored, but not active
    world.desire.put("key-04", Desire.UNKNOWN); // could not be judged
    Decisions round = world.round(starting(100, NO_LIMIT), Cursors.START);
    assertEquals(List.of("key-00", "key-05"), round.starts());
    assertEquals(6, round.scanned());
    assertEquals(5, round.owned());
    assertFalse(round.cutShort());
    assertNull(round.next().desired(), "the end: the next round starts over");
    assertEquals(
        List.of("key-00", "key-03", "key-04", "key-05"),
        world.desireReads,
        "desiredness is read only for keys that would be fixed");
  }

  @Test
  void aReconcilerWithoutWakeMessageStartsNothingAndReadsNoValue() {
    World world = new World().keys(3);
    Decisions round =
        world.round(new Rules(10, NO_LIMIT, false, false, null, 0, false), Cursors.START);
    assertEquals(List.of(), round.starts());
    assertEquals(3, round.scanned());
    assertEquals(List.of(), world.desireReads);
  }

  @Test
  void theBudgetBoundsEachRoundAndTheCursorWrapsAroundAtTheEnd() {
    World world = new World().keys(25);
    Rules rules = starting(10, NO_LIMIT);
    Decisions first = world.round(rules, Cursors.START);
    assertEquals(10, first.scanned());
    assertEquals("key-00", first.starts().get(0));
    assertEquals("key-09", first.next().desired());
    assertFalse(first.cutShort(), "a round bounded by its budget is not cut short");

    Decisions second = world.round(rules, first.next());
    assertEquals("key-10", second.starts().get(0));
    assertEquals("key-19", second.next().desired());

    Decisions third = world.round(rules, second.next());
    assertEquals(List.of("key-20", "key-21", "key-22", "key-23", "key-24"), third.starts());
    assertNull(third.next().desired(), "past the end: wraps around");

    Decisions fourth = world.round(rules, third.next());
    assertEquals("key-00", fourth.starts().get(0), "starts over from the first key");
    assertEquals(10, fourth.scanned());
  }

  @Test
  void aPageThatEndedExactlyAtTheEndStartsOverInTheSameRound() {
    World world = new World().keys(20);
    Rules rules = starting(10, NO_LIMIT);
    Decisions second = world.round(rules, world.round(rules, Cursors.START).next());
    assertEquals("key-19", second.next().desired());
    Decisions third = world.round(rules, second.next());
    assertEquals(10, third.scanned(), "nothing after key-19: from the first key at once");
    assertEquals("key-00", third.starts().get(0));
  }

  @Test
  void keysAddedBehindTheCursorAreReachedAfterTheWrapAround() {
    World world = new World().keys(4);
    Rules rules = starting(3, NO_LIMIT);
    Decisions first = world.round(rules, Cursors.START);
    assertEquals("key-02", first.next().desired());
    world.desiredKeys.add("key-00a");
    world.owned.add("key-00a");
    world.desire.put("key-00a", Desire.YES);
    Decisions second = world.round(rules, first.next());
    assertEquals(List.of("key-03"), second.starts());
    Decisions third = world.round(rules, second.next());
    assertEquals(List.of("key-00", "key-00a", "key-01"), third.starts());
  }

  @Test
  void theTimeLimitCutsARoundShortAndTheNextGoesOnAfterTheLastKeyHandled() {
    World world = new World().keys(10);
    world.readNanos = MS; // each value read takes 1 ms on the manual clock
    Rules rules = starting(100, 3 * MS + MS / 2);
    Decisions first = world.round(rules, Cursors.START);
    assertTrue(first.cutShort());
    assertNull(first.failure());
    assertEquals(List.of("key-00", "key-01", "key-02", "key-03"), first.starts());
    assertEquals(4, first.scanned());
    assertEquals("key-03", first.next().desired(), "the last key handled");
    assertSame(Pass.DESIRED, first.next().pass());

    Decisions second = world.round(rules, first.next());
    assertEquals(List.of("key-04", "key-05", "key-06", "key-07"), second.starts());
    Decisions third = world.round(rules, second.next());
    assertEquals(List.of("key-08", "key-09"), third.starts());
    assertFalse(third.cutShort(), "done within its time");
    assertNull(third.next().desired());
  }

  @Test
  void aRoundHandlesItsFirstKeyHoweverShortItsTimeLimit() {
    World world = new World().keys(3);
    world.readNanos = 10 * MS;
    Rules rules = starting(100, 1);
    Cursors at = Cursors.START;
    List<String> started = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Decisions round = world.round(rules, at);
      assertEquals(1, round.scanned(), "round " + i);
      started.addAll(round.starts());
      at = round.next();
    }
    assertEquals(List.of("key-00", "key-01", "key-02"), started);
  }

  @Test
  void runningWorkersWhoseKeyIsNotDesiredAreRetiredButNeverUnknownOnes() {
    World world = new World().keys(2);
    world.running.addAll(List.of("key-00", "gone", "closed", "unreadable"));
    world.desire.put("closed", Desire.NO);
    world.desire.put("unreadable", Desire.UNKNOWN);
    Decisions round = world.round(retiring(100, NO_LIMIT), Cursors.START);
    assertEquals(List.of("closed", "gone"), round.retires());
    assertEquals(List.of("key-01"), round.starts());
  }

  @Test
  void withRetireOffTheRunningWorkersAreNotRead() {
    World world = new World().keys(2);
    world.running.add("gone");
    world.runningForbidden = true;
    Decisions round = world.round(starting(100, NO_LIMIT), Cursors.START);
    assertEquals(List.of(), round.retires());
  }

  @Test
  void theRunningWalkHasItsOwnCursorAndBudgetAndWrapsAround() {
    World world = new World();
    for (int i = 0; i < 5; i++) {
      world.running.add("w" + i);
    }
    Rules rules = retiring(2, NO_LIMIT);
    List<List<String>> retired = new ArrayList<>();
    Cursors at = Cursors.START;
    for (int i = 0; i < 4; i++) {
      Decisions round = world.round(rules, at);
      retired.add(round.retires());
      at = round.next();
    }
    assertEquals(
        List.of(List.of("w0", "w1"), List.of("w2", "w3"), List.of("w4"), List.of("w0", "w1")),
        retired);
  }

  @Test
  void aFailedReadStopsTheRoundBeforeItsKeyAndTheNextRoundStartsThere() {
    World world = new World().keys(5);
    world.failing.add("key-03");
    Rules rules = starting(100, NO_LIMIT);
    Decisions first = world.round(rules, Cursors.START);
    assertTrue(first.cutShort());
    assertEquals("storage down at key-03", first.failure().getMessage());
    assertEquals(List.of("key-00", "key-01", "key-02"), first.starts(), "decided before stand");
    assertEquals("key-02", first.next().desired());

    world.failing.clear();
    Decisions second = world.round(rules, first.next());
    assertEquals(List.of("key-03", "key-04"), second.starts());
    assertNull(second.failure());
  }

  @Test
  void aWorkerWhoseDesirednessCannotBeReadIsNotRetired() {
    World world = new World();
    world.running.addAll(List.of("a", "b", "c"));
    world.failing.add("b");
    Decisions first = world.round(retiring(100, NO_LIMIT), Cursors.START);
    assertEquals(List.of("a"), first.retires());
    assertTrue(first.cutShort());
    assertSame(Pass.RUNNING, first.next().pass());
    assertEquals("a", first.next().running());
  }

  @Test
  void aRoundCutShortResumesWithThePassItStoppedInThenMakesTheOthers() {
    World world = new World().keys(2);
    world.running.addAll(List.of("r1", "r2", "r3"));
    world.readNanos = MS;
    // DESIRED: 2 reads (2 ms); RUNNING: r1 at 2 ms, r2 at 3 ms; r3 past the 3.5 ms limit.
    Rules rules = retiring(100, 3 * MS + MS / 2);
    Decisions first = world.round(rules, Cursors.START);
    assertEquals(List.of("key-00", "key-01"), first.starts());
    assertEquals(List.of("r1", "r2"), first.retires());
    assertSame(Pass.RUNNING, first.next().pass());
    assertEquals("r2", first.next().running());

    world.desiredKeys.clear(); // the desired walk would find nothing new anyway
    Decisions second = world.round(rules, first.next());
    assertEquals(List.of("r3"), second.retires(), "RUNNING first, from after r2");
    assertFalse(second.cutShort());
    assertSame(Pass.RUNNING, second.next().pass());
    assertNull(second.next().running());
  }

  @Test
  void warmWhenWarmsDesiredScannedKeysOfEveryOwnerThatAreNotCached() {
    World world = new World().keys(5);
    world.owned.clear(); // none is this node's: warming does not care
    world.cached.add("key-01");
    world.desire.put("key-02", Desire.NO);
    Predicate<String> hot = key -> !key.equals("key-04");
    Rules rules = new Rules(100, NO_LIMIT, true, false, hot, 0, true);
    Decisions round = world.round(rules, Cursors.START);
    assertEquals(List.of("key-00", "key-03"), round.warms());
    assertEquals(List.of(), round.starts());
    assertEquals(0, round.owned());
  }

  @Test
  void warmHottestWarmsTheMostReadKeysThatAreDesiredAndNotCached() {
    World world = new World().keys(3);
    world.hot.addAll(List.of("key-02", "key-00", "gone", "key-01"));
    world.cached.add("key-00");
    Rules rules = new Rules(100, NO_LIMIT, false, false, null, 3, true);
    Decisions round = world.round(rules, Cursors.START);
    assertEquals(List.of("key-02"), round.warms(), "key-00 cached, gone not desired, key-01 4th");
  }

  @Test
  void aKeyIsWarmedOnceWhenBothWarmingsPickIt() {
    World world = new World().keys(2);
    world.hot.addAll(List.of("key-01", "key-00"));
    Rules rules = new Rules(100, NO_LIMIT, false, false, key -> true, 2, true);
    Decisions round = world.round(rules, Cursors.START);
    assertEquals(List.of("key-00", "key-01"), round.warms());
  }

  @Test
  void staleCacheEntriesAreDroppedWithACursorOfTheirOwn() {
    World world = new World();
    world.cached.addAll(List.of("c1", "c2", "c3"));
    world.stale.addAll(List.of("c1", "c3"));
    Rules rules = new Rules(2, NO_LIMIT, false, false, null, 0, true);
    Decisions first = world.round(rules, Cursors.START);
    assertEquals(List.of("c1"), first.drops());
    assertEquals("c2", first.next().cached());
    Decisions second = world.round(rules, first.next());
    assertEquals(List.of("c3"), second.drops());
    assertNull(second.next().cached());
  }
}
