package dev.troupe.samples.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Topology N of FAULTS.md: one network namespace per node ({@code troupe-<i>}, address {@code
 * 10.77.0.<10+i>}), joined by veth pairs to a bridge in the root namespace ({@code trbr0}, {@code
 * 10.77.0.1}, where the database proxy listens). A partition between two nodes is a blackhole route
 * to the other's address inside each namespace: their packets to each other vanish, as on a cut
 * link, while both still reach the database. Needs root and {@code ip} (iproute2).
 */
final class Netns implements AutoCloseable {
  static final String BRIDGE = "trbr0";
  static final String HOST_IP = "10.77.0.1";
  private final int size;
  private final List<int[]> cuts = new ArrayList<>();
  private final boolean iptables;

  private Netns(int size) {
    this.size = size;
    this.iptables = !run(List.of("sh", "-c", "command -v iptables"), false).isBlank();
  }

  /** Whether partitions use iptables rules (else blackhole routes; one-way cuts impossible). */
  boolean hasIptables() {
    return iptables;
  }

  /** Whether this process may build namespaces: root, with iproute2. */
  static boolean available() {
    try {
      return run(List.of("id", "-u"), false).trim().equals("0")
          && run(List.of("ip", "-V"), false).contains("iproute2");
    } catch (RuntimeException e) {
      return false;
    }
  }

  static String namespace(int i) {
    return "troupe-" + i;
  }

  static String ip(int i) {
    return "10.77.0." + (10 + i);
  }

  /** Creates {@code size} namespaces and the bridge (removing leftovers of an earlier run). */
  static Netns create(int size) {
    Netns netns = new Netns(size);
    netns.close();
    ip("link", "add", BRIDGE, "type", "bridge");
    ip("addr", "add", HOST_IP + "/24", "dev", BRIDGE);
    ip("link", "set", BRIDGE, "up");
    for (int i = 0; i < size; i++) {
      String ns = namespace(i);
      ip("netns", "add", ns);
      ip("link", "add", "tv" + i, "type", "veth", "peer", "name", "tp" + i);
      ip("link", "set", "tv" + i, "master", BRIDGE, "up");
      ip("link", "set", "tp" + i, "netns", ns);
      ip("-n", ns, "addr", "add", ip(i) + "/24", "dev", "tp" + i);
      ip("-n", ns, "link", "set", "tp" + i, "up");
      ip("-n", ns, "link", "set", "lo", "up");
    }
    return netns;
  }

  /** The words that start a command in node {@code i}'s namespace. */
  List<String> prefix(int i) {
    return List.of("ip", "netns", "exec", namespace(i));
  }

  /** Cuts the link between nodes {@code a} and {@code b} (both directions). */
  void cut(int a, int b) {
    if (iptables) {
      for (int[] side : new int[][] {{a, b}, {b, a}}) {
        inNamespace(side[0], "iptables", "-A", "INPUT", "-s", ip(side[1]), "-j", "DROP");
        inNamespace(side[0], "iptables", "-A", "OUTPUT", "-d", ip(side[1]), "-j", "DROP");
      }
    } else {
      ip("-n", namespace(a), "route", "add", "blackhole", ip(b) + "/32");
      ip("-n", namespace(b), "route", "add", "blackhole", ip(a) + "/32");
    }
    cuts.add(new int[] {a, b});
  }

  /**
   * Node {@code at} drops every packet that comes from node {@code from} (FAULTS.md M4: an
   * asymmetric fault; {@code at}'s own packets still leave). Needs iptables.
   */
  void dropInput(int at, int from) {
    if (!iptables) {
      throw new IllegalStateException("a one-way cut needs iptables in the namespaces");
    }
    inNamespace(at, "iptables", "-A", "INPUT", "-s", ip(from), "-j", "DROP");
    cuts.add(new int[] {at, from});
  }

  /**
   * Node {@code i} loses its link to the database port {@code port} on the bridge (FAULTS.md D3,
   * L2): both directions dropped, so neither end hears the other, while its links to the other
   * nodes stay whole. Needs iptables.
   */
  void cutFromDatabase(int i, int port) {
    if (!iptables) {
      throw new IllegalStateException("a database-only cut needs iptables in the namespaces");
    }
    String p = String.valueOf(port);
    inNamespace(
        i, "iptables", "-A", "OUTPUT", "-d", HOST_IP, "-p", "tcp", "--dport", p, "-j", "DROP");
    inNamespace(
        i, "iptables", "-A", "INPUT", "-s", HOST_IP, "-p", "tcp", "--sport", p, "-j", "DROP");
  }

  /**
   * Every node drops each packet from every other node with probability {@code p} (FAULTS.md M5:
   * flaky links; iptables' {@code statistic} match). The rule is on INPUT only, so each direction
   * of each link loses {@code p}; the database link is spared. Needs iptables.
   */
  void lossy(double p) {
    if (!iptables) {
      throw new IllegalStateException("flaky links need iptables in the namespaces");
    }
    for (int at = 0; at < size; at++) {
      for (int from = 0; from < size; from++) {
        if (from != at) {
          inNamespace(
              at,
              "iptables",
              "-A",
              "INPUT",
              "-s",
              ip(from),
              "-m",
              "statistic",
              "--mode",
              "random",
              "--probability",
              String.valueOf(p),
              "-j",
              "DROP");
        }
      }
    }
  }

  /** Restores every cut link. */
  void heal() {
    for (int i = 0; i < size; i++) {
      if (iptables) {
        inNamespace(i, "iptables", "-F");
      }
    }
    if (!iptables) {
      for (int[] cut : cuts) {
        ip("-n", namespace(cut[0]), "route", "del", "blackhole", ip(cut[1]) + "/32");
        ip("-n", namespace(cut[1]), "route", "del", "blackhole", ip(cut[0]) + "/32");
      }
    }
    cuts.clear();
  }

  private static void inNamespace(int i, String... command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(i)));
    full.addAll(List.of(command));
    run(full, true);
  }

  @Override
  public void close() {
    for (int i = 0; i < Math.max(size, 8); i++) {
      run(List.of("ip", "netns", "del", namespace(i)), false);
      run(List.of("ip", "link", "del", "tv" + i), false);
    }
    run(List.of("ip", "link", "del", BRIDGE), false);
  }

  private static void ip(String... args) {
    List<String> command = new ArrayList<>();
    command.add("ip");
    command.addAll(List.of(args));
    run(command, true);
  }

  private static String run(List<String> command, boolean check) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(command + " did not finish");
      }
      if (check && p.exitValue() != 0) {
        throw new IllegalStateException(command + " failed: " + out.trim());
      }
      return out;
    } catch (IOException e) {
      if (check) {
        throw new IllegalStateException(command + " cannot run: " + e, e);
      }
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
