package dev.troupe.samples.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * The chaos harness's command line: {@code samples/chaos/run
 * <scenario|tier-a|tier-b|tier-c|soak|list> [--seed N] [--rounds N] [--pause-seconds N] [--repeat
 * N]}; {@code soak} is tier A with each scenario repeated 20 times (or {@code --repeat N}). Runs
 * the scenarios, prints a table per scenario and a summary, writes the same as Markdown to {@code
 * target/chaos/report-<time>.md}, and exits 1 if a guarantee was broken or a goal missed.
 */
public final class Chaos {
  private Chaos() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 0 || args[0].equals("list")) {
      System.out.println("scenarios: " + Scenarios.ALL.keySet());
      System.out.println("tier-a: " + Scenarios.TIER_A + " (a few minutes; runs in mvn verify)");
      System.out.println("tier-b: " + Scenarios.TIER_B + " (about 12 minutes)");
      System.out.println("tier-c: " + Scenarios.TIER_C + " (root: network namespaces)");
      System.out.println("soak: tier-a, each scenario 20 times (--repeat N; about an hour)");
      System.out.println(
          "cron-catch-up: in no tier; 20 SIGKILLs (--rounds N) of the cron scheduler's node"
              + " under CATCH_UP jobs (about 10 minutes)");
      return;
    }
    long seed = System.nanoTime();
    int rounds = -1;
    long pause = 30;
    long partition = 60;
    int repeat = 0;
    for (int i = 1; i < args.length; i += 2) {
      if (args[i].equals("--h2")) {
        System.setProperty("troupe.chaos.h2", "true");
        i--;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option [" + args[i] + "] needs a value");
      }
      switch (args[i]) {
        case "--seed" -> seed = Long.parseLong(args[i + 1]);
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        case "--pause-seconds" -> pause = Long.parseLong(args[i + 1]);
        case "--partition-seconds" -> partition = Long.parseLong(args[i + 1]);
        case "--repeat" -> repeat = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option [" + args[i] + "]");
      }
    }
    List<String> names =
        switch (args[0]) {
          case "tier-a" -> Scenarios.TIER_A;
          case "tier-b" -> Scenarios.TIER_B;
          case "tier-c" -> Scenarios.TIER_C;
          case "soak" -> Scenarios.TIER_A;
          default -> {
            if (!Scenarios.ALL.containsKey(args[0])) {
              throw new IllegalArgumentException(
                  "unknown scenario [" + args[0] + "]; known: " + Scenarios.ALL.keySet());
            }
            yield List.of(args[0]);
          }
        };
    if (repeat <= 0) {
      repeat = args[0].equals("soak") ? 20 : 1;
    }
    System.out.println("chaos: seed " + seed + " (rerun with --seed " + seed + ")");
    List<Outcome> outcomes = new ArrayList<>();
    for (String name : names) {
      int r =
          rounds > 0
              ? rounds
              : switch (name) {
                case "random-failovers" -> 10;
                case "cron-catch-up" -> 20;
                default -> 3;
              };
      for (int k = 0; k < repeat; k++) {
        if (repeat > 1) {
          System.out.println("chaos: " + name + " run " + (k + 1) + " of " + repeat);
        }
        Outcome outcome =
            run(
                name,
                new Scenarios.Options(
                    seed + k, r, Duration.ofSeconds(pause), Duration.ofSeconds(partition)));
        outcomes.add(outcome);
        System.out.println(markdown(List.of(outcome)));
      }
    }
    String report = markdown(outcomes);
    if (repeat > 1) {
      report = summary(outcomes) + "\n" + report;
      System.out.println(summary(outcomes));
    }
    Path dir = Path.of("target", "chaos");
    Files.createDirectories(dir);
    Path file =
        dir.resolve(
            "report-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                + ".md");
    Files.writeString(file, "Seed " + seed + "\n\n" + report, StandardCharsets.UTF_8);
    System.out.println("chaos: report " + file.toAbsolutePath());
    long passed = outcomes.stream().filter(Outcome::passed).count();
    long skipped = outcomes.stream().filter(Outcome::skipped).count();
    long failed = outcomes.size() - passed - skipped;
    String verdict = failed > 0 ? "FAILED" : passed == 0 ? "NOTHING RAN" : "PASSED";
    System.out.println(
        "chaos: "
            + verdict
            + " — "
            + (passed + failed)
            + " of "
            + outcomes.size()
            + " scenario(s) ran: "
            + passed
            + " passed, "
            + failed
            + " failed, "
            + skipped
            + " skipped");
    System.exit(failed > 0 || passed == 0 ? 1 : 0);
  }

  /** Runs one scenario; a scenario that cannot finish is a failed outcome, not an exception. */
  static Outcome run(String name, Scenarios.Options options) {
    System.out.println("chaos: running " + name);
    try {
      return Scenarios.ALL.get(name).apply(options);
    } catch (RuntimeException | AssertionError e) {
      e.printStackTrace();
      return Outcome.broken(name, e);
    }
  }

  /**
   * Per scenario over repeated runs: how many ran, passed, failed and were skipped, the belief
   * overlaps and the worst of them, and the violations in all.
   */
  static String summary(List<Outcome> outcomes) {
    java.util.Map<String, List<Outcome>> by = new java.util.LinkedHashMap<>();
    for (Outcome o : outcomes) {
      by.computeIfAbsent(o.scenario(), n -> new ArrayList<>()).add(o);
    }
    StringBuilder out = new StringBuilder("### Soak summary\n\n");
    out.append("| scenario | runs | passed | failed | skipped | violations |")
        .append(" belief overlaps (daemons / locks / cron schedulers) | longest overlap |\n")
        .append("|---|---|---|---|---|---|---|---|\n");
    by.forEach(
        (name, list) -> {
          long passed = list.stream().filter(Outcome::passed).count();
          long skipped = list.stream().filter(Outcome::skipped).count();
          int violations = 0;
          int daemonPairs = 0;
          int lockPairs = 0;
          int schedulerPairs = 0;
          long longest = 0;
          for (Outcome o : list) {
            if (o.check() != null) {
              violations += o.check().violations().size();
              daemonPairs += o.check().daemonBelief().pairs();
              lockPairs += o.check().lockBelief().pairs();
              schedulerPairs += o.check().schedulerBelief().pairs();
              longest =
                  Math.max(
                      longest,
                      Math.max(
                          o.check().daemonBelief().maxMillis(),
                          Math.max(
                              o.check().lockBelief().maxMillis(),
                              o.check().schedulerBelief().maxMillis())));
            }
          }
          out.append("| ")
              .append(name)
              .append(" | ")
              .append(list.size())
              .append(" | ")
              .append(passed)
              .append(" | ")
              .append(list.size() - passed - skipped)
              .append(" | ")
              .append(skipped)
              .append(" | ")
              .append(violations)
              .append(" | ")
              .append(daemonPairs)
              .append(" / ")
              .append(lockPairs)
              .append(" / ")
              .append(schedulerPairs)
              .append(" | ")
              .append(longest)
              .append(" ms |\n");
        });
    return out.toString();
  }

  /** The outcomes as Markdown tables: one per scenario. */
  static String markdown(List<Outcome> outcomes) {
    StringBuilder out = new StringBuilder();
    for (Outcome o : outcomes) {
      out.append("### ")
          .append(o.scenario())
          .append(" — ")
          .append(o.verdict().toLowerCase(java.util.Locale.ROOT))
          .append("\n\n")
          .append(o.fault())
          .append(". Run directory: `")
          .append(o.dir())
          .append("`\n\n| figure | measured | goal | |\n|---|---|---|---|\n");
      for (Outcome.Figure f : o.table()) {
        out.append("| ")
            .append(f.metric())
            .append(" | ")
            .append(f.value())
            .append(" | ")
            .append(f.goal())
            .append(" | ")
            .append(f.met() == null ? "" : f.met() ? "met" : "**not met**")
            .append(" |\n");
      }
      if (o.check() != null && !o.check().violations().isEmpty()) {
        out.append("\nViolations: ").append(o.check().violations()).append('\n');
      }
      out.append('\n');
    }
    return out.toString();
  }
}
