package dev.troupe.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Helpers of the benchmark mains that write figure tables for {@link PerformanceReport}: the JSON
 * document ({@code {"generator", "generated", "parameters", "tables", "data"}}), nearest-rank
 * percentiles and number formats.
 */
final class Figures {
  private Figures() {}

  /** One table: {@code title}, {@code description}, {@code columns}, {@code rows}. */
  static Map<String, Object> table(
      String title, String description, List<String> columns, List<List<Object>> rows) {
    Map<String, Object> table = new LinkedHashMap<>();
    table.put("title", title);
    table.put("description", description);
    table.put("columns", columns);
    table.put("rows", rows);
    return table;
  }

  /** Writes the figures document of {@code generator} to {@code output}. */
  static void write(
      Path output,
      Class<?> generator,
      Map<String, Object> parameters,
      List<Map<String, Object>> tables,
      Object data)
      throws IOException {
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("generator", generator.getName());
    document.put("generated", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    document.put("parameters", parameters);
    document.put("tables", tables);
    document.put("data", data);
    if (output.toAbsolutePath().getParent() != null) {
      Files.createDirectories(output.toAbsolutePath().getParent());
    }
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(output.toFile(), document);
  }

  /**
   * The {@code p}-th percentile (0 < p ≤ 100, nearest rank) of {@code values}.
   *
   * @throws IllegalArgumentException if {@code values} is empty (a caller that may have no data
   *     reports "no data" instead; see {@link ChatLoadLedger.Percentiles})
   */
  static long percentile(long[] values, double p) {
    if (values.length == 0) {
      throw new IllegalArgumentException("percentile of no values");
    }
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.max(rank, 1) - 1];
  }

  /** Milliseconds from nanoseconds: three significant digits, at least three decimals below 1. */
  static String ms(long nanos) {
    double ms = nanos / 1e6;
    String pattern = ms >= 100 ? "%.0f" : ms >= 10 ? "%.1f" : ms >= 1 ? "%.2f" : "%.3f";
    return String.format(Locale.ROOT, pattern, ms);
  }

  /** A ratio as {@code 1.23×}. */
  static String times(double ratio) {
    return String.format(Locale.ROOT, ratio >= 100 ? "%.0f×" : "%.2f×", ratio);
  }

  /** A share as {@code 81.2 %}. */
  static String percent(double share) {
    return String.format(Locale.ROOT, "%.1f %%", share * 100);
  }

  /** A count with thousands separators: {@code 1,000,000}. */
  static String count(long value) {
    return String.format(Locale.ROOT, "%,d", value);
  }

  static int intOption(String[] args, int index, String option, int least) {
    int value = Integer.parseInt(value(args, index, option).replace("_", ""));
    if (value < least) {
      throw new IllegalArgumentException(option + " must be at least " + least + ", got " + value);
    }
    return value;
  }

  static String value(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[index];
  }

  /**
   * The PostgreSQL URL of the benchmarks ({@code TROUPE_TEST_POSTGRES_URL}, by default the local
   * {@code test} database), or null if it does not answer.
   */
  static String postgresUrl() {
    String url = System.getenv("TROUPE_TEST_POSTGRES_URL");
    if (url == null || url.isBlank()) {
      url = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
    }
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url)) {
      return url;
    } catch (Exception e) {
      return null;
    }
  }
}
