package dev.troupe.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class GroupViewTest {
  private static final String PROTOCOL = "p.Proto";
  private static final Address NODE_A = new Address("pekko", "troupe", "10.0.0.1", 1);
  private static final Address NODE_B = new Address("pekko", "troupe", "10.0.0.2", 1);

  private final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  private ActorRef<Object> ref() {
    return testKit.<Object>createTestProbe().ref();
  }

  /** A registration of the test: its table entry (caches filled, as the registry does) and node. */
  private record Member(ReplicaEntry entry, String node, boolean reachable) {}

  private static Member member(
      ActorRef<Object> ref, Address node, long at, WorkerState state, boolean reachable) {
    return member(ref, node, at, state, reachable, PROTOCOL);
  }

  private static Member member(
      ActorRef<Object> ref,
      Address node,
      long at,
      WorkerState state,
      boolean reachable,
      String protocol) {
    ReplicaEntry entry =
        new ReplicaEntry("g", protocol, ref.path().toStringWithoutAddress(), at, state.ordinal());
    entry.view = new WorkerEntry<>("g", node, ref, Instant.ofEpochMilli(at), state);
    entry.pick = Optional.of(ref);
    return new Member(entry, node.toString(), reachable);
  }

  /** The view of {@code members} from a fully sorted order. */
  private static GroupView view(List<Member> members, GroupView previous) {
    GroupOrder order = new GroupOrder();
    order.reset(each -> members.forEach(m -> each.accept(m.node(), m.entry())));
    Set<String> unreachable = new HashSet<>();
    members.stream().filter(m -> !m.reachable()).forEach(m -> unreachable.add(m.node()));
    return GroupView.of("g", order, unreachable, previous);
  }

  @Test
  void membersAreListedOldestFirstAndUnreachableOnesOnlyInAll() {
    ActorRef<Object> young = ref();
    ActorRef<Object> old = ref();
    ActorRef<Object> cut = ref();
    GroupView view =
        view(
            List.of(
                member(young, NODE_A, 300, WorkerState.ACTIVE, true),
                member(cut, NODE_B, 100, WorkerState.ACTIVE, false),
                member(old, NODE_A, 200, WorkerState.ACTIVE, true)),
            null);
    List<ActorRef<Object>> reachable = new ArrayList<>();
    view.protocol(PROTOCOL).reachable().forEach(e -> reachable.add(e.ref()));
    assertEquals(List.of(old, young), reachable);
    assertEquals(3, view.all().size());
    assertEquals(cut, view.all().get(0).ref());
  }

  @Test
  void pickSkipsDrainingAndUnreachableMembersRoundRobin() {
    ActorRef<Object> a = ref();
    ActorRef<Object> b = ref();
    ActorRef<Object> draining = ref();
    ActorRef<Object> cut = ref();
    GroupView view =
        view(
            List.of(
                member(a, NODE_A, 1, WorkerState.ACTIVE, true),
                member(b, NODE_A, 2, WorkerState.ACTIVE, true),
                member(draining, NODE_A, 3, WorkerState.DRAINING, true),
                member(cut, NODE_B, 4, WorkerState.ACTIVE, false)),
            null);
    Map<ActorRef<Object>, Integer> counts = new HashMap<>();
    for (int i = 0; i < 100; i++) {
      counts.merge(view.protocol(PROTOCOL).pick().orElseThrow(), 1, Integer::sum);
    }
    assertEquals(Map.of(a, 50, b, 50), counts);
    for (int i = 0; i < 100; i++) {
      ActorRef<Object> owner = view.protocol(PROTOCOL).pick("key-" + i).orElseThrow();
      assertEquals(owner, view.protocol(PROTOCOL).pick("key-" + i).orElseThrow());
      assertEquals(true, owner.equals(a) || owner.equals(b), "only ACTIVE reachable members");
    }
  }

  @Test
  void theRoundRobinCounterSurvivesAChangeOfTheGroup() {
    ActorRef<Object> a = ref();
    ActorRef<Object> b = ref();
    GroupView first =
        view(
            List.of(
                member(a, NODE_A, 1, WorkerState.ACTIVE, true),
                member(b, NODE_A, 2, WorkerState.ACTIVE, true)),
            null);
    assertEquals(a, first.protocol(PROTOCOL).pick().orElseThrow());
    GroupView second =
        view(
            List.of(
                member(a, NODE_A, 1, WorkerState.ACTIVE, true),
                member(b, NODE_A, 2, WorkerState.ACTIVE, true)),
            first);
    assertEquals(b, second.protocol(PROTOCOL).pick().orElseThrow(), "continues, not restarts");
  }

  @Test
  void picksReturnTheViewsOwnOptionals() {
    ActorRef<Object> a = ref();
    ActorRef<Object> b = ref();
    GroupView.ProtocolView view =
        view(
                List.of(
                    member(a, NODE_A, 1, WorkerState.ACTIVE, true),
                    member(b, NODE_A, 2, WorkerState.ACTIVE, true)),
                null)
            .protocol(PROTOCOL);
    Optional<ActorRef<Object>> first = view.pick();
    view.pick();
    assertSame(first, view.pick(), "the third pick is the first member again, the same object");
    assertSame(view.pick("key-1"), view.pick("key-1"), "no Optional made per pick(key)");
  }

  @Test
  void protocolsUnderOneNameAreSeparateGroupsAndAnEmptyOneHasNoPick() {
    ActorRef<Object> a = ref();
    GroupView view = view(List.of(member(a, NODE_A, 1, WorkerState.ACTIVE, true, "q.Other")), null);
    assertNull(view.protocol(PROTOCOL));
    assertEquals(Optional.of(a), view.protocol("q.Other").pick());
    GroupView drainedOnly = view(List.of(member(a, NODE_A, 1, WorkerState.DRAINING, true)), null);
    assertEquals(Optional.empty(), drainedOnly.protocol(PROTOCOL).pick());
    assertEquals(Optional.empty(), drainedOnly.protocol(PROTOCOL).pick("k"));
  }
}
