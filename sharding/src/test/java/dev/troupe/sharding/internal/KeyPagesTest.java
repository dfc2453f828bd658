package dev.troupe.sharding.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

final class KeyPagesTest {

  @Test
  void aPageIsTheSmallestKeysAfterTheCursorInOrder() {
    Set<String> keys = Set.of("d", "a", "c", "e", "b");
    assertEquals(List.of("a", "b"), KeyPages.after(keys, null, 2));
    assertEquals(List.of("c", "d"), KeyPages.after(keys, "b", 2));
    assertEquals(List.of("e"), KeyPages.after(keys, "d", 2), "the last page is short");
    assertEquals(List.of(), KeyPages.after(keys, "e", 2));
    assertEquals(List.of("c", "d", "e"), KeyPages.after(keys, "bb", 10), "a cursor not in the set");
  }

  @Test
  void pagingThroughTenThousandShuffledKeysVisitsEachOnceInOrder() {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      keys.add("key-" + i);
    }
    Collections.shuffle(keys, new Random(42));
    List<String> visited = new ArrayList<>();
    String cursor = null;
    while (true) {
      List<String> page = KeyPages.after(keys, cursor, 333);
      visited.addAll(page);
      if (page.size() < 333) {
        break;
      }
      cursor = page.get(page.size() - 1);
    }
    assertEquals(new ArrayList<>(new TreeSet<>(keys)), visited);
  }

  @Test
  void aLimitBelowOneIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> KeyPages.after(Set.of("a"), null, 0));
  }
}
