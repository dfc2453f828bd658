package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.troupe.daemons.DaemonInfo;
import dev.troupe.daemons.Daemons;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The chat in a real browser: headless Chromium, two pages on two different nodes of a 3-node
 * cluster, and the dashboard; then the node that hosts the {@code room-stats} daemon crashes and
 * the dashboard of a survivor must show it removed and the daemon re-placed with a higher epoch.
 * Needs Debian's {@code chromium} and {@code chromium-driver} ({@code .ci/run} installs them):
 * skipped without them, except under CI, where it fails. Screenshots go to {@code
 * target/screenshots/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
final class ChatBrowserIT {
  private static final Pattern PLACED =
      Pattern.compile("daemon room-stats placed on (\\S+) \\(epoch (\\d+)");

  private static final File CHROMIUM = new File("/usr/bin/chromium");
  private static final File DRIVER = new File("/usr/bin/chromedriver");
  private static final Duration TIMEOUT = Duration.ofSeconds(40);

  private ChatCluster chat;

  @BeforeAll
  void start() {
    boolean installed = CHROMIUM.canExecute() && DRIVER.canExecute();
    if (!"true".equals(System.getenv("CI"))) {
      assumeTrue(installed, "chromium and chromium-driver are not installed");
    }
    assertTrue(
        installed, "CI needs /usr/bin/chromium and /usr/bin/chromedriver (.ci/run installs them)");
    chat = new ChatCluster(3);
  }

  @AfterAll
  void stop() {
    if (chat != null) {
      chat.close();
    }
  }

  private static WebDriver browser() {
    return browser(900);
  }

  private static WebDriver browser(int height) {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280," + height);
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(DRIVER).usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  private static WebDriverWait waiting(WebDriver driver) {
    return new WebDriverWait(driver, TIMEOUT);
  }

  private static void join(WebDriver page, String user, String room) {
    waiting(page).until(d -> d.findElement(By.id("status")).getText().startsWith("connected"));
    page.findElement(By.id("user")).sendKeys(user);
    WebElement roomField = page.findElement(By.id("room"));
    roomField.clear();
    roomField.sendKeys(room);
    page.findElement(By.cssSelector("#join button")).click();
    waiting(page).until(d -> d.findElement(By.id("text")).isEnabled());
  }

  private static void say(WebDriver page, String text) {
    page.findElement(By.id("text")).sendKeys(text);
    page.findElement(By.id("send")).click();
  }

  private static void awaitLine(WebDriver page, String user, String text) {
    waiting(page)
        .until(
            d ->
                d.findElements(By.cssSelector("#log .line.message")).stream()
                    .anyMatch(
                        l ->
                            l.findElement(By.className("user")).getText().equals(user)
                                && l.findElement(By.className("text")).getText().equals(text)));
  }

  private static void screenshot(WebDriver page, String name) throws Exception {
    Path dir = Path.of("target", "screenshots");
    Files.createDirectories(dir);
    File shot = ((TakesScreenshot) page).getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  @Order(1)
  void twoPagesOnTwoNodesSeeEachOtherAndTheDashboardShowsTheCluster() throws Exception {
    WebDriver ann = browser();
    WebDriver bob = browser();
    WebDriver board = browser();
    try {
      ann.get("http://127.0.0.1:" + chat.port(0) + "/");
      bob.get("http://127.0.0.1:" + chat.port(2) + "/");
      String script = "<img src=x onerror=alert(1)>";
      join(ann, script, "browsers");
      join(bob, "bob", "browsers");

      say(ann, "hello from node 0 <b>not bold</b>");
      awaitLine(bob, script, "hello from node 0 <b>not bold</b>");
      say(bob, "hi from node 2");
      awaitLine(ann, "bob", "hi from node 2");

      // Names and texts are shown as text: no element was injected, no script ran.
      assertTrue(bob.findElements(By.cssSelector("#log img, #log b")).isEmpty());
      assertThrows(NoAlertPresentException.class, () -> bob.switchTo().alert());
      assertThrows(NoAlertPresentException.class, () -> ann.switchTo().alert());

      // An own post is pending until its ack, then acknowledged with its seq; times are shown.
      ((JavascriptExecutor) bob)
          .executeScript(
              "window.sawPending = false; new MutationObserver(() => {"
                  + " if (document.querySelector('#log .line.own.pending')) window.sawPending = true;"
                  + " }).observe(document.getElementById('log'),"
                  + " { subtree: true, childList: true, attributes: true });");
      say(bob, "is this acknowledged?");
      waiting(bob)
          .until(
              d ->
                  d.findElements(By.cssSelector("#log .line.own.acked")).stream()
                      .anyMatch(
                          l ->
                              l.findElement(By.className("text"))
                                      .getText()
                                      .equals("is this acknowledged?")
                                  && l.findElement(By.className("state"))
                                      .getText()
                                      .matches(".*acknowledged #\\d+")));
      assertEquals(
          Boolean.TRUE, ((JavascriptExecutor) bob).executeScript("return window.sawPending"));
      awaitLine(ann, "bob", "is this acknowledged?");
      assertEquals(
          1,
          bob.findElements(By.cssSelector("#log .line.message")).stream()
              .filter(l -> l.getText().contains("is this acknowledged?"))
              .count(),
          "the room's echo of an own post is not shown twice");
      assertTrue(
          bob.findElements(By.cssSelector("#log .line.message time")).stream()
              .allMatch(t -> !t.getText().isBlank()));
      // Who is in the room, on both pages.
      waiting(ann)
          .until(
              d -> {
                String people = d.findElement(By.id("participants")).getText();
                return people.contains("bob") && people.contains(script);
              });
      screenshot(bob, "chat.png");
      // Leave: bob disappears from ann's list; bob's page has no room to post to.
      bob.findElement(By.id("leave")).click();
      waiting(ann).until(d -> !d.findElement(By.id("participants")).getText().contains("bob"));
      assertTrue(!bob.findElement(By.id("text")).isEnabled());
      screenshot(ann, "chat-after-leave.png");

      board.get("http://127.0.0.1:" + chat.port(1) + "/dashboard");
      waiting(board)
          .until(
              d -> {
                List<WebElement> members = d.findElements(By.cssSelector("#members tr"));
                String rooms = d.findElement(By.id("rooms")).getText();
                return members.size() == 4 && rooms.contains("browsers");
              });
      assertEquals(3, board.findElements(By.cssSelector("#ring path")).size());
      assertTrue(board.findElement(By.id("daemons")).getText().contains("room-stats"));
      assertTrue(board.findElement(By.id("cron")).getText().contains("close-idle-rooms"));
      screenshot(board, "dashboard.png");
    } finally {
      ann.quit();
      bob.quit();
      board.quit();
    }
  }

  private static String hostPort(Address address) {
    return address.host().get() + ":" + address.port().get();
  }

  private static String timeline(WebDriver page) {
    return page.findElement(By.id("timeline")).getText();
  }

  /** The highest room-stats epoch on the timeline placed on a node other than {@code notOn}. */
  private static long placedEpoch(WebDriver page, String notOn) {
    long epoch = -1;
    Matcher m = PLACED.matcher(timeline(page));
    while (m.find()) {
      if (!m.group(1).equals(notOn)) {
        epoch = Math.max(epoch, Long.parseLong(m.group(2)));
      }
    }
    return epoch;
  }

  private static int points(WebDriver page, String series) {
    String points = page.findElement(By.id("graph-" + series)).getAttribute("data-points");
    return points == null ? 0 : Integer.parseInt(points);
  }

  @Test
  @Order(2)
  void theDashboardShowsACrashedNodeRemovedAndTheDaemonReplaced() throws Exception {
    Map<String, DaemonInfo> running =
        Daemons.get(chat.node(0)).running().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Address host = running.get(RoomStats.NAME).node();
    long epochBefore = running.get(RoomStats.NAME).epoch();
    int victim = -1;
    for (int i = 0; i < 3; i++) {
      if (chat.node(i).address().equals(host)) {
        victim = i;
      }
    }
    assertTrue(victim >= 0, "room-stats runs on " + host);
    int watcher = (victim + 1) % 3;
    WebDriver board = browser(1700);
    try {
      board.get("http://127.0.0.1:" + chat.port(watcher) + "/dashboard");
      String victimName = hostPort(host);
      waiting(board)
          .until(
              d ->
                  timeline(d).contains("room-stats placed on " + victimName)
                      && points(d, "members") >= 3
                      && points(d, "postsPerSecond") >= 3);
      screenshot(board, "dashboard-before-crash.png");

      chat.cluster.crashNoWait(victim);
      waiting(board)
          .until(
              d ->
                  timeline(d).contains(victimName + " was removed")
                      && placedEpoch(d, victimName) > epochBefore);
      String events = timeline(board);
      assertTrue(events.contains(victimName + " is unreachable"), events);
      for (String series :
          List.of(
              "postsPerSecond", "deliveryP99Ms", "members", "registryEntries", "fleetWorkers")) {
        assertTrue(points(board, series) >= 3, series + " has data points");
        assertEquals(
            1, board.findElements(By.cssSelector("#graph-" + series + " canvas")).size(), series);
      }
      screenshot(board, "dashboard-after-crash.png");
    } finally {
      board.quit();
    }
  }
}
