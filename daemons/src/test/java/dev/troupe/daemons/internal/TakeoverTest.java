package dev.troupe.daemons.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.HashRing;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class TakeoverTest {
  private static final Takeover.Member A = new Takeover.Member("a", "owner-a", true);
  private static final Takeover.Member B = new Takeover.Member("b", "owner-b", true);
  private static final Takeover.Member C = new Takeover.Member("c", "owner-c", true);

  private static DaemonStore.HeldLease lease(String name, String owner) {
    return new DaemonStore.HeldLease(name, owner, 1, "importer", List.of(), 1_000);
  }

  @Test
  void theLeaderNodeIsTheOldestUpOrLeavingMember() {
    Takeover.Member joining = new Takeover.Member("j", "owner-j", false);
    assertEquals("a", Takeover.leaderNode(List.of(A, B, C)));
    assertEquals("b", Takeover.leaderNode(List.of(joining, B, C)), "a Joining member never leads");
    assertNull(Takeover.leaderNode(List.of(joining)));
    assertNull(Takeover.leaderNode(List.of()));
  }

  @Test
  void nothingIsLostWhileTheLeadersNodeIsAReachableHost() {
    // c is unreachable, but the leader (on a) places c's daemons itself.
    assertEquals(Set.of(), Takeover.lostOwners(List.of(A, B, C), Set.of("a", "b")));
    assertEquals(Set.of(), Takeover.lostOwners(List.of(A, B, C), Set.of("a", "b", "c")));
  }

  @Test
  void whileTheLeadersNodeIsUnreachableEveryUnreachableMembersLeasesAreLost() {
    assertEquals(Set.of("owner-a"), Takeover.lostOwners(List.of(A, B, C), Set.of("b", "c")));
    assertEquals(Set.of("owner-a", "owner-c"), Takeover.lostOwners(List.of(A, B, C), Set.of("b")));
    // With no member Up there is no leader to miss.
    Takeover.Member joining = new Takeover.Member("j", "owner-j", false);
    assertEquals(Set.of(), Takeover.lostOwners(List.of(joining), Set.of()));
  }

  @Test
  void eachLostDaemonIsTakenOverByExactlyOneHostItsRingOwner() {
    HashRing ring = HashRing.of(List.of("b", "c"));
    List<DaemonStore.HeldLease> held = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      held.add(lease("d-" + i, "owner-a"));
    }
    List<DaemonStore.HeldLease> byB = Takeover.mine("b", ring, held, Set.of());
    List<DaemonStore.HeldLease> byC = Takeover.mine("c", ring, held, Set.of());
    assertEquals(held.size(), byB.size() + byC.size(), "every lease has one taker");
    assertTrue(byB.stream().noneMatch(byC::contains), "never two takers");
    assertTrue(byB.size() > 50 && byC.size() > 50, "spread: " + byB.size() + "/" + byC.size());
    for (DaemonStore.HeldLease l : byB) {
      assertEquals("b", ring.pick(l.name()));
    }
  }

  @Test
  void aDaemonThatRunsOrStartsHereAlreadyIsNotTakenAgain() {
    HashRing ring = HashRing.of(List.of("b"));
    List<DaemonStore.HeldLease> held = List.of(lease("x", "owner-a"), lease("y", "owner-a"));
    assertEquals(
        List.of("y"),
        Takeover.mine("b", ring, held, Set.of("x")).stream()
            .map(DaemonStore.HeldLease::name)
            .toList());
  }

  @Test
  void anEmptyRingTakesNothing() {
    assertEquals(
        List.of(), Takeover.mine("b", HashRing.of(List.of()), List.of(lease("x", "o")), Set.of()));
  }
}
