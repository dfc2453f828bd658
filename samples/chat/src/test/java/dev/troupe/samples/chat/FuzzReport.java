package dev.troupe.samples.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * What the fuzzer tried and what came of it: the count of every action kind by outcome (an HTTP
 * status, {@code close:<code>}, {@code pong}, {@code eof}, {@code reset}, {@code timeout}, ...),
 * and the findings, each naming the action kind, where it went, the action's seed and what was
 * wrong. Thread-safe.
 */
final class FuzzReport {
  /** Something that must not happen: a 5xx, a node refusing connections, a leak past a check. */
  record Finding(String kind, String where, long actionSeed, String detail) {
    @Override
    public String toString() {
      return kind + " -> " + where + " (action seed " + actionSeed + "): " + detail;
    }
  }

  private final Map<String, Map<String, LongAdder>> table = new ConcurrentHashMap<>();
  private final Queue<Finding> findings = new ConcurrentLinkedQueue<>();
  private final LongAdder actions = new LongAdder();

  void record(String kind, String outcome) {
    actions.increment();
    table
        .computeIfAbsent(kind, k -> new ConcurrentHashMap<>())
        .computeIfAbsent(outcome, o -> new LongAdder())
        .increment();
  }

  void finding(String kind, String where, long actionSeed, String detail) {
    findings.add(new Finding(kind, where, actionSeed, detail));
  }

  long actions() {
    return actions.sum();
  }

  List<Finding> findings() {
    return new ArrayList<>(findings);
  }

  /** How often {@code kind} ended with {@code outcome}. */
  long count(String kind, String outcome) {
    LongAdder n = table.getOrDefault(kind, Map.of()).get(outcome);
    return n == null ? 0 : n.sum();
  }

  /**
   * One line per action kind: how many, and the outcomes with their counts, most frequent first.
   */
  String table() {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%-22s %7s  %s%n", "action", "count", "outcomes"));
    new TreeMap<>(table)
        .forEach(
            (kind, outcomes) -> {
              long total = outcomes.values().stream().mapToLong(LongAdder::sum).sum();
              String counts =
                  outcomes.entrySet().stream()
                      .sorted(
                          (a, b) ->
                              a.getValue().sum() != b.getValue().sum()
                                  ? Long.compare(b.getValue().sum(), a.getValue().sum())
                                  : a.getKey().compareTo(b.getKey()))
                      .map(e -> e.getKey() + " x" + e.getValue().sum())
                      .collect(Collectors.joining(", "));
              out.append(String.format(Locale.ROOT, "%-22s %7d  %s%n", kind, total, counts));
            });
    out.append(String.format(Locale.ROOT, "%-22s %7d%n", "total", actions()));
    return out.toString();
  }
}
