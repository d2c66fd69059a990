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

// ITCH's Price(4) in the books' 1e-9.
constexpr fh::book::Price px(uint32_t itch4) { return fh::record::priceFromItch4(itch4); }

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
        REQUIRE(l.price == px(std::get<0>(expected[i])));
        REQUIRE(l.shares == std::get<1>(expected[i]));
        REQUIRE(l.orders == std::get<2>(expected[i]));
      }
    }
  for (const auto& [ref, o] : model.orders) {
    const auto found = books.findOrder(ref);
    REQUIRE(found.has_value());
    REQUIRE(found->shares == o.shares);
    REQUIRE(found->price == px(o.price));
    REQUIRE(found->instrument == o.locate);
  }
}

}  // namespace

TEST_CASE("book: adds aggregate into price levels, best first on each side", "[book]") {
  OrderBooks books(smallConfig());
  REQUIRE(books.add(5, 1, Side::Bid, 100, px(1000'0000)).status == Status::Ok);
  REQUIRE(books.add(5, 2, Side::Bid, 200, px(1000'0000)).status == Status::Ok);
  REQUIRE(books.add(5, 3, Side::Bid, 300, px(999'0000)).status == Status::Ok);
  REQUIRE(books.add(5, 4, Side::Ask, 50, px(1001'0000)).status == Status::Ok);
  REQUIRE(books.add(5, 5, Side::Ask, 70, px(1002'0000)).status == Status::Ok);
  REQUIRE(books.depth(5, Side::Bid) == 2);
  REQUIRE(books.level(5, Side::Bid, 0).price == px(1000'0000));
  REQUIRE(books.level(5, Side::Bid, 0).shares == 300);
  REQUIRE(books.level(5, Side::Bid, 0).orders == 2);
  REQUIRE(books.level(5, Side::Bid, 1).price == px(999'0000));
  REQUIRE(books.level(5, Side::Ask, 0).price == px(1001'0000));
  REQUIRE(books.level(5, Side::Ask, 1).price == px(1002'0000));
  REQUIRE(books.depth(6, Side::Bid) == 0);
}

TEST_CASE("book: executions, cancels, deletes and replaces", "[book]") {
  OrderBooks books(smallConfig());
  books.add(7, 10, Side::Ask, 500, px(200'0000));
  books.add(7, 11, Side::Ask, 100, px(201'0000));

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
  u = books.replace(10, 12, 50, px(199'0000), removed);
  REQUIRE(removed.status == Status::Ok);
  REQUIRE(removed.shares == 300);
  REQUIRE(u.status == Status::Ok);
  REQUIRE(u.side == Side::Ask);
  REQUIRE(!books.findOrder(10));
  REQUIRE(books.findOrder(12)->price == px(199'0000));
  REQUIRE(books.level(7, Side::Ask, 0).price == px(199'0000));
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
  books.add(3, 1, Side::Bid, 100, px(10'0000));
  REQUIRE(books.execute(99, 1).status == Status::UnknownOrder);
  REQUIRE(books.cancel(99, 1).status == Status::UnknownOrder);
  REQUIRE(books.remove(99).status == Status::UnknownOrder);
  fh::book::Update removed;
  REQUIRE(books.replace(99, 100, 1, px(1), removed).status == Status::UnknownOrder);
  REQUIRE(books.counters().unknownOrder == 4);
  REQUIRE(books.add(3, 1, Side::Bid, 5, px(11'0000)).status == Status::DuplicateOrder);
  REQUIRE(books.add(0, 2, Side::Bid, 5, px(11'0000)).status == Status::BadInstrument);
  REQUIRE(books.add(64, 2, Side::Bid, 5, px(11'0000)).status == Status::BadInstrument);
  // A replace onto a live reference would lose the original: refused.
  books.add(3, 2, Side::Bid, 7, px(9'0000));
  REQUIRE(books.replace(1, 2, 1, px(1), removed).status == Status::DuplicateOrder);
  REQUIRE(books.findOrder(1).has_value());
  // Executing more than is open takes what is open and is counted.
  auto u = books.execute(1, 1000);
  REQUIRE(u.shares == 100);
  REQUIRE(books.counters().overExecuted == 1);
  REQUIRE(!books.findOrder(1));
  REQUIRE(books.liveOrders() == 1);
  REQUIRE(books.depth(3, Side::Bid) == 1);
  REQUIRE(books.level(3, Side::Bid, 0).shares == 7);
}

TEST_CASE("book: full stores refuse, count and mark the book", "[book]") {
  BookConfig c = smallConfig();
  c.maxOrders = 16;
  c.maxLevels = 64;
  OrderBooks books(c);
  for (uint64_t ref = 1; ref <= 16; ++ref) REQUIRE(books.add(2, ref, Side::Bid, 1, px(100)).status == Status::Ok);
  REQUIRE(books.add(2, 17, Side::Bid, 1, px(100)).status == Status::OrderStoreFull);
  REQUIRE(books.instrument(2)->maybeBad);
  REQUIRE(books.counters().orderStoreFull == 1);
  books.remove(1);
  REQUIRE(books.add(2, 17, Side::Bid, 1, px(100)).status == Status::Ok);

  // Levels: the arena holds 2 x maxLevels entries in power-of-two blocks.
  c.maxOrders = 4096;
  OrderBooks levels(c);
  uint64_t ref = 1;
  Status last = Status::Ok;
  for (; last == Status::Ok && ref < 1000; ++ref)
    last = levels.add(static_cast<uint16_t>(1 + ref % 8), ref, Side::Ask, 1, px(static_cast<uint32_t>(ref))).status;
  REQUIRE(last == Status::LevelStoreFull);
  REQUIRE(levels.counters().levelStoreFull == 1);
  REQUIRE(last != Status::Ok);
}

TEST_CASE("book: an order slot keeps references up to 2^47 - 1 and refuses larger ones", "[book]") {
  OrderBooks books(smallConfig());
  const uint64_t top = fh::book::kMaxOrderRef;
  REQUIRE(books.add(5, top, Side::Ask, 300, px(12'3400)).status == Status::Ok);
  REQUIRE(books.findOrder(top)->ref == top);
  REQUIRE(books.findOrder(top)->side == Side::Ask);
  REQUIRE(books.findOrder(top)->instrument == 5);
  REQUIRE(books.findOrder(top)->shares == 300);
  REQUIRE(books.findOrder(top)->price == px(12'3400));
  REQUIRE(!books.findOrder(top & 0xFFFF));  // no alias among the low bits
  REQUIRE(books.add(6, top + 1, Side::Bid, 1, px(100)).status == Status::RefTooLarge);
  REQUIRE(books.add(6, UINT64_MAX, Side::Bid, 1, px(100)).status == Status::RefTooLarge);
  REQUIRE(books.counters().refTooLarge == 2);
  REQUIRE(books.instrument(6)->maybeBad);  // the book misses an order
  REQUIRE(books.depth(6, Side::Bid) == 0);
  REQUIRE(books.remove(top + 1).status == Status::UnknownOrder);
  REQUIRE(books.execute(UINT64_MAX, 1).status == Status::UnknownOrder);
  REQUIRE(books.remove(top).status == Status::Ok);
  REQUIRE(books.liveOrders() == 0);
}

TEST_CASE("book: prices are i64 in 1e-9 on the venue's grid, negative ones too", "[book]") {
  BookConfig c = smallConfig();
  c.priceTick = 10'000'000;  // a venue quoting in cents
  OrderBooks books(c);
  const fh::book::Price cent = c.priceTick;
  REQUIRE(books.priceTick() == cent);
  // A spread's prices: negative bids sort below positive ones, best first.
  REQUIRE(books.add(4, 1, Side::Bid, 10, -250 * cent).status == Status::Ok);
  REQUIRE(books.add(4, 2, Side::Bid, 20, 3 * cent).status == Status::Ok);
  REQUIRE(books.add(4, 3, Side::Bid, 30, 0).status == Status::Ok);
  REQUIRE(books.add(4, 4, Side::Ask, 40, -1 * cent).status == Status::Ok);
  REQUIRE(books.add(4, 5, Side::Ask, 50, 7 * cent).status == Status::Ok);
  REQUIRE(books.level(4, Side::Bid, 0).price == 3 * cent);
  REQUIRE(books.level(4, Side::Bid, 1).price == 0);
  REQUIRE(books.level(4, Side::Bid, 2).price == -250 * cent);
  REQUIRE(books.level(4, Side::Ask, 0).price == -1 * cent);
  REQUIRE(books.level(4, Side::Ask, 1).price == 7 * cent);
  REQUIRE(books.findOrder(1)->price == -250 * cent);
  REQUIRE(books.execute(1, 4).price == -250 * cent);

  // The grid's ends: 2^31 ticks either side of zero, the top one excluded.
  const fh::book::Price lowest = -(fh::book::Price{1} << 31) * cent, highest = -lowest - cent;
  REQUIRE(books.add(5, 10, Side::Bid, 1, lowest).status == Status::Ok);
  REQUIRE(books.add(5, 11, Side::Ask, 1, highest).status == Status::Ok);
  REQUIRE(books.level(5, Side::Bid, 0).price == lowest);
  REQUIRE(books.level(5, Side::Ask, 0).price == highest);
  // Off the grid, beyond it, or far beyond (where the arithmetic wraps): refused, counted, marked.
  for (const fh::book::Price bad : std::initializer_list<fh::book::Price>{
           cent / 2, 3 * cent + 1, -1, highest + cent, lowest - cent, highest + 2 * cent, fh::book::Price{1} << 62,
           INT64_MAX, INT64_MIN, INT64_MIN + cent}) {
    INFO("price " << bad);
    REQUIRE(books.add(6, 20, Side::Ask, 1, bad).status == Status::BadPrice);
  }
  REQUIRE(books.counters().badPrice == 10);
  REQUIRE(books.instrument(6)->maybeBad);
  REQUIRE(books.depth(6, Side::Ask) == 0);
  REQUIRE(!books.findOrder(20));
  // A replace onto a bad price loses the order: the book says so.
  fh::book::Update removed;
  REQUIRE(books.replace(2, 21, 5, cent + 1, removed).status == Status::BadPrice);
  REQUIRE(removed.status == Status::Ok);
  REQUIRE(books.instrument(4)->maybeBad);
}

TEST_CASE("book: any tick from 1 to 2^32 - 1 maps prices exactly", "[book]") {
  for (const fh::book::Price tick :
       {fh::book::Price{1}, fh::book::Price{2}, fh::book::Price{3}, fh::book::Price{100'000}, fh::book::Price{1} << 20,
        fh::book::Price{999'999'937}, fh::book::Price{UINT32_MAX}}) {
    INFO("tick " << tick);
    BookConfig c = smallConfig();
    c.priceTick = tick;
    OrderBooks books(c);
    uint64_t ref = 0;
    for (const int64_t ticks :
         {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{INT32_MAX}, int64_t{INT32_MIN}, int64_t{123'456'789}}) {
      REQUIRE(books.add(1, ++ref, Side::Bid, 1, ticks * tick).status == Status::Ok);
      REQUIRE(books.findOrder(ref)->price == ticks * tick);
    }
    if (tick > 1) REQUIRE(books.add(1, ++ref, Side::Bid, 1, tick + 1).status == Status::BadPrice);
    REQUIRE(books.add(1, ++ref, Side::Bid, 1, (int64_t{INT32_MAX} + 1) * tick).status == Status::BadPrice);
    if (tick < UINT32_MAX)  // else the price itself would not fit in an i64
      REQUIRE(books.add(1, ++ref, Side::Bid, 1, (int64_t{INT32_MIN} - 1) * tick).status == Status::BadPrice);
    REQUIRE(books.depth(1, Side::Bid) == 6);
  }
}

TEST_CASE("book: the level arena splits and merges its blocks", "[book]") {
  BookConfig c = smallConfig();
  c.maxLevels = 64;  // 64 slots: sixteen 4-slot blocks, or one of 64
  OrderBooks books(c);
  for (uint16_t locate = 1; locate <= 16; ++locate)
    REQUIRE(books.add(locate, locate, Side::Bid, 1, px(100)).status == Status::Ok);
  REQUIRE(books.add(17, 17, Side::Bid, 1, px(100)).status == Status::LevelStoreFull);
  for (uint64_t ref = 1; ref <= 16; ++ref) REQUIRE(books.remove(ref).status == Status::Ok);
  // Freed blocks merge back: one side can now grow to a 32-slot block (which
  // needs the 16-slot one it grows from, both at once) but not to 64.
  for (uint32_t i = 0; i < 32; ++i) REQUIRE(books.add(40, 100 + i, Side::Ask, 1, px(1000 + i)).status == Status::Ok);
  REQUIRE(books.add(40, 200, Side::Ask, 1, px(5000)).status == Status::LevelStoreFull);
  REQUIRE(books.depth(40, Side::Ask) == 32);
  REQUIRE(books.add(41, 500, Side::Ask, 1, px(1)).status == Status::Ok);  // the 4 slots beside it
  REQUIRE(books.remove(500).status == Status::Ok);
  for (uint32_t i = 0; i < 32; ++i) REQUIRE(books.remove(100 + i).status == Status::Ok);
  REQUIRE(books.liveLevels() == 0);
  for (uint16_t locate = 1; locate <= 16; ++locate)
    REQUIRE(books.add(locate, 1000 + locate, Side::Ask, 1, px(100)).status == Status::Ok);
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
      REQUIRE(books.add(locate, nextRef, bid ? Side::Bid : Side::Ask, shares, px(price)).status == Status::Ok);
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
      const auto u = books.replace(old, ++nextRef, o.shares + 1, px(price), removed);
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

TEST_CASE("book builder: an add whose side is neither B nor S is counted, ignored, and marks its book", "[book]") {
  OrderBooks books(smallConfig());
  Collect sink;
  fh::book::BookBuilder<Collect> builder(books, sink, 0);
  Msg add('A', 3, 1);
  fh::storeBe64(add.b + 11, 2);
  add.b[19] = 'Z';
  fh::storeBe32(add.b + 20, 5);
  fh::storeBe32(add.b + 32, 11'0000);
  const auto c = builder.on(fh::itch::AddOrder{{add.b}});
  REQUIRE(c.depth == fh::book::BookChange::kNoLevel);
  REQUIRE(builder.counters().badSide == 1);
  REQUIRE(books.liveOrders() == 0);
  REQUIRE(sink.mbos.empty());
  REQUIRE(books.instrument(3)->maybeBad);
  REQUIRE(!books.instrument(4)->maybeBad);
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
