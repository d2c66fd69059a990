// The ITCH handler stage against a publisher that keeps its own copy of every
// book from what it is told (only the levels from `from` on): after every
// flush the copy equals the books' top levels, under random traffic; a book
// is republished only when a published level moved; a join marks every book
// joining, with a status record, and flags later records; a new session
// empties the books.
#include <catch2/catch.hpp>

#include <array>
#include <deque>
#include <map>
#include <random>
#include <vector>

#include "feed/itch_handler.h"
#include "itch/encode.h"

namespace {

using fh::book::Side;
namespace rec = fh::record;
namespace shm = fh::shm;

struct CopyPublisher {
  struct Copy {
    shm::BookFields fields{};
    std::array<shm::Level, shm::kMaxDepth> bids{}, asks{};
  };
  uint32_t levels = 3;
  std::map<uint16_t, Copy> books;
  std::vector<rec::MboMsg> mbos;
  std::vector<rec::StatusMsg> statuses;
  uint64_t bookPublishes = 0;

  void record(const rec::MboMsg& m) noexcept { mbos.push_back(m); }
  void record(const rec::Mbp1Msg&) noexcept {}
  void record(const rec::StatusMsg& m) noexcept { statuses.push_back(m); }
  void instrument(uint16_t, const char (&)[8], char) noexcept {}
  void book(const fh::feed::BookView& s) noexcept {
    Copy& c = books[s.instrument];
    c.fields = s.fields;
    s.changedLevels(0, [&](uint32_t k, const shm::Level& l) { c.bids[k] = l; });
    s.changedLevels(1, [&](uint32_t k, const shm::Level& l) { c.asks[k] = l; });
    ++bookPublishes;
  }
  void prefetchBook(uint16_t, shm::LevelRange, shm::LevelRange) const noexcept {}
  uint32_t depth() const noexcept { return levels; }
};
static_assert(fh::feed::RecordPublisher<CopyPublisher>);

fh::book::BookConfig config() {
  fh::book::BookConfig c;
  c.maxInstruments = 8;
  c.maxOrders = 1 << 12;
  c.maxLevels = 1 << 12;
  return c;
}

struct Fixture {
  fh::book::OrderBooks books{config()};
  CopyPublisher publisher;
  fh::feed::ItchHandler<CopyPublisher> handler{books, publisher, 0};
  uint64_t sequence = 0;
  std::deque<std::array<uint8_t, 64>> keep;  // message bytes stay put until endOfPacket

  void send(size_t n) {
    ++sequence;
    handler.message(sequence, 1000 + sequence, keep.back().data(), static_cast<uint16_t>(n));
  }
  uint8_t* next() { return keep.emplace_back().data(); }
  void directory(uint16_t locate, const char* symbol) {
    fh::itch::StockDirectoryFields f;
    f.stock = symbol;
    send(fh::itch::encodeStockDirectory(next(), locate, 0, sequence, f));
  }
  void add(uint16_t locate, uint64_t ref, char side, uint32_t shares, uint32_t price) {
    send(fh::itch::encodeAddOrder(next(), locate, 0, sequence, ref, side, shares, "", price));
  }
  void remove(uint16_t locate, uint64_t ref) { send(fh::itch::encodeOrderDelete(next(), locate, 0, sequence, ref)); }
  void cancel(uint16_t locate, uint64_t ref, uint32_t shares) {
    send(fh::itch::encodeOrderCancel(next(), locate, 0, sequence, ref, shares));
  }
  void flush() {
    handler.flush();
    keep.clear();
  }

  void requireCopyMatches(uint16_t locate) {
    const CopyPublisher::Copy& c = publisher.books[locate];
    for (const Side side : {Side::Bid, Side::Ask}) {
      const uint32_t n = std::min(books.depth(locate, side), publisher.levels);
      REQUIRE((side == Side::Bid ? c.fields.bidLevels : c.fields.askLevels) == n);
      for (uint32_t i = 0; i < n; ++i) {
        const fh::book::PriceLevel l = books.level(locate, side, i);
        const shm::Level& p = side == Side::Bid ? c.bids[i] : c.asks[i];
        INFO("locate " << locate << " side " << int(side) << " level " << i);
        REQUIRE(p.price == l.price);
        REQUIRE(p.shares == l.shares);
        REQUIRE(p.orders == l.orders);
      }
    }
  }
};

}  // namespace

TEST_CASE("itch handler: the published copy of each book equals its top levels after every flush", "[handler]") {
  Fixture t;
  for (uint16_t l = 1; l < 5; ++l) t.directory(l, "SYM");
  std::mt19937_64 rng(7);
  std::map<uint64_t, uint16_t> live;
  uint64_t nextRef = 1;
  for (int round = 0; round < 400; ++round) {
    const int burst = 1 + int(rng() % 40);
    for (int i = 0; i < burst; ++i) {
      const uint16_t locate = uint16_t(1 + rng() % 4);
      if (live.empty() || rng() % 3 != 0) {
        t.add(locate, nextRef, rng() % 2 ? 'B' : 'S', uint32_t(1 + rng() % 500), uint32_t(100 + rng() % 12) * 100);
        live[nextRef++] = locate;
      } else {
        auto it = live.begin();
        std::advance(it, long(rng() % live.size()));
        if (rng() % 2) {
          t.remove(it->second, it->first);
          live.erase(it);
        } else {
          t.cancel(it->second, it->first, 1);
        }
      }
    }
    t.flush();
    for (uint16_t l = 1; l < 5; ++l)
      if (t.publisher.books.count(l)) t.requireCopyMatches(l);
  }
  CHECK(t.publisher.bookPublishes > 0);
}

TEST_CASE("itch handler: a book is republished once per flush, and only when a published level moved", "[handler]") {
  Fixture t;
  t.directory(1, "AAA");
  t.flush();
  const uint64_t before = t.publisher.bookPublishes;
  t.add(1, 1, 'B', 100, 1000);
  t.add(1, 2, 'B', 100, 1001);
  t.add(1, 3, 'B', 100, 1002);
  t.flush();
  CHECK(t.publisher.bookPublishes == before + 1);  // three messages, one snapshot
  t.add(1, 4, 'B', 100, 900);                      // the fourth level: below the three published
  t.cancel(1, 4, 10);
  t.flush();
  CHECK(t.publisher.bookPublishes == before + 1);
  t.remove(1, 3);  // the best bid goes: level 4 moves into view
  t.flush();
  CHECK(t.publisher.bookPublishes == before + 2);
  t.requireCopyMatches(1);
  CHECK(t.publisher.books[1].bids[2].price == rec::priceFromItch4(900));
  CHECK(t.publisher.books[1].fields.status == shm::BookStatus::Normal);
}

TEST_CASE("itch handler: a join marks every book joining at once, a new session empties them", "[handler]") {
  Fixture t;
  t.directory(1, "AAA");
  t.directory(2, "BBB");
  t.add(1, 1, 'B', 100, 1000);
  t.flush();
  CHECK(t.publisher.books[1].fields.status == shm::BookStatus::Normal);
  t.handler.join(500);
  REQUIRE(t.publisher.statuses.size() == 2);
  for (const rec::StatusMsg& s : t.publisher.statuses) CHECK(s.reason == rec::StatusReason::BookJoining);
  CHECK(t.publisher.books[1].fields.status == shm::BookStatus::Joining);
  CHECK(t.publisher.books[2].fields.status == shm::BookStatus::Joining);
  t.directory(3, "CCC");  // listed while joining: incomplete from its first record
  t.flush();
  REQUIRE(t.publisher.statuses.size() == 3);
  CHECK(t.publisher.statuses.back().reason == rec::StatusReason::BookJoining);
  CHECK(t.publisher.statuses.back().hd.instrumentId == 3);
  t.add(2, 2, 'S', 100, 1100);
  t.flush();
  CHECK((t.publisher.mbos.back().flags & rec::flags::kMaybeBadBook) != 0);
  CHECK(t.publisher.books[2].fields.status == shm::BookStatus::Joining);

  t.handler.newSession();
  CHECK(t.books.liveOrders() == 0);
  CHECK(t.publisher.books[1].fields.status == shm::BookStatus::Normal);
  CHECK(t.publisher.books[1].fields.bidLevels == 0);
  CHECK(t.publisher.books[2].fields.askLevels == 0);
  t.directory(1, "AAA");
  t.add(1, 1, 'B', 100, 1000);
  t.flush();
  CHECK((t.publisher.mbos.back().flags & rec::flags::kMaybeBadBook) == 0);
  t.requireCopyMatches(1);
}
