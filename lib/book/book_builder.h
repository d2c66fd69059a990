// The ITCH 5.0 adapter of the venue-neutral OrderBooks: it maps ITCH's shapes
// onto theirs (the stock locate is the instrument id, 'B'/'S' a Side, Price(4)
// an i64 in 1e-9), maintains the books, and turns each book event into
// normalized records (record.h) for a sink: MBO for every order event and
// trade, MBP-1 whenever the top of a book changes. The sink is a compile-time
// type with `void mbo(const record::MboMsg&)` and `void mbp1(const
// record::Mbp1Msg&)`. Each handler returns what the message did to the books
// (BookChange), so that the caller republishes only what moved. Runs on the
// feed's one writer thread; never allocates.
#pragma once

#include <cstdint>

#include "book/order_book.h"
#include "itch/messages.h"
#include "record/record.h"

namespace fh::book {

// The book a message touched and the index from the top, before the change,
// of the shallowest level it changed; kNoLevel when no level moved (a print,
// a refused or unknown update).
struct BookChange {
  static constexpr uint32_t kNoLevel = UINT32_MAX;
  InstrumentId instrument = 0;
  Side side = Side::Bid;
  uint32_t depth = kNoLevel;
  bool shifted = false;  // levels were inserted or removed: every level from `depth` down moved
};

// The messages that move books: a handler of ITCH for books takes them all.
template <class H>
concept ItchBookHandler = requires(H& h, const itch::StockDirectory& r, const itch::StockTradingAction& ha,
                                   const itch::AddOrder& a, const itch::AddOrderMpid& f, const itch::OrderExecuted& e,
                                   const itch::OrderExecutedWithPrice& c, const itch::OrderCancel& x,
                                   const itch::OrderDelete& d, const itch::OrderReplace& u, const itch::Trade& p,
                                   const itch::CrossTrade& q) {
  h.on(r);
  h.on(ha);
  h.on(a);
  h.on(f);
  h.on(e);
  h.on(c);
  h.on(x);
  h.on(d);
  h.on(u);
  h.on(p);
  h.on(q);
};

struct BuilderCounters {
  uint64_t locateMismatch = 0;  // a message's locate differs from its order's (order's wins)
  uint64_t badSide = 0;         // adds whose side is neither 'B' nor 'S' (ignored; the book is marked maybe-bad)
};

template <class Sink>
class BookBuilder {
 public:
  // midnightNs: UNIX time of midnight (New York) of the trading date.
  BookBuilder(OrderBooks& books, Sink& sink, int64_t midnightNs) noexcept
      : books_(books), sink_(sink), midnightNs_(midnightNs) {}

  // Set before each message: its sequence number and receive time.
  void setContext(uint64_t sequence, uint64_t recvNs, uint8_t extraFlags = 0) noexcept {
    sequence_ = sequence;
    recvNs_ = recvNs;
    extraFlags_ = extraFlags;
  }

  const BuilderCounters& counters() const noexcept { return counters_; }

  // Calls a few messages ahead of decode() start the loads the message will
  // need: prefetchFar (about 16 messages ahead) its order and book slots,
  // prefetchNear (about 8 ahead) the best levels of its book.
  void prefetchFar(const uint8_t* msg, size_t length) const noexcept {
    if (length < itch::kHeaderLength + 8) return;
    books_.prefetchBook(loadBe16(msg + 1));
    switch (msg[0]) {
      case 'U':  // the new order's slot, then the old one's
        if (length >= itch::kHeaderLength + 16) books_.prefetchOrder(loadBe64(msg + 19));
        [[fallthrough]];
      case 'A':
      case 'F':
      case 'E':
      case 'C':
      case 'X':
      case 'D':  // the order's slot (an add's free one)
        books_.prefetchOrder(loadBe64(msg + 11));
        break;
      default:
        break;
    }
  }
  void prefetchNear(const uint8_t* msg, size_t length) const noexcept {
    if (length >= itch::kHeaderLength) books_.prefetchTop(loadBe16(msg + 1));
  }

  BookChange on(const itch::StockDirectory& m) noexcept {
    books_.setSymbol(m.locate(), m.p + 11);
    return {m.locate(), Side::Bid, BookChange::kNoLevel};
  }
  BookChange on(const itch::StockTradingAction& m) noexcept {
    books_.setTradingState(m.locate(), m.tradingState());
    return {m.locate(), Side::Bid, BookChange::kNoLevel};
  }

  // Also receives F (AddOrderMpid derives from AddOrder).
  BookChange on(const itch::AddOrder& m) noexcept {
    const Instrument* in = books_.instrument(m.locate());
    if (in != nullptr && in->symbol[0] == '\0') books_.setSymbol(m.locate(), m.stockRaw());
    const char side = m.side();
    if (side != 'B' && side != 'S') {
      ++counters_.badSide;
      books_.markMaybeBad(m.locate());  // the exchange's book has an order this one lacks
      return {m.locate(), Side::Bid, BookChange::kNoLevel};
    }
    const Update u = books_.add(m.locate(), m.orderRef(), side == 'B' ? Side::Bid : Side::Ask, m.shares(),
                                record::priceFromItch4(m.price()));
    if (u.status != Status::Ok) return {m.locate(), Side::Bid, BookChange::kNoLevel};
    emit(m, u, m.orderRef(), record::Action::Add, u.price, kFlagsLast);
    return {u.instrument, u.side, u.depth, u.shifted};
  }

  BookChange on(const itch::OrderExecuted& m) noexcept {
    const Update u = books_.execute(m.orderRef(), m.executedShares());
    if (!checked(m, u)) return {};
    emit(m, u, m.orderRef(), record::Action::Fill, u.price, kFlagsLast);
    return {u.instrument, u.side, u.depth, u.shifted};
  }

  BookChange on(const itch::OrderExecutedWithPrice& m) noexcept {
    const Update u = books_.execute(m.orderRef(), m.executedShares());
    if (!checked(m, u)) return {};
    emit(m, u, m.orderRef(), record::Action::Fill, record::priceFromItch4(m.executionPrice()), kFlagsLast);
    return {u.instrument, u.side, u.depth, u.shifted};
  }

  BookChange on(const itch::OrderCancel& m) noexcept {
    const Update u = books_.cancel(m.orderRef(), m.canceledShares());
    if (!checked(m, u)) return {};
    emit(m, u, m.orderRef(), record::Action::Cancel, u.price, kFlagsLast);
    return {u.instrument, u.side, u.depth, u.shifted};
  }

  BookChange on(const itch::OrderDelete& m) noexcept {
    const Update u = books_.remove(m.orderRef());
    if (!checked(m, u)) return {};
    emit(m, u, m.orderRef(), record::Action::Cancel, u.price, kFlagsLast);
    return {u.instrument, u.side, u.depth, u.shifted};
  }

  BookChange on(const itch::OrderReplace& m) noexcept {
    Update removed;
    const Update added =
        books_.replace(m.originalOrderRef(), m.newOrderRef(), m.shares(), record::priceFromItch4(m.price()), removed);
    if (removed.status != Status::Ok) return {};
    checked(m, removed);
    const bool both = added.status == Status::Ok;
    emit(m, removed, m.originalOrderRef(), record::Action::Cancel, removed.price, both ? 0 : kFlagsLast);
    if (!both) return {removed.instrument, removed.side, removed.depth, removed.shifted};
    emit(m, added, m.newOrderRef(), record::Action::Add, added.price, kFlagsLast);
    return {removed.instrument, removed.side, removed.depth < added.depth ? removed.depth : added.depth,
            removed.shifted || added.shifted || removed.depth != added.depth};
  }

  // Prints that never touch the displayed book.
  BookChange on(const itch::Trade& m) noexcept {
    trade(m, m.orderRef(), m.price(), m.shares(), m.side() == 'B' ? record::Side::Bid : record::Side::Ask);
    return {m.locate(), Side::Bid, BookChange::kNoLevel};
  }
  BookChange on(const itch::CrossTrade& m) noexcept {
    const uint64_t shares = m.shares();
    trade(m, 0, m.crossPrice(), shares > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(shares), record::Side::None);
    return {m.locate(), Side::Bid, BookChange::kNoLevel};
  }

 private:
  static constexpr uint8_t kFlagsLast = record::flags::kLast;

  bool checked(const itch::MessageView& m, const Update& u) noexcept {
    if (u.status != Status::Ok) return false;
    counters_.locateMismatch += u.instrument != m.locate();
    return true;
  }

  record::RecordHeader header(record::RType type, uint8_t length, InstrumentId instrument,
                              uint64_t timestamp) const noexcept {
    return record::RecordHeader{length, type, 0, instrument,
                                static_cast<uint64_t>(midnightNs_ + static_cast<int64_t>(timestamp))};
  }

  void emit(const itch::MessageView& m, const Update& u, uint64_t orderId, record::Action action, Price price,
            uint8_t flags) noexcept {
    const uint8_t bad = books_.instrument(u.instrument)->maybeBad ? record::flags::kMaybeBadBook : 0;
    const record::MboMsg mbo{header(record::RType::Mbo, sizeof(record::MboMsg) / 4, u.instrument, m.timestamp()),
                             orderId,
                             price,
                             u.shares,
                             static_cast<uint8_t>(flags | bad | extraFlags_),
                             0,
                             action,
                             u.side == Side::Bid ? record::Side::Bid : record::Side::Ask,
                             recvNs_,
                             0,
                             static_cast<uint32_t>(sequence_)};
    sink_.mbo(mbo);
    if (u.depth == 0) top(m, u.instrument, mbo);
  }

  void trade(const itch::MessageView& m, uint64_t orderId, uint32_t price, uint32_t shares,
             record::Side side) noexcept {
    const uint16_t locate = m.locate();
    if (books_.instrument(locate) == nullptr) return;
    sink_.mbo(record::MboMsg{header(record::RType::Mbo, sizeof(record::MboMsg) / 4, locate, m.timestamp()), orderId,
                             record::priceFromItch4(price), shares, static_cast<uint8_t>(kFlagsLast | extraFlags_), 0,
                             record::Action::Trade, side, recvNs_, 0, static_cast<uint32_t>(sequence_)});
  }

  void top(const itch::MessageView& m, InstrumentId instrument, const record::MboMsg& cause) noexcept {
    record::Mbp1Msg r{};
    r.hd = header(record::RType::Mbp1, sizeof(record::Mbp1Msg) / 4, instrument, m.timestamp());
    r.price = cause.price;
    r.size = cause.size;
    r.action = cause.action;
    r.side = cause.side;
    r.flags = static_cast<uint8_t>(cause.flags | record::flags::kTob);
    r.depth = 0;
    r.tsRecv = recvNs_;
    r.sequence = cause.sequence;
    r.levels[0] = topOfBook(instrument);
    sink_.mbp1(r);
  }

  record::BidAskPair topOfBook(InstrumentId instrument) const noexcept {
    record::BidAskPair p{record::kUndefPrice, record::kUndefPrice, 0, 0, 0, 0};
    if (books_.depth(instrument, Side::Bid) > 0) {
      const PriceLevel b = books_.level(instrument, Side::Bid, 0);
      p.bidPx = b.price;
      p.bidSz = b.shares > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(b.shares);
      p.bidCt = b.orders;
    }
    if (books_.depth(instrument, Side::Ask) > 0) {
      const PriceLevel a = books_.level(instrument, Side::Ask, 0);
      p.askPx = a.price;
      p.askSz = a.shares > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(a.shares);
      p.askCt = a.orders;
    }
    return p;
  }

  OrderBooks& books_;
  Sink& sink_;
  int64_t midnightNs_;
  uint64_t sequence_ = 0;
  uint64_t recvNs_ = 0;
  uint8_t extraFlags_ = 0;
  BuilderCounters counters_;
};

}  // namespace fh::book
