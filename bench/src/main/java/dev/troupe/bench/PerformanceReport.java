package dev.troupe.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites one marked section of {@code docs/PERFORMANCE.md} from JMH results and figure tables.
 *
 * <p>Usage: {@code PerformanceReport <section> <jmh-results.json> [table.json ...] [--doc <path>]
 * [--title <text>] [--command <text>]}, run from the repository root ({@code bench/run} does).
 *
 * <ul>
 *   <li>{@code <section>}: the section name, {@code [a-z0-9-]+}; the section is the text between
 *       {@code <!-- bench:<section>:start -->} and {@code <!-- bench:<section>:end -->}. It is
 *       replaced if present, appended otherwise; everything outside the markers is kept, so each
 *       benchmark owns its own section. The document is created, with a short header, if missing.
 *   <li>{@code <jmh-results.json>}: the output of JMH's {@code -rf json}. Each benchmark becomes a
 *       table row with its score and error; a method annotated with {@link Baseline} also gets its
 *       ratio against the named baseline method of the same class, measured in the same run with
 *       the same parameters, and one annotated with {@link Goal} gets a met / not met column (an
 *       absolute goal on the score, or one in multiples of the baseline). A {@code Mode.SampleTime}
 *       result also gets a row for each of its p50, p95 and p99, with the ratio to the same
 *       percentile of its baseline and the goals given for that percentile ({@link
 *       Goal#percentile()}). If any result has bytes per operation from {@link
 *       ThreadAllocationProfiler} (the benchmark's threads) or JMH's gc profiler ({@code -prof gc},
 *       the whole JVM: {@code gc.alloc.rate.norm}), the table gets a B/op column for each.
 *   <li>{@code [table.json ...]}: further figures, each a JSON object with {@code "tables": [{
 *       "title", "description", "columns": [...], "rows": [[...], ...] }]} (as {@link RingFigures}
 *       writes), rendered as Markdown tables after the benchmarks.
 * </ul>
 *
 * <p>The section also records the machine: CPU model (from {@code /proc/cpuinfo}), available
 * processors, the JVM and JMH versions from the results, and when the results were written.
 */
public final class PerformanceReport {

  /**
   * Names the baseline of a {@code @Benchmark} method: another {@code @Benchmark} method of the
   * same class, which must run in the same JMH run for the ratio to be reported.
   */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  public @interface Baseline {
    /** The baseline benchmark method's name. */
    String value();
  }

  /**
   * A goal for a {@code @Benchmark} method's score: absolute, in the unit of its score (for example
   * ops/s), or relative to its {@link Baseline}. Met when the whole error interval is on the right
   * side: {@code score - error >= atLeast}, {@code score + error <= atMost}, and for {@code
   * ratioAtLeast} the times-faster ratio computed from the ends of both error intervals least
   * favourable to the benchmark (for throughput {@code (score - error) / (baseline + baseline
   * error)}, for time per operation {@code (baseline - baseline error) / (score + error)}).
   */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  @Repeatable(Goals.class)
  public @interface Goal {
    /**
     * For a {@code Mode.SampleTime} benchmark: the percentile of the sampled times the goal is on,
     * such as {@code 99} (p99) or {@code 99.9}; NaN (the default) for the score itself (the mean).
     * A percentile has no error interval in JMH's results: its goal is checked on the value, and a
     * ratio goal on the ratio to the baseline's same percentile.
     */
    double percentile() default Double.NaN;

    /** The lowest acceptable score (throughput); NaN if none. */
    double atLeast() default Double.NaN;

    /** The highest acceptable score (time per operation); NaN if none. */
    double atMost() default Double.NaN;

    /**
     * The lowest acceptable "× baseline" figure: how many times faster than the method named by
     * {@link Baseline}, measured in the same run; NaN if none. Needs {@link Baseline}; not met if
     * the baseline did not run.
     */
    double ratioAtLeast() default Double.NaN;

    /** How the goal reads in the report, such as {@code "≥ 10 M picks/s"}. */
    String label() default "";
  }

  /** The container of repeated {@link Goal}s: one per percentile, say. */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  public @interface Goals {
    /** The goals. */
    Goal[] value();
  }

  /** The percentiles of a {@code Mode.SampleTime} result that get a row of their own. */
  private static final double[] SAMPLE_PERCENTILES = {50, 95, 99};

  private static final Pattern SECTION_NAME = Pattern.compile("[a-z0-9-]+");
  private static final String HEADER =
      """
      # Troupe performance

      Every figure in this file is measured, never typed in. `bench/run [benchmark-regex]` builds
      the `bench` module, runs the JMH benchmarks that match the regex (one fork each), writes the
      raw results to `bench/results/<name>.json` and rewrites the section of this file between
      `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->` with `PerformanceReport`; text
      outside the markers is kept. Each benchmark is compared with its named baseline measured in
      the same run on the same machine, so ratios are more telling than absolute scores. See
      `bench/README.md` for what each figure means.
      """;

  private PerformanceReport() {}

  public static void main(String[] args) throws IOException {
    List<String> positional = new ArrayList<>();
    Path doc = Path.of("docs/PERFORMANCE.md");
    String title = null;
    String command = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--doc" -> doc = Path.of(argument(args, ++i, "--doc"));
        case "--title" -> title = argument(args, ++i, "--title");
        case "--command" -> command = argument(args, ++i, "--command");
        default -> positional.add(args[i]);
      }
    }
    if (positional.size() < 2) {
      System.err.println(
          "usage: PerformanceReport <section> <jmh-results.json> [table.json ...]"
              + " [--doc docs/PERFORMANCE.md] [--title text] [--command text]");
      System.exit(2);
    }
    String section = positional.get(0);
    if (!SECTION_NAME.matcher(section).matches()) {
      throw new IllegalArgumentException("section must match [a-z0-9-]+, got: [" + section + "]");
    }
    Path results = Path.of(positional.get(1));
    List<Path> tables = positional.subList(2, positional.size()).stream().map(Path::of).toList();

    String body =
        render(
            section,
            title != null ? title : section,
            command != null ? command : "bench/run",
            results,
            tables);
    write(doc, section, body);
    System.out.println("Section [" + section + "] of " + doc + " rewritten from " + results);
  }

  private static String argument(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[index];
  }

  // ---- rendering ----

  private static String render(
      String section, String title, String command, Path resultsFile, List<Path> tableFiles)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    JsonNode results = json.readTree(resultsFile.toFile());
    boolean noJmh = results.isArray() && results.isEmpty() && !tableFiles.isEmpty();
    if (!results.isArray() || (results.isEmpty() && !noJmh)) {
      throw new IllegalArgumentException(resultsFile + " holds no JMH results");
    }
    StringBuilder out = new StringBuilder();
    out.append("## ").append(title).append("\n\n");
    out.append("_Generated by `")
        .append(command)
        .append("`; do not edit by hand: the next run rewrites this section._\n\n");
    if (noJmh) {
      // Measurements outside JMH (node JVMs, clusters): only their tables.
      out.append(
              "Measured "
                  + DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT)
                      .format(java.time.ZonedDateTime.now(ZoneOffset.UTC))
                  + " on "
                  + Runtime.getRuntime().availableProcessors()
                  + " available processors, "
                  + System.getProperty("java.vm.name")
                  + " "
                  + System.getProperty("java.vm.version")
                  + ".")
          .append('\n');
      appendTables(out, json, tableFiles);
      return out.toString();
    }
    out.append(machine(results.get(0), resultsFile)).append("\n\n");

    // A B/op column for each allocation profiler that ran for at least one benchmark.
    List<Allocation> allocations = new ArrayList<>();
    for (Allocation allocation : Allocation.values()) {
      for (JsonNode result : results) {
        if (allocation.metric(result) != null) {
          allocations.add(allocation);
          break;
        }
      }
    }
    StringBuilder header = new StringBuilder("| Benchmark | Params | Score | Error (99.9%)");
    StringBuilder align = new StringBuilder("|---|---|--:|--:|");
    for (Allocation allocation : allocations) {
      header.append(" | ").append(allocation.header);
      align.append("--:|");
    }
    out.append(header).append(" | Baseline (same run) | × baseline | Goal | Met |\n");
    out.append(align).append("---|--:|---|---|\n");
    boolean sampled = false;
    for (JsonNode result : results) {
      for (String line : rows(result, results, allocations)) {
        out.append(line).append('\n');
      }
      sampled |= result.path("mode").asText().equals("sample");
    }
    out.append(
        "\n× baseline: how many times faster than the baseline (score ÷ baseline score for"
            + " throughput, the inverse for time per operation). Met: the whole error interval"
            + " clears the goal; for a goal in × baseline, the ratio of the ends of both error"
            + " intervals least favourable to the benchmark clears it.");
    if (allocations.contains(Allocation.THREAD)) {
      out.append(
          " B/op (benchmark threads): bytes allocated per operation by the threads that run the"
              + " benchmark (`-prof dev.troupe.bench.ThreadAllocationProfiler`), ± its error.");
    }
    if (allocations.contains(Allocation.JVM)) {
      out.append(
          " B/op (whole JVM): JMH's gc profiler (`-prof gc`, `gc.alloc.rate.norm`), ± its"
              + " error: what every thread of the JVM allocated (a node's actors and timers too),"
              + " divided by the benchmark's operations, so a call that allocates nothing still"
              + " shows the background's share.");
    }
    if (sampled) {
      out.append(
          " Sampled benchmarks (`sample`, JMH's SampleTime) score the mean time per operation;"
              + " their p50 / p95 / p99 rows are percentiles of every sampled operation of the"
              + " measurement iterations, compared with the same percentile of the baseline."
              + " JMH gives no error interval for a percentile, so its goal is checked on the"
              + " value itself.");
    }
    out.append('\n');
    appendTables(out, json, tableFiles);
    return out.toString();
  }

  private static void appendTables(StringBuilder out, ObjectMapper json, List<Path> tableFiles)
      throws IOException {
    for (Path tableFile : tableFiles) {
      JsonNode figures = json.readTree(tableFile.toFile());
      for (JsonNode table : figures.path("tables")) {
        out.append("\n### ").append(table.path("title").asText()).append("\n\n");
        if (table.hasNonNull("description")) {
          out.append(table.get("description").asText()).append("\n\n");
        }
        out.append(markdownTable(table));
      }
      out.append("\nSource: `").append(tableFile.toString().replace('\\', '/')).append('`');
      if (figures.hasNonNull("generator")) {
        String generator = figures.get("generator").asText();
        out.append(", written by `").append(generator.substring(generator.lastIndexOf('.') + 1));
        out.append('`');
      }
      if (figures.hasNonNull("generated")) {
        out.append(" at ").append(figures.get("generated").asText());
      }
      if (figures.has("parameters")) {
        out.append(" with ").append(parameters(figures.get("parameters")));
      }
      out.append(".\n");
    }
  }

  private static String machine(JsonNode first, Path resultsFile) throws IOException {
    String measured =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT)
            .format(Files.getLastModifiedTime(resultsFile).toInstant().atZone(ZoneOffset.UTC));
    String jvm =
        first.path("vmName").asText("JVM")
            + " "
            + first.path("vmVersion").asText("?")
            + " (JDK "
            + first.path("jdkVersion").asText("?")
            + ")";
    return "Measured "
        + measured
        + " on "
        + cpuModel()
        + " ("
        + Runtime.getRuntime().availableProcessors()
        + " available processors), "
        + jvm
        + ", JMH "
        + first.path("jmhVersion").asText("?")
        + ": "
        + first.path("forks").asInt()
        + " fork, "
        + first.path("warmupIterations").asInt()
        + " × "
        + first.path("warmupTime").asText()
        + " warmup, "
        + first.path("measurementIterations").asInt()
        + " × "
        + first.path("measurementTime").asText()
        + " measurement, "
        + first.path("threads").asInt()
        + " thread(s). Raw results: `"
        + resultsFile.toString().replace('\\', '/')
        + "`.";
  }

  private static String cpuModel() {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    try {
      for (String line : Files.readAllLines(cpuinfo, StandardCharsets.UTF_8)) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equals("model name")) {
          return line.substring(colon + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or not readable: fall through
    }
    return System.getProperty("os.arch") + " CPU (model unknown)";
  }

  /**
   * The table rows of one result: its score, and for a sampled ({@code Mode.SampleTime}) result one
   * more row per percentile of {@link #SAMPLE_PERCENTILES} and of its goals.
   */
  private static List<String> rows(JsonNode result, JsonNode all, List<Allocation> allocations) {
    String benchmark = result.path("benchmark").asText();
    String mode = result.path("mode").asText();
    JsonNode metric = result.path("primaryMetric");
    double score = metric.path("score").asDouble(Double.NaN);
    double error = metric.path("scoreError").asDouble(Double.NaN);
    String unit = metric.path("scoreUnit").asText();
    Map<String, String> params = params(result);

    Optional<Method> method = benchmarkMethod(benchmark);
    Optional<Baseline> baseline = method.map(m -> m.getAnnotation(Baseline.class));
    List<Goal> goals =
        method.map(m -> List.of(m.getAnnotationsByType(Goal.class))).orElse(List.of());
    JsonNode match =
        baseline
            .map(b -> find(all, className(benchmark) + "." + b.value(), mode, params))
            .orElse(null);
    boolean throughput = mode.equals("thrpt");

    List<String> lines = new ArrayList<>();
    // The score (for a sampled benchmark: the mean) with its error interval.
    String ratioCell = baseline.isPresent() ? "not run" : "—";
    // The ratio with both error intervals at their least favourable ends, for a ratio goal.
    double worstRatio = Double.NaN;
    if (match != null) {
      JsonNode baseMetric = match.path("primaryMetric");
      double base = baseMetric.path("score").asDouble(Double.NaN);
      double baseError = baseMetric.path("scoreError").asDouble(Double.NaN);
      baseError = Double.isNaN(baseError) ? 0 : baseError;
      double margin = Double.isNaN(error) ? 0 : error;
      double ratio = throughput ? score / base : base / score;
      worstRatio =
          throughput
              ? (score - margin) / (base + baseError)
              : (base - baseError) / (score + margin);
      ratioCell = ratio(ratio);
    }
    List<Goal> scoreGoals = goals.stream().filter(g -> Double.isNaN(g.percentile())).toList();
    lines.add(
        line(
            "`" + shortName(benchmark) + "`" + (mode.equals("sample") ? " mean" : ""),
            params,
            human(score) + " " + unit,
            "± " + (Double.isNaN(error) ? "n/a" : human(error)),
            allocations.stream().map(a -> a.cell(result)).toList(),
            baseline,
            ratioCell,
            judge(scoreGoals, score, Double.isNaN(error) ? 0 : error, worstRatio, unit, baseline)));

    if (mode.equals("sample")) {
      List<Double> percentiles = new ArrayList<>();
      for (double p : SAMPLE_PERCENTILES) {
        percentiles.add(p);
      }
      goals.stream()
          .map(Goal::percentile)
          .filter(p -> !Double.isNaN(p) && !percentiles.contains(p))
          .forEach(percentiles::add);
      percentiles.sort(null);
      for (double p : percentiles) {
        double value = percentile(metric, p);
        double baseValue = match == null ? Double.NaN : percentile(match.path("primaryMetric"), p);
        double ratio = baseValue / value;
        List<Goal> pGoals = goals.stream().filter(g -> g.percentile() == p).toList();
        lines.add(
            line(
                "`" + shortName(benchmark) + "` " + percentileName(p),
                params,
                human(value) + " " + unit,
                "—",
                allocations.stream().map(a -> "—").toList(),
                baseline,
                match == null ? ratioCell : ratio(ratio),
                judge(pGoals, value, 0, ratio, unit, baseline)));
      }
    }
    return lines;
  }

  /** The value of percentile {@code p} (0..100) in a sampled result's metric; NaN if absent. */
  private static double percentile(JsonNode metric, double p) {
    JsonNode percentiles = metric.path("scorePercentiles");
    JsonNode value = percentiles.path(Double.toString(p));
    if (value.isMissingNode()) {
      Iterator<Map.Entry<String, JsonNode>> fields = percentiles.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        if (Double.parseDouble(field.getKey()) == p) {
          return field.getValue().asDouble(Double.NaN);
        }
      }
      return Double.NaN;
    }
    return value.asDouble(Double.NaN);
  }

  /** {@code p50}, {@code p99.9}. */
  private static String percentileName(double p) {
    return p == Math.rint(p) ? "p" + (long) p : "p" + p;
  }

  /**
   * The goal and met cells for {@code goals} on {@code value} (± {@code margin}); {@code
   * worstRatio} is the × baseline figure a ratio goal must clear.
   */
  private static String[] judge(
      List<Goal> goals,
      double value,
      double margin,
      double worstRatio,
      String unit,
      Optional<Baseline> baseline) {
    if (goals.isEmpty()) {
      return new String[] {"—", "—"};
    }
    boolean met = true;
    List<String> labels = new ArrayList<>();
    for (Goal g : goals) {
      List<String> parts = new ArrayList<>();
      if (!Double.isNaN(g.atLeast())) {
        met &= value - margin >= g.atLeast();
        parts.add("≥ " + human(g.atLeast()) + " " + unit);
      }
      if (!Double.isNaN(g.atMost())) {
        met &= value + margin <= g.atMost();
        parts.add("≤ " + human(g.atMost()) + " " + unit);
      }
      if (!Double.isNaN(g.ratioAtLeast())) {
        met &= !Double.isNaN(worstRatio) && worstRatio >= g.ratioAtLeast();
        parts.add(
            "≥ "
                + ratio(g.ratioAtLeast())
                + " "
                + baseline.map(b -> "`" + b.value() + "`").orElse("baseline (none named)"));
      }
      labels.add(g.label().isEmpty() ? String.join(", ", parts) : g.label());
    }
    return new String[] {String.join("; ", labels), met ? "met" : "**not met**"};
  }

  private static String line(
      String name,
      Map<String, String> params,
      String score,
      String error,
      List<String> allocations,
      Optional<Baseline> baseline,
      String ratioCell,
      String[] goal) {
    return "| "
        + name
        + " | "
        + cell(paramsText(params))
        + " | "
        + score
        + " | "
        + error
        + allocations.stream().map(a -> " | " + a).reduce("", String::concat)
        + " | "
        + baseline.map(b -> "`" + b.value() + "`").orElse("—")
        + " | "
        + ratioCell
        + " | "
        + cell(goal[0])
        + " | "
        + goal[1]
        + " |";
  }

  /** The B/op columns: a secondary metric of the results, under each name it has had. */
  private enum Allocation {
    THREAD("B/op (benchmark threads)", ThreadAllocationProfiler.METRIC),
    // older JMH versions named it ·gc.alloc.rate.norm
    JVM("B/op (whole JVM)", "gc.alloc.rate.norm", "\u00b7gc.alloc.rate.norm");

    final String header;
    private final List<String> names;

    Allocation(String header, String... names) {
      this.header = header;
      this.names = List.of(names);
    }

    /** The metric in {@code result}'s secondary metrics; null if none. */
    JsonNode metric(JsonNode result) {
      JsonNode secondary = result.path("secondaryMetrics");
      for (String name : names) {
        if (secondary.has(name)) {
          return secondary.get(name);
        }
      }
      return null;
    }

    /** Bytes per operation ± error, or — if the result does not have the metric. */
    String cell(JsonNode result) {
      JsonNode metric = metric(result);
      if (metric == null) {
        return "—";
      }
      double bytes = metric.path("score").asDouble(Double.NaN);
      double error = metric.path("scoreError").asDouble(Double.NaN);
      return human(bytes) + (Double.isNaN(error) ? "" : " ± " + human(error));
    }
  }

  private static JsonNode find(
      JsonNode all, String benchmark, String mode, Map<String, String> params) {
    for (JsonNode candidate : all) {
      if (candidate.path("benchmark").asText().equals(benchmark)
          && candidate.path("mode").asText().equals(mode)
          && params(candidate).equals(params)) {
        return candidate;
      }
    }
    return null;
  }

  private static Optional<Method> benchmarkMethod(String benchmark) {
    try {
      Class<?> type = Class.forName(className(benchmark));
      String name = benchmark.substring(benchmark.lastIndexOf('.') + 1);
      for (Method method : type.getMethods()) {
        if (method.getName().equals(name)) {
          return Optional.of(method);
        }
      }
    } catch (ClassNotFoundException | LinkageError e) {
      // a result from another build: no baseline or goal to report
    }
    return Optional.empty();
  }

  private static String className(String benchmark) {
    return benchmark.substring(0, benchmark.lastIndexOf('.'));
  }

  private static String shortName(String benchmark) {
    String type = className(benchmark);
    return type.substring(type.lastIndexOf('.') + 1)
        + benchmark.substring(benchmark.lastIndexOf('.'));
  }

  private static Map<String, String> params(JsonNode result) {
    Map<String, String> params = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> fields = result.path("params").fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      params.put(field.getKey(), field.getValue().asText());
    }
    return params;
  }

  private static String paramsText(Map<String, String> params) {
    if (params.isEmpty()) {
      return "—";
    }
    List<String> parts = new ArrayList<>();
    params.forEach((key, value) -> parts.add(key + "=" + value));
    return String.join(", ", parts);
  }

  private static String parameters(JsonNode parameters) {
    List<String> parts = new ArrayList<>();
    parameters.fields().forEachRemaining(f -> parts.add(f.getKey() + "=" + f.getValue().asText()));
    return String.join(", ", parts);
  }

  /** A "× baseline" figure: two decimals below 100 (as {@code 1.95×}), whole numbers above. */
  static String ratio(double value) {
    return String.format(Locale.ROOT, Math.abs(value) >= 100 ? "%.0f×" : "%.2f×", value);
  }

  /** A number with three significant digits and a k / M / G suffix. */
  static String human(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return String.valueOf(value);
    }
    double magnitude = Math.abs(value);
    String suffix = "";
    double scaled = value;
    if (magnitude >= 1e9) {
      scaled = value / 1e9;
      suffix = " G";
    } else if (magnitude >= 1e6) {
      scaled = value / 1e6;
      suffix = " M";
    } else if (magnitude >= 1e3) {
      scaled = value / 1e3;
      suffix = " k";
    }
    double abs = Math.abs(scaled);
    String pattern = abs >= 100 ? "%.0f" : abs >= 10 ? "%.1f" : abs >= 1 ? "%.2f" : "%.3f";
    return String.format(Locale.ROOT, pattern, scaled) + suffix;
  }

  private static String markdownTable(JsonNode table) {
    StringBuilder out = new StringBuilder();
    List<String> columns = new ArrayList<>();
    table.path("columns").forEach(c -> columns.add(cell(c.asText())));
    out.append("| ").append(String.join(" | ", columns)).append(" |\n");
    out.append("|").append("---|".repeat(columns.size())).append('\n');
    for (JsonNode row : table.path("rows")) {
      List<String> cells = new ArrayList<>();
      row.forEach(c -> cells.add(cell(c.asText())));
      out.append("| ").append(String.join(" | ", cells)).append(" |\n");
    }
    return out.toString();
  }

  private static String cell(String text) {
    return text.replace("|", "\\|").replace("\n", " ");
  }

  // ---- the document ----

  private static void write(Path doc, String section, String body) throws IOException {
    String start = "<!-- bench:" + section + ":start -->";
    String end = "<!-- bench:" + section + ":end -->";
    String block = start + "\n" + body + end;
    String text = Files.exists(doc) ? Files.readString(doc, StandardCharsets.UTF_8) : HEADER + "\n";
    Matcher existing =
        Pattern.compile(Pattern.quote(start) + ".*?" + Pattern.quote(end), Pattern.DOTALL)
            .matcher(text);
    String updated;
    if (existing.find()) {
      updated = text.substring(0, existing.start()) + block + text.substring(existing.end());
    } else {
      String separator = text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n";
      updated = text + separator + block + "\n";
    }
    if (doc.toAbsolutePath().getParent() != null) {
      Files.createDirectories(doc.toAbsolutePath().getParent());
    }
    Path temporary = doc.resolveSibling(doc.getFileName() + ".tmp");
    Files.writeString(temporary, updated, StandardCharsets.UTF_8);
    Files.move(temporary, doc, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
