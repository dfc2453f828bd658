package dev.troupe.samples.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * FAULTS.md C4 on a real clock: a node JVM runs under libfaketime ({@code faketime -f "@<start>
 * x30"}: its wall clock starts just before a Europe/Berlin daylight-saving change and runs 30 times
 * faster), with two cron jobs declared in configuration — a fixed local time inside the changed
 * hour ({@code 30 2 * * *}) and an interval ({@code *}{@code /15 * * * *}) — and the witness
 * records every tick. The fixed time must fire exactly once per change (at the end of the
 * spring-forward gap; at the first of the two fall-back occurrences), the interval every 15 minutes
 * of real time, and no instant twice. The scheduler uses the node's clock ({@code troupe.cron.clock
 * = local}): with the default database clock it would correct the faked time.
 */
final class ClockScenario {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SPEED = 30;
  private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
  private static final DateTimeFormatter LOCAL =
      DateTimeFormatter.ofPattern("HH:mm z").withZone(BERLIN);

  /** One daylight-saving change: the faked window and the fires the documentation promises. */
  private record Change(
      String name, Instant start, Instant until, List<Instant> fixed, List<Instant> interval) {}

  private static final List<Change> CHANGES =
      List.of(
          new Change(
              "spring forward (2026-03-29, 02:00 CET -> 03:00 CEST)",
              Instant.parse("2026-03-29T00:35:00Z"),
              Instant.parse("2026-03-29T01:40:00Z"),
              List.of(Instant.parse("2026-03-29T01:00:00Z")), // the end of the gap, once
              instants("2026-03-29T00:45:00Z", "2026-03-29T01:30:00Z")),
          new Change(
              "fall back (2026-10-25, 03:00 CEST -> 02:00 CET)",
              Instant.parse("2026-10-25T00:15:00Z"),
              Instant.parse("2026-10-25T01:50:00Z"),
              List.of(Instant.parse("2026-10-25T00:30:00Z")), // the first 02:30 only
              instants("2026-10-25T00:30:00Z", "2026-10-25T01:45:00Z")));

  private ClockScenario() {}

  static Outcome run(Scenarios.Options options) {
    if (!available()) {
      return new Outcome(
          "dst-faketime",
          "daylight-saving changes under libfaketime — SKIPPED: needs faketime (apt-get install"
              + " faketime)",
          List.of(),
          null,
          "-");
    }
    List<Outcome.Figure> figures = new ArrayList<>();
    String dirs = "";
    for (Change change : CHANGES) {
      try (ProcessCluster cluster = start(change)) {
        dirs += cluster.logDir() + " ";
        NodeProcess node = cluster.node(0);
        node.send("ticks");
        node.awaitLine(l -> l.equals("TROUPE-TICKS ready"), ChaosRun.TIMEOUT);
        Map<String, List<Instant>> ticks = awaitTicksUntil(node, change);
        List<Instant> fixed = ticks.getOrDefault("fixed", List.of());
        List<Instant> interval = ticks.getOrDefault("every-15", List.of());
        figures.add(
            new Outcome.Figure(
                change.name() + ": 02:30 Europe/Berlin fired at",
                local(fixed),
                local(change.fixed()),
                fixed.equals(change.fixed())));
        List<Instant> inWindow =
            interval.stream()
                .filter(i -> !i.isBefore(change.interval().get(0)))
                .filter(i -> !i.isAfter(change.interval().get(change.interval().size() - 1)))
                .toList();
        figures.add(
            new Outcome.Figure(
                change.name() + ": every 15 minutes fired at",
                local(inWindow),
                local(change.interval()),
                inWindow.equals(change.interval())));
        long twice = interval.size() - interval.stream().distinct().count();
        twice += fixed.size() - fixed.stream().distinct().count();
        figures.add(
            new Outcome.Figure(
                change.name() + ": instants delivered twice",
                String.valueOf(twice),
                "0",
                twice == 0));
      }
    }
    return new Outcome(
        "dst-faketime",
        "a node under libfaketime (x" + SPEED + ") across both Europe/Berlin changes of 2026",
        figures,
        null,
        dirs.trim());
  }

  private static ProcessCluster start(Change change) {
    Path db = Path.of("target", "chaos-db", "dst-" + System.nanoTime()).toAbsolutePath();
    String config =
        String.join(
            "\n",
            "troupe.storage.url = \"jdbc:h2:file:" + db + "\"",
            "troupe.cron {",
            "  clock = local",
            "  leader-lease = \"\"",
            // at x30 a real hiccup of 100 ms is 3 s of faked time: judge the calendar, not latency
            "  misfire-threshold = 120s",
            "  delivery-timeout = 600s",
            "  jobs = [",
            "    { name = fixed, spec = \"30 2 * * *\", zone = \"Europe/Berlin\","
                + " target-group = chaos-ticks }",
            "    { name = every-15, spec = \"*/15 * * * *\", zone = \"Europe/Berlin\","
                + " target-group = chaos-ticks }",
            "  ]",
            "}");
    String faked =
        "@"
            + DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
                .withZone(ZoneId.of("UTC"))
                .format(change.start())
            + " x"
            + SPEED;
    return ProcessCluster.builder()
        .size(1)
        .mainClass(ChaosNode.class)
        .config(config)
        .commandPrefix(i -> List.of("env", "TZ=UTC", "faketime", "-f", faked))
        .start();
  }

  /** The node's ticks by job, once one is at or after {@code change.until()}. */
  private static Map<String, List<Instant>> awaitTicksUntil(NodeProcess node, Change change) {
    long realMillis =
        Duration.between(change.start(), change.until()).toMillis() / SPEED
            + ChaosRun.TIMEOUT.toMillis();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(realMillis);
    Map<String, List<Instant>> ticks = new TreeMap<>();
    Instant last = Instant.MIN;
    int consumed = 0;
    while (true) {
      List<String> lines = node.lines(); // output only grows: read each line once
      for (String line : lines.subList(consumed, lines.size())) {
        Instant at = addTick(ticks, line);
        if (at != null && at.isAfter(last)) {
          last = at;
        }
      }
      consumed = lines.size();
      boolean done = !last.isBefore(change.until().minus(Duration.ofMinutes(5)));
      if (done || System.nanoTime() > deadline) {
        return ticks;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
    }
  }

  /** Adds the tick a witness line records to {@code ticks}; returns its instant, or null. */
  private static Instant addTick(Map<String, List<Instant>> ticks, String line) {
    if (!line.startsWith("TROUPE-W ")) {
      return null;
    }
    try {
      JsonNode e = JSON.readTree(line.substring(9));
      if (!e.path("kind").asText().equals("tick")) {
        return null;
      }
      Instant at = Instant.ofEpochMilli(e.get("at").asLong());
      ticks.computeIfAbsent(e.get("name").asText(), k -> new ArrayList<>()).add(at);
      return at;
    } catch (IOException e) {
      return null; // a line cut off
    }
  }

  private static List<Instant> instants(String from, String to) {
    List<Instant> all = new ArrayList<>();
    for (Instant i = Instant.parse(from); !i.isAfter(Instant.parse(to)); i = i.plusSeconds(900)) {
      all.add(i);
    }
    return all;
  }

  private static String local(List<Instant> instants) {
    return instants.isEmpty()
        ? "none"
        : String.join(", ", instants.stream().map(LOCAL::format).toList());
  }

  private static boolean available() {
    try {
      Process p = new ProcessBuilder("sh", "-c", "command -v faketime").start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
