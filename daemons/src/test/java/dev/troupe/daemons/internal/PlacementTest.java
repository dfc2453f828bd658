package dev.troupe.daemons.internal;

import static dev.troupe.daemons.internal.Placement.Verdict.ADOPT;
import static dev.troupe.daemons.internal.Placement.Verdict.CONFIRM;
import static dev.troupe.daemons.internal.Placement.Verdict.KEEP;
import static dev.troupe.daemons.internal.Placement.Verdict.STOP;
import static dev.troupe.daemons.internal.Placement.Verdict.SUPERSEDE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.HashRing;
import dev.troupe.daemons.internal.Placement.Known;
import dev.troupe.daemons.internal.Placement.Status;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class PlacementTest {
  private static Known running(String node, long epoch) {
    return new Known(Status.RUNNING, node, epoch);
  }

  // ---- never twice: which reported instance is adopted, kept or stopped ----

  @Test
  void anInstanceOlderThanTheNewestIssuedEpochIsNeverAdopted() {
    // A new leader knows nothing yet, but the database issued epoch 5: epoch 4 is fenced.
    assertEquals(STOP, Placement.judge(null, 5, "b", 4));
    assertEquals(STOP, Placement.judge(new Known(Status.UNPLACED, null, 0), 5, "b", 4));
    // The leader's own placement at 5 raced a report of the old instance at 4 elsewhere.
    assertEquals(STOP, Placement.judge(new Known(Status.STARTING, "a", 5), 5, "b", 4));
  }

  @Test
  void anUnknownOrUnplacedDaemonsCurrentInstanceIsAdopted() {
    assertEquals(ADOPT, Placement.judge(null, 0, "b", 1), "nothing issued yet");
    assertEquals(ADOPT, Placement.judge(null, 3, "b", 3), "the newest issued epoch");
    assertEquals(ADOPT, Placement.judge(new Known(Status.UNPLACED, null, 3), 3, "b", 3));
    assertEquals(ADOPT, Placement.judge(new Known(Status.FAILED, "a", 3), 3, "b", 3));
  }

  @Test
  void theLeadersOwnPlacementIsConfirmedOrKept() {
    assertEquals(CONFIRM, Placement.judge(new Known(Status.STARTING, "a", 4), 4, "a", 4));
    assertEquals(KEEP, Placement.judge(running("a", 4), 4, "a", 4));
    // Even if the database issued a newer epoch since (a placement in flight), it is the known one.
    assertEquals(KEEP, Placement.judge(running("a", 4), 5, "a", 4));
  }

  @Test
  void aNewerInstanceSupersedesTheKnownOneAndASecondOneOfTheSameEpochIsStopped() {
    // A host took the daemon over (epoch 6) while this leader believed it ran at 4 on a.
    assertEquals(SUPERSEDE, Placement.judge(running("a", 4), 6, "b", 6));
    assertEquals(SUPERSEDE, Placement.judge(new Known(Status.RAISING, "a", 4), 4, "b", 6));
    // The same epoch on another node than the known one: a duplicate.
    assertEquals(STOP, Placement.judge(running("a", 4), 4, "b", 4));
    // A newer instance while a move or a start of the leader is under way: the leader's wins.
    assertEquals(STOP, Placement.judge(new Known(Status.MOVING, "a", 4), 4, "b", 6));
    assertEquals(STOP, Placement.judge(new Known(Status.STARTING, "a", 7), 7, "b", 6));
  }

  @Test
  void overAnyOrderOfReportsAtMostOneInstanceIsEverKept() {
    // Three instances of one name (epochs 2, 3, 4 on a, b, c) reported in every order: applying
    // the verdicts, the leader ends up knowing exactly the newest one and stops the others.
    long[] epochs = {2, 3, 4};
    String[] nodes = {"a", "b", "c"};
    int[][] orders = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int[] order : orders) {
      Known known = null;
      int kept = 0;
      for (int i : order) {
        Placement.Verdict v = Placement.judge(known, 0, nodes[i], epochs[i]);
        switch (v) {
          case ADOPT, SUPERSEDE -> {
            if (known != null && v == SUPERSEDE) {
              kept--; // the superseded one is stopped
            }
            known = running(nodes[i], epochs[i]);
            kept++;
          }
          case STOP -> {}
          default -> throw new AssertionError(v);
        }
      }
      assertEquals(1, kept, "order " + java.util.Arrays.toString(order));
      assertEquals(running("c", 4), known, "the newest wins");
    }
  }

  // ---- orphans, reports, answers ----

  @Test
  void aDaemonOfAGoneHostIsOrphanedUnlessAlreadyUnplaced() {
    assertTrue(Placement.orphaned(running("a", 1), Set.of("a")));
    assertTrue(Placement.orphaned(new Known(Status.STARTING, "a", 1), Set.of("a")));
    assertFalse(Placement.orphaned(running("b", 1), Set.of("a")));
    assertFalse(Placement.orphaned(new Known(Status.UNPLACED, "a", 1), Set.of("a")));
    assertFalse(Placement.orphaned(new Known(Status.UNPLACED, null, 0), Set.of("a")));
  }

  @Test
  void onlyADaemonKnownBeforeTheReportWasAskedIsMissingFromIt() {
    Known k = running("a", 1);
    assertTrue(Placement.missingFromReport(k, 3, "a", 5, false));
    assertFalse(Placement.missingFromReport(k, 3, "a", 5, true), "reported");
    assertFalse(Placement.missingFromReport(k, 6, "a", 5, false), "learned of after the ask");
    assertFalse(Placement.missingFromReport(k, 3, "b", 5, false), "another node's report");
    assertFalse(
        Placement.missingFromReport(new Known(Status.STARTING, "a", 1), 3, "a", 5, false),
        "not running yet");
  }

  @Test
  void answersAboutAnEarlierAttemptAreIgnored() {
    Known starting = new Known(Status.STARTING, "a", 4);
    assertTrue(Placement.isCurrentStart(starting, 4, "a"));
    assertFalse(Placement.isCurrentStart(starting, 3, "a"));
    assertFalse(Placement.isCurrentStart(starting, 4, "b"));
    assertFalse(Placement.isCurrentStart(running("a", 4), 4, "a"));
    assertTrue(Placement.isCurrentInstance(running("a", 4), 4, "a"));
    assertFalse(Placement.isCurrentInstance(running("a", 5), 4, "a"), "an older instance ended");
    assertFalse(Placement.isCurrentInstance(starting, 4, "a"));
  }

  // ---- moving and handing over ----

  @Test
  void rebalanceMovesOnlyRunningDaemonsOffTheirRingOwnerAndAtMostTheBound() {
    HashRing ring = HashRing.of(List.of("a", "b", "c"));
    Map<String, Known> daemons = new HashMap<>();
    int misplaced = 0;
    for (int i = 0; i < 100; i++) {
      String name = "d-" + i;
      daemons.put(name, running("a", 1)); // all on a, as before b and c joined
      if (!ring.pick(name).equals("a")) {
        misplaced++;
      }
    }
    daemons.put("starting", new Known(Status.STARTING, "a", 1));
    daemons.put("on-gone-node", running("z", 1));
    List<String> all = Placement.moves(daemons, ring, Set.of("a", "b", "c"), 1_000);
    assertEquals(misplaced, all.size());
    for (String name : all) {
      assertTrue(name.startsWith("d-"), name);
      assertFalse(ring.pick(name).equals("a"), name + " is on its owner already");
    }
    assertEquals(10, Placement.moves(daemons, ring, Set.of("a", "b", "c"), 10).size());
    assertEquals(List.of(), Placement.moves(daemons, HashRing.of(List.of("a")), Set.of("a"), 10));
  }

  @Test
  void aLeavingNodeHandsOverWhatRunsOrStartsThereAndIsDoneWhenNothingIsLeft() {
    Map<String, Known> daemons = new HashMap<>();
    daemons.put("x", running("a", 1));
    daemons.put("y", new Known(Status.STARTING, "a", 2));
    daemons.put("z", running("b", 1));
    daemons.put("w", new Known(Status.FAILED, "a", 1));
    assertEquals(List.of("x", "y"), Placement.handOver(daemons, "a"));
    assertTrue(Placement.stillHosts(daemons, "a"));
    daemons.put("x", new Known(Status.UNPLACED, "a", 1));
    daemons.put("y", running("b", 3));
    assertFalse(Placement.stillHosts(daemons, "a"), "only failed and unplaced ones are left");
  }
}
