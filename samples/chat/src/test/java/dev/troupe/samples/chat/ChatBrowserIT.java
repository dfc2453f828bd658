package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
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
 * cluster, and the dashboard. Needs Debian's {@code chromium} and {@code chromium-driver} ({@code
 * .ci/run} installs them): skipped without them, except under CI, where it fails. Screenshots go to
 * {@code target/screenshots/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ChatBrowserIT {
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
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900");
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
      screenshot(bob, "chat.png");

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
}
