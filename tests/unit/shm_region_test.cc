// The shared-memory region through the C++ API: creation (mode, group,
// refusal to take over a live writer's name), the consumer's checks (not a
// region, version mismatch, read-only mapping), books under the seqlock, the
// tick ring (order, exact lap counts, the oldest record after a wrap) and
// re-attachment to a new writer.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "process.h"
#include "shm/consumer.h"
#include "shm/writer.h"
#include "shm_fixture.h"

namespace {

using fh::shm::Consumer;
using fh::shm::RegionConfig;
using fh::shm::RegionWriter;
using fh::test::TempDir;

using fh::test::smallRegion;

Consumer::Options at(const TempDir& dir, fh::shm::StartAt start = fh::shm::StartAt::Live) {
  Consumer::Options o;
  o.directory = dir.str();
  o.start = start;
  o.refreshEveryNs = 0;  // look for a new writer on every idle poll
  return o;
}

// An MBO record whose every field follows from `i`, so a reader can tell a
// whole record from a torn one.
fh::record::MboMsg recordFor(uint64_t i) {
  fh::record::MboMsg m{};
  m.hd = {sizeof(fh::record::MboMsg) / 4, fh::record::RType::Mbo, 0, static_cast<uint32_t>(i % 64), i * 3};
  m.orderId = i;
  m.price = static_cast<int64_t>(i * 0x9E3779B97F4A7C15ull >> 1);
  m.size = static_cast<uint32_t>(i * 7);
  m.action = fh::record::Action::Add;
  m.side = i % 2 ? fh::record::Side::Bid : fh::record::Side::Ask;
  m.tsRecv = ~i;
  m.sequence = static_cast<uint32_t>(i);
  return m;
}

void checkRecord(const fh::shm::Tick& t) {
  const fh::record::MboMsg* m = t.mbo();
  REQUIRE(m != nullptr);
  const fh::record::MboMsg want = recordFor(t.index);
  REQUIRE(std::memcmp(m, &want, sizeof want) == 0);
}

constexpr uint64_t kFrameBytes = 16 + 56;  // a RingFrame and an MboMsg

}  // namespace

TEST_CASE("shm: a region is created whole, 0640, and found by a consumer", "[shm]") {
  TempDir dir;
  RegionConfig config = smallRegion(dir);
  RegionWriter writer(config);
  struct stat st {};
  REQUIRE(::stat(writer.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(size_t(st.st_size) == writer.header().totalBytes);
  // Nothing but the region itself, its lock and its tap's lock is left in the
  // directory; the tap's is readable as the region is, so readers may capture.
  std::set<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries.insert(e.path().filename());
  CHECK(entries == std::set<std::string>{"t", ".t.lock", ".t.tap"});
  REQUIRE(::stat((dir.str() + "/.t.tap").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);

  Consumer c("t", at(dir));
  CHECK(c.generation() == writer.header().generation);
  CHECK(c.depth() == 4);
  CHECK(c.maxInstruments() == 64);
  CHECK(c.writerStatus() == fh::shm::WriterStatus::Running);
  CHECK(c.counterCount() == 2);
  CHECK(c.counterName(1) == "beta");
  writer.add(1, 5);
  writer.add(1, 2);
  CHECK(c.counter(1) == 7);
  CHECK(c.findCounter("alpha") == 0u);
  CHECK_FALSE(c.findCounter("gamma").has_value());

  const char symbol[8] = {'A', 'A', 'P', 'L', ' ', ' ', ' ', ' '};
  writer.setInstrument(13, symbol, 'T');
  CHECK(c.find("AAPL") == uint16_t{13});
  CHECK_FALSE(c.find("AAP").has_value());
  fh::shm::InstrumentInfo info;
  REQUIRE(c.instrument(13, info));
  CHECK(std::string(info.symbol) == "AAPL");
  CHECK(info.tradingState == 'T');
  CHECK_FALSE(c.instrument(64, info));
  CHECK(c.instruments().size() == 1);
}

TEST_CASE("shm: books are copied whole, and only the published levels", "[shm]") {
  TempDir dir;
  RegionWriter writer(smallRegion(dir));
  Consumer c("t", at(dir));
  const fh::shm::Level bids[] = {{100, 10, 1, 0}, {99, 20, 2, 0}, {98, 30, 3, 0}, {97, 1, 1, 0}, {96, 2, 1, 0}};
  const fh::shm::Level asks[] = {{101, 5, 1, 0}};
  fh::shm::BookFields f{};
  f.lastSequence = 42;
  f.status = fh::shm::BookStatus::Halted;
  writer.publishBook(7, f, bids, 5, asks, 1);
  auto snap = std::make_unique<fh::shm::BookSnapshot>();
  REQUIRE(c.copyBook(7, *snap) == fh::shm::CopyStatus::Ok);
  CHECK(snap->fields.lastSequence == 42);
  CHECK(snap->fields.bidLevels == 4);  // depth 4: the fifth is cut
  CHECK(snap->fields.askLevels == 1);
  CHECK(snap->fields.instrumentId == 7);
  CHECK(snap->fields.status == fh::shm::BookStatus::Halted);
  CHECK(snap->bids[3].price == 97);
  CHECK(snap->asks[0].shares == 5);
  CHECK(c.copyBook(64, *snap) == fh::shm::CopyStatus::NoSuchInstrument);

  // A writer that died inside an update leaves the seq odd: the copy gives up.
  auto* seq = reinterpret_cast<std::atomic<uint64_t>*>(
      const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(&writer.header())) + writer.header().booksOffset +
      7 * writer.header().bookBytes);
  seq->fetch_add(1);
  CHECK(c.copyBook(7, *snap) == fh::shm::CopyStatus::WriterStuck);
}

TEST_CASE("shm: ticks arrive in order, a lapped reader is told exactly how many it lost", "[shm]") {
  TempDir dir;
  RegionWriter writer(smallRegion(dir));
  Consumer live("t", at(dir));
  const auto poll = [](Consumer& c, std::vector<uint64_t>& seen) {
    return c.poll([&](const fh::shm::Tick& t) {
      checkRecord(t);
      seen.push_back(t.index);
    });
  };

  std::vector<uint64_t> seen;
  for (uint64_t i = 0; i < 100; ++i) {
    const auto r = recordFor(i);
    writer.publish(&r, sizeof r);
  }
  const fh::shm::PollResult first = poll(live, seen);
  CHECK(first.records == 100);
  CHECK(first.lost == 0);
  CHECK(seen.front() == 0);
  CHECK(seen.back() == 99);

  // Three laps of the 64 KiB ring while the reader sleeps.
  const uint64_t perLap = (64 << 10) / kFrameBytes;
  for (uint64_t i = 100; i < 100 + 3 * perLap; ++i) {
    const auto r = recordFor(i);
    writer.publish(&r, sizeof r);
  }
  seen.clear();
  fh::shm::PollResult lapped;
  for (fh::shm::PollResult r; (r = poll(live, seen)).records > 0;) {
    lapped.records += r.records;
    lapped.lost += r.lost;
  }
  REQUIRE_FALSE(seen.empty());
  // It resumed at the newest record and lost exactly those in between.
  CHECK(seen.back() == 100 + 3 * perLap - 1);
  CHECK(seen.front() == 100 + lapped.lost);
  for (size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] == seen[i - 1] + 1);

  // A reader from the oldest findable record after wraps: the start of the
  // current lap, and every record from there on.
  Consumer oldest("t", at(dir, fh::shm::StartAt::Oldest));
  std::vector<uint64_t> fromOldest;
  while (poll(oldest, fromOldest).records > 0) {
  }
  REQUIRE_FALSE(fromOldest.empty());
  CHECK(fromOldest.back() == 100 + 3 * perLap - 1);
  CHECK(fromOldest.size() <= perLap);
  const uint64_t tail = writer.header().ringTail.load();
  const uint64_t lapStart = tail / (64 << 10) * (64 << 10);
  CHECK(fromOldest.size() == (tail - lapStart) / kFrameBytes);
}

TEST_CASE("shm: a consumer refuses what is not a region it can read", "[shm]") {
  TempDir dir;
  using Kind = fh::shm::AttachError::Kind;
  const auto kindOf = [&](const std::string& name) {
    try {
      Consumer c(name, at(dir));
    } catch (const fh::shm::AttachError& e) {
      CHECK(std::string(e.what()).find(dir.str() + "/" + name) != std::string::npos);
      return e.kind();
    }
    FAIL("attached to " << name);
    return Kind::System;
  };
  CHECK(kindOf("missing") == Kind::NotFound);
  std::ofstream(dir.path() / "text") << std::string(4096, 'x');
  CHECK(kindOf("text") == Kind::NotARegion);
  std::ofstream(dir.path() / "tiny") << "fh";
  CHECK(kindOf("tiny") == Kind::NotARegion);

  // The same region with a layout major version from the future.
  { RegionWriter writer(smallRegion(dir, "future")); }
  {
    const int fd = ::open((dir.path() / "future").c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    const uint32_t version = uint32_t{fh::shm::kLayoutMajor + 1} << 16;
    REQUIRE(::pwrite(fd, &version, sizeof version, offsetof(fh::shm::RegionHeader, layoutVersion)) == 4);
    ::close(fd);
  }
  CHECK(kindOf("future") == Kind::VersionMismatch);
}

TEST_CASE("shm: a reader's mapping is read-only", "[shm]") {
  TempDir dir;
  RegionWriter writer(smallRegion(dir));
  Consumer c("t", at(dir));
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Writing through the reader's mapping must fault, not succeed.
    ::signal(SIGSEGV, SIG_DFL);  // not Catch's handler: the parent judges
    auto* p = const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(&c.header()));
    *reinterpret_cast<volatile uint8_t*>(p + 4096) = 1;
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV));
}

TEST_CASE("shm: a live writer's name is refused, a dead one's is taken over", "[shm]") {
  TempDir dir;
  // A writer in another process that keeps its heartbeat.
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    {
      RegionWriter other(smallRegion(dir));
      const char ok = 1;
      if (::write(ready[1], &ok, 1) != 1) ::_exit(2);
      for (;;) {
        other.heartbeat();
        ::usleep(10'000);
      }
    }
  }
  ::close(ready[1]);
  char ok = 0;
  REQUIRE(::read(ready[0], &ok, 1) == 1);
  ::close(ready[0]);
  try {
    RegionWriter second(smallRegion(dir));
    FAIL("took over a live writer's region");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("pid " + std::to_string(child)) != std::string::npos);
  }
  ::kill(child, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  // Killed: its region says Running, but the pid is gone.
  RegionWriter third(smallRegion(dir));
  CHECK(third.header().writerPid == ::getpid());
}

TEST_CASE("shm: a consumer re-attaches to a new writer by itself", "[shm]") {
  TempDir dir;
  auto first = std::make_unique<RegionWriter>(smallRegion(dir));
  Consumer c("t", at(dir));
  const uint64_t firstGeneration = c.generation();
  const auto r1 = recordFor(1);
  first->publish(&r1, sizeof r1);
  uint64_t count = 0;
  CHECK(c.poll([&](const fh::shm::Tick&) { ++count; }).records == 1);

  first.reset();  // a clean stop: the region stays, marked Stopped
  CHECK(c.writerStatus() == fh::shm::WriterStatus::Stopped);
  RegionWriter second(smallRegion(dir));
  CHECK(second.header().generation != firstGeneration);
  const auto r0 = recordFor(0);
  second.publish(&r0, sizeof r0);

  // The next idle poll finds the new file; from then on the new ring is read.
  fh::shm::PollResult r = c.poll([&](const fh::shm::Tick&) { ++count; });
  CHECK(r.reattached);
  CHECK(c.generation() == second.header().generation);
  CHECK(c.writerStatus() == fh::shm::WriterStatus::Running);
  const auto r2 = recordFor(2);
  second.publish(&r2, sizeof r2);
  std::vector<uint64_t> seen;
  r = c.poll([&](const fh::shm::Tick& t) { seen.push_back(t.index); });
  CHECK(seen == std::vector<uint64_t>{1});  // Live start: the record after re-attaching
  CHECK_FALSE(c.refresh());                 // nothing new
}

TEST_CASE("shm: bad region configuration names the key", "[shm]") {
  TempDir dir;
  const auto message = [&](auto change) {
    RegionConfig c = smallRegion(dir);
    change(c);
    try {
      fh::shm::validate(c);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(message([](RegionConfig& c) { c.name = "../etc"; }).find("shm.name") == 0);
  CHECK(message([](RegionConfig& c) { c.name = ".hidden"; }).find("shm.name") == 0);
  CHECK(message([](RegionConfig& c) { c.depth = 65; }).find("shm.depth") == 0);
  CHECK(message([](RegionConfig& c) { c.ringBytes = 100000; }).find("shm.ring_bytes") == 0);
  CHECK(message([](RegionConfig& c) { c.maxInstruments = 70000; }).find("book.max_instruments") == 0);
  CHECK(message([](RegionConfig& c) { c.mode = 04755; }).find("shm.mode") == 0);
  CHECK(message([](RegionConfig&) {}) == "accepted");
}

TEST_CASE("shm: removeRegionFiles takes the region, its lock and its tap's lock, and nothing else", "[shm]") {
  TempDir dir;
  { RegionWriter writer(smallRegion(dir)); }
  std::ofstream(dir.str() + "/other") << "x";
  fh::shm::removeRegionFiles(dir.str(), "t");
  std::set<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries.insert(e.path().filename());
  CHECK(entries == std::set<std::string>{"other"});
}
