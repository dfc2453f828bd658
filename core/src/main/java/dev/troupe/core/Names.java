package dev.troupe.core;

/**
 * The one rule for the names an application gives to Troupe: {@linkplain WorkerGroup worker group}
 * names, {@linkplain AddressBook address-book} names, daemon and launcher names (module {@code
 * troupe-daemons}) and cron job names (module {@code troupe-cron}).
 *
 * <p>A name is {@value #RULE}. That is, in Java terms:
 *
 * <ul>
 *   <li>at most {@value #MAX_UTF8_BYTES} bytes in UTF-8 (an ASCII character is one byte, {@code é}
 *       two, most other letters three), and not empty;
 *   <li>every code point is a letter or a digit ({@link Character#isLetterOrDigit(int)}, in any
 *       script), a combining mark ({@link Character#NON_SPACING_MARK}, {@link
 *       Character#COMBINING_SPACING_MARK}: the vowel signs of Indic scripts, a decomposed accent),
 *       or one of {@code - _ . : @ + = ~};
 *   <li>the first code point is a letter or a digit.
 * </ul>
 *
 * <p>Why: a name travels into places that each break on some character. It is a cell of the
 * dashboard and a field of log lines (whitespace, control characters, bidirectional overrides and
 * quotes could forge or hide a line), a metric tag, a {@code VARCHAR(256)} column (cron jobs,
 * daemons), a path segment of a URL ({@code / # % ?} would need escaping), and, URL-encoded, part
 * of an actor name. Every character the rule admits is safe in all of them (beyond ASCII, a URL
 * percent-encodes a letter's UTF-8 bytes, as it does any). Names are not normalized: {@code é} as
 * one code point (U+00E9) and as two ({@code e} and U+0301 COMBINING ACUTE ACCENT) are different
 * names.
 *
 * <p>Each API that takes such a name refuses any other with an {@link IllegalArgumentException}
 * whose message says what the name is for, shows the value (control characters escaped, so that the
 * message stays one line) and the offending character with its index, and states the rule:
 *
 * <pre>{@code
 * daemon name must be 1-256 bytes in UTF-8 of letters, digits, combining marks and - _ . : @ + = ~,
 * starting with a letter or digit; got [a b] (U+0020 SPACE at index 1)
 * }</pre>
 *
 * <p>Keys — of {@link AddressBook#pickNode(String)}, of a fleet's workers, of {@code OnceLog} items
 * — are not names and are not checked here. Fleet names follow a stricter rule of their own ({@code
 * FleetSpec.of}): every fleet name is also a valid name.
 *
 * @since 0.3.0
 */
public final class Names {
  /** The longest name, in UTF-8 bytes: {@value}. */
  public static final int MAX_UTF8_BYTES = 256;

  /** The rule in words, as every refusal states it. */
  public static final String RULE =
      "1-"
          + MAX_UTF8_BYTES
          + " bytes in UTF-8 of letters, digits, combining marks and - _ . : @ + = ~,"
          + " starting with a letter or digit";

  /** The punctuation a name may contain, after its first code point. */
  private static final String PUNCTUATION = "-_.:@+=~";

  /** What {@link #problem} returns besides the index of a character breaking the rule. */
  private static final int OK = -1;

  private static final int NULL = -2;
  private static final int EMPTY = -3;
  private static final int TOO_LONG = -4;

  /** How many characters of a refused value a message shows. */
  private static final int SHOWN_CHARS = 64;

  /** Bit c set: ASCII character c may appear in a name (bit 64 + c for c >= 64). */
  private static final long ASCII_LOW;

  private static final long ASCII_HIGH;

  static {
    long low = 0;
    long high = 0;
    for (char c = 0; c < 128; c++) {
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || PUNCTUATION.indexOf(c) >= 0) {
        if (c < 64) {
          low |= 1L << c;
        } else {
          high |= 1L << (c - 64);
        }
      }
    }
    ASCII_LOW = low;
    ASCII_HIGH = high;
  }

  private Names() {}

  /**
   * Returns {@code name} if it follows the {@linkplain Names rule}.
   *
   * @param name the name to check
   * @param what what the name is for, the start of the message: {@code "daemon name"}
   * @return {@code name}
   * @throws IllegalArgumentException if {@code name} is null or breaks the rule; the message names
   *     {@code what}, the value, the offending character and its index or the length, and the rule
   */
  public static String require(String name, String what) {
    if (problem(name) != OK) {
      throw new IllegalArgumentException(message(name, what));
    }
    return name;
  }

  /** Whether {@code name} follows the {@linkplain Names rule}; false for null. */
  public static boolean isValid(String name) {
    return problem(name) == OK;
  }

  /** {@link #OK}, another negative kind, or the index of the first character breaking the rule. */
  private static int problem(String name) {
    if (name == null) {
      return NULL;
    }
    int length = name.length();
    if (length == 0) {
      return EMPTY;
    }
    int bytes = 0;
    for (int i = 0; i < length; ) {
      char c = name.charAt(i);
      if (c < 128) {
        boolean allowed =
            c < 64 ? (ASCII_LOW & (1L << c)) != 0 : (ASCII_HIGH & (1L << (c - 64))) != 0;
        if (!allowed || (i == 0 && !Character.isLetterOrDigit(c))) {
          return i;
        }
        bytes++;
        i++;
      } else {
        int cp = name.codePointAt(i);
        if (!allowed(cp, i == 0)) {
          return i;
        }
        bytes += cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        i += Character.charCount(cp);
      }
      if (bytes > MAX_UTF8_BYTES) {
        return TOO_LONG;
      }
    }
    return OK;
  }

  /** For a non-ASCII code point: a letter or digit, or (not first) a combining mark. */
  private static boolean allowed(int cp, boolean first) {
    if (Character.isLetterOrDigit(cp)) {
      return true;
    }
    if (first) {
      return false;
    }
    int type = Character.getType(cp);
    return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK;
  }

  // ----------------------------------------------------------------------------------------------
  // The refusal: off the hot path, allocations do not matter.

  private static String message(String name, String what) {
    String rule = what + " must be " + RULE + "; got ";
    int problem = problem(name);
    if (problem == NULL) {
      return rule + "null";
    }
    if (problem == EMPTY) {
      return rule + "[] (empty)";
    }
    String shown = "[" + show(name) + "] (";
    if (problem == TOO_LONG) {
      return rule + shown + utf8Bytes(name) + " bytes, " + name.length() + " chars)";
    }
    int cp = name.codePointAt(problem);
    String where =
        problem == 0 && allowedAnywhere(cp) ? "starts with " + describe(cp) : describe(cp);
    return rule + shown + where + " at index " + problem + ")";
  }

  /** A code point that may follow the first one but not be it. */
  private static boolean allowedAnywhere(int cp) {
    return cp < 128 ? PUNCTUATION.indexOf(cp) >= 0 : allowed(cp, false);
  }

  /** {@code U+0020 SPACE}, with the character itself in quotes first if it is visible ASCII. */
  static String describe(int cp) {
    String name = Character.getName(cp);
    String code = String.format("U+%04X", cp);
    String described = name == null ? code : code + " " + name;
    return cp > 0x20 && cp < 0x7f ? "'" + (char) cp + "' " + described : described;
  }

  /**
   * The first {@value #SHOWN_CHARS} chars of {@code value} ({@code ...} if there are more) with
   * every character that could break or disguise a log line escaped as a Java escape (a backslash,
   * {@code u} and four hex digits), and a backslash doubled: control, format (bidirectional
   * overrides, zero-width) and separator characters other than the space, and surrogates that are
   * not a pair.
   */
  static String show(String value) {
    int end = Math.min(value.length(), SHOWN_CHARS);
    if (end < value.length() && Character.isHighSurrogate(value.charAt(end - 1))) {
      end--; // never cut a pair
    }
    StringBuilder b = new StringBuilder(end + 16);
    for (int i = 0; i < end; ) {
      int cp = value.codePointAt(i);
      int n = Character.charCount(cp);
      if (cp == '\\') {
        b.append("\\\\");
      } else if (escaped(cp)) {
        for (int j = i; j < i + n; j++) {
          b.append(String.format("\\u%04x", (int) value.charAt(j)));
        }
      } else {
        b.appendCodePoint(cp);
      }
      i += n;
    }
    if (end < value.length()) {
      b.append("...");
    }
    return b.toString();
  }

  private static boolean escaped(int cp) {
    if (cp == ' ') {
      return false;
    }
    return switch (Character.getType(cp)) {
      case Character.CONTROL,
          Character.FORMAT,
          Character.LINE_SEPARATOR,
          Character.PARAGRAPH_SEPARATOR,
          Character.SPACE_SEPARATOR,
          Character.SURROGATE,
          Character.PRIVATE_USE,
          Character.UNASSIGNED ->
          true;
      default -> false;
    };
  }

  private static long utf8Bytes(String s) {
    long bytes = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      i += Character.charCount(cp);
    }
    return bytes;
  }
}
