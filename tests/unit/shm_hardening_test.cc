// The region against a hostile local user and a careless operator: each of
// the ways it could be broken, reproduced. A region that does not fit is a
// clear error with nothing left behind; two writers never both own a name; a
// squatter's file, a FIFO or a link at the path is refused by writer and
// reader alike, promptly; a reader believes only owners it trusts; a region
// whose ring lies gives an error status, never a hang, in the C++ API, the C
// ABI and fhctl.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "shm/consumer.h"
#include "shm/fh_consumer.h"
#include "shm_fixture.h"

namespace {

namespace fs = std::filesystem;
using fh::shm::AttachError;
using fh::shm::Consumer;
using fh::shm::RegionWriter;
using fh::test::Run;
using fh::test::TempDir;

constexpr uid_t kNobody = 65534;

std::string writerError(const fh::shm::RegionConfig& c) {
  try {
    RegionWriter w(c);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "accepted";
}

// "w0", "w1"...: one writer's output files (std::string's operator+ here
// trips a false -Wrestrict in GCC 12).
std::string tagOf(size_t i) {
  std::string tag = "w";
  tag.append(std::to_string(i));
  return tag;
}

// Waits (bounded) for a started program; kills it and fails if it hangs.
Run finishWithin(pid_t pid, const TempDir& dir, const std::string& tag, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL(tag << " hung: killed after " << seconds << " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Run r;
  r.exited = WIFEXITED(status);
  r.exitCode = r.exited ? WEXITSTATUS(status) : -1;
  r.err = fh::test::readFile(dir.path() / (tag + ".err"));
  r.out = fh::test::readFile(dir.path() / (tag + ".out"));
  return r;
}

}  // namespace

TEST_CASE("shm hardening: a region that does not fit is a clear error, and nothing is left behind",
          "[shm][hardening]") {
  if (::geteuid() != 0) {
    WARN("skipped: mounting a small tmpfs needs root (CI runs as root)");
    return;
  }
  TempDir dir;
  const fs::path small = dir.path() / "small";
  fs::create_directory(small);
  REQUIRE(::mount("fh-test", small.c_str(), "tmpfs", 0, "size=1m") == 0);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{small.string()};
  TempDir logs;
  const pid_t pid = fh::test::start("fhd",
                                    {"--replay", fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50"),
                                     "--exit-when-done", "--shm", "x", "--shm-dir", small.string(), "--ring-mib", "1",
                                     "--max-instruments", "2", "--max-orders", "1024", "--max-levels", "1024"},
                                    logs, "fhd");
  const Run r = finishWithin(pid, logs, "fhd", 30);
  INFO(r.err);
  CHECK(r.exited);  // not killed by SIGBUS
  CHECK(r.exitCode == 1);
  CHECK(r.err.find("cannot reserve") != std::string::npos);
  CHECK(r.err.find(small.string()) != std::string::npos);
  CHECK(r.err.find("No space left on device") != std::string::npos);
  // No region, no temporary file: only the name's lock and the tap's, kept as locks are.
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(small)) left.insert(e.path().filename());
  CHECK(left == std::set<std::string>{".x.lock", ".x.tap"});
}

TEST_CASE("shm hardening: of writers started together, exactly one owns the name", "[shm][hardening]") {
  TempDir dir;
  const std::string bx = fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50");
  std::vector<pid_t> pids;
  for (int i = 0; i < 4; ++i)
    pids.push_back(fh::test::start("fhd",
                                   {"--replay", bx, "--shm", "same", "--shm-dir", dir.str(), "--max-orders", "65536",
                                    "--max-levels", "65536", "--ring-mib", "1", "--log-level", "warn"},
                                   dir, tagOf(i)));
  // The losers exit at once; the owner serves its books until told to stop.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<int> exited(pids.size(), -1);
  size_t running = pids.size();
  while (running > 1 && std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < pids.size(); ++i) {
      int status = 0;
      if (exited[i] == -1 && ::waitpid(pids[i], &status, WNOHANG) == pids[i]) {
        exited[i] = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        --running;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a second owner would still be running now
  size_t owners = 0;
  for (size_t i = 0; i < pids.size(); ++i) {
    if (exited[i] != -1) {
      const std::string err = fh::test::readFile(dir.path() / (tagOf(i) + ".err"));
      INFO(err);
      CHECK(exited[i] == 1);
      CHECK(err.find("belongs to a running writer (pid ") != std::string::npos);
      continue;
    }
    ++owners;
    ::kill(pids[i], SIGTERM);
    int status = 0;
    ::waitpid(pids[i], &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK(owners == 1);
  // With the owner gone, the name is free again.
  CHECK(writerError(fh::test::smallRegion(dir, "same")) == "accepted");
}

TEST_CASE("shm hardening: a FIFO, a link or another user's file at the path is refused, promptly", "[shm][hardening]") {
  TempDir dir;
  const std::string path = (dir.path() / "t").string();
  Consumer::Options at;
  at.directory = dir.str();

  SECTION("a FIFO: neither the writer nor a reader blocks on it") {
    REQUIRE(::mkfifo(path.c_str(), 0644) == 0);
    CHECK(writerError(fh::test::smallRegion(dir)).find("is a FIFO, not a region") != std::string::npos);
    try {
      Consumer c("t", at);
      FAIL("a FIFO was taken for a region");
    } catch (const AttachError& e) {
      CHECK(e.kind() == AttachError::Kind::NotARegion);
    }
    TempDir logs;
    const Run tail = finishWithin(
        fh::test::start("fhctl", {"tail", "--shm", "t", "--shm-dir", dir.str(), "--count", "1"}, logs, "tail"), logs,
        "tail", 20);
    CHECK(tail.exitCode != 0);
    CHECK(tail.err.find("not a regular file") != std::string::npos);
  }
  SECTION("a symbolic link") {
    TempDir elsewhere;
    { RegionWriter real(fh::test::smallRegion(elsewhere)); }
    fs::create_symlink(elsewhere.path() / "t", path);
    CHECK(writerError(fh::test::smallRegion(dir)).find("is a symbolic link") != std::string::npos);
    try {
      Consumer c("t", at);
      FAIL("a link was followed");
    } catch (const AttachError& e) {
      CHECK(e.kind() == AttachError::Kind::NotARegion);
    }
  }
  SECTION("another user's region: the writer will not replace it, a reader does not believe it") {
    if (::geteuid() != 0) {
      WARN("skipped: giving a file to another user needs root (CI runs as root)");
      return;
    }
    { RegionWriter squatter(fh::test::smallRegion(dir)); }
    REQUIRE(::chown(path.c_str(), kNobody, kNobody) == 0);
    CHECK(writerError(fh::test::smallRegion(dir)).find("belongs to nobody (uid 65534), not to this writer") !=
          std::string::npos);
    try {
      Consumer c("t", at);
      FAIL("another user's region was believed");
    } catch (const AttachError& e) {
      CHECK(e.kind() == AttachError::Kind::Untrusted);
      CHECK(std::string(e.what()).find("owned by nobody (uid 65534)") != std::string::npos);
    }
    fh_consumer_options o;
    fh_consumer_options_init(&o);
    o.directory = at.directory.c_str();
    fh_consumer* c = nullptr;
    CHECK(fh_consumer_open("t", &o, &c) == FH_ERR_UNTRUSTED);
    // Trusted by name, it is read.
    Consumer::Options trusting = at;
    trusting.trustedUsers = {kNobody};
    Consumer trusted("t", trusting);
    CHECK(trusted.depth() == 4);
    ::setenv("FH_TRUSTED_WRITERS", "nobody", 1);
    CHECK(Consumer::Options{}.trustedUsers == std::vector<uid_t>{kNobody});
    ::unsetenv("FH_TRUSTED_WRITERS");
    // And a lock file another user made keeps the name from this writer, saying so.
    fs::remove(path);
    REQUIRE(::chown((dir.path() / ".t.lock").c_str(), kNobody, kNobody) == 0);
    CHECK(writerError(fh::test::smallRegion(dir)).find(".t.lock belongs to nobody (uid 65534)") != std::string::npos);
  }
}

TEST_CASE("shm hardening: a region whose ring lies gives an error, never a hang", "[shm][hardening]") {
  TempDir dir;
  { RegionWriter w(fh::test::smallRegion(dir)); }
  // A valid header, ringTail = 64, ringLatest = 0 and a zeroed ring.
  const std::string path = (dir.path() / "t").string();
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  fh::shm::RegionHeader h;
  REQUIRE(::pread(fd, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h));
  const uint64_t tail = 64, latest = 0;
  REQUIRE(::pwrite(fd, &tail, sizeof tail, offsetof(fh::shm::RegionHeader, ringTail)) == sizeof tail);
  REQUIRE(::pwrite(fd, &tail, sizeof tail, offsetof(fh::shm::RegionHeader, ringTailIntent)) == sizeof tail);
  REQUIRE(::pwrite(fd, &latest, sizeof latest, offsetof(fh::shm::RegionHeader, ringLatest)) == sizeof latest);
  const std::vector<uint8_t> zeros(h.ringBytes, 0);
  REQUIRE(::pwrite(fd, zeros.data(), zeros.size(), off_t(h.ringOffset)) == static_cast<ssize_t>(zeros.size()));
  ::close(fd);

  Consumer::Options at;
  at.directory = dir.str();
  // Live attach: refused, not spun on.
  try {
    Consumer c("t", at);
    FAIL("a lying ring was attached");
  } catch (const AttachError& e) {
    CHECK(e.kind() == AttachError::Kind::NotARegion);
    CHECK(std::string(e.what()).find("no record where it says the newest one is") != std::string::npos);
  }
  // From the oldest record: every poll returns, and says the ring lies.
  at.start = fh::shm::StartAt::Oldest;
  Consumer c("t", at);
  const fh::shm::PollResult r = c.poll([](const fh::shm::Tick&) {});
  CHECK(r.records == 0);
  CHECK(r.invalid);
  // The C ABI says so too.
  fh_consumer_options o;
  fh_consumer_options_init(&o);
  o.directory = at.directory.c_str();
  fh_consumer* live = nullptr;
  CHECK(fh_consumer_open("t", &o, &live) == FH_ERR_NOT_A_REGION);
  o.start = FH_START_OLDEST;
  fh_consumer* oldest = nullptr;
  REQUIRE(fh_consumer_open("t", &o, &oldest) == FH_OK);
  fh_poll_result pr;
  CHECK(fh_consumer_poll(
            oldest, [](const fh_tick*, void*) {}, nullptr, 100, &pr) == FH_ERR_NOT_A_REGION);
  fh_consumer_close(oldest);
  // And fhctl ends with an error instead of hanging, live or from the oldest.
  for (const std::vector<std::string>& args : {std::vector<std::string>{"tail", "--count", "1"},
                                               {"tail", "--from-oldest", "--count", "1"},
                                               {"stats"},
                                               {"top", "--interval", "0.2", "--count", "1"}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--shm", "t", "--shm-dir", dir.str()});
    TempDir logs;
    const Run run = finishWithin(fh::test::start("fhctl", full, logs, "fhctl"), logs, "fhctl", 20);
    INFO(args[0] << " " << run.err);
    if (args[0] != "stats") CHECK(run.exitCode != 0);
    CHECK(run.exited);
  }
}

// --- Found in review ---

TEST_CASE("shm hardening: a region others may write, or with other names, is not believed", "[shm][hardening]") {
  TempDir dir;
  { RegionWriter w(fh::test::smallRegion(dir)); }
  const std::string path = (dir.path() / "t").string();
  Consumer::Options at;
  at.directory = dir.str();
  REQUIRE(::chmod(path.c_str(), 0660) == 0);
  try {
    Consumer c("t", at);
    FAIL("a group-writable region was believed");
  } catch (const AttachError& e) {
    CHECK(e.kind() == AttachError::Kind::Untrusted);
    CHECK(std::string(e.what()).find("writable by its group or by others") != std::string::npos);
  }
  REQUIRE(::chmod(path.c_str(), 0640) == 0);
  const std::string other = (dir.path() / "other").string();
  REQUIRE(::link(path.c_str(), other.c_str()) == 0);
  try {
    Consumer c("t", at);
    FAIL("a region with another name was believed");
  } catch (const AttachError& e) {
    CHECK(e.kind() == AttachError::Kind::Untrusted);
  }
  // And a writer never makes one others may write.
  auto config = fh::test::smallRegion(dir, "u");
  config.mode = 0660;
  CHECK(writerError(config).find("shm.mode") == 0);
}

TEST_CASE("shm hardening: sizes changed in the header after attach are not believed", "[shm][hardening]") {
  TempDir dir;
  RegionWriter w(fh::test::smallRegion(dir));  // depth 4
  fh::shm::Level levels[4] = {{100, 1, 1, 0}, {99, 1, 1, 0}, {98, 1, 1, 0}, {97, 1, 1, 0}};
  w.publishBook(1, fh::shm::BookFields{}, levels, 4, levels, 4);
  Consumer::Options at;
  at.directory = dir.str();
  Consumer c("t", at);
  // Someone who can write the file makes the header and a book lie.
  auto& header = const_cast<fh::shm::RegionHeader&>(w.header());
  header.depth = 1000;
  header.counterCount = 200;
  auto* book = reinterpret_cast<fh::shm::BookHeader*>(reinterpret_cast<uint8_t*>(&header) + header.booksOffset +
                                                      header.bookBytes);
  book->fields.bidLevels = 1000;
  auto snapshot = std::make_unique<fh::shm::BookSnapshot>();
  REQUIRE(c.copyBook(1, *snapshot) == fh::shm::CopyStatus::Ok);
  CHECK(snapshot->fields.bidLevels == 1000);  // what it says, but only depth 4 of them were copied
  CHECK(c.depth() == 4);
  CHECK(c.counterCount() == 2);
  CHECK(c.counterName(150).empty());
}

TEST_CASE("shm hardening: a newest-record index at the ring's very end is refused, not read past", "[shm][hardening]") {
  TempDir dir;
  auto config = fh::test::smallRegion(dir);
  config.counters = {};  // the file ends where the ring ends
  { RegionWriter w(config); }
  const std::string path = (dir.path() / "t").string();
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  fh::shm::RegionHeader h;
  REQUIRE(::pread(fd, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h));
  const uint64_t tail = 16, latest = h.ringBytes - 8;
  REQUIRE(::pwrite(fd, &tail, sizeof tail, offsetof(fh::shm::RegionHeader, ringTail)) == sizeof tail);
  REQUIRE(::pwrite(fd, &latest, sizeof latest, offsetof(fh::shm::RegionHeader, ringLatest)) == sizeof latest);
  ::close(fd);
  Consumer::Options at;
  at.directory = dir.str();
  try {
    Consumer c("t", at);
    FAIL("attached");
  } catch (const AttachError& e) {
    CHECK(e.kind() == AttachError::Kind::NotARegion);
  }
}

TEST_CASE("shm hardening: a writer that died making its region leaves nothing for long", "[shm][hardening]") {
  TempDir dir;
  const std::string leftover = (dir.path() / ".t.424242").string();
  { std::ofstream(leftover) << "a dead writer's half-made region"; }
  RegionWriter w(fh::test::smallRegion(dir));
  CHECK_FALSE(fs::exists(leftover));
}
