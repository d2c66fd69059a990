// OrderBooks against a plain reference model (std::map) under random
// operations, plus the edge cases: unknown and duplicate references, over-
// execution, replace, store limits, and the records BookBuilder emits.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <random>
#include <unordered_map>
#include <vector>

#include "book/book_builder.h"
#include "book/order_book.h"
#include "record/record.h"

using fh::book::BookConfig;
using fh::book::OrderBooks;
using fh::book::Side;
using fh::book::Status;

namespace {

BookConfig smallConfig() {
  BookConfig c;
  c.maxInstruments = 64;
  c.maxOrders = 1 << 12;
  c.maxLevels = 1 << 12;
  return c;
}

// The obvious implementation: every live order, and levels derived from them.
struct Model {
  struct O {
    uint16_t locate;
    Side side;
    uint32_t price;
    uint32_t shares;
  };
  std::unordered_map<uint64_t, O> orders;

  // Levels of one side best first: (price, shares, orders).
  std::vector<std::tuple<uint32_t, uint64_t, uint32_t>> levels(uint16_t locate, Side side) const {
    std::map<uint32_t, std::pair<uint64_t, uint32_t>> byPrice;
    for (const auto& [ref, o] : orders)
      if (o.locate == locate && o.side == side) {
        auto& l = byPrice[o.price];
        l.first += o.shares;
        l.second += 1;
      }
    std::vector<std::tuple<uint32_t, uint64_t, uint32_t>> out;
    for (const auto& [price, l] : byPrice) out.emplace_back(price, l.first, l.second);
    if (side == Side::Bid) std::reverse(out.begin(), out.end());
    return out;
  }
};

void requireSame(const OrderBooks& books, const Model& model, uint16_t locates) {
  REQUIRE(books.liveOrders() == model.orders.size());
  for (uint16_t locate = 1; locate < locates; ++locate)
    for (Side side : {Side::Bid, Side::Ask}) {
      const auto expected = model.levels(locate, side);
      REQUIRE(books.depth(locate, side) == expected.size());
      for (uint32_t i = 0; i < expected.size(); ++i) {
        const auto l = books.level(locate, side, i);
        INFO("locate " << locate << " side " << int(side) << " level " << i);
        REQUIRE(l.price == std::get<0>(expected[i]));
        REQUIRE(l.shares == std::get<1>(expected[i]));
        REQUIRE(l.orders == std::get<2>(expected[i]));
      }
    }
  for (const auto& [ref, o] : model.orders) {
    const fh::book::Order* found = books.findOrder(ref);
    REQUIRE(found != nullptr);
    REQUIRE(found->shares() == o.shares);
    REQUIRE(found->price() == o.price);
    REQUIRE(found->locate() == o.locate);
  }
}

}  // namespace

TEST_CASE("book: adds aggregate into price levels, best first on each side", "[book]") {
  OrderBooks books(smallConfig());
  REQUIRE(books.add(5, 1, 'B', 100, 1000'0000).status == Status::Ok);
  REQUIRE(books.add(5, 2, 'B', 200, 1000'0000).status == Status::Ok);
  REQUIRE(books.add(5, 3, 'B', 300, 999'0000).status == Status::Ok);
  REQUIRE(books.add(5, 4, 'S', 50, 1001'0000).status == Status::Ok);
  REQUIRE(books.add(5, 5, 'S', 70, 1002'0000).status == Status::Ok);
  REQUIRE(books.depth(5, Side::Bid) == 2);
  REQUIRE(books.level(5, Side::Bid, 0).price == 1000'0000);
  REQUIRE(books.level(5, Side::Bid, 0).shares == 300);
  REQUIRE(books.level(5, Side::Bid, 0).orders == 2);
  REQUIRE(books.level(5, Side::Bid, 1).price == 999'0000);
  REQUIRE(books.level(5, Side::Ask, 0).price == 1001'0000);
  REQUIRE(books.level(5, Side::Ask, 1).price == 1002'0000);
  REQUIRE(books.depth(6, Side::Bid) == 0);
}

TEST_CASE("book: executions, cancels, deletes and replaces", "[book]") {
  OrderBooks books(smallConfig());
  books.add(7, 10, 'S', 500, 200'0000);
  books.add(7, 11, 'S', 100, 201'0000);

  auto u = books.execute(10, 200);
  REQUIRE(u.status == Status::Ok);
  REQUIRE(u.shares == 200);
  REQUIRE(u.remaining == 300);
  REQUIRE(u.depth == 0);
  REQUIRE(books.level(7, Side::Ask, 0).shares == 300);

  u = books.cancel(11, 40);
  REQUIRE(u.depth == 1);
  REQUIRE(books.level(7, Side::Ask, 1).shares == 60);

  fh::book::Update removed;
  u = books.replace(10, 12, 50, 199'0000, removed);
  REQUIRE(removed.status == Status::Ok);
  REQUIRE(removed.shares == 300);
  REQUIRE(u.status == Status::Ok);
  REQUIRE(u.side == Side::Ask);
  REQUIRE(books.findOrder(10) == nullptr);
  REQUIRE(books.findOrder(12)->price() == 199'0000);
  REQUIRE(books.level(7, Side::Ask, 0).price == 199'0000);
  REQUIRE(books.depth(7, Side::Ask) == 2);

  u = books.remove(11);
  REQUIRE(u.shares == 60);
  REQUIRE(books.depth(7, Side::Ask) == 1);
  u = books.execute(12, 50);
  REQUIRE(u.remaining == 0);
  REQUIRE(books.depth(7, Side::Ask) == 0);
  REQUIRE(books.liveOrders() == 0);
  REQUIRE(books.liveLevels() == 0);
  REQUIRE(books.counters().replaces == 1);
  REQUIRE(books.counters().adds == 2);
}

TEST_CASE("book: bad references are counted and change nothing", "[book]") {
  OrderBooks books(smallConfig());
  books.add(3, 1, 'B', 100, 10'0000);
  REQUIRE(books.execute(99, 1).status == Status::UnknownOrder);
  REQUIRE(books.cancel(99, 1).status == Status::UnknownOrder);
  REQUIRE(books.remove(99).status == Status::UnknownOrder);
  fh::book::Update removed;
  REQUIRE(books.replace(99, 100, 1, 1, removed).status == Status::UnknownOrder);
  REQUIRE(books.counters().unknownOrder == 4);
  REQUIRE(books.add(3, 1, 'B', 5, 11'0000).status == Status::DuplicateOrder);
  REQUIRE(books.add(0, 2, 'B', 5, 11'0000).status == Status::BadLocate);
  REQUIRE(books.add(64, 2, 'B', 5, 11'0000).status == Status::BadLocate);
  REQUIRE(books.add(3, 2, 'Z', 5, 11'0000).status == Status::BadSide);
  // A replace onto a live reference would lose the original: refused.
  books.add(3, 2, 'B', 7, 9'0000);
  REQUIRE(books.replace(1, 2, 1, 1, removed).status == Status::DuplicateOrder);
  REQUIRE(books.findOrder(1) != nullptr);
  // Executing more than is open takes what is open and is counted.
  auto u = books.execute(1, 1000);
  REQUIRE(u.shares == 100);
  REQUIRE(books.counters().overExecuted == 1);
  REQUIRE(books.findOrder(1) == nullptr);
  REQUIRE(books.liveOrders() == 1);
  REQUIRE(books.depth(3, Side::Bid) == 1);
  REQUIRE(books.level(3, Side::Bid, 0).shares == 7);
}

TEST_CASE("book: full stores refuse, count and mark the book", "[book]") {
  BookConfig c = smallConfig();
  c.maxOrders = 16;
  c.maxLevels = 64;
  OrderBooks books(c);
  for (uint64_t ref = 1; ref <= 16; ++ref) REQUIRE(books.add(2, ref, 'B', 1, 100).status == Status::Ok);
  REQUIRE(books.add(2, 17, 'B', 1, 100).status == Status::OrderStoreFull);
  REQUIRE(books.instrument(2)->maybeBad);
  REQUIRE(books.counters().orderStoreFull == 1);
  books.remove(1);
  REQUIRE(books.add(2, 17, 'B', 1, 100).status == Status::Ok);

  // Levels: the arena holds 2 x maxLevels entries in power-of-two blocks.
  c.maxOrders = 4096;
  OrderBooks levels(c);
  uint64_t ref = 1;
  Status last = Status::Ok;
  for (; last == Status::Ok && ref < 1000; ++ref)
    last = levels.add(static_cast<uint16_t>(1 + ref % 8), ref, 'S', 1, static_cast<uint32_t>(ref)).status;
  REQUIRE(last == Status::LevelStoreFull);
  REQUIRE(levels.counters().levelStoreFull == 1);
  REQUIRE(last != Status::Ok);
}

TEST_CASE("book: an order slot keeps references up to 2^47 - 1 and refuses larger ones", "[book]") {
  OrderBooks books(smallConfig());
  const uint64_t top = fh::book::Order::kMaxRef;
  REQUIRE(books.add(5, top, 'S', 300, 12'3400).status == Status::Ok);
  REQUIRE(books.findOrder(top)->ref() == top);
  REQUIRE(books.findOrder(top)->side() == Side::Ask);
  REQUIRE(books.findOrder(top)->locate() == 5);
  REQUIRE(books.findOrder(top)->shares() == 300);
  REQUIRE(books.findOrder(top)->price() == 12'3400);
  REQUIRE(books.findOrder(top & 0xFFFF) == nullptr);  // no alias among the low bits
  REQUIRE(books.add(6, top + 1, 'B', 1, 100).status == Status::RefTooLarge);
  REQUIRE(books.add(6, UINT64_MAX, 'B', 1, 100).status == Status::RefTooLarge);
  REQUIRE(books.counters().refTooLarge == 2);
  REQUIRE(books.instrument(6)->maybeBad);  // the book misses an order
  REQUIRE(books.depth(6, Side::Bid) == 0);
  REQUIRE(books.remove(top + 1).status == Status::UnknownOrder);
  REQUIRE(books.execute(UINT64_MAX, 1).status == Status::UnknownOrder);
  REQUIRE(books.remove(top).status == Status::Ok);
  REQUIRE(books.liveOrders() == 0);
}

TEST_CASE("book: the level arena splits and merges its blocks", "[book]") {
  BookConfig c = smallConfig();
  c.maxLevels = 64;  // 64 slots: sixteen 4-slot blocks, or one of 64
  OrderBooks books(c);
  for (uint16_t locate = 1; locate <= 16; ++locate)
    REQUIRE(books.add(locate, locate, 'B', 1, 100).status == Status::Ok);
  REQUIRE(books.add(17, 17, 'B', 1, 100).status == Status::LevelStoreFull);
  for (uint64_t ref = 1; ref <= 16; ++ref) REQUIRE(books.remove(ref).status == Status::Ok);
  // Freed blocks merge back: one side can now grow to a 32-slot block (which
  // needs the 16-slot one it grows from, both at once) but not to 64.
  for (uint32_t i = 0; i < 32; ++i)
    REQUIRE(books.add(40, 100 + i, 'S', 1, 1000 + i).status == Status::Ok);
  REQUIRE(books.add(40, 200, 'S', 1, 5000).status == Status::LevelStoreFull);
  REQUIRE(books.depth(40, Side::Ask) == 32);
  REQUIRE(books.add(41, 500, 'S', 1, 1).status == Status::Ok);  // the 4 slots beside it
  REQUIRE(books.remove(500).status == Status::Ok);
  for (uint32_t i = 0; i < 32; ++i) REQUIRE(books.remove(100 + i).status == Status::Ok);
  REQUIRE(books.liveLevels() == 0);
  for (uint16_t locate = 1; locate <= 16; ++locate)
    REQUIRE(books.add(locate, 1000 + locate, 'S', 1, 100).status == Status::Ok);
}

TEST_CASE("book: matches the reference model under random operations", "[book]") {
  const uint64_t seed = GENERATE(1, 2, 3, 4);
  std::mt19937_64 rng(seed);
  BookConfig c = smallConfig();
  c.maxOrders = 3000;
  OrderBooks books(c);
  Model model;
  std::vector<uint64_t> live;
  uint64_t nextRef = 1;
  constexpr uint16_t kLocates = 6;
  auto pick = [&]() -> size_t { return std::uniform_int_distribution<size_t>(0, live.size() - 1)(rng); };
  auto forget = [&](size_t i) {
    live[i] = live.back();
    live.pop_back();
  };

  for (int step = 0; step < 40000; ++step) {
    const int op = std::uniform_int_distribution<int>(0, 99)(rng);
    if (live.empty() || op < 35 || (live.size() < 1500 && op < 50)) {
      const auto locate = static_cast<uint16_t>(std::uniform_int_distribution<int>(1, kLocates - 1)(rng));
      const bool bid = rng() & 1;
      // Prices cluster: a few hundred distinct values, some far away.
      uint32_t price = 10'0000 + static_cast<uint32_t>(std::uniform_int_distribution<int>(0, 60)(rng)) * 100;
      if (op % 17 == 0) price = static_cast<uint32_t>(rng() % 2'000'000'000u);
      const auto shares = static_cast<uint32_t>(std::uniform_int_distribution<int>(1, 1000)(rng));
      // References jump sometimes, so that slots collide and wrap around.
      nextRef += (op % 13 == 0) ? (uint64_t{1} << (12 + op % 20)) : 1;
      REQUIRE(books.add(locate, nextRef, bid ? 'B' : 'S', shares, price).status == Status::Ok);
      model.orders[nextRef] = {locate, bid ? Side::Bid : Side::Ask, price, shares};
      live.push_back(nextRef);
    } else if (op < 70) {
      const size_t i = pick();
      REQUIRE(books.remove(live[i]).status == Status::Ok);
      model.orders.erase(live[i]);
      forget(i);
    } else if (op < 85) {
      const size_t i = pick();
      auto& o = model.orders[live[i]];
      const auto n = static_cast<uint32_t>(std::uniform_int_distribution<uint32_t>(1, o.shares)(rng));
      const auto u = (op & 1) ? books.execute(live[i], n) : books.cancel(live[i], n);
      REQUIRE(u.status == Status::Ok);
      REQUIRE(u.shares == n);
      o.shares -= n;
      if (o.shares == 0) {
        model.orders.erase(live[i]);
        forget(i);
      }
    } else {
      const size_t i = pick();
      const uint64_t old = live[i];
      const auto o = model.orders[old];
      const uint32_t price = o.price + static_cast<uint32_t>(std::uniform_int_distribution<int>(0, 4)(rng)) * 100;
      fh::book::Update removed;
      const auto u = books.replace(old, ++nextRef, o.shares + 1, price, removed);
      REQUIRE(u.status == Status::Ok);
      model.orders.erase(old);
      model.orders[nextRef] = {o.locate, o.side, price, o.shares + 1};
      live[i] = nextRef;
    }
    if (step % 5000 == 0) requireSame(books, model, kLocates);
  }
  requireSame(books, model, kLocates);
}

namespace {
struct Collect {
  std::vector<fh::record::MboMsg> mbos;
  std::vector<fh::record::Mbp1Msg> tops;
  void mbo(const fh::record::MboMsg& m) { mbos.push_back(m); }
  void mbp1(const fh::record::Mbp1Msg& m) { tops.push_back(m); }
};

// An ITCH message built field by field (spec layout) for the builder tests.
struct Msg {
  uint8_t b[64]{};
  Msg(char type, uint16_t locate, uint64_t ts) {
    b[0] = static_cast<uint8_t>(type);
    fh::storeBe16(b + 1, locate);
    fh::storeBe48(b + 5, ts);
  }
};
}  // namespace

TEST_CASE("book builder: MBO for each event, MBP-1 when the top changes", "[book][record]") {
  OrderBooks books(smallConfig());
  Collect sink;
  const int64_t midnight = fh::record::easternMidnightNs(2019, 12, 30);
  fh::book::BookBuilder<Collect> builder(books, sink, midnight);

  Msg add('A', 9, 34'200'000'000'000);  // 09:30
  fh::storeBe64(add.b + 11, 77);
  add.b[19] = 'B';
  fh::storeBe32(add.b + 20, 300);
  std::memcpy(add.b + 24, "AAPL    ", 8);
  fh::storeBe32(add.b + 32, 182'9100);
  builder.setContext(1234, 555);
  builder.on(fh::itch::AddOrder{{add.b}});

  REQUIRE(books.instrument(9)->symbolTrimmed() == "AAPL");
  REQUIRE(sink.mbos.size() == 1);
  const auto& m = sink.mbos[0];
  REQUIRE(m.hd.rtype == fh::record::RType::Mbo);
  REQUIRE(m.hd.length == 14);
  REQUIRE(m.hd.instrumentId == 9);
  REQUIRE(m.hd.tsEvent == static_cast<uint64_t>(midnight) + 34'200'000'000'000);
  REQUIRE(m.orderId == 77);
  REQUIRE(m.price == 182'910'000'000);
  REQUIRE(m.size == 300);
  REQUIRE(m.action == fh::record::Action::Add);
  REQUIRE(m.side == fh::record::Side::Bid);
  REQUIRE(m.flags == fh::record::flags::kLast);
  REQUIRE(m.tsRecv == 555);
  REQUIRE(m.sequence == 1234);
  REQUIRE(sink.tops.size() == 1);
  REQUIRE(sink.tops[0].levels[0].bidPx == 182'910'000'000);
  REQUIRE(sink.tops[0].levels[0].bidSz == 300);
  REQUIRE(sink.tops[0].levels[0].askPx == fh::record::kUndefPrice);

  // A deeper bid changes no top: MBO only.
  fh::storeBe64(add.b + 11, 78);
  fh::storeBe32(add.b + 32, 182'0000);
  builder.on(fh::itch::AddOrder{{add.b}});
  REQUIRE(sink.mbos.size() == 2);
  REQUIRE(sink.tops.size() == 1);

  // Replace: cancel of the old order then add of the new, LAST on the second.
  Msg rep('U', 9, 34'200'000'000'100);
  fh::storeBe64(rep.b + 11, 78);
  fh::storeBe64(rep.b + 19, 90);
  fh::storeBe32(rep.b + 27, 10);
  fh::storeBe32(rep.b + 31, 183'0000);
  builder.on(fh::itch::OrderReplace{{rep.b}});
  REQUIRE(sink.mbos.size() == 4);
  REQUIRE(sink.mbos[2].action == fh::record::Action::Cancel);
  REQUIRE(sink.mbos[2].orderId == 78);
  REQUIRE(sink.mbos[2].flags == 0);
  REQUIRE(sink.mbos[3].action == fh::record::Action::Add);
  REQUIRE(sink.mbos[3].orderId == 90);
  REQUIRE(sink.mbos[3].flags == fh::record::flags::kLast);
  REQUIRE(sink.tops.size() == 2);
  REQUIRE(sink.tops[1].levels[0].bidPx == 183'000'000'000);

  // Execution with price: a fill at the execution price.
  Msg exec('C', 9, 34'200'000'000'200);
  fh::storeBe64(exec.b + 11, 90);
  fh::storeBe32(exec.b + 19, 4);
  exec.b[31] = 'Y';
  fh::storeBe32(exec.b + 32, 182'9900);
  builder.on(fh::itch::OrderExecutedWithPrice{{exec.b}});
  REQUIRE(sink.mbos.back().action == fh::record::Action::Fill);
  REQUIRE(sink.mbos.back().price == 182'990'000'000);
  REQUIRE(sink.mbos.back().size == 4);
  REQUIRE(sink.tops.back().levels[0].bidSz == 6);
  REQUIRE(builder.counters().locateMismatch == 0);
}

TEST_CASE("records: Eastern midnight in UNIX time across DST", "[record]") {
  // 2019-12-30 (EST, UTC-5): 2019-12-30T05:00:00Z = 1577682000.
  REQUIRE(fh::record::easternMidnightNs(2019, 12, 30) == 1'577'682'000'000'000'000);
  // 2016-09-13 (EDT, UTC-4): 2016-09-13T04:00:00Z = 1473739200.
  REQUIRE(fh::record::easternMidnightNs(2016, 9, 13) == 1'473'739'200'000'000'000);
  // The switch days: midnight comes before 02:00, so still on the old offset.
  // 2023-03-12 00:00 EST = 05:00Z = 1678597200; 2023-11-05 00:00 EDT = 04:00Z = 1699156800.
  REQUIRE(fh::record::easternMidnightNs(2023, 3, 12) == 1'678'597'200'000'000'000);
  REQUIRE(fh::record::easternMidnightNs(2023, 3, 13) == 1'678'680'000'000'000'000);
  REQUIRE(fh::record::easternMidnightNs(2023, 11, 5) == 1'699'156'800'000'000'000);
  REQUIRE(fh::record::easternMidnightNs(2023, 11, 6) == 1'699'246'800'000'000'000);
}
