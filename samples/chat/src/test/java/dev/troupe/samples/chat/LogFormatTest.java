package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusUtil;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.MDC;

/** The sample's logback.xml: text lines by default, JSON lines with chat.log.format=json. */
final class LogFormatTest {
  @Test
  void jsonLinesCarryTheLevelTheLoggerTheMessageAndTheMdc() throws Exception {
    List<String> lines = logOneLine("json");
    assertEquals(1, lines.size(), lines.toString());
    JsonNode line = new ObjectMapper().readTree(lines.get(0));
    assertEquals("WARN", line.get("level").asText(), line.toString());
    assertEquals("dev.troupe.samples.chat.Test", line.get("loggerName").asText());
    assertEquals("Daemon [archiver] (epoch 3) started", line.get("formattedMessage").asText());
    assertEquals("node-1", line.get("mdc").get("troupe.node").asText(), line.toString());
    assertEquals("archiver", line.get("mdc").get("troupe.daemon").asText());
    assertEquals("pekko://Troupe@10.0.0.1:2552", line.get("mdc").get("pekkoAddress").asText());
    assertTrue(line.get("timestamp").asLong() > 0, line.toString());
  }

  @Test
  void textLinesByDefault() throws Exception {
    List<String> lines = logOneLine(null);
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(
        lines.get(0).contains("WARN  dev.troupe.samples.chat.Test - Daemon [archiver]"),
        lines.get(0));
    assertFalse(lines.get(0).startsWith("{"), lines.get(0));
  }

  /** Configures a fresh context from the sample's logback.xml and logs one line to its console. */
  private static List<String> logOneLine(String format) throws Exception {
    URL config = LogFormatTest.class.getClassLoader().getResource("logback.xml");
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(MDC.getMDCAdapter()); // the one MDC.putCloseable writes to
    if (format != null) {
      context.putProperty("chat.log.format", format); // as -Dchat.log.format or CHAT_LOG_FORMAT
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(config);
      assertTrue(
          new StatusUtil(context).getHighestLevel(0) < Status.WARN,
          "configured without warnings (logback would print its status at start)");
      Logger log = context.getLogger("dev.troupe.samples.chat.Test");
      try (MDC.MDCCloseable node = MDC.putCloseable("troupe.node", "node-1");
          MDC.MDCCloseable daemon = MDC.putCloseable("troupe.daemon", "archiver");
          MDC.MDCCloseable pekko =
              MDC.putCloseable("pekkoAddress", "pekko://Troupe@10.0.0.1:2552")) {
        log.warn("Daemon [{}] (epoch {}) started", "archiver", 3);
      }
    } finally {
      System.setOut(stdout);
      context.stop();
    }
    return out.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
  }
}
