// The example consumers (examples/consumer_c.c over libfh_consumer.so, and
// examples/consumer_cpp.cc) run against a region this test writes: the same
// exact output from both, for a replay from the oldest record and for a live
// run that is lapped (stopped by SIGSTOP while the writer laps it) and then
// sees the region replaced by a new writer.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "process.h"
#include "shm/writer.h"

namespace {

namespace rec = fh::record;
using fh::shm::RegionConfig;
using fh::shm::RegionWriter;
using fh::test::TempDir;

RegionConfig smallRegion(const TempDir& dir) {
  RegionConfig c;
  c.name = "t";
  c.directory = dir.str();
  c.maxInstruments = 64;
  c.depth = 4;
  c.ringBytes = 64 << 10;
  return c;
}

constexpr int64_t kPrice = 189'5000'00000;  // 189.5000 in 1e-9

// AAPL at locate 13 with a small book.
void describe(RegionWriter& w) {
  const char aapl[8] = {'A', 'A', 'P', 'L', ' ', ' ', ' ', ' '};
  w.setInstrument(13, aapl, 'T');
  const fh::shm::Level bids[] = {{kPrice, 300, 2, 0}, {kPrice - 1'000'0000, 100, 1, 0}};
  const fh::shm::Level asks[] = {{kPrice + 1'000'0000, 200, 1, 0}};
  fh::shm::BookFields f{};
  f.lastSequence = 42;
  w.publishBook(13, f, bids, 2, asks, 1);
}

void publishMbo(RegionWriter& w, uint64_t orderId) {
  rec::MboMsg m{};
  m.hd = {sizeof m / 4, rec::RType::Mbo, 0, 13, 1};
  m.orderId = orderId;
  m.price = kPrice;
  m.size = 100;
  m.action = rec::Action::Add;
  m.side = rec::Side::Bid;
  w.publish(&m, sizeof m);
}

void publishMbp1(RegionWriter& w) {
  rec::Mbp1Msg m{};
  m.hd = {sizeof m / 4, rec::RType::Mbp1, 0, 13, 2};
  m.price = kPrice + 1'000'0000;
  m.size = 50;
  m.action = rec::Action::Trade;
  m.side = rec::Side::Ask;
  m.levels[0] = {kPrice, kPrice + 1'000'0000, 300, 150, 2, 1};
  w.publish(&m, sizeof m);
}

void publishStatus(RegionWriter& w) {
  rec::StatusMsg m{};
  m.hd = {sizeof m / 4, rec::RType::Status, 0, 13, 3};
  m.action = rec::StatusAction::Halt;
  m.isTrading = 'N';
  w.publish(&m, sizeof m);
}

std::string header(const TempDir& dir, const RegionWriter& w) {
  return "attached to " + dir.str() + "/t, generation " + std::to_string(w.header().generation) +
         ", depth 4, writer running\n"
         "AAPL (locate 13): 2 bids, 1 asks, last sequence 42\n"
         "  bid 300 @ 189.5000 (2 orders)\n"
         "  bid 100 @ 189.4900 (1 orders)\n"
         "  ask 200 @ 189.5100 (1 orders)\n";
}

// A running example: killed at the end of the test if still alive.
class Running {
 public:
  Running(const std::string& program, const std::vector<std::string>& args, const TempDir& dir)
      : dir_(dir), pid_(fh::test::start(program, args, dir, program)), tag_(program) {}
  ~Running() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  std::string out() const { return fh::test::readFile(dir_.path() / (tag_ + ".out")); }
  // Waits until the output contains `text` after position `from`; a bound
  // against a hung program, not a timing: it is far beyond what any run needs.
  size_t waitFor(const std::string& text, size_t from = 0) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      const size_t at = out().find(text, from);
      if (at != std::string::npos) return at;
      if (std::chrono::steady_clock::now() > deadline) FAIL("no '" << text << "' in:\n" << out());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  fh::test::Run finish() {
    const pid_t pid = pid_;
    pid_ = -1;
    return fh::test::finish(pid, dir_, tag_);
  }

 private:
  const TempDir& dir_;
  pid_t pid_;
  std::string tag_;
};

}  // namespace

TEST_CASE("examples: the C and C++ consumers print a book and the ticks from the oldest", "[examples]") {
  TempDir dir;
  RegionWriter writer(smallRegion(dir));
  describe(writer);
  publishMbo(writer, 7);
  publishMbp1(writer);
  publishStatus(writer);
  publishMbo(writer, 8);  // beyond -n 3

  const std::string expected = header(dir, writer) +
                               "tick 0: mbo 13 A B 100 @ 189.5000 order 7\n"
                               "tick 1: mbp1 13 T A 50 @ 189.5100 | 300 @ 189.5000 x 189.5100 @ 150\n"
                               "tick 2: status 13 action 8 reason 0 trading N\n"
                               "done: 3 records, 0 lost, 0 reattached\n";
  for (const std::string program : {"consumer_c", "consumer_cpp"}) {
    INFO(program);
    Running example(program, {"-d", dir.str(), "-o", "-n", "3", "-t", "60", "t", "AAPL"}, dir);
    const fh::test::Run r = example.finish();
    CHECK(r.exitCode == 0);
    CHECK(r.out == expected);
    CHECK(r.err.empty());

    Running missing(program, {"-d", dir.str(), "nothing", "AAPL"}, dir);
    const fh::test::Run m = missing.finish();
    CHECK(m.exitCode == 1);
    CHECK(m.err.find(dir.str() + "/nothing") != std::string::npos);
    Running unknown(program, {"-d", dir.str(), "t", "MSFT"}, dir);
    const fh::test::Run u = unknown.finish();
    CHECK(u.exitCode == 1);
    CHECK(u.err.find("MSFT") != std::string::npos);
  }
}

TEST_CASE("examples: the consumers report a lap and a new writer", "[examples]") {
  for (const std::string program : {"consumer_c", "consumer_cpp"}) {
    INFO(program);
    TempDir dir;
    auto writer = std::make_unique<RegionWriter>(smallRegion(dir));
    describe(*writer);
    Running example(program, {"-d", dir.str(), "-n", "1000000", "-t", "60", "t", "AAPL"}, dir);
    example.waitFor("AAPL (locate 13)");  // attached: live from here
    publishMbo(*writer, 1);
    publishMbo(*writer, 2);
    publishMbo(*writer, 3);
    example.waitFor("tick 2: ");

    // Stopped, it cannot read while the writer laps it; it then resumes at
    // the newest record, having skipped all since tick 2.
    REQUIRE(::kill(example.pid(), SIGSTOP) == 0);
    int status = 0;
    REQUIRE(::waitpid(example.pid(), &status, WUNTRACED) == example.pid());
    REQUIRE(WIFSTOPPED(status));
    const uint64_t lapped = 3 * (64 << 10) / 72;
    for (uint64_t i = 0; i < lapped; ++i) publishMbo(*writer, 100 + i);
    REQUIRE(::kill(example.pid(), SIGCONT) == 0);
    const size_t lapLine = example.waitFor("lapped: " + std::to_string(lapped - 1) + " records lost\n");
    CHECK(example.out().find("tick " + std::to_string(2 + lapped) + ": mbo 13 A B 100 @ 189.5000 order " +
                             std::to_string(100 + lapped - 1)) != std::string::npos);

    // A new writer replaces the region: the example finds it when idle.
    writer.reset();
    RegionWriter second(smallRegion(dir));
    describe(second);
    const size_t reattachLine =
        example.waitFor("reattached: generation " + std::to_string(second.header().generation) + "\n", lapLine);
    publishMbo(second, 77);
    example.waitFor("tick 0: mbo 13 A B 100 @ 189.5000 order 77\n", reattachLine);

    REQUIRE(::kill(example.pid(), SIGTERM) == 0);
    const fh::test::Run r = example.finish();
    CHECK(r.exitCode == 0);
    CHECK(r.err.empty());
    const std::string done = "done: 5 records, " + std::to_string(lapped - 1) + " lost, 1 reattached\n";
    CHECK(r.out.size() >= done.size());
    CHECK(r.out.substr(r.out.size() - std::min(r.out.size(), done.size())) == done);
  }
}
