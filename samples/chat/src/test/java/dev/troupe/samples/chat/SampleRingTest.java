package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The dashboard's per-node ring of samples, and the cron specs described in words. */
final class SampleRingTest {
  @Test
  void keepsTheNewestSamplesOldestFirst() {
    SampleRing ring = new SampleRing(3, 2);
    assertEquals(Long.MIN_VALUE, ring.newest());
    for (int i = 1; i <= 5; i++) {
      ring.add(i * 1000L, new double[] {i, -i});
    }
    SampleRing.View view = ring.view();
    assertArrayEquals(new long[] {3000, 4000, 5000}, view.at());
    assertArrayEquals(new double[] {3, 4, 5}, view.series()[0]);
    assertArrayEquals(new double[] {-3, -4, -5}, view.series()[1]);
    assertEquals(5000, ring.newest());
  }

  @Test
  void aShortSampleLeavesTheMissingSeriesEmpty() {
    SampleRing ring = new SampleRing(2, 2);
    ring.add(1, new double[] {7});
    assertEquals(1, ring.view().at().length);
    assertEquals(Double.NaN, ring.view().series()[1][0]);
  }

  @Test
  void cronSpecsAreDescribedInWords() {
    assertEquals("every minute", Dashboard.describe("* * * * *").toLowerCase());
    assertNull(Dashboard.describe("not a cron spec"));
  }
}
