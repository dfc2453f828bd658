package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The name rule: what it admits, what it refuses, and what a refusal says. */
final class NamesTest {

  /** The names of this repository's samples, benches and defaults, and the edges of the rule. */
  @Test
  void validNamesAreReturnedAsGiven() {
    List<String> valid =
        List.of(
            "chat-gateways",
            "chat-room-sweepers",
            "troupe-spawn-hosts",
            "close-idle-rooms",
            "room-stats",
            "worker.A",
            "daemon:orders",
            "user@example.com",
            "a+b=c~d_e",
            "x",
            "7",
            "42-answers",
            "Zürich",
            "東京",
            "Ελλάδα",
            "हिन्दी", // vowel signs and virama: combining marks after a letter
            "e\u0301", // a decomposed accent
            "\u00e9".repeat(128), // 256 bytes
            "a".repeat(Names.MAX_UTF8_BYTES),
            "\ud835\udc00bc"); // MATHEMATICAL BOLD CAPITAL A: a letter outside the BMP
    for (String name : valid) {
      assertSame(name, Names.require(name, "test name"), name);
      assertTrue(Names.isValid(name), name);
    }
  }

  @Test
  void theLimitCountsUtf8Bytes() {
    String twoByteLetters = "\u00e9".repeat(Names.MAX_UTF8_BYTES / 2);
    assertEquals(256, twoByteLetters.getBytes(StandardCharsets.UTF_8).length);
    assertTrue(Names.isValid(twoByteLetters));
    assertFalse(Names.isValid(twoByteLetters + "x"));
    assertFalse(Names.isValid("a".repeat(Names.MAX_UTF8_BYTES + 1)));
    String threeByteLetters = "東".repeat(85); // 255 bytes
    assertTrue(Names.isValid(threeByteLetters));
    assertFalse(Names.isValid(threeByteLetters + "東"));
    String fourByteLetters = "\ud835\udc00".repeat(64); // 256 bytes
    assertTrue(Names.isValid(fourByteLetters));
    assertFalse(Names.isValid(fourByteLetters + "a"));
  }

  @Test
  void nullAndEmptyAreRefused() {
    assertRefused(null, "got null");
    assertRefused("", "got [] (empty)");
    assertFalse(Names.isValid(null));
  }

  @Test
  void aTooLongNameIsRefusedWithItsLengthAndItsStartOnly() {
    String message = assertRefused("a".repeat(257), "(257 bytes, 257 chars)");
    assertTrue(message.contains("got [" + "a".repeat(64) + "...]"), message);
    String huge = "n".repeat(200 * 1024);
    message = assertRefused(huge, "(204800 bytes, 204800 chars)");
    assertTrue(message.length() < 300, message);
    assertRefused("\u00e9".repeat(129), "(258 bytes, 129 chars)");
  }

  @Test
  void whitespaceAndControlCharactersAreRefusedAndShownEscaped() {
    assertEquals(
        "daemon name must be " + Names.RULE + "; got [a b] (U+0020 SPACE at index 1)",
        refusal("a b", "daemon name"));
    assertRefused("a\nb", "got [a\\u000ab] (U+000A LINE FEED (LF) at index 1)");
    assertRefused("a\tb", "got [a\\u0009b] (U+0009 CHARACTER TABULATION at index 1)");
    assertRefused("a\rb", "got [a\\u000db]");
    assertRefused("a\u0000", "got [a\\u0000]");
    assertRefused("a\u00a0b", "got [a\\u00a0b] (U+00A0 NO-BREAK SPACE at index 1)");
    assertRefused("a\u2028b", "got [a\\u2028b]");
    assertRefused("ab\u202e", "got [ab\\u202e] (U+202E RIGHT-TO-LEFT OVERRIDE at index 2)");
    assertRefused("a\u200db", "got [a\\u200db]"); // zero-width joiner
    assertRefused(" leading", "(U+0020 SPACE at index 0)");
    assertRefused("trailing ", "(U+0020 SPACE at index 8)");
    // a forged second log line stays on the first
    String message = refusal("x\nINFO all is well", "test name");
    assertFalse(message.contains("\n"), message);
  }

  @Test
  void quotesMarkupPercentAndPathCharactersAreRefused() {
    assertRefused("a<b", "got [a<b] ('<' U+003C LESS-THAN SIGN at index 1)");
    assertRefused("a>b", "('>' U+003E GREATER-THAN SIGN at index 1)");
    assertRefused("a&b", "('&' U+0026 AMPERSAND at index 1)");
    assertRefused("a\"b", "('\"' U+0022 QUOTATION MARK at index 1)");
    assertRefused("a'b", "(''' U+0027 APOSTROPHE at index 1)");
    assertRefused("a`b", "('`' U+0060 GRAVE ACCENT at index 1)");
    assertRefused("a\\b", "got [a\\\\b] ('\\' U+005C REVERSE SOLIDUS at index 1)");
    assertRefused("100%", "('%' U+0025 PERCENT SIGN at index 3)");
    assertRefused("a/b", "('/' U+002F SOLIDUS at index 1)");
    assertRefused("a#1", "('#' U+0023 NUMBER SIGN at index 1)");
    assertRefused("a?b", "('?' U+003F QUESTION MARK at index 1)");
    assertRefused("a,b", "(',' U+002C COMMA at index 1)");
    assertRefused("a;b", "(';' U+003B SEMICOLON at index 1)");
    assertRefused("a*", "('*' U+002A ASTERISK at index 1)");
    assertRefused("a$b", "('$' U+0024 DOLLAR SIGN at index 1)");
    assertRefused("a{b}", "('{' U+007B LEFT CURLY BRACKET at index 1)");
  }

  @Test
  void theFirstCharacterMustBeALetterOrDigit() {
    assertRefused("-x", "got [-x] (starts with '-' U+002D HYPHEN-MINUS at index 0)");
    assertRefused("_x", "(starts with '_' U+005F LOW LINE at index 0)");
    assertRefused(".hidden", "(starts with '.' U+002E FULL STOP at index 0)");
    assertRefused("~x", "(starts with '~' U+007E TILDE at index 0)");
    assertRefused("\u0301e", "(starts with U+0301 COMBINING ACUTE ACCENT at index 0)");
    assertTrue(Names.isValid("x-"), "punctuation may end a name");
  }

  @Test
  void symbolsEmojiAndBrokenSurrogatesAreRefused() {
    assertRefused("ok\ud83d\ude00", "got [ok\ud83d\ude00] (U+1F600 GRINNING FACE at index 2)");
    assertRefused("a\u20acb", "(U+20AC EURO SIGN at index 1)");
    assertRefused("a\u00b7b", "(U+00B7 MIDDLE DOT at index 1)");
    assertRefused("a\ud800b", "got [a\\ud800b] (U+D800");
    assertRefused("a\udc00", "got [a\\udc00] (U+DC00");
    assertRefused("a\ue000", "got [a\\ue000] (U+E000"); // private use
  }

  @Test
  void aLongValueIsCutAtACodePointBoundary() {
    String name = "a".repeat(63) + "\ud83d\ude00" + "b".repeat(10);
    String message = refusal(name, "test name");
    assertTrue(message.contains("got [" + "a".repeat(63) + "...]"), message);
  }

  @Test
  void theRuleStatesTheLimit() {
    assertTrue(Names.RULE.startsWith("1-" + Names.MAX_UTF8_BYTES + " bytes in UTF-8"), Names.RULE);
    assertEquals(Names.MAX_UTF8_BYTES, AddressBook.MAX_NAME_BYTES);
  }

  @Test
  void workerGroupIsTheGateOfGroupNames() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> WorkerGroup.of("room 1", String.class));
    assertTrue(e.getMessage().startsWith("WorkerGroup name must be " + Names.RULE), e.getMessage());
    assertTrue(e.getMessage().contains("got [room 1] (U+0020 SPACE at index 4)"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> WorkerGroup.of(null, String.class));
    assertThrows(IllegalArgumentException.class, () -> WorkerGroup.of("", String.class));
    assertThrows(
        IllegalArgumentException.class,
        () -> WorkerGroup.of("g".repeat(Names.MAX_UTF8_BYTES + 1), String.class));
    assertThrows(IllegalArgumentException.class, () -> new WorkerGroup<>("<g>", String.class));
    assertEquals("\u00e9".repeat(128), WorkerGroup.of("\u00e9".repeat(128), String.class).name());
    assertEquals("chat-gateways", WorkerGroup.of("chat-gateways", String.class).name());
  }

  private static String assertRefused(String name, String expected) {
    assertFalse(Names.isValid(name), name);
    String message = refusal(name, "test name");
    assertTrue(message.startsWith("test name must be " + Names.RULE + "; got "), message);
    assertTrue(message.contains(expected), message);
    assertFalse(message.contains("\n") || message.contains("\r"), message);
    return message;
  }

  private static String refusal(String name, String what) {
    return assertThrows(IllegalArgumentException.class, () -> Names.require(name, what))
        .getMessage();
  }
}
