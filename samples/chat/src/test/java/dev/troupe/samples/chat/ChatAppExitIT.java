package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The chat's command line as a user meets it, in a child JVM each: {@code --help} and its exit
 * status, bad options, and a node whose cluster, Management or HTTP port is taken exits non-zero
 * with a message that names the port.
 */
final class ChatAppExitIT {

  private record Run(int status, String output) {}

  private static Run chat(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp"));
    command.add(System.getProperty("java.class.path"));
    command.add(ChatApp.class.getName());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    process.getOutputStream().close();
    byte[] out = process.getInputStream().readAllBytes(); // until the JVM exits
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the chat JVM exits");
    return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /**
   * Runs a node whose {@code option} names a port something else holds, every other port 0, and
   * checks that it exits 1 with {@code message} and the port in its output.
   */
  private static void assertTakenPortExitsOne(String option, String message) throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      String port = Integer.toString(taken.getLocalPort());
      List<String> args = new ArrayList<>();
      for (String o : List.of("--port", "--http-port", "--management-port")) {
        args.addAll(List.of(o, o.equals(option) ? port : "0"));
      }
      args.addAll(List.of("--storage", "jdbc:h2:mem:exit-it"));
      Run run = chat(args.toArray(String[]::new));
      assertEquals(1, run.status(), run.output());
      assertTrue(run.output().contains(message), run.output());
      assertTrue(run.output().contains(":" + port), run.output());
    }
  }

  @Test
  void helpPrintsEveryOptionAndExitsZero() throws Exception {
    Run run = chat("--help");
    assertEquals(0, run.status(), run.output());
    assertTrue(run.output().contains("--management-port PORT"), run.output());
    assertTrue(run.output().contains("--bind-host HOST"), run.output());
  }

  @Test
  void aBadOptionExitsTwoNamingIt() throws Exception {
    Run run = chat("--port", "seventeen");
    assertEquals(2, run.status(), run.output());
    assertTrue(run.output().contains("[seventeen]"), run.output());
  }

  @Test
  void aTakenClusterPortExitsOneNamingIt() throws Exception {
    assertTakenPortExitsOne("--port", "the node cannot start");
  }

  @Test
  void aTakenManagementPortExitsOneNamingIt() throws Exception {
    assertTakenPortExitsOne("--management-port", "Pekko Management");
  }

  @Test
  void aTakenHttpPortExitsOneNamingIt() throws Exception {
    assertTakenPortExitsOne("--http-port", "the chat cannot start");
  }
}
