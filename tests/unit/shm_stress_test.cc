// One writer at full speed, several reader processes: every tick a reader
// gets is whole (its fields all follow from its index), indexes only go up,
// the gaps are exactly what the reader was told it lost, and every book copy
// is internally consistent. One reader deliberately falls two laps behind, so
// the lapping path runs on every run, whatever the scheduler does.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "process.h"
#include "shm/consumer.h"
#include "shm/words.h"
#include "shm/writer.h"

namespace {

constexpr uint32_t kDepth = 8;
constexpr uint32_t kBooks = 16;
constexpr uint64_t kRingBytes = 64 << 10;

fh::record::MboMsg tickFor(uint64_t i) {
  fh::record::MboMsg m{};
  m.hd = {sizeof(fh::record::MboMsg) / 4, fh::record::RType::Mbo, 0, static_cast<uint32_t>(i % kBooks), i ^ 0x5555};
  m.orderId = i;
  m.price = static_cast<int64_t>((i * 0x9E3779B97F4A7C15ull) >> 2);
  m.size = static_cast<uint32_t>(i * 2654435761u);
  m.flags = static_cast<uint8_t>(i);
  m.action = fh::record::Action::Add;
  m.side = fh::record::Side::Bid;
  m.tsRecv = ~i;
  m.tsInDelta = static_cast<int32_t>(i % 1000);
  m.sequence = static_cast<uint32_t>(i >> 3);
  return m;
}

// Book v: 1 + v % kDepth levels a side, each level derived from v and its rank.
void publishBookFor(fh::shm::RegionWriter& w, uint64_t v) {
  fh::shm::Level bids[kDepth], asks[kDepth];
  const uint32_t n = 1 + static_cast<uint32_t>(v % kDepth);
  for (uint32_t k = 0; k < n; ++k) {
    bids[k] = {static_cast<int64_t>(v * 100 - k), v + k, k + 1, 0};
    asks[k] = {static_cast<int64_t>(v * 100 + 1 + k), v * 2 + k, k + 2, 0};
  }
  fh::shm::BookFields f{};
  f.lastSequence = v;
  f.tsEvent = v * 3;
  f.tsRecv = v * 5;
  f.updates = v;
  w.publishBook(static_cast<uint16_t>(v % kBooks), f, bids, n, asks, n);
}

bool bookConsistent(const fh::shm::BookSnapshot& b) {
  const uint64_t v = b.fields.lastSequence;
  if (b.fields.tsEvent != v * 3 || b.fields.tsRecv != v * 5 || b.fields.updates != v) return false;
  if (v == 0) return b.fields.bidLevels == 0 && b.fields.askLevels == 0;  // never published
  const uint32_t n = 1 + static_cast<uint32_t>(v % kDepth);
  if (b.fields.bidLevels != n || b.fields.askLevels != n || v % kBooks != b.locate) return false;
  for (uint32_t k = 0; k < n; ++k) {
    const fh::shm::Level& bid = b.bids[k];
    const fh::shm::Level& ask = b.asks[k];
    if (bid.price != static_cast<int64_t>(v * 100 - k) || bid.shares != v + k || bid.orders != k + 1) return false;
    if (ask.price != static_cast<int64_t>(v * 100 + 1 + k) || ask.shares != v * 2 + k || ask.orders != k + 2)
      return false;
  }
  return true;
}

struct ReaderResult {
  std::atomic<uint64_t> seen, lost, gaps, torn, backwards, badBooks, bookCopies, laps, done;
};

void readerMain(const std::string& dir, bool slow, ReaderResult& out, int readyFd) {
  fh::shm::Consumer::Options options;
  options.directory = dir;
  fh::shm::Consumer c("stress", options);
  const char ok = 1;
  if (::write(readyFd, &ok, 1) != 1) ::_exit(3);
  auto book = std::make_unique<fh::shm::BookSnapshot>();
  uint64_t last = 0, seen = 0, lost = 0, gapSum = 0, turns = 0;
  bool any = false;
  for (;;) {
    const bool finished = c.sourceState() == fh::shm::SourceState::Done;
    const fh::shm::PollResult r = c.poll(
        [&](const fh::shm::Tick& t) {
          const fh::record::MboMsg want = tickFor(t.index);
          if (t.mbo() == nullptr || std::memcmp(t.mbo(), &want, sizeof want) != 0) out.torn.fetch_add(1);
          if (any && t.index <= last) out.backwards.fetch_add(1);
          if (any) gapSum += t.index - last - 1;
          if (!any) gapSum += t.index;  // from index 0: attached before the first record
          any = true;
          last = t.index;
          ++seen;
        },
        256);
    // One book copy per turn, whatever the scheduler let this reader see.
    const auto locate = static_cast<uint16_t>(turns++ % kBooks);
    if (c.copyBook(locate, *book) != fh::shm::CopyStatus::Ok || !bookConsistent(*book)) out.badBooks.fetch_add(1);
    out.bookCopies.fetch_add(1);
    lost += r.lost;
    if (r.lost > 0) out.laps.fetch_add(1);
    if (slow && r.records > 0 && seen % 2048 < 256) {
      // Fall two laps behind the writer before reading on (unless it is done).
      const uint64_t mark = c.header().ringTail.load();
      while (c.header().ringTail.load() < mark + 2 * kRingBytes && c.sourceState() != fh::shm::SourceState::Done)
        fh::shm::cpuRelax();
    }
    if (finished && r.records == 0) break;
  }
  out.seen = seen;
  out.lost = lost;
  out.gaps = gapSum + 0;
  out.done = 1;
}

}  // namespace

TEST_CASE("shm stress: one writer at full speed, reader processes, nothing torn", "[shm][stress]") {
  constexpr int kReaders = 3;
  constexpr uint64_t kRecords = 1'500'000;
  fh::test::TempDir dir;
  fh::shm::RegionConfig config;
  config.name = "stress";
  config.directory = dir.str();
  config.maxInstruments = kBooks;
  config.depth = kDepth;
  config.ringBytes = kRingBytes;
  fh::shm::RegionWriter writer(config);

  void* shared =
      ::mmap(nullptr, sizeof(ReaderResult) * kReaders, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(shared != MAP_FAILED);
  auto* results = new (shared) ReaderResult[kReaders]{};
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kReaders; ++i) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(ready[0]);
      readerMain(dir.str(), i == 0, results[i], ready[1]);
      ::_exit(0);
    }
    children.push_back(pid);
  }
  ::close(ready[1]);
  for (int i = 0; i < kReaders; ++i) {
    char ok = 0;
    REQUIRE(::read(ready[0], &ok, 1) == 1);
  }
  ::close(ready[0]);

  writer.setSourceState(fh::shm::SourceState::Running);
  for (uint64_t i = 0; i < kRecords; ++i) {
    const fh::record::MboMsg m = tickFor(i);
    writer.publish(&m, sizeof m);
    publishBookFor(writer, i + 1);
  }
  writer.setSourceState(fh::shm::SourceState::Done);

  for (const pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  for (int i = 0; i < kReaders; ++i) {
    const ReaderResult& r = results[i];
    INFO("reader " << i << (i == 0 ? " (slow)" : "") << ": seen " << r.seen << ", lost " << r.lost << " in " << r.laps
                   << " laps, " << r.bookCopies << " book copies");
    CHECK(r.done == 1);
    CHECK(r.torn == 0);
    CHECK(r.backwards == 0);
    CHECK(r.badBooks == 0);
    CHECK(r.lost == r.gaps);             // told exactly what it missed
    CHECK(r.seen + r.lost == kRecords);  // and missed nothing else
    CHECK(r.bookCopies > 0);
  }
  CHECK(results[0].laps > 0);  // the slow reader was lapped, by construction
  ::munmap(shared, sizeof(ReaderResult) * kReaders);
}
