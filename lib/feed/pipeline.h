// The feed's pipeline after framing: ITCH 5.0 messages → order books →
// normalized records and books in the shared-memory region. Every source
// (file replay, kernel sockets, AF_XDP) hands it messages one at a time, in
// feed order, on the feed's one writer thread. Nothing here allocates, locks
// or logs; counters reach the region in batches (syncCounters).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "book/book_builder.h"
#include "book/order_book.h"
#include "feed/file_source.h"
#include "itch/decoder.h"
#include "mold/moldudp64.h"
#include "record/record.h"
#include "shm/writer.h"

namespace fh::feed {

// The pipeline's counters, in region order: name, then meaning.
#define FH_PIPELINE_COUNTERS(X)                                                        \
  X(Messages, "messages")                       /* decoded, known type, exact length */ \
  X(UnknownType, "messages.unknown_type")                                               \
  X(BadLength, "messages.bad_length")           /* wrong for the type, or empty */      \
  X(Packets, "packets")                         /* MoldUDP64 packets read */            \
  X(Heartbeats, "packets.heartbeat")                                                    \
  X(EndOfSession, "packets.end_of_session")                                             \
  X(MalformedPackets, "packets.malformed")      /* truncated, overrun, trailing bytes */ \
  X(FramesSkipped, "frames.skipped")            /* not IPv4 UDP to the feed's port */   \
  X(UnknownOrder, "book.unknown_order")         /* reference to an order not live */    \
  X(DuplicateOrder, "book.duplicate_order")                                             \
  X(BadLocate, "book.bad_locate")                                                       \
  X(StoreFull, "book.store_full")               /* order or level store full */         \
  X(LiveOrders, "book.live_orders")                                                     \
  X(LiveLevels, "book.live_levels")                                                     \
  X(StaleBooks, "book.stale")                   /* books marked maybe-bad */            \
  X(Records, "ring.records")                    /* records published to the tick ring */ \
  X(BookPublishes, "shm.book_publishes")

enum class Counter : uint32_t {
#define FH_COUNTER_ENUM(id, name) id,
  FH_PIPELINE_COUNTERS(FH_COUNTER_ENUM)
#undef FH_COUNTER_ENUM
      kCount
};

inline std::vector<std::string> pipelineCounterNames() {
  return {
#define FH_COUNTER_NAME(id, name) name,
      FH_PIPELINE_COUNTERS(FH_COUNTER_NAME)
#undef FH_COUNTER_NAME
  };
}

class Pipeline;

// The BookBuilder's sink: records go to the tick ring; the books they touch
// are published once the message is done.
class RegionSink {
 public:
  RegionSink(shm::RegionWriter& writer, Pipeline& pipeline) noexcept : writer_(writer), pipeline_(pipeline) {}
  inline void mbo(const record::MboMsg& m) noexcept;
  inline void mbp1(const record::Mbp1Msg& m) noexcept;

 private:
  shm::RegionWriter& writer_;
  Pipeline& pipeline_;
};

class Pipeline {
 public:
  // midnightNs: UNIX time of midnight in New York on the trading date.
  Pipeline(book::OrderBooks& books, shm::RegionWriter& writer, int64_t midnightNs) noexcept
      : books_(books), writer_(writer), sink_(writer, *this), builder_(books, sink_, midnightNs),
        midnightNs_(midnightNs), depth_(writer.depth()) {}
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // One ITCH message with its feed sequence number and receive time.
  void message(uint64_t sequence, uint64_t recvNs, const uint8_t* msg, uint16_t length) noexcept {
    sequence_ = sequence;
    recvNs_ = recvNs;
    builder_.setContext(sequence, recvNs, feedStale_ ? record::flags::kMaybeBadBook : 0);
    const itch::DecodeStatus s = itch::decode(msg, length, *this);
    decode_.count(s, length > 0 ? msg[0] : 0);
    if (length >= itch::kHeaderLength) lastTimestamp_ = loadBe48(msg + 5);
    if (dirtyCount_ > 0) publishDirty(lastTimestamp_);
  }

  // Messages first..first+count-1 are lost (a gap neither line filled): every
  // book may be wrong from now on. Each is published as stale, with a status
  // record, and later records carry MAYBE_BAD_BOOK.
  void gap(uint64_t first, uint64_t count) noexcept {
    (void)first;
    (void)count;
    feedStale_ = true;
    for (uint32_t locate = 1; locate < books_.maxInstruments(); ++locate) {
      if (!published_[locate] || stale_[locate]) continue;
      record::StatusMsg s{};
      s.hd = record::RecordHeader{sizeof(record::StatusMsg) / 4, record::RType::Status, 0, locate,
                                  static_cast<uint64_t>(midnightNs_ + static_cast<int64_t>(lastTimestamp_))};
      s.tsRecv = recvNs_;
      s.reason = record::StatusReason::BookStale;
      s.isTrading = s.isQuoting = s.isShortSellRestricted = '~';
      writer_.publish(&s, sizeof s);
      ++records_;
      stale_[locate] = true;
      ++staleBooks_;
      dirty_[0] = static_cast<uint16_t>(locate);
      dirtyCount_ = 1;
      publishDirty(lastTimestamp_);
    }
  }

  // The source's own counts (packets by kind, frames it skipped), for syncCounters.
  void setSourceCounters(const mold::PacketCounters& packets, uint64_t framesSkipped) noexcept {
    packets_ = packets;
    framesSkipped_ = framesSkipped;
  }

  // Copies the counters into the region: after each batch, and when idle.
  void syncCounters() noexcept;

  // The ITCH handler (decoder.h): the builder's messages, plus the directory.
  template <class View>
  void on(const View& m) noexcept {
    if constexpr (requires { builder_.on(m); }) builder_.on(m);
    if constexpr (std::is_same_v<View, itch::StockDirectory>) {
      setSymbol(m.locate());
    } else if constexpr (std::is_same_v<View, itch::StockTradingAction>) {
      tradingAction(m);
    } else if constexpr (std::is_base_of_v<itch::AddOrder, View>) {
      if (!known(m.locate())) setSymbol(m.locate());  // a capture that began after the directory
    }
  }

  void touched(uint32_t locate) noexcept {
    if (locate >= books_.maxInstruments()) return;
    for (uint32_t i = 0; i < dirtyCount_; ++i)
      if (dirty_[i] == locate) return;
    if (dirtyCount_ < dirty_.size()) dirty_[dirtyCount_++] = static_cast<uint16_t>(locate);
  }

  const itch::DecodeCounters& decodeCounters() const noexcept { return decode_; }
  const book::OrderBooks& books() const noexcept { return books_; }

 private:
  static uint64_t loadBe48(const uint8_t* p) noexcept {
    uint64_t v = 0;
    for (int i = 0; i < 6; ++i) v = v << 8 | p[i];
    return v;
  }

  bool known(uint16_t locate) const noexcept {
    const book::Instrument* in = books_.instrument(locate);
    return in == nullptr || published_[locate];
  }

  void setSymbol(uint16_t locate) noexcept {
    const book::Instrument* in = books_.instrument(locate);
    if (in == nullptr || in->symbol[0] == '\0') return;
    char symbol[8];
    std::copy(in->symbol.begin(), in->symbol.end(), symbol);
    writer_.setInstrument(locate, symbol, in->tradingState);
    published_[locate] = true;
  }

  void tradingAction(const itch::StockTradingAction& m) noexcept {
    const uint16_t locate = m.locate();
    if (books_.instrument(locate) == nullptr) return;
    setSymbol(locate);
    record::StatusMsg s{};
    s.hd = record::RecordHeader{sizeof(record::StatusMsg) / 4, record::RType::Status, 0, locate,
                                static_cast<uint64_t>(midnightNs_ + static_cast<int64_t>(m.timestamp()))};
    s.tsRecv = recvNs_;
    const char state = m.tradingState();
    s.action = state == 'H'   ? record::StatusAction::Halt
               : state == 'P' ? record::StatusAction::Pause
               : state == 'Q' ? record::StatusAction::Quoting
               : state == 'T' ? record::StatusAction::Trading
                              : record::StatusAction::None;
    s.isTrading = state == 'T' ? 'Y' : (state == 'H' || state == 'P' || state == 'Q') ? 'N' : '~';
    s.isQuoting = state == 'T' || state == 'Q' ? 'Y' : state == 'H' || state == 'P' ? 'N' : '~';
    s.isShortSellRestricted = '~';
    writer_.publish(&s, sizeof s);
    ++records_;
    touched(locate);
  }

  void publishDirty(uint64_t timestamp) noexcept;

  book::OrderBooks& books_;
  shm::RegionWriter& writer_;
  RegionSink sink_;
  book::BookBuilder<RegionSink> builder_;
  int64_t midnightNs_;
  uint32_t depth_;
  uint64_t sequence_ = 0;
  uint64_t recvNs_ = 0;
  uint64_t lastTimestamp_ = 0;
  bool feedStale_ = false;
  std::array<uint16_t, 4> dirty_{};  // a message touches one book; a few to be safe
  uint32_t dirtyCount_ = 0;
  std::array<bool, 65536> published_{};  // directory entry written
  std::array<uint64_t, 65536> updates_{};
  std::array<bool, 65536> stale_{};  // published as stale: maybe-bad book, or a gap
  std::array<shm::Level, shm::kMaxDepth> bids_{}, asks_{};
  itch::DecodeCounters decode_;
  mold::PacketCounters packets_;
  uint64_t framesSkipped_ = 0;
  uint64_t records_ = 0;
  uint64_t bookPublishes_ = 0;
  uint64_t staleBooks_ = 0;

  friend class RegionSink;
};

inline void RegionSink::mbo(const record::MboMsg& m) noexcept {
  writer_.publish(&m, sizeof m);
  ++pipeline_.records_;
  if (m.action != record::Action::Trade) pipeline_.touched(m.hd.instrumentId);
}

inline void RegionSink::mbp1(const record::Mbp1Msg& m) noexcept {
  writer_.publish(&m, sizeof m);
  ++pipeline_.records_;
}

inline void Pipeline::publishDirty(uint64_t timestamp) noexcept {
  for (uint32_t i = 0; i < dirtyCount_; ++i) {
    const uint16_t locate = dirty_[i];
    const book::Instrument& in = *books_.instrument(locate);
    const auto fill = [&](book::Side side, std::array<shm::Level, shm::kMaxDepth>& out) {
      const uint32_t n = std::min(books_.depth(locate, side), depth_);
      for (uint32_t k = 0; k < n; ++k) {
        const book::PriceLevel l = books_.level(locate, side, k);
        out[k] = shm::Level{record::priceFromItch4(l.price), l.shares, l.orders, 0};
      }
      return n;
    };
    const uint32_t bidCount = fill(book::Side::Bid, bids_);
    const uint32_t askCount = fill(book::Side::Ask, asks_);
    if (in.maybeBad && !stale_[locate]) {
      stale_[locate] = true;
      ++staleBooks_;
    }
    const bool stale = stale_[locate];
    shm::BookFields f{};
    f.lastSequence = sequence_;
    f.tsEvent = static_cast<uint64_t>(midnightNs_ + static_cast<int64_t>(timestamp));
    f.tsRecv = recvNs_;
    f.updates = ++updates_[locate];
    f.status = stale                                                 ? shm::BookStatus::Stale
               : in.tradingState == 'H' || in.tradingState == 'P' ? shm::BookStatus::Halted
                                                                     : shm::BookStatus::Normal;
    f.tradingState = in.tradingState;
    writer_.publishBook(locate, f, bids_.data(), bidCount, asks_.data(), askCount);
    ++bookPublishes_;
  }
  dirtyCount_ = 0;
}

inline void Pipeline::syncCounters() noexcept {
  const auto set = [&](Counter c, uint64_t v) { writer_.set(static_cast<size_t>(c), v); };
  const book::BookCounters& b = books_.counters();
  set(Counter::Messages, decode_.messages);
  set(Counter::UnknownType, decode_.unknownType);
  set(Counter::BadLength, decode_.badLength);
  set(Counter::Packets, packets_.packets);
  set(Counter::Heartbeats, packets_.heartbeats);
  set(Counter::EndOfSession, packets_.endOfSession);
  set(Counter::MalformedPackets, packets_.truncated + packets_.overrun + packets_.trailing);
  set(Counter::FramesSkipped, framesSkipped_);
  set(Counter::UnknownOrder, b.unknownOrder);
  set(Counter::DuplicateOrder, b.duplicateOrder);
  set(Counter::BadLocate, b.badLocate);
  set(Counter::StoreFull, b.orderStoreFull + b.levelStoreFull);
  set(Counter::LiveOrders, books_.liveOrders());
  set(Counter::LiveLevels, books_.liveLevels());
  set(Counter::StaleBooks, staleBooks_);
  set(Counter::Records, records_);
  set(Counter::BookPublishes, bookPublishes_);
}

}  // namespace fh::feed
