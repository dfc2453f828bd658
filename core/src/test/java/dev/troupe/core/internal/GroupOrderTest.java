package dev.troupe.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class GroupOrderTest {
  private static final String A = "pekko://troupe@10.0.0.1:1";
  private static final String B = "pekko://troupe@10.0.0.2:1";
  private static final String C = "pekko://troupe@10.0.0.3:1";

  /** One live entry of the model: what the table holds. */
  private record Live(String node, ReplicaEntry entry) {}

  private static final Comparator<Live> FULL_SORT =
      Comparator.<Live>comparingLong(l -> l.entry().registeredAt())
          .thenComparing(Live::node)
          .thenComparing(l -> l.entry().path());

  private static List<ReplicaEntry> sorted(Map<String, Live> live) {
    List<Live> all = new ArrayList<>(live.values());
    all.sort(FULL_SORT);
    List<ReplicaEntry> entries = new ArrayList<>();
    all.forEach(l -> entries.add(l.entry()));
    return entries;
  }

  private static List<ReplicaEntry> listed(GroupOrder order) {
    List<ReplicaEntry> entries = new ArrayList<>();
    for (int i = 0; i < order.size(); i++) {
      entries.add(order.entry(i));
    }
    return entries;
  }

  @Test
  void incrementalChangesKeepTheOrderOfAFullSort() {
    Random random = new Random(42);
    String[] nodes = {A, B, C};
    Map<String, Live> live = new LinkedHashMap<>(); // node + path -> entry
    GroupOrder order = new GroupOrder();
    ReplicaChanges changes = new ReplicaChanges();
    int serial = 0;
    for (int round = 0; round < 300; round++) {
      int steps = 1 + random.nextInt(40);
      for (int s = 0; s < steps; s++) {
        int what = random.nextInt(10);
        if (what < 5 || live.isEmpty()) { // add; registration times collide on purpose
          String node = nodes[random.nextInt(3)];
          ReplicaEntry entry =
              new ReplicaEntry("g", "p", "/user/w-" + serial++, random.nextInt(200), 0);
          live.put(node + entry.path(), new Live(node, entry));
          changes.added("g", node, entry);
        } else if (what < 8) { // remove, possibly one added in this same batch
          Live gone = new ArrayList<>(live.values()).get(random.nextInt(live.size()));
          live.remove(gone.node() + gone.entry().path());
          changes.removed("g", gone.node(), gone.entry());
        } else if (what == 8) { // replace: the same worker, a new state
          Live old = new ArrayList<>(live.values()).get(random.nextInt(live.size()));
          ReplicaEntry drained = old.entry().withExtra(1);
          live.put(old.node() + old.entry().path(), new Live(old.node(), drained));
          changes.removed("g", old.node(), old.entry());
          changes.added("g", old.node(), drained);
        } else { // a node is removed: all its entries dropped
          String node = nodes[random.nextInt(3)];
          live.values().removeIf(l -> l.node().equals(node));
          changes.dropped("g", node);
        }
      }
      Map<String, ReplicaChanges.Change> taken = changes.take();
      if (!taken.isEmpty()) {
        order.apply(taken.get("g"));
      }
      assertEquals(sorted(live), listed(order), "round " + round);
      for (int i = 0; i < order.size(); i++) {
        String node = order.node(i);
        assertEquals(live.get(node + order.entry(i).path()).entry(), order.entry(i));
      }
    }
    assertTrue(order.size() > 0, "the model kept some entries");
  }

  @Test
  void aBurstInTimeOrderIsAppendedAndAResetSorts() {
    GroupOrder order = new GroupOrder();
    ReplicaChanges changes = new ReplicaChanges();
    List<ReplicaEntry> expected = new ArrayList<>();
    for (int batch = 0; batch < 50; batch++) {
      for (int i = 0; i < 100; i++) {
        ReplicaEntry entry = new ReplicaEntry("g", "p", "/user/w-" + batch + "-" + i, batch, 0);
        expected.add(entry);
        changes.added("g", A, entry);
      }
      order.apply(changes.take().get("g"));
    }
    expected.sort(
        Comparator.comparingLong(ReplicaEntry::registeredAt).thenComparing(ReplicaEntry::path));
    assertEquals(expected, listed(order));
    GroupOrder fresh = new GroupOrder();
    List<ReplicaEntry> reversed = new ArrayList<>(expected);
    Collections.reverse(reversed);
    fresh.reset(each -> reversed.forEach(e -> each.accept(A, e)));
    assertEquals(expected, listed(fresh));
  }

  @Test
  void aFullChangeIsRefusedByApply() {
    ReplicaChanges changes = new ReplicaChanges();
    changes.added("g", A, new ReplicaEntry("g", "p", "/user/a", 1, 0));
    changes.full("g");
    ReplicaChanges.Change change = changes.take().get("g");
    assertTrue(change.full());
    assertTrue(change.added().isEmpty(), "a full change carries nothing else");
    assertThrows(IllegalArgumentException.class, () -> new GroupOrder().apply(change));
  }
}
