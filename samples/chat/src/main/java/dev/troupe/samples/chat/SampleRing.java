package dev.troupe.samples.chat;

import java.util.Arrays;

/**
 * One node's recent samples for the dashboard's graphs: a ring of the last {@code capacity}
 * samples, each a time and one value per series. Adding is O(1) and the memory is fixed at
 * creation. Not thread-safe: {@link NodeSeries} owns it.
 */
final class SampleRing {
  private final long[] at;
  private final double[][] values; // [series][slot]
  private int next;
  private int size;

  SampleRing(int capacity, int series) {
    if (capacity < 1 || series < 1) {
      throw new IllegalArgumentException("capacity and series must be positive");
    }
    this.at = new long[capacity];
    this.values = new double[series][capacity];
  }

  /** Adds a sample, dropping the oldest when full. */
  void add(long atMillis, double[] sample) {
    at[next] = atMillis;
    for (int s = 0; s < values.length; s++) {
      values[s][next] = s < sample.length ? sample[s] : Double.NaN;
    }
    next = (next + 1) % at.length;
    size = Math.min(size + 1, at.length);
  }

  /** The time of the newest sample, or {@code Long.MIN_VALUE} when empty. */
  long newest() {
    return size == 0 ? Long.MIN_VALUE : at[(next - 1 + at.length) % at.length];
  }

  /** A copy, oldest first. */
  View view() {
    long[] times = new long[size];
    double[][] series = new double[values.length][size];
    int start = (next - size + at.length) % at.length;
    for (int i = 0; i < size; i++) {
      int slot = (start + i) % at.length;
      times[i] = at[slot];
      for (int s = 0; s < values.length; s++) {
        series[s][i] = values[s][slot];
      }
    }
    return new View(times, series);
  }

  /**
   * Samples oldest first.
   *
   * @param at epoch millis of each sample
   * @param series one array per series, aligned with {@code at}
   */
  record View(long[] at, double[][] series) {
    @Override
    public String toString() {
      return "View" + Arrays.toString(at);
    }
  }
}
