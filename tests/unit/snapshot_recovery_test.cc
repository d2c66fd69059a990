// The snapshot stage (lib/feed/snapshot_recovery.h) with the real ITCH
// handler and books, on a generated day: joined in mid-session at J, a
// snapshot whose End of Snapshot sequence S lies exactly at, before and after
// the first buffered message (and beyond the last one received) is merged
// (or refused and asked again), and the books at the end equal those of the
// whole day. The snapshots are made here from books of the day's first S-1
// messages: directory, then one Add Order per live order in reference order.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "book/book_builder.h"
#include "capture/capture.h"
#include "feed/itch_handler.h"
#include "feed/snapshot_recovery.h"
#include "itch/decoder.h"
#include "itch/encode.h"
#include "process.h"

namespace {

using fh::book::Side;
namespace feed = fh::feed;
namespace shm = fh::shm;

struct NullPublisher {
  uint64_t snapshotRecords = 0, recovered = 0, joining = 0;
  void record(const fh::record::MboMsg& m) noexcept {
    snapshotRecords += (m.flags & fh::record::flags::kSnapshot) != 0;
  }
  void record(const fh::record::Mbp1Msg&) noexcept {}
  void record(const fh::record::StatusMsg& s) noexcept {
    recovered += s.reason == fh::record::StatusReason::BookRecovered;
    joining += s.reason == fh::record::StatusReason::BookJoining;
  }
  void instrument(uint16_t, const char (&)[8], char) noexcept {}
  void book(const fh::feed::BookView&) noexcept {}
  void prefetchBook(uint16_t, shm::LevelRange, shm::LevelRange) const noexcept {}
  uint32_t depth() const noexcept { return 10; }
};

struct DiscardRecords {
  void mbo(const fh::record::MboMsg&) noexcept {}
  void mbp1(const fh::record::Mbp1Msg&) noexcept {}
};

fh::book::BookConfig config() {
  fh::book::BookConfig c;
  c.maxInstruments = 64;
  c.maxOrders = 1 << 16;
  c.maxLevels = 1 << 16;
  return c;
}

struct Day {
  std::vector<std::vector<uint8_t>> messages;  // message i has sequence i + 1
};

const Day& day() {
  static const Day d = [] {
    fh::test::TempDir dir;
    const std::string path = (dir.path() / "day.itch").string();
    REQUIRE(fh::test::run("fhsim", {"generate", "--messages", "20000", "--symbols", "12", "--seed", "7", "--out", path})
                .exitCode == 0);
    const fh::capture::MappedFile file(path);
    Day out;
    fh::capture::forEachRecord(file.bytes(),
                               [&](uint64_t, const uint8_t* m, uint16_t n) { out.messages.emplace_back(m, m + n); });
    return out;
  }();
  return d;
}

// Books from messages 1 .. upTo of the day.
void build(fh::book::OrderBooks& books, uint64_t upTo) {
  DiscardRecords discard;
  fh::book::BookBuilder<DiscardRecords> builder(books, discard, 0);
  for (uint64_t s = 1; s <= upTo; ++s) {
    const auto& m = day().messages[s - 1];
    fh::itch::decode(m.data(), static_cast<uint16_t>(m.size()), builder);
  }
}

// The snapshot of the day after message next-1, as 2-byte-length blocks.
std::vector<uint8_t> snapshotAt(uint64_t next) {
  fh::book::OrderBooks books(config());
  build(books, next - 1);
  std::vector<uint8_t> blocks;
  const auto add = [&](const uint8_t* m, size_t n) {
    blocks.push_back(uint8_t(n >> 8));
    blocks.push_back(uint8_t(n));
    blocks.insert(blocks.end(), m, m + n);
  };
  std::map<uint16_t, const std::vector<uint8_t>*> directory;
  for (uint64_t s = 1; s < next; ++s) {
    const auto& m = day().messages[s - 1];
    if (m[0] == 'R') directory[uint16_t(m[1] << 8 | m[2])] = &m;
  }
  for (const auto& [locate, m] : directory) add(m->data(), m->size());
  std::map<uint64_t, fh::book::LiveOrder> orders;
  for (uint16_t locate = 1; locate < config().maxInstruments; ++locate)
    books.forEachOrder(locate, [&](const fh::book::LiveOrder& o) { orders[o.ref] = o; });
  for (const auto& [ref, o] : orders) {
    uint8_t msg[64];
    const auto* in = books.instrument(o.instrument);
    const auto locate = static_cast<uint16_t>(o.instrument);
    const auto itchPrice = static_cast<uint32_t>(o.price / fh::record::priceFromItch4(1));
    const size_t n = fh::itch::encodeAddOrder(msg, locate, 0, 0, ref, o.side == Side::Bid ? 'B' : 'S', o.shares,
                                              std::string_view(in->symbol.data(), 8), itchPrice);
    add(msg, n);
  }
  return blocks;
}

void requireSameBooks(const fh::book::OrderBooks& a, const fh::book::OrderBooks& b) {
  for (uint16_t locate = 1; locate < config().maxInstruments; ++locate)
    for (Side side : {Side::Bid, Side::Ask}) {
      INFO("locate " << locate << " side " << int(side));
      REQUIRE(a.depth(locate, side) == b.depth(locate, side));
      for (uint32_t i = 0; i < a.depth(locate, side); ++i) {
        const auto x = a.level(locate, side, i), y = b.level(locate, side, i);
        REQUIRE(x.price == y.price);
        REQUIRE(x.shares == y.shares);
        REQUIRE(x.orders == y.orders);
      }
    }
}

struct Requests {
  int count = 0;
  uint64_t generation = 0;
  static void request(void* self, uint64_t generation) noexcept {
    auto* r = static_cast<Requests*>(self);
    ++r->count;
    r->generation = generation;
  }
};

struct Rig {
  fh::book::OrderBooks books{config()};
  NullPublisher publisher;
  feed::ItchHandler<NullPublisher> handler{books, publisher, 0};
  Requests requests;
  feed::SnapshotConfig cfg = [] {
    feed::SnapshotConfig c;
    c.enabled = true;
    c.bufferMessages = 4096;
    c.bufferBytes = 1 << 20;
    return c;
  }();
  feed::SnapshotRecovery<feed::ItchHandler<NullPublisher>> stage{cfg, handler, {&Requests::request, &requests}};

  void live(uint64_t from, uint64_t to) {  // messages from .. to, a packet each
    for (uint64_t s = from; s <= to && s <= day().messages.size(); ++s) {
      const auto& m = day().messages[s - 1];
      stage.message(s, 0, m.data(), static_cast<uint16_t>(m.size()));
      stage.endOfPacket();
    }
  }
  bool load(uint64_t next) {
    const std::vector<uint8_t> blocks = snapshotAt(next);
    const bool merged = stage.load(requests.generation, blocks, next, 0);
    handler.flush();
    return merged;
  }
};

}  // namespace

TEST_CASE("snapshot: a join is merged with a snapshot ending at, after or before the buffer's first message",
          "[snapshot]") {
  const uint64_t total = day().messages.size();
  const uint64_t join = total / 3;
  fh::book::OrderBooks whole(config());
  build(whole, total);

  SECTION("at: End of Snapshot is the first buffered sequence") {
    Rig r;
    r.stage.join(join);
    REQUIRE(r.requests.count == 1);
    REQUIRE(r.stage.waiting());
    r.live(join, join + 500);
    REQUIRE(r.load(join));
    REQUIRE_FALSE(r.stage.waiting());
    r.live(join + 501, total);
    requireSameBooks(r.books, whole);
    const auto c = r.stage.counters();
    CHECK(c.loaded == 1);
    CHECK(c.buffered == 501);
    CHECK(c.replayed == 501);
    CHECK(c.covered == 0);
    CHECK(c.suspectAdds == 0);
    CHECK(c.suspectUnknown == 0);
    CHECK(c.lastSequence == join);
    CHECK(r.publisher.snapshotRecords == c.orders);
    CHECK(r.publisher.recovered > 0);
    CHECK_FALSE(r.handler.joining());
  }
  SECTION("after: the snapshot covers part of the buffer, and more than was received") {
    for (uint64_t next : {join + 200, join + 900}) {
      Rig r;
      r.stage.join(join);
      r.live(join, join + 500);
      REQUIRE(r.load(next));
      r.live(join + 501, total);
      requireSameBooks(r.books, whole);
      const auto c = r.stage.counters();
      CHECK(c.covered == next - join);  // buffered, or arriving live after the merge
      CHECK(c.replayed == (next <= join + 500 ? join + 501 - next : 0));
      CHECK(c.suspectAdds == 0);
      CHECK(c.suspectUnknown == 0);
    }
  }
  SECTION("before: a snapshot that ends before the buffer is refused, counted, and asked for again") {
    Rig r;
    r.stage.join(join);
    r.live(join, join + 500);
    REQUIRE_FALSE(r.load(join - 1));
    REQUIRE(r.stage.waiting());
    REQUIRE(r.handler.joining());
    REQUIRE(r.requests.count == 2);
    REQUIRE(r.stage.counters().unusable == 1);
    r.live(join + 501, join + 700);
    REQUIRE(r.load(join + 650));
    r.live(join + 701, total);
    requireSameBooks(r.books, whole);
  }
  SECTION("off by one: a snapshot that holds one message more than it says is caught") {
    Rig r;
    r.stage.join(join);
    r.live(join, join + 500);
    // Message `at` is an add: a server that says `at` but includes it makes the client apply it twice.
    uint64_t at = join + 100;
    while (day().messages[at - 1][0] != 'A') ++at;
    const std::vector<uint8_t> blocks = snapshotAt(at + 1);
    REQUIRE(r.stage.load(r.requests.generation, blocks, at, 0));
    r.live(join + 501, total);
    CHECK(r.stage.counters().suspectAdds >= 1);
  }
  SECTION("a new session drops the wait; a snapshot of the old one is not merged") {
    Rig r;
    r.stage.join(join);
    r.live(join, join + 10);
    const uint64_t old = r.requests.generation;
    r.stage.newSession();
    REQUIRE_FALSE(r.stage.waiting());
    const std::vector<uint8_t> blocks = snapshotAt(join);
    REQUIRE_FALSE(r.stage.load(old, blocks, join, 0));
  }
}

TEST_CASE("snapshot: a lost hole asks for a snapshot that must reach past it, the buffer drops its oldest when full",
          "[snapshot]") {
  const uint64_t total = day().messages.size();
  fh::book::OrderBooks whole(config());
  build(whole, total);
  Rig r;
  r.live(1, 5000);
  r.stage.gap(5001, 10);  // messages 5001..5010 lost for good
  REQUIRE(r.requests.count == 1);
  r.live(5011, 5100);
  REQUIRE_FALSE(r.load(5005));  // inside the hole: unusable
  REQUIRE(r.stage.counters().unusable == 1);
  REQUIRE(r.load(5011));
  r.live(5101, total);
  requireSameBooks(r.books, whole);

  // A small buffer: the oldest go, and a snapshot older than what is kept is refused.
  feed::SnapshotConfig small = r.cfg;
  small.bufferMessages = 100;
  fh::book::OrderBooks books(config());
  NullPublisher publisher;
  feed::ItchHandler<NullPublisher> handler(books, publisher, 0);
  Requests requests;
  feed::SnapshotRecovery<feed::ItchHandler<NullPublisher>> stage(small, handler, {&Requests::request, &requests});
  stage.join(1000);
  for (uint64_t s = 1000; s < 1300; ++s) {
    const auto& m = day().messages[s - 1];
    stage.message(s, 0, m.data(), static_cast<uint16_t>(m.size()));
    stage.endOfPacket();
  }
  REQUIRE(stage.counters().overflowed == 200);
  const std::vector<uint8_t> early = snapshotAt(1150);
  REQUIRE_FALSE(stage.load(requests.generation, early, 1150, 0));
  const std::vector<uint8_t> late = snapshotAt(1250);
  REQUIRE(stage.load(requests.generation, late, 1250, 0));
  REQUIRE(stage.counters().replayed == 50);
}
