package dev.troupe.cron.internal;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * INTERNAL API. A parsed cron expression in a time zone, and the pure function "next fire after an
 * instant", with Troupe's daylight-saving rules (see {@code CronJob}).
 */
public final class CronSpec {
  /*
   * Design notes.
   *
   * cron-utils parses and validates the expression and enumerates matching *local* date-times:
   * its ExecutionTime runs on a fake zone (UTC), so it never sees a DST change. Troupe maps each
   * local candidate to instants with the zone's rules:
   *   - one valid offset: that instant;
   *   - none (a spring-forward gap): fixed-time jobs fire once at the transition instant, the end
   *     of the gap; interval jobs do not fire (real time goes on);
   *   - two (a fall-back overlap): fixed-time jobs fire at the first occurrence only; interval
   *     jobs at both.
   * A job is fixed-time when its hour field is neither a wildcard nor a step: "30 2 * * *" is;
   * "0 * * * *" and a job stepping every 15 minutes in every hour are not (Debian cron's
   * convention).
   * Because the second occurrence of an early local time can come after the first occurrence of a
   * later one, the search starts at the beginning of an overlap that is near, and takes the
   * smallest instant among the candidates within the overlap's length of the first one found.
   * Far from transitions the first candidate is the answer: one cron-utils call per fire.
   */

  /** The longest expression accepted. */
  public static final int MAX_LENGTH = 200;

  private static final CronParser UNIX =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final CronParser WITH_SECONDS = new CronParser(withSeconds());
  private static final Map<String, String> MACROS =
      Map.of(
          "@yearly", "0 0 1 1 *",
          "@annually", "0 0 1 1 *",
          "@monthly", "0 0 1 * *",
          "@weekly", "0 0 * * 0",
          "@daily", "0 0 * * *",
          "@midnight", "0 0 * * *",
          "@hourly", "0 * * * *");
  private static final List<String> UNIX_FIELDS =
      List.of("minute", "hour", "day-of-month", "month", "day-of-week");
  private static final List<String> SECONDS_FIELDS =
      List.of("second", "minute", "hour", "day-of-month", "month", "day-of-week");
  private static final long MAX_OVERLAP_SECONDS = 3 * 3600;
  private static final int NEVER_FIRES_YEARS = 10;

  private final String expression;
  private final ZoneId zone;
  private final ExecutionTime execution;
  private final boolean fixedTime;

  private CronSpec(String expression, ZoneId zone, ExecutionTime execution, boolean fixedTime) {
    this.expression = expression;
    this.zone = zone;
    this.execution = execution;
    this.fixedTime = fixedTime;
  }

  private static CronDefinition withSeconds() {
    return CronDefinitionBuilder.defineCron()
        .withSeconds()
        .withValidRange(0, 59)
        .withStrictRange()
        .and()
        .withMinutes()
        .withValidRange(0, 59)
        .withStrictRange()
        .and()
        .withHours()
        .withValidRange(0, 23)
        .withStrictRange()
        .and()
        .withDayOfMonth()
        .withValidRange(1, 31)
        .withStrictRange()
        .and()
        .withMonth()
        .withValidRange(1, 12)
        .withStrictRange()
        .and()
        .withDayOfWeek()
        .withValidRange(0, 7)
        .withMondayDoWValue(1)
        .withIntMapping(7, 0)
        .withStrictRange()
        .and()
        .instance();
  }

  /**
   * Parses {@code spec} for {@code zone}.
   *
   * @throws IllegalArgumentException naming the spec and, where it can tell, the field at fault;
   *     also for a spec that never fires within ten years
   */
  public static CronSpec parse(String spec, ZoneId zone) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("cron spec must not be empty, got: [" + spec + "]");
    }
    if (zone == null) {
      throw new IllegalArgumentException("cron zone must not be null");
    }
    if (spec.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "cron spec must be at most " + MAX_LENGTH + " characters, got " + spec.length());
    }
    String trimmed = spec.trim().toLowerCase(Locale.ROOT);
    if (trimmed.startsWith("@")) {
      String expanded = MACROS.get(trimmed);
      if (expanded == null) {
        throw new IllegalArgumentException(
            "cron spec [" + spec + "]: unknown macro; known: " + MACROS.keySet());
      }
      trimmed = expanded;
    }
    if (!trimmed.chars().allMatch(c -> c < 128)) {
      throw new IllegalArgumentException(
          "cron spec [" + spec + "] must be ASCII (digits, '*', ',', '-', '/', names)");
    }
    String[] fields = trimmed.split("\\s+");
    if (fields.length != 5 && fields.length != 6) {
      throw new IllegalArgumentException(
          "cron spec ["
              + spec
              + "] has "
              + fields.length
              + " field(s): expected 5 (minute hour day-of-month month day-of-week) or 6 (with"
              + " seconds first)");
    }
    CronParser parser = fields.length == 5 ? UNIX : WITH_SECONDS;
    List<String> names = fields.length == 5 ? UNIX_FIELDS : SECONDS_FIELDS;
    Cron cron;
    try {
      cron = parser.parse(trimmed);
      cron.validate();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "cron spec [" + spec + "]" + faultyField(parser, fields, names) + ": " + e.getMessage(),
          e);
    }
    String hour = fields[fields.length == 5 ? 1 : 2];
    boolean fixed = !hour.equals("*") && !hour.contains("/");
    CronSpec parsed = new CronSpec(trimmed, zone, ExecutionTime.forCron(cron), fixed);
    Instant now = Instant.now();
    Optional<Instant> next = parsed.nextAfter(now);
    if (next.isEmpty()
        || next.get()
            .isAfter(now.atZone(ZoneOffset.UTC).plusYears(NEVER_FIRES_YEARS).toInstant())) {
      throw new IllegalArgumentException(
          "cron spec ["
              + spec
              + "] never fires (no date matches it within "
              + NEVER_FIRES_YEARS
              + " years)");
    }
    return parsed;
  }

  /** Which field alone fails to parse, as " (field <name> [<value>])"; empty if none alone does. */
  private static String faultyField(CronParser parser, String[] fields, List<String> names) {
    for (int i = 0; i < fields.length; i++) {
      String[] probe = new String[fields.length];
      java.util.Arrays.fill(probe, "*");
      probe[i] = fields[i];
      try {
        parser.parse(String.join(" ", probe)).validate();
      } catch (RuntimeException e) {
        return " (field " + names.get(i) + " [" + fields[i] + "])";
      }
    }
    return "";
  }

  /** The expression (macros expanded, lower case). */
  public String expression() {
    return expression;
  }

  /** The zone. */
  public ZoneId zone() {
    return zone;
  }

  /** Whether the hour field is fixed (see the design notes). */
  public boolean isFixedTime() {
    return fixedTime;
  }

  /** The first instant strictly after {@code after} at which the job fires; empty if none. */
  public Optional<Instant> nextAfter(Instant after) {
    ZoneRules rules = zone.getRules();
    // Whole seconds: cron-utils keeps the cursor's fraction in what it returns.
    LocalDateTime start =
        LocalDateTime.ofInstant(after, zone).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    ZoneOffsetTransition upcoming = rules.nextTransition(after);
    boolean nearOverlap =
        upcoming != null
            && upcoming.isOverlap()
            && !after.isBefore(upcoming.getInstant().minus(upcoming.getDuration().abs()));
    if (nearOverlap && upcoming.getDateTimeAfter().isBefore(start)) {
      start = upcoming.getDateTimeAfter(); // the repeated local times begin here
    }
    ZonedDateTime cursor = start.minusSeconds(1).atZone(ZoneOffset.UTC);
    Instant best = null;
    LocalDateTime bestLocal = null;
    for (int i = 0; i < 100_000; i++) {
      Optional<ZonedDateTime> next = execution.nextExecution(cursor);
      if (next.isEmpty()) {
        break;
      }
      cursor = next.get();
      LocalDateTime local = cursor.toLocalDateTime();
      if (bestLocal != null && local.isAfter(bestLocal.plusSeconds(MAX_OVERLAP_SECONDS))) {
        break;
      }
      Instant candidate = firstInstantAfter(rules, local, after);
      if (candidate != null && (best == null || candidate.isBefore(best))) {
        best = candidate;
        bestLocal = local;
        ZoneOffsetTransition transition = rules.nextTransition(after);
        boolean transitionNear =
            transition != null
                && !transition.getInstant().isAfter(best.plusSeconds(MAX_OVERLAP_SECONDS));
        if (!transitionNear) {
          return Optional.of(best);
        }
      }
    }
    return Optional.ofNullable(best);
  }

  /** The earliest instant after {@code after} at which local time {@code local} fires; or null. */
  private Instant firstInstantAfter(ZoneRules rules, LocalDateTime local, Instant after) {
    List<ZoneOffset> offsets = rules.getValidOffsets(local);
    if (offsets.size() == 1) {
      Instant instant = local.toInstant(offsets.get(0));
      return instant.isAfter(after) ? instant : null;
    }
    if (offsets.isEmpty()) { // a gap: the local time does not exist
      if (!fixedTime) {
        return null;
      }
      Instant end = rules.getTransition(local).getInstant();
      return end.isAfter(after) ? end : null;
    }
    // An overlap: offsets.get(0) is the offset before the change, the earlier instant.
    Instant first = local.toInstant(offsets.get(0));
    if (first.isAfter(after)) {
      return first;
    }
    if (fixedTime) {
      return null; // fires at the first occurrence only
    }
    Instant second = local.toInstant(offsets.get(1));
    return second.isAfter(after) ? second : null;
  }

  @Override
  public String toString() {
    return expression + " " + zone;
  }
}
