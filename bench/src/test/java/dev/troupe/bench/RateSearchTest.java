package dev.troupe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class RateSearchTest {

  /** Runs the search against a system that sustains every rate up to {@code limit}. */
  private static List<Integer> tried(RateSearch search, int limit) {
    List<Integer> rates = new ArrayList<>();
    for (OptionalInt r = search.next(); r.isPresent(); r = search.next()) {
      rates.add(r.getAsInt());
      search.report(r.getAsInt() <= limit);
    }
    return rates;
  }

  @Test
  void growsByTheFactorThenBisects() {
    RateSearch search = new RateSearch(100, 1.5, 3, 30_000);
    assertEquals(List.of(100, 150, 225, 338, 281, 309, 295), tried(search, 300));
    assertEquals(295, search.highestSustained());
  }

  @Test
  void firstStepFailingBisectsBelowTheStart() {
    RateSearch search = new RateSearch(100, 1.5, 2, 1000);
    assertEquals(List.of(100, 50, 25), tried(search, 10));
    assertEquals(0, search.highestSustained());
  }

  @Test
  void stopsAtTheCapWhenTheCapIsSustained() {
    RateSearch search = new RateSearch(100, 2, 3, 300);
    assertEquals(List.of(100, 200, 300), tried(search, 1_000));
    assertTrue(search.cappedAt());
  }

  @Test
  void stopsWhenTheIntervalCannotBeHalved() {
    RateSearch search = new RateSearch(2, 1.5, 10, 100);
    assertEquals(List.of(2, 3, 5, 4), tried(search, 4));
    assertEquals(4, search.highestSustained());
  }

  @Test
  void refusesToSkipAReport() {
    RateSearch search = new RateSearch(10, 1.5, 1, 100);
    search.next();
    assertThrows(IllegalStateException.class, search::next);
  }
}
