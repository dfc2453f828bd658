package dev.troupe.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class EntryTableTest {
  private static ReplicaEntry entry(String path, long extra) {
    return new ReplicaEntry("g", "p", path, 1, extra);
  }

  @Test
  void behavesAsAMapByPathThroughGrowthAndRemovals() {
    Random random = new Random(7);
    EntryTable table = new EntryTable();
    Map<String, ReplicaEntry> model = new HashMap<>();
    for (int step = 0; step < 200_000; step++) {
      // Few distinct paths, so that puts replace, removals hit, and probe chains wrap around.
      String path = "/user/w-" + random.nextInt(5_000);
      int what = random.nextInt(3);
      if (what < 2) {
        ReplicaEntry e = entry(path, step);
        assertSame(model.put(path, e), table.put(e), "put " + path);
      } else {
        assertSame(model.remove(path), table.remove(path), "remove " + path);
      }
      if (step % 10_000 == 0) {
        assertEquals(model.size(), table.size());
        for (Map.Entry<String, ReplicaEntry> e : model.entrySet()) {
          assertSame(e.getValue(), table.get(e.getKey()));
        }
        List<ReplicaEntry> listed = new ArrayList<>();
        table.forEach(listed::add);
        assertEquals(model.size(), listed.size());
      }
    }
    for (String path : List.copyOf(model.keySet())) {
      assertSame(model.remove(path), table.remove(path));
    }
    assertEquals(0, table.size());
    assertNull(table.get("/user/w-1"));
  }

  @Test
  void aReplacementMustKeepThePath() {
    EntryTable table = new EntryTable();
    table.put(entry("/user/a", 0));
    ReplicaEntry same = entry("/user/a", 1);
    table.replaceEach(e -> same);
    assertSame(same, table.get("/user/a"));
    assertThrows(IllegalArgumentException.class, () -> table.replaceEach(e -> entry("/user/b", 0)));
  }
}
