package dev.troupe.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.Test;

final class AddressBookViewTest {
  private static final Address A = new Address("pekko", "troupe", "10.0.0.1", 1);
  private static final Address B = new Address("pekko", "troupe", "10.0.0.2", 1);
  private static final Address C = new Address("pekko", "troupe", "10.0.0.3", 1);

  private static NameEntry entry(Address node, long at) {
    return new NameEntry(node.toString(), "/user/x#" + at, at, "", 0);
  }

  private static AddressBookView view(Set<Address> available, List<NameEntry> holders) {
    List<NameEntry> sorted = new java.util.ArrayList<>(holders);
    sorted.sort(NameEntry.OLDEST_FIRST);
    return AddressBookView.initial()
        .withMembership(available, Set.of(A.toString(), B.toString(), C.toString()), true)
        .withNames(Map.of("n", List.copyOf(sorted)));
  }

  @Test
  void theOldestHolderOnAnAvailableNodeWins() {
    NameEntry old = entry(B, 100);
    NameEntry young = entry(A, 200);
    assertEquals(Optional.of(old), view(Set.of(A, B, C), List.of(young, old)).winner("n"));
  }

  @Test
  void equalTimesAreBrokenByNodeAddressTheSameWayEverywhere() {
    NameEntry onA = entry(A, 100);
    NameEntry onC = entry(C, 100);
    assertEquals(Optional.of(onA), view(Set.of(A, B, C), List.of(onC, onA)).winner("n"));
    assertEquals(Optional.of(onA), view(Set.of(A, B, C), List.of(onA, onC)).winner("n"));
  }

  @Test
  void aHolderOnAnUnavailableNodeNeverWins() {
    NameEntry old = entry(B, 100);
    NameEntry young = entry(A, 200);
    AddressBookView view = view(Set.of(A, C), List.of(old, young));
    assertEquals(Optional.of(young), view.winner("n"));
    assertEquals(List.of(old), view.unavailableHolders("n"));
    assertEquals(Optional.empty(), view(Set.of(A, C), List.of(old)).winner("n"));
  }

  @Test
  void locateNamesTheWinnersNodeWithTheViewsOwnOptional() {
    NameEntry old = entry(B, 100);
    NameEntry young = entry(A, 200);
    AddressBookView view = view(Set.of(A, C), List.of(old, young));
    assertEquals(Optional.of(A), view.locate("n"), "B is unavailable: A's holder wins");
    assertSame(view.locate("n"), view.locate("n"), "no Optional made per call");
    assertEquals(Optional.of(B), view(Set.of(A, B, C), List.of(old, young)).locate("n"));
    assertEquals(Optional.empty(), view.locate("unknown"));
    assertEquals(Optional.empty(), view(Set.of(A, C), List.of(old)).locate("n"));
  }

  @Test
  void theRingIsRebuiltOnlyWhenTheAvailableNodesChange() {
    AddressBookView view = view(Set.of(A, B), List.of());
    AddressBookView same = view.withMembership(Set.of(A, B), view.members(), true);
    assertSame(view.ring(), same.ring());
    AddressBookView grown = view.withMembership(Set.of(A, B, C), view.members(), true);
    assertEquals(Set.of(A.toString(), B.toString(), C.toString()), grown.ring().members());
  }

  @Test
  void aHigherRankWinsOverAnOlderRegistration() {
    NameEntry older = new NameEntry(B.toString(), "/user/x#1", 100, "", 3);
    NameEntry newerRanked = new NameEntry(A.toString(), "/user/x#2", 200, "", 4);
    assertEquals(
        Optional.of(newerRanked), view(Set.of(A, B, C), List.of(older, newerRanked)).winner("n"));
  }
}
