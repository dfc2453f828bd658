package dev.troupe.bench;

import java.util.OptionalInt;

/**
 * The offered rates {@link ChatLoadBench --find-max} tries, in posts a second: from {@code start},
 * times {@code factor} while each step is sustained, then {@code bisections} halvings of the
 * interval between the highest sustained and the lowest failed rate. If the first step fails the
 * interval is (0, start]. Never above {@code cap} (the clients' per-connection rate limit). Pure.
 */
final class RateSearch {
  private final int start;
  private final double factor;
  private final int bisections;
  private final int cap;
  private int sustained; // 0 = none yet
  private int failed = Integer.MAX_VALUE; // MAX_VALUE = none yet
  private int bisected;
  private int current = -1;

  RateSearch(int start, double factor, int bisections, int cap) {
    if (start < 1 || factor <= 1 || bisections < 0 || cap < start) {
      throw new IllegalArgumentException(
          "need start >= 1, factor > 1, bisections >= 0, cap >= start; got "
              + start
              + ", "
              + factor
              + ", "
              + bisections
              + ", "
              + cap);
    }
    this.start = start;
    this.factor = factor;
    this.bisections = bisections;
    this.cap = cap;
  }

  /** The next rate to try, or empty when the search is over. */
  OptionalInt next() {
    if (current >= 0) {
      throw new IllegalStateException("report the result of rate " + current + " first");
    }
    int rate;
    if (failed == Integer.MAX_VALUE) {
      if (sustained == cap) {
        return OptionalInt.empty(); // the cap itself is sustained
      }
      rate = sustained == 0 ? start : (int) Math.min(cap, Math.ceil(sustained * factor));
    } else {
      if (bisected >= bisections || failed - sustained <= 1) {
        return OptionalInt.empty();
      }
      rate = sustained + (failed - sustained) / 2;
      bisected++;
    }
    current = rate;
    return OptionalInt.of(rate);
  }

  /** The result of the rate {@link #next} returned. */
  void report(boolean wasSustained) {
    if (current < 0) {
      throw new IllegalStateException("no rate is being tried");
    }
    if (wasSustained) {
      sustained = Math.max(sustained, current);
    } else {
      failed = Math.min(failed, current);
    }
    current = -1;
  }

  /** The highest sustained rate so far; 0 if none. */
  int highestSustained() {
    return sustained;
  }

  /** Whether the search stopped at the cap with the cap sustained (the true maximum is higher). */
  boolean cappedAt() {
    return sustained == cap;
  }
}
