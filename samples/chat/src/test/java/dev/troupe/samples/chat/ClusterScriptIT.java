package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code scripts/cluster}, the README's "Running several nodes" in one command: it starts three
 * chat node JVMs from the packaged jar on loopback, sharing one H2 database, returns when each is
 * ready, and {@code stop} makes them leave and exit.
 */
final class ClusterScriptIT {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent().getParent();

  private record Run(int status, String output) {}

  private static Run script(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", "scripts/cluster"));
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
    process.getOutputStream().close();
    byte[] out = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(180, TimeUnit.SECONDS), "scripts/cluster returns");
    return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** A base port whose next three ports are free now. */
  private static int freeBase(Random random) throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      int base = 20_000 + random.nextInt(20_000);
      boolean free = true;
      for (int i = 0; i < 3 && free; i++) {
        try (ServerSocket socket = new ServerSocket(base + i)) {
          socket.setReuseAddress(true);
        } catch (IOException e) {
          free = false;
        }
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("no three free ports in a row");
  }

  @Test
  void startsThreeReadyNodesInOneClusterAndStopsThem() throws Exception {
    assertTrue(
        Files.exists(ROOT.resolve("samples/chat/target/troupe-chat.jar")),
        "the packaged chat (mvn package runs before the integration tests)");
    Random random = new Random();
    int port = freeBase(random);
    int http = freeBase(random);
    int management = freeBase(random);
    Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "cluster-script-");
    String[] where = {
      "--dir", dir.toString(),
      "--port-base", Integer.toString(port),
      "--http-base", Integer.toString(http),
      "--management-base", Integer.toString(management)
    };
    List<Long> pids = new ArrayList<>();
    try {
      Run start = script(concat(new String[] {"start", "3"}, where));
      assertEquals(0, start.status(), start.output());
      assertTrue(start.output().contains("3 nodes ready"), start.output());
      for (int i = 1; i <= 3; i++) {
        pids.add(Long.parseLong(Files.readString(dir.resolve("n" + i + ".pid")).trim()));
      }

      // Ready when the script returned: no waiting here.
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> ready = ChatHttp.get(management + i, "/ready");
        assertEquals(200, ready.statusCode(), "n" + (i + 1) + " /ready: " + ready.body());
        assertEquals(200, ChatHttp.get(http + i, "/").statusCode(), "n" + (i + 1) + "'s chat");
      }
      java.util.Set<String> up = ChatHttp.upMembers(management);
      assertEquals(3, up.size(), up.toString());
      for (int i = 0; i < 3; i++) {
        assertTrue(up.contains("pekko://troupe@127.0.0.1:" + (port + i)), up.toString());
      }
      Run status = script(concat(new String[] {"status"}, where));
      assertTrue(status.output().contains("cluster: 3 running"), status.output());

      Run stop = script(concat(new String[] {"stop"}, where));
      assertEquals(0, stop.status(), stop.output());
      for (long pid : pids) {
        assertFalse(
            ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
            "node process " + pid + " exited");
      }
      assertTrue(
          script(concat(new String[] {"status"}, where)).output().contains("cluster: 0 running"));
    } finally {
      for (long pid : pids) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
